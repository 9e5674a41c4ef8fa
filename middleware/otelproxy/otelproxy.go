// Package otelproxy is OpenTelemetry tracing middleware for composiohttp,
// built on otelhttp.NewTransport: one client span per call, named as the
// HTTP semantic conventions name client spans ("GET /repos/{owner}/{repo}"
// when the route template is known, from ContextWithRoute or
// WithRouteFunc, else "GET"; "HTTP" for a method they do not know), with
// the upstream host in server.address (never in the name, so that calls to
// many tenant hosts such as tenantN.atlassian.net share one name), the
// composio facts of the call as attributes, and the trace context injected
// into the request headers, which the composiohttp Transport forwards to
// the upstream as header parameters.
//
// Besides otelhttp's own attributes (http.request.method, server.address,
// url.full, http.response.status_code, ...), a span carries, when known:
//
//	url.path                        the upstream path (no query)
//	url.template                    the route template
//	composio.toolkit                the toolkit of the connection
//	composio.connected_account.id   the connected account
//	composio.request_id             the proxy's request id
//	composio.upstream.status_code   the upstream's status
//	composio.proxy.status_code      the proxy's own HTTP status
//	composio.error.slug             the slug of a proxy error
//	http.request.resend_count       retries made (middleware/retry)
//	composio.cache.hit              served from cache (middleware/cache)
//
// They come from a *composiohttp.CallInfo that the middleware puts in the
// request context (or reuses, when an outer layer already did) and reads
// when the layers below return. No secret reaches an attribute: url.full is
// given without user info or fragment (#access_token=...) and with the
// values of secret query parameters
// (token, key, secret, password, signature, auth, code, sig, ...) replaced
// by [REDACTED], while the request sent upstream keeps them; the span
// status of a failed call, which otelhttp sets to the error's text, shows
// the URL a *url.Error quotes the same way. Header values are never
// recorded. Secrets in URL paths, such as the token of a Discord
// webhook (/api/webhooks/{id}/{token}) or of a Telegram bot
// (/bot<token>/...), are not recognised: hide them with WithURLRedactor.
//
// Metrics: otelhttp records http.client.request.duration with
// server.address and server.port naming the upstream and, added here,
// network.peer.address naming the proxy (WithProxyAddress). WithMetrics
// adds the library's own instruments (see Metrics): retries by reason,
// rate-limit waits, breaker states and transitions, cache results, proxy
// status against upstream status, account-resolver lookups. Attempts adds
// one child span per attempt with http.request.resend_count.
//
// Trace context is injected with the propagators given by WithPropagators,
// by default otel.GetTextMapPropagator() (as otelhttp does), which is a
// no-op until the program sets one.
package otelproxy

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/urlredact"
)

// Attribute keys set by the middleware, besides otelhttp's.
const (
	AttrURLPath          = attribute.Key("url.path")
	AttrURLTemplate      = attribute.Key("url.template")
	AttrToolkit          = attribute.Key("composio.toolkit")
	AttrConnectedAccount = attribute.Key("composio.connected_account.id")
	AttrRequestID        = attribute.Key("composio.request_id")
	AttrUpstreamStatus   = attribute.Key("composio.upstream.status_code")
	AttrProxyStatus      = attribute.Key("composio.proxy.status_code")
	AttrErrorSlug        = attribute.Key("composio.error.slug")
	AttrResendCount      = attribute.Key("http.request.resend_count")
	AttrCacheHit         = attribute.Key("composio.cache.hit")
)

// Option configures New and Middleware.
type Option func(*config)

type config struct {
	otel      []otelhttp.Option
	route     func(*http.Request) string
	redactURL func(*url.URL) *url.URL
	metrics   *Metrics
	proxyAddr string
}

// WithTracerProvider sets the TracerProvider. Default: the one of the
// span in the request context, else otel.GetTracerProvider() (otelhttp's
// default).
func WithTracerProvider(tp trace.TracerProvider) Option {
	return WithOTelHTTPOptions(otelhttp.WithTracerProvider(tp))
}

// WithMeterProvider sets the MeterProvider for otelhttp's client metrics.
// Default: otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return WithOTelHTTPOptions(otelhttp.WithMeterProvider(mp))
}

// WithPropagators sets how the trace context is injected into the request
// headers. Default: otel.GetTextMapPropagator().
func WithPropagators(p propagation.TextMapPropagator) Option {
	return WithOTelHTTPOptions(otelhttp.WithPropagators(p))
}

