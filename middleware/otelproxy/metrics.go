package otelproxy

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
)

// Names of the library's own instruments. otelhttp records the HTTP
// semantic conventions' http.client.request.duration (and body sizes)
// itself, with server.address and server.port naming the upstream and
// network.peer.address (WithMetrics) naming the proxy.
const (
	MetricRetries           = "composio.client.retries"                      // {retry}, by composio.retry.reason
	MetricRateLimitWait     = "composio.client.rate_limit.wait"              // s, by composio.rate_limit.limiter (account, org)
	MetricBreakerState      = "composio.client.breaker.state"                // 0 closed, 1 half-open, 2 open (the worst of a key kind), by composio.breaker.key
	MetricBreakerTransition = "composio.client.breaker.transitions"          // {transition}, by key (kind), from, to
	MetricCacheRequests     = "composio.client.cache.requests"               // {request}, by composio.cache.result (hit, miss, bypass)
	MetricCalls             = "composio.client.calls"                        // {call}, by proxy and upstream status
	MetricResolutions       = "composio.client.account_resolver.resolutions" // {resolution}, by composio.account_resolver.cache_hit
	MetricAccountLookups    = "composio.client.account_resolver.lookups"     // {lookup}: calls to the connected-accounts API
)

// Attribute keys of the library's own instruments.
const (
	AttrRetryReason     = attribute.Key("composio.retry.reason")
	AttrLimiter         = attribute.Key("composio.rate_limit.limiter")
	AttrWaitReason      = attribute.Key("composio.rate_limit.reason")
	AttrBreakerKey      = attribute.Key("composio.breaker.key")
	AttrBreakerFrom     = attribute.Key("composio.breaker.from")
	AttrBreakerTo       = attribute.Key("composio.breaker.to")
	AttrCacheResult     = attribute.Key("composio.cache.result")
	AttrResolverCached  = attribute.Key("composio.account_resolver.cache_hit")
	AttrNetworkPeerAddr = attribute.Key("network.peer.address")
)

// Metrics holds the library's own instruments. Make one per MeterProvider
// with NewMetrics, pass it to the otelproxy middleware with WithMetrics,
// and hand its hooks to the other layers:
//
//	m, _ := otelproxy.NewMetrics(mp)
//	org := &ratelimit.OrgLimiter{OnWait: m.OrgWait}
//	middleware.Chain(&composiohttp.Transport{Base: org.Transport(nil)},
//		otelproxy.Middleware(otelproxy.WithMeterProvider(mp), otelproxy.WithMetrics(m)),
//		...,
//		retry.Middleware(m.RetryOption()),
//		breaker.Middleware(breaker.WithGroup(breaker.NewLocal(breaker.Settings{OnStateChange: m.BreakerStateChange}))),
//		ratelimit.Middleware(limiter, m.RateLimitOption()),
//	)
//
// The per-call instruments (composio.client.calls, .cache.requests,
// .account_resolver.resolutions and .lookups) are observable counters: a
// call adds to an atomic count, read when the meter collects. Their data
// are those of a counter (a monotonic Sum, cumulative or delta as the
// reader asks), without exemplars.
//
// A nil *Metrics records nothing. Its methods are safe for concurrent use.
type Metrics struct {
	retries     metric.Int64Counter
	wait        metric.Float64Histogram
	state       metric.Int64Gauge
	transitions metric.Int64Counter

	// The per-call instruments are observable counters: a call adds to an
	// atomic count of its own (one per attribute set), and the meter reads
	// the counts when it collects. The exported data are those of a
	// synchronous counter (a monotonic Sum, cumulative or delta as the
	// reader asks), without exemplars; a call costs an atomic add rather
	// than the SDK's per-measurement attribute resolution.
	calls       counts[[2]int] // by {proxy, upstream} status
	cache       counts[string] // by result
	resolutions counts[bool]   // by cache hit
	lookups     counts[struct{}]

	breakerKey func(string) string
	breakersMu sync.Mutex
	breakers   map[string][2]int // mapped key → breakers half-open, open
}

