// Package breaker is a circuit breaker for an [http.RoundTripper], typically
// a [composiohttp.Transport], built on [github.com/sony/gobreaker/v2]: one
// breaker per key (the upstream host by default; or the toolkit, the
// account, or any function of the request).
//
// A breaker counts the outcome of every call. After enough failures
// ([Settings].ReadyToTrip; default [DefaultConsecutiveFailures] in a row) it
// opens: calls for its key fail at once with an [*OpenError], which matches
// [ErrOpen] with errors.Is and says when the breaker will let a call through
// again. After Settings.Timeout it half-opens: at most Settings.MaxProbes
// calls go through as probes (the others fail fast), and as many
// successes close it again, while one failure opens it anew.
//
// What counts as a failure is configurable ([WithFailures], [WithClassifier]);
// by default: a proxy error with status ≥ 500 or a reply that is not a
// valid envelope (ProxyErrors), a connection failure to the proxy
// (ConnectionErrors), and an upstream response with status ≥ 500
// (UpstreamErrors). A 4xx, from the proxy or the upstream, is a success:
// the service answered. A call that ends because its own context ended is
// not counted at all, nor is a request refused before anything was sent
// (composiohttp.ErrBadRequest and the other sentinels).
//
// # Order
//
// The breaker goes inside retry and outside ratelimit:
//
//	otelproxy → logging → cache → retry → breaker → ratelimit → Transport
//
// so that every attempt counts, an open breaker ends retrying (retry does
// not retry an *OpenError: composiohttp.IsRetryable is false for it), and a
// call refused by the breaker does not take a rate-limit token.
//
// # Sharing among replicas
//
// [Local] keeps the breakers in process. The sub-package redisbreaker shares
// them among replicas through Redis with gobreaker's distributed breaker,
// so that replicas open and close together; it is its own package so that
// importing breaker does not compile go-redis.
package breaker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/composiohttp/composiohttp"
)

// State is a breaker's state: StateClosed, StateHalfOpen or StateOpen.
type State = gobreaker.State

// The states of a breaker.
const (
	StateClosed   = gobreaker.StateClosed
	StateHalfOpen = gobreaker.StateHalfOpen
	StateOpen     = gobreaker.StateOpen
)

// Counts holds a breaker's counts of the current generation (since it last
// changed state or, when closed, since the last Settings.Interval), for
// Settings.ReadyToTrip.
type Counts = gobreaker.Counts

// Outcome is how a call counts for its breaker.
type Outcome int

const (
	// Success: the service answered (whatever the status, unless it is a
	// failure).
	Success Outcome = iota
	// Failure: counts towards opening the breaker.
	Failure
	// Ignore: not counted at all (the caller's own cancellation, a
	// request refused before it was sent).
	Ignore
)

// Failures selects which outcomes the default classifier counts as
// failures.
type Failures uint8

const (
	// ProxyErrors: a *composiohttp.Error with status ≥ 500, or a proxy
	// reply that is not a valid envelope (composiohttp.ErrMalformedEnvelope).
	ProxyErrors Failures = 1 << iota
	// ConnectionErrors: the proxy could not be reached or the connection
	// broke (a connection error for which composiohttp.IsRetryable is
	// true).
	ConnectionErrors
	// UpstreamErrors: an upstream response with status ≥ 500.
	UpstreamErrors

	// DefaultFailures counts all three.
	DefaultFailures = ProxyErrors | ConnectionErrors | UpstreamErrors
)

// Classify returns the classifier counting failures as f selects, used by
// default with DefaultFailures. A call whose request context has ended is
// Ignore, whatever its result: the caller's own cancellation or deadline
// says nothing about the service.
func Classify(f Failures) func(req *http.Request, resp *http.Response, err error) Outcome {
	return func(req *http.Request, resp *http.Response, err error) Outcome {
		if err == nil {
			if resp != nil && resp.StatusCode >= 500 && f&UpstreamErrors != 0 {
				return Failure
			}
			return Success
		}
		if req.Context().Err() != nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return Ignore
		}
		var pe *composiohttp.Error
		if errors.As(err, &pe) {
			if pe.StatusCode >= 500 && f&ProxyErrors != 0 {
				return Failure
			}
			return Success
		}
		if errors.Is(err, composiohttp.ErrMalformedEnvelope) {
			if f&ProxyErrors != 0 {
				return Failure
			}
			return Ignore
		}
		if composiohttp.IsRetryable(err) && f&ConnectionErrors != 0 {
			return Failure
		}
		return Ignore
	}
}

// ErrOpen matches (errors.Is) the error of a call refused by a breaker.
var ErrOpen = errors.New("breaker: circuit open")

// OpenError is a call refused by an open breaker, or by a half-open one
// whose probes are all in flight. It matches ErrOpen, and unwraps to
// gobreaker.ErrOpenState or gobreaker.ErrTooManyRequests.
type OpenError struct {
	// Key is the breaker's key (a host, a toolkit, an account id or a
	// digest; never a secret).
	Key string
	// State is StateOpen, or StateHalfOpen when the probes are all in
	// flight.
	State State
	// RetryAt is when the breaker lets a probe through again (for a
	// half-open breaker: when a probe finishes, so the zero time).
	RetryAt time.Time
}

func (e *OpenError) Error() string {
	if e.State == StateHalfOpen || e.RetryAt.IsZero() {
		return fmt.Sprintf("breaker: circuit for %q is %s: call refused", e.Key, e.State)
	}
	return fmt.Sprintf("breaker: circuit for %q is open: call refused; next try at %s",
		e.Key, e.RetryAt.UTC().Format(time.RFC3339Nano))
}