// WithOTelHTTPOptions passes options to otelhttp.NewTransport, after the
// middleware's own (so otelhttp.WithSpanNameFormatter replaces the default
// span names).
func WithOTelHTTPOptions(opts ...otelhttp.Option) Option {
	return func(c *config) { c.otel = append(c.otel, opts...) }
}

// WithRouteFunc sets a function returning the route template of a request
// (e.g. "/repos/{owner}/{repo}"), or "" when unknown: the span is then
// named "GET /repos/{owner}/{repo}" and carries url.template. A template
// has low cardinality by definition: it must not hold ids, names or hosts.
// A route set with ContextWithRoute wins. Default: none (spans are named
// after the method alone).
func WithRouteFunc(f func(*http.Request) string) Option {
	return func(c *config) { c.route = f }
}

// WithURLRedactor sets a function that hides what the default redaction
// (user info, secret query parameters) leaves in the URL recorded in
// url.full and url.path (and the span status's quote of it), typically a
// secret path segment. It receives a
// copy of the request URL, already redacted, and returns the URL to
// record; it may modify and return its argument. The request sent on is
// not affected. Default: none.
func WithURLRedactor(f func(*url.URL) *url.URL) Option {
	return func(c *config) { c.redactURL = f }
}

type routeKey struct{}

// ContextWithRoute returns a context that names the route template (the
// conventions' url.template, e.g. "/repos/{owner}/{repo}") of the requests
// made with it: their spans are named "{method} {template}" and carry
// url.template. Without a template a span is named after the method
// alone.
func ContextWithRoute(ctx context.Context, route string) context.Context {
	return context.WithValue(ctx, routeKey{}, route)
}

// RouteFromContext returns the route set by ContextWithRoute, or "".
func RouteFromContext(ctx context.Context) string {
	r, _ := ctx.Value(routeKey{}).(string)
	return r
}

// Middleware returns a function that wraps a RoundTripper with New(next,
// opts...), for use with a middleware chain.
func Middleware(opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, opts...) }
}

// New returns a *Transport, an http.RoundTripper that traces each call through next (nil:
// http.DefaultTransport). The span ends when the response body is closed or
// read to the end, or when RoundTrip fails. Nil options are skipped.
func New(next http.RoundTripper, opts ...Option) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	peer := c.proxyAddr
	if peer == "" {
		peer = proxyHost(next)
	}
	t := &Transport{next: next, route: c.route, redactURL: c.redactURL, metrics: c.metrics}
	o := append([]otelhttp.Option{otelhttp.WithSpanNameFormatter(t.spanName), peerAttrFn(peer)}, c.otel...)
	t.otel = otelhttp.NewTransport(annotate{next: next, redactURL: c.redactURL}, o...)
	return t
}

// Transport is the tracing http.RoundTripper that New returns (as
// otelhttp.NewTransport returns *otelhttp.Transport). Its configuration is
// set by New's options; the zero value is not usable.
type Transport struct {
	next      http.RoundTripper
	otel      http.RoundTripper
	route     func(*http.Request) string
	redactURL func(*url.URL) *url.URL
	metrics   *Metrics
	names     spanNamer
}

// Unwrap returns the RoundTripper the tracer wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

// call is the middleware's state of one call, kept in the one context node
// it adds to the request's context (one allocation): the *CallInfo that
// the layers below fill (its own, unless an outer layer put one in the
// context), the route template, the URL shown in the span and the real
// one, and otelhttp's span.
type call struct {
	context.Context
	info  *composiohttp.CallInfo
	own   composiohttp.CallInfo
	route string
	name  string   // the span name
	shown *url.URL // the URL recorded in the span (redacted)
	orig  *url.URL // the real URL, when it differs from shown
	span  trace.Span
	// labeler is otelhttp's client Labeler of the call, unless the
	// caller's context has one: otelhttp finds it here rather than adding
	// a Labeler and a context node of its own.
	labeler otelhttp.Labeler
}

type callKey struct{}

// Value answers for the call's *CallInfo (composiohttp.CallInfoFromContext),
// route template (RouteFromContext) and otelhttp client Labeler
// (otelhttp.ClientLabelerFromContext, unless the parent has one), and
// otherwise asks the parent.
func (c *call) Value(key any) any {
	switch key.(type) {
	case callKey:
		return c
	case routeKey:
		if c.route != "" {
			return c.route
		}
	default:
		if composiohttp.IsCallInfoKey(key) {
			return c.info
		}
		if clientLabelerKey != nil && key == clientLabelerKey {
			if l := c.Context.Value(key); l != nil {
				return l
			}
			return &c.labeler
		}
	}
	return c.Context.Value(key)
}