// counts holds the counts of one observable counter by attribute set.
type counts[K comparable] struct {
	inst metric.Int64ObservableCounter
	m    sync.Map // K → *count
	set  func(K) attribute.Set
}

type count struct {
	n   atomic.Int64
	opt metric.ObserveOption
}

func (c *counts[K]) add(k K, n int64) {
	v, ok := c.m.Load(k)
	if !ok {
		v, _ = c.m.LoadOrStore(k, &count{opt: metric.WithAttributeSet(c.set(k))})
	}
	v.(*count).n.Add(n)
}

func (c *counts[K]) observe(o metric.Observer) {
	c.m.Range(func(_, v any) bool {
		e := v.(*count)
		o.ObserveInt64(c.inst, e.n.Load(), e.opt)
		return true
	})
}

// NewMetrics creates the instruments on mp (nil: otel.GetMeterProvider()).
// Nil options are skipped.
func NewMetrics(mp metric.MeterProvider, opts ...MetricsOption) (*Metrics, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	meter := mp.Meter("github.com/composiohttp/composiohttp/middleware/otelproxy")
	m := &Metrics{breakerKey: BreakerKeyKind, breakers: map[string][2]int{}}
	for _, o := range opts {
		if o != nil {
			o(m)
		}
	}
	var err, e error
	m.retries, e = meter.Int64Counter(MetricRetries, metric.WithUnit("{retry}"), metric.WithDescription("Retries made, by reason"))
	err = errors.Join(err, e)
	m.wait, e = meter.Float64Histogram(MetricRateLimitWait, metric.WithUnit("s"), metric.WithDescription("Time calls waited for a rate limiter"),
		metric.WithExplicitBucketBoundaries(0, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300))
	err = errors.Join(err, e)
	m.state, e = meter.Int64Gauge(MetricBreakerState, metric.WithUnit("1"), metric.WithDescription("Circuit breaker state: 0 closed, 1 half-open, 2 open"))
	err = errors.Join(err, e)
	m.transitions, e = meter.Int64Counter(MetricBreakerTransition, metric.WithUnit("{transition}"), metric.WithDescription("Circuit breaker state changes"))
	err = errors.Join(err, e)
	m.cache.inst, e = meter.Int64ObservableCounter(MetricCacheRequests, metric.WithUnit("{request}"), metric.WithDescription("Calls that met the cache: hit, miss or bypass"))
	err = errors.Join(err, e)
	m.calls.inst, e = meter.Int64ObservableCounter(MetricCalls, metric.WithUnit("{call}"), metric.WithDescription("Calls by the proxy's status and the upstream's"))
	err = errors.Join(err, e)
	m.lookups.inst, e = meter.Int64ObservableCounter(MetricAccountLookups, metric.WithUnit("{lookup}"), metric.WithDescription("Lookups of the connected-accounts API by the account resolver"))
	err = errors.Join(err, e)
	m.resolutions.inst, e = meter.Int64ObservableCounter(MetricResolutions, metric.WithUnit("{resolution}"), metric.WithDescription("Calls whose connected account was resolved from a user id and toolkit, by whether the resolver's cache answered"))
	err = errors.Join(err, e)
	if err != nil {
		return nil, err
	}
	m.calls.set = func(k [2]int) attribute.Set {
		return attribute.NewSet(AttrProxyStatus.Int(k[0]), AttrUpstreamStatus.Int(k[1]))
	}
	m.cache.set = func(r string) attribute.Set { return attribute.NewSet(AttrCacheResult.String(r)) }
	m.resolutions.set = func(hit bool) attribute.Set { return attribute.NewSet(AttrResolverCached.Bool(hit)) }
	m.lookups.set = func(struct{}) attribute.Set { return *attribute.EmptySet() }
	if _, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		m.calls.observe(o)
		m.cache.observe(o)
		m.resolutions.observe(o)
		m.lookups.observe(o)
		return nil
	}, m.calls.inst, m.cache.inst, m.resolutions.inst, m.lookups.inst); err != nil {
		return nil, err
	}
	return m, nil
}