// Is makes errors.Is(err, ErrOpen) true.
func (e *OpenError) Is(target error) bool { return target == ErrOpen }

// Unwrap returns gobreaker's own error for the state.
func (e *OpenError) Unwrap() error {
	if e.State == StateHalfOpen {
		return gobreaker.ErrTooManyRequests
	}
	return gobreaker.ErrOpenState
}

// RetryAfter returns how long from now until RetryAt (0 if past or
// unknown).
func (e *OpenError) RetryAfter(now time.Time) time.Duration {
	if e.RetryAt.IsZero() {
		return 0
	}
	return max(e.RetryAt.Sub(now), 0)
}

// Temporary is false: retrying at once cannot succeed.
func (e *OpenError) Temporary() bool { return false }

// Code returns composiohttp.CodeCircuitOpen, the code composiohttp.CodeOf
// gives e (not retryable).
func (e *OpenError) Code() composiohttp.Code { return composiohttp.CodeCircuitOpen }

// Group hands out the breaker of each key. Local and
// redisbreaker.Group implement it.
type Group interface {
	// Allow asks whether a call for key may go ahead. If it may, done
	// must be called exactly once with the call's outcome; if not, err
	// is an *OpenError (or, for a shared group, the store's error).
	Allow(ctx context.Context, key string) (done func(Outcome), err error)
}

// KeyByHost is the default key: the request's upstream host (with port,
// if any).
func KeyByHost(req *http.Request) string {
	if req.URL == nil {
		return ""
	}
	return req.URL.Host
}

// KeyByToolkit keys by toolkit: "toolkit:<slug>" when the context carries a
// connection naming its toolkit, else "host:<upstream host>".
func KeyByToolkit(req *http.Request) string {
	if c, ok := composiohttp.ConnectionFromContext(req.Context()); ok && c.ToolkitSlug != "" {
		return "toolkit:" + c.ToolkitSlug
	}
	return "host:" + KeyByHost(req)
}

// KeyByAccount keys by tenant: composiohttp.Identity of the request
// context ("account:<id>", "connection:<digest>"), or "" for the
// Transport's own account, which the middleware replaces with that
// Transport's identity (see New).
func KeyByAccount(req *http.Request) string { return composiohttp.Identity(req.Context()) }

// Option configures the middleware built by New or Middleware.
type Option func(*Transport)

// WithKey sets how a request's breaker is chosen (default KeyByHost).
func WithKey(key func(*http.Request) string) Option { return func(t *Transport) { t.key = key } }

// WithFailures sets what counts as a failure (default DefaultFailures);
// it replaces a classifier set before.
func WithFailures(f Failures) Option { return func(t *Transport) { t.classify = Classify(f) } }

// WithClassifier sets how a call's outcome counts (default
// Classify(DefaultFailures)). f sees the caller's request and what the next
// RoundTripper returned; it must not read or close the response body.
func WithClassifier(f func(req *http.Request, resp *http.Response, err error) Outcome) Option {
	return func(t *Transport) { t.classify = f }
}

// WithGroup sets the breakers (default: a new Local with zero Settings,
// i.e. the defaults).
func WithGroup(g Group) Option { return func(t *Transport) { t.group = g } }

// Middleware returns a middleware, for middleware.Chain, applying New with opts.
func Middleware(opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, opts...) }
}

// New returns a *Transport, an http.RoundTripper that sends requests through next
// (http.DefaultTransport if nil) unless their breaker is open. It is safe
// for concurrent use if next is.
//
// A request whose key is "" (with KeyByAccount: its context selects no
// account) acts for the wrapped Transport's own account, so its key is
// composiohttp.TransportIdentity(next): the identity of the
// *composiohttp.Transport found by unwrapping next ("account:<id>" for its
// ConnectedAccountID, "connection:<digest>", "session:<id>", "user:<id>"),
// the same key as a context selecting that account. Transports for
// different accounts sharing one Group thus keep their breakers apart. It
// stays "" when next unwraps to no such Transport, or to one acting for
// nobody. The identity is read once, here: set the Transport's fields
// before calling New.
func New(next http.RoundTripper, opts ...Option) *Transport {
	t := &Transport{next: next, own: composiohttp.TransportIdentity(next)}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	if t.key == nil {
		t.key = KeyByHost
	}
	if t.classify == nil {
		t.classify = defaultClassify
	}
	if t.group == nil {
		t.group = NewLocal(Settings{})
	}
	return t
}

var defaultClassify = Classify(DefaultFailures)

// Transport is the circuit-breaking http.RoundTripper that New returns.
// Its configuration is set by New's options; the zero value is not usable.
type Transport struct {
	next     http.RoundTripper
	key      func(*http.Request) string
	classify func(*http.Request, *http.Response, error) Outcome
	group    Group
	own      string // the key for "": the wrapped Transport's identity
}

// ErrNilRequest is returned for a nil request. It is
// composiohttp.ErrNilRequest.
var ErrNilRequest = composiohttp.ErrNilRequest

// Unwrap returns the RoundTripper the breaker wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, ErrNilRequest
	}
	if t.next == nil { // built by hand: nothing to call
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("breaker: %w", composiohttp.ErrZeroTransport)
	}
	key := t.key(req)
	if key == "" {
		key = t.own
	}
	done, err := t.group.Allow(req.Context(), key)
	if err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	done(t.classify(req, resp, err))
	return resp, err
}