// String names the node as the context package names its own, without
// the call's state.
func (c *call) String() string {
	name := "context.Context"
	if s, ok := c.Context.(fmt.Stringer); ok {
		name = s.String()
	}
	return name + ".WithValue(otelproxy call)"
}

// clientLabelerKey is the context key otelhttp.ClientLabelerFromContext
// looks up (an unexported value of otelhttp's), learnt by asking it once,
// or nil if that does not find a Labeler answered under that key.
var clientLabelerKey = func() any {
	p := &keyProbe{}
	otelhttp.ClientLabelerFromContext(p)
	if len(p.keys) != 1 {
		return nil
	}
	l := new(otelhttp.Labeler)
	p.answer, p.with = p.keys[0], l
	if got, ok := otelhttp.ClientLabelerFromContext(p); !ok || got != l {
		return nil
	}
	return p.answer
}()

// keyProbe is a context that records the keys it is asked for, and
// answers one with a value.
type keyProbe struct {
	context.Context
	keys         []any
	answer, with any
}

func (p *keyProbe) Value(key any) any {
	p.keys = append(p.keys, key)
	if p.answer != nil && key == p.answer {
		return p.with
	}
	return nil
}

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, composiohttp.ErrNilRequest
	}
	if t.otel == nil { // built by hand: nothing to call
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("otelproxy: %w", composiohttp.ErrZeroTransport)
	}
	ctx := req.Context()
	c := &call{Context: ctx, info: composiohttp.CallInfoFromContext(ctx), route: RouteFromContext(ctx)}
	if c.info == nil {
		c.info = &c.own
	}
	if c.route == "" && t.route != nil {
		c.route = t.route(req)
	}
	c.name = t.names.build(req.Method, c.route)
	red, changed := urlredact.Shown(req.URL, t.redactURL) // as logging's lines
	c.shown = red
	if changed {
		c.orig = req.URL
	}
	r := req.WithContext(c)
	r.URL = red
	resp, err := t.otel.RoundTrip(r)
	if se, ok := err.(*shownError); ok { // annotate's: the caller gets the error itself
		err = se.err
	}
	if c.span != nil {
		// Set after otelhttp's response attributes, on a span slice that
		// then grows once rather than twice; a failed call's attributes
		// were set below (annotate), before otelhttp ended the span.
		setAttributes(c.span, c, nil)
	}
	if t.metrics != nil {
		t.metrics.call(c.info, err)
	}
	return resp, err
}

// spanName is otelhttp's span name formatter: the name New worked out
// (from the request's method and route template).
func (t *Transport) spanName(_ string, r *http.Request) string {
	if c, ok := r.Context().(*call); ok {
		return c.name
	}
	return t.names.name("", r)
}

// spanNamer names spans as the HTTP semantic conventions name client
// spans: "{method} {url.template}" when the route template is known, else
// "{method}", with "HTTP" for a method the conventions do not know
// (http.request.method _OTHER). The host is never in the name (it is in
// server.address), so that names stay few whatever the number of hosts. It
// remembers the last name built with a template, so that a run of calls
// to the same route (the common case) costs two string comparisons rather
// than a concatenation (an allocation).
type spanNamer struct{ last atomic.Pointer[spanNameEntry] }

type spanNameEntry struct{ method, route, name string }

func (n *spanNamer) name(_ string, r *http.Request) string {
	return n.build(r.Method, RouteFromContext(r.Context()))
}

func (n *spanNamer) build(method, route string) string {
	method = spanMethod(method)
	if route == "" {
		return method
	}
	if e := n.last.Load(); e != nil && e.method == method && e.route == route {
		return e.name
	}
	name := method + " " + route
	n.last.Store(&spanNameEntry{method, route, name})
	return name
}

// spanMethod returns the method as http.request.method records it (the
// conventions' known methods, in upper case), or "HTTP" for any other
// (_OTHER). It allocates nothing.
func spanMethod(m string) string {
	if k := knownMethod(m); k != "" {
		return k
	}
	if len(m) <= len("OPTIONS") {
		var buf [len("OPTIONS")]byte
		for i := range len(m) {
			c := m[i]
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			buf[i] = c
		}
		if k := knownMethod(string(buf[:len(m)])); k != "" {
			return k
		}
	}
	return "HTTP"
}