// RetryReason names why a retry was made: "proxy_<status>" for a proxy
// error, "upstream_<status>" for an upstream response, "connection" for
// any other error.
func RetryReason(status int, err error) string {
	switch pe := proxyError(err); {
	case pe != nil:
		return "proxy_" + strconv.Itoa(pe.StatusCode)
	case err != nil:
		return "connection"
	}
	return "upstream_" + strconv.Itoa(status)
}

// OnRetry records a retry; RetryOption passes it to retry.WithOnRetry.
func (m *Metrics) OnRetry(ev retry.Event) {
	if m == nil {
		return
	}
	ctx := context.Background()
	if ev.Request != nil {
		ctx = ev.Request.Context()
	}
	m.retries.Add(ctx, 1, metric.WithAttributes(AttrRetryReason.String(RetryReason(ev.StatusCode, ev.Err))))
}

// RetryOption is retry.WithOnRetry(m.OnRetry).
func (m *Metrics) RetryOption() retry.Option { return retry.WithOnRetry(m.OnRetry) }

// RateLimitWait records a wait for the per-account limiter;
// RateLimitOption passes it to ratelimit.WithOnWait.
func (m *Metrics) RateLimitWait(_ string, d time.Duration) {
	if m == nil {
		return
	}
	m.wait.Record(context.Background(), d.Seconds(), metric.WithAttributes(AttrLimiter.String("account")))
}

// RateLimitOption is ratelimit.WithOnWait(m.RateLimitWait).
func (m *Metrics) RateLimitOption() ratelimit.Option { return ratelimit.WithOnWait(m.RateLimitWait) }

// OrgWait records a wait for the organisation's limit, for
// ratelimit.OrgLimiter.OnWait.
func (m *Metrics) OrgWait(d time.Duration, reason string) {
	if m == nil {
		return
	}
	m.wait.Record(context.Background(), d.Seconds(), metric.WithAttributes(AttrLimiter.String("org"), AttrWaitReason.String(reason)))
}

// BreakerStateChange records a breaker's new state and the transition,
// for breaker.Settings.OnStateChange. composio.breaker.key is the key as
// WithBreakerKeyAttribute maps it (by default BreakerKeyKind); the state
// gauge of a mapped key is the worst state of the breakers mapped to it
// (2 if any is open, else 1 if any is half-open, else 0).
func (m *Metrics) BreakerStateChange(key string, from, to breaker.State) {
	if m == nil {
		return
	}
	mk := m.breakerKey(key)
	ctx := context.Background()
	m.breakersMu.Lock()
	defer m.breakersMu.Unlock()
	n := m.breakers[mk] // breakers half-open [0] and open [1]
	if f := stateValue(from); f > 0 && n[f-1] > 0 {
		n[f-1]--
	}
	if t := stateValue(to); t > 0 {
		n[t-1]++
	}
	worst := int64(0)
	switch {
	case n[1] > 0:
		worst = 2
	case n[0] > 0:
		worst = 1
	}
	if worst == 0 {
		delete(m.breakers, mk)
	} else {
		m.breakers[mk] = n
	}
	m.state.Record(ctx, worst, metric.WithAttributes(AttrBreakerKey.String(mk)))
	m.transitions.Add(ctx, 1, metric.WithAttributes(AttrBreakerKey.String(mk), AttrBreakerFrom.String(from.String()), AttrBreakerTo.String(to.String())))
}

// MetricsOption configures NewMetrics.
type MetricsOption func(*Metrics)

// WithBreakerKeyAttribute sets what composio.breaker.key records for a
// breaker's key (breaker.WithKey): f's result. Each distinct result is a
// series of the breaker instruments, so f should give few values; return
// the key itself only when the breakers are few (not one per tenant host
// or account). Default: BreakerKeyKind.
func WithBreakerKeyAttribute(f func(key string) string) MetricsOption {
	return func(m *Metrics) {
		if f != nil {
			m.breakerKey = f
		}
	}
}