// knownMethod returns m's constant when m is one of the methods the HTTP
// semantic conventions know, else "".
func knownMethod(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodHead:
		return http.MethodHead
	case http.MethodOptions:
		return http.MethodOptions
	case http.MethodConnect:
		return http.MethodConnect
	case http.MethodTrace:
		return http.MethodTrace
	}
	return ""
}

// annotate runs below otelhttp: it restores the real URL for the layers
// below and, when the call failed (otelhttp then ends the span before
// returning), adds the CallInfo attributes to otelhttp's span; on success,
// it leaves the span to New's RoundTrip, which adds them once otelhttp has
// added its own.
type annotate struct {
	next      http.RoundTripper
	redactURL func(*url.URL) *url.URL // WithURLRedactor's
}

// shownError is an error from below as otelhttp sees it, which puts its
// text in the span's status: the URL a *url.Error in its chain quotes is
// shown as url.full is (urlredact.ErrorText, as logging's lines).
// RoundTrip gives the caller the error itself.
type shownError struct {
	err  error
	text string
}

func (e *shownError) Error() string { return e.text }
func (e *shownError) Unwrap() error { return e.err }

// ErrorType makes otelhttp's error.type that of the error itself.
func (e *shownError) ErrorType() string { return semconv.ErrorType(e.err).Value.AsString() }

func (a annotate) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	c, _ := ctx.Value(callKey{}).(*call)
	if c != nil && c.orig != nil {
		r = r.WithContext(ctx)
		r.URL = c.orig
	}
	resp, err := a.next.RoundTrip(r)
	if c == nil {
		return resp, err
	}
	if span := trace.SpanFromContext(ctx); span.IsRecording() {
		if err != nil || resp == nil || resp.Body == nil {
			// otelhttp ends the span before it returns.
			setAttributes(span, c, err)
		} else {
			c.span = span
		}
	}
	if err != nil {
		if text, changed := urlredact.ErrorText(err, a.redactURL); changed {
			err = &shownError{err: err, text: text}
		}
	}
	return resp, err
}

// setAttributes adds the CallInfo attributes of c to span in one
// SetAttributes call, from a pooled buffer: the span copies the values it
// keeps.
func setAttributes(span trace.Span, c *call, err error) {
	buf := attrPool.Get().(*[maxAttrs]attribute.KeyValue)
	attrs := attributes(buf[:0], c, err)
	span.SetAttributes(attrs...)
	clear(attrs)
	attrPool.Put(buf)
}

// maxAttrs is the number of attributes annotate can add (see attributes).
const maxAttrs = 10

var attrPool = sync.Pool{New: func() any { return new([maxAttrs]attribute.KeyValue) }}

// proxyError returns the *composiohttp.Error in err's chain, or nil. It
// keeps errors.As's target off the callers' frames, so that a call
// without an error allocates nothing.
func proxyError(err error) *composiohttp.Error {
	if err == nil {
		return nil
	}
	var pe *composiohttp.Error
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// attributes appends the CallInfo attributes of a call to attrs (at most
// maxAttrs).
func attributes(attrs []attribute.KeyValue, c *call, err error) []attribute.KeyValue {
	if c.shown != nil {
		attrs = append(attrs, AttrURLPath.String(c.shown.Path))
	}
	if c.route != "" {
		attrs = append(attrs, AttrURLTemplate.String(c.route))
	}
	info := c.info
	account, requestID := info.ConnectedAccountID, info.RequestID
	if account == "" {
		account, _ = composiohttp.ConnectedAccountFromContext(c.Context)
	}
	if pe := proxyError(err); pe != nil {
		attrs = append(attrs, AttrErrorSlug.String(pe.Slug))
		if requestID == "" {
			requestID = pe.RequestID
		}
		if info.ProxyStatus == 0 {
			attrs = append(attrs, AttrProxyStatus.Int(pe.StatusCode))
		}
	}
	if info.Toolkit != "" {
		attrs = append(attrs, AttrToolkit.String(info.Toolkit))
	}
	if account != "" {
		attrs = append(attrs, AttrConnectedAccount.String(account))
	}
	if requestID != "" {
		attrs = append(attrs, AttrRequestID.String(requestID))
	}
	if info.UpstreamStatus != 0 {
		attrs = append(attrs, AttrUpstreamStatus.Int(info.UpstreamStatus))
	}
	if info.ProxyStatus != 0 {
		attrs = append(attrs, AttrProxyStatus.Int(info.ProxyStatus))
	}
	if info.Retries != 0 {
		attrs = append(attrs, AttrResendCount.Int(info.Retries))
	}
	return append(attrs, AttrCacheHit.Bool(info.CacheHit))
}