// BreakerKeyKind is the default composio.breaker.key: a toolkit's key
// ("toolkit:<slug>", breaker.KeyByToolkit) is kept, as toolkits are few;
// any other key is reduced to its kind, so that breakers per tenant do not
// make a series each: "account", "connection", "user" or "session" for a
// tenant's identity (breaker.KeyByAccount, composiohttp.Identity), "host"
// for an upstream host (breaker.KeyByHost, the default, and
// KeyByToolkit's "host:<host>") and for any other key, "" for "".
func BreakerKeyKind(key string) string {
	if strings.HasPrefix(key, "toolkit:") {
		return key
	}
	if kind, _, ok := strings.Cut(key, ":"); ok {
		switch kind {
		case "account", "connection", "user", "session", "host":
			return kind
		}
	}
	if key == "" {
		return ""
	}
	return "host"
}

func stateValue(s breaker.State) int64 {
	switch s {
	case breaker.StateHalfOpen:
		return 1
	case breaker.StateOpen:
		return 2
	}
	return 0
}

// call records what the layers below learnt of one call.
func (m *Metrics) call(info *composiohttp.CallInfo, err error) {
	if m == nil || info == nil {
		return
	}
	if r := info.CacheResult; r != "" {
		m.cache.add(r, 1)
	}
	if info.Resolved {
		m.resolutions.add(info.ResolverCacheHit, 1)
	}
	if info.ResolverLookups > 0 {
		m.lookups.add(struct{}{}, int64(info.ResolverLookups))
	}
	if info.CacheHit {
		return // no proxy call
	}
	proxy := info.ProxyStatus
	if proxy == 0 {
		if pe := proxyError(err); pe != nil {
			proxy = pe.StatusCode
		}
	}
	if proxy == 0 && info.UpstreamStatus == 0 {
		return // no reply
	}
	m.calls.add([2]int{proxy, info.UpstreamStatus}, 1)
}

// WithMetrics makes the middleware record m's per-call instruments (calls
// by proxy and upstream status, cache results, account lookups) and add
// network.peer.address, the proxy's host, to otelhttp's
// http.client.request.duration. Default: none (otelhttp's metrics only).
func WithMetrics(m *Metrics) Option { return func(c *config) { c.metrics = m } }

// WithProxyAddress sets network.peer.address. Default: the host of the
// BaseURL of the *composiohttp.Transport found at the bottom of the
// chain (following Unwrap), else of $COMPOSIO_BASE_URL, else
// backend.composio.dev.
func WithProxyAddress(host string) Option { return func(c *config) { c.proxyAddr = host } }

// proxyHost finds the proxy's host below next.
func proxyHost(next http.RoundTripper) string {
	base := ""
	rt := next
	for range 100 { // a bound, should some Unwrap loop (as composiohttp.TransportIdentity)
		if rt == nil {
			break
		}
		if t, ok := rt.(*composiohttp.Transport); ok {
			base = t.BaseURL
			break
		}
		u, ok := rt.(interface{ Unwrap() http.RoundTripper })
		if !ok {
			break
		}
		rt = u.Unwrap()
	}
	if base == "" {
		base = os.Getenv("COMPOSIO_BASE_URL")
	}
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		if h, _, err := net.SplitHostPort(u.Host); err == nil {
			return h
		}
		return u.Host
	}
	return "backend.composio.dev"
}

// peerAttrFn adds network.peer.address to otelhttp's duration metric.
// WithMetricAttributesFn is deprecated in the pinned otelhttp (v0.72.0)
// in favour of the client Labeler, and kept here on purpose: the Labeler
// route, tried, costs 1.5–2% more CPU a call on the tracing+metrics
// overhead whose target is 1.3× otelhttp (1.28 → 1.30, same-run medians
// on a busy machine), and needs a pooled Labeler per Transport with
// atomic lookup counting to be no worse than that. Revisit when
// upgrading otelhttp removes the option.
func peerAttrFn(host string) otelhttp.Option {
	attrs := []attribute.KeyValue{AttrNetworkPeerAddr.String(host)}
	//lint:ignore SA1019 kept on purpose, see above
	return otelhttp.WithMetricAttributesFn(func(*http.Request) []attribute.KeyValue { return attrs })
}
