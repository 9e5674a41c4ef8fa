// Package retry retries failed calls of an [http.RoundTripper], typically a
// [composiohttp.Transport], with exponential backoff and jitter
// ([github.com/cenkalti/backoff/v4]), honouring Retry-After.
//
// A call is retried when
//   - the transport returned an error for which composiohttp.IsRetryable
//     is true: a proxy error (*composiohttp.Error) whose status is in the
//     table below, or no reply at all (composiohttp.ErrProxyUnreachable,
//     or a connection failure: refused, reset, unexpected EOF, timeout);
//     or
//   - the upstream answered a status in the table below.
//
// One table, [composiohttp.RetryableStatus], decides for the proxy's own
// statuses and the upstream's alike:
//
//	status                      retried   why
//	408 Request Timeout         yes       the server gave up waiting for the request
//	429 Too Many Requests       yes       rate limited; Retry-After says when
//	500 Internal Server Error   yes       a failure that may not recur
//	502 Bad Gateway             yes       the proxy could not reach the upstream
//	503 Service Unavailable     yes       overloaded or down for a moment
//	504 Gateway Timeout         yes       the upstream did not answer in time
//	409 Conflict                no        see below
//	501, other 5xx              no        the server cannot do this at all
//	other 4xx                   no        the request is wrong; sending it again does not help
//	no reply from the proxy     yes       connection refused, reset, TLS, timeout
//
// 409 is not retried although Composio's generated clients retry it on
// Composio's own API (there it means a lock timeout): an upstream 409 is a
// conflict, such as an edit race or a resource that already exists, which
// sending the same request again does not resolve, and the proxy
// documents no 409 of its own.
//
// An x-should-retry header of "true" or "false" (on an upstream response,
// or the proxy's, in composiohttp.Error.ShouldRetry) decides before these
// rules, as in Composio's generated clients; it never makes a
// non-replayable request replayable. Every other response, whatever its
// status, and every other error is returned at once. When the attempts run
// out, the last response or error is returned as is; every response discarded before is drained (at most
// 64 KiB) and closed. A next RoundTripper that returns both a response and
// an error has its response closed and its error returned alone; one that
// returns neither gets ErrNilResponse.
//
// Only requests that are safe to send twice are retried: methods GET,
// HEAD, PUT, DELETE, OPTIONS and TRACE, or any request carrying an
// Idempotency-Key header, or any request at all with WithNonIdempotent.
// A request body is sent again through Request.GetBody (set by
// http.NewRequest for in-memory bodies); a request with a body but no
// GetBody is sent once. The caller's request is never modified.
//
// Waits: the retry-after-ms, else Retry-After, of a proxy error
// (composiohttp.Error.RetryAfter) or of an upstream response
// (composiohttp.RetryAfterHeader) is used when given,
// capped by WithMaxRetryAfter; otherwise the backoff decides. A wait that
// would end after the request context's deadline, or after
// WithMaxElapsedTime, is not started: the last response or error is
// returned at once. If the context ends during a wait, the call ends with
// the context's error.
//
// Retry budget: [WithBudget] caps retries as a share of recent calls (by
// default at most 10% over a 10 s sliding window), shared by every
// retrier given the same *Budget, so that an outage is not amplified. A
// call the budget keeps from retrying returns its failure: an error wrapped
// in a [*BudgetError] (errors.Is(err, [ErrBudgetExhausted])), or the response.
//
// When the request context carries a [*composiohttp.CallInfo]
// ([composiohttp.WithCallInfo]), its Retries field counts the retries made.
package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/composiohttp/composiohttp"

	"github.com/composiohttp/composiohttp/internal/ctxsleep"
	"github.com/composiohttp/composiohttp/internal/httpbody"
)

// Defaults.
const (
	// DefaultMaxAttempts is the number of attempts, the first included.
	DefaultMaxAttempts = 4
	// DefaultMaxElapsedTime bounds the time from the start of the call
	// to the start of the last retry.
	DefaultMaxElapsedTime = time.Minute
	// DefaultMaxRetryAfter caps the wait a Retry-After asks for.
	DefaultMaxRetryAfter = 30 * time.Second
	// DefaultInitialInterval, DefaultMaxInterval, DefaultMultiplier and
	// DefaultRandomizationFactor configure the default exponential
	// backoff: 250ms, 500ms, 1s, ... up to 8s, each ±50%.
	DefaultInitialInterval     = 250 * time.Millisecond
	DefaultMaxInterval         = 8 * time.Second
	DefaultMultiplier          = 2.0
	DefaultRandomizationFactor = 0.5
)

// Event describes one retry, for the hook set by WithOnRetry.
type Event struct {
	// Request is the caller's request. Do not modify it.
	Request *http.Request
	// Attempt is the number of the attempt that failed, from 1; the
	// retry is attempt Attempt+1.
	Attempt int
	// Wait is how long the retry waits before it is sent.
	Wait time.Duration
	// StatusCode is the upstream status that caused the retry, or 0 when
	// Err did.
	StatusCode int
	// Err is the error that caused the retry, or nil when StatusCode did.
	Err error
}

// Option configures the retrier built by New or Middleware.
type Option func(*config)

type config struct {
	maxAttempts       int
	maxElapsed        time.Duration
	maxRetryAfter     time.Duration
	newBackOff        func() backoff.BackOff
	nonIdempotent     bool
	onRetry           func(Event)
	budget            *Budget
	onBudgetExhausted func(Event)
	sleep             func(context.Context, time.Duration) error
	now               func() time.Time
}

// WithMaxAttempts sets the number of attempts, the first included
// (default DefaultMaxAttempts). n ≤ 1 disables retries.
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithMaxElapsedTime bounds the time from the start of the call to the
// start of the last retry (default DefaultMaxElapsedTime); d ≤ 0 removes
// the bound (the request context still applies).
func WithMaxElapsedTime(d time.Duration) Option { return func(c *config) { c.maxElapsed = d } }

// WithMaxRetryAfter caps the wait a Retry-After asks for (default
// DefaultMaxRetryAfter): a longer Retry-After waits d. d ≤ 0 removes the
// cap (WithMaxElapsedTime and the context deadline still apply).
func WithMaxRetryAfter(d time.Duration) Option { return func(c *config) { c.maxRetryAfter = d } }

// WithBackOff sets the backoff used when no Retry-After is given: f is
// called once per call that retries, since a backoff.BackOff keeps state.
// When the backoff returns backoff.Stop, the call stops retrying. Default:
// a backoff.ExponentialBackOff with DefaultInitialInterval,
// DefaultMultiplier, DefaultRandomizationFactor, DefaultMaxInterval.
func WithBackOff(f func() backoff.BackOff) Option { return func(c *config) { c.newBackOff = f } }

// WithNonIdempotent retries requests of every method, POST and PATCH
// included, even without an Idempotency-Key header. Beware: a write
// retried after its reply was lost may happen twice.
func WithNonIdempotent() Option { return func(c *config) { c.nonIdempotent = true } }

// WithOnRetry calls f before each retry's wait, from the goroutine of the
// call.
func WithOnRetry(f func(Event)) Option { return func(c *config) { c.onRetry = f } }

// WithSleep replaces the wait between attempts (default: a timer that
// stops when ctx ends). sleep must return ctx's error if ctx ends first,
// nil otherwise. A test of retry alone uses it to run without waiting;
// a test of a chain needs every layer's waits to pass (ratelimit pauses
// after the same 429): run it in a testing/synctest bubble with the fake
// in process (testutil.Server.InProcessTransport), where no option is
// needed, or give each layer the same clock (WithClock here too).
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = sleep }
}

// WithClock replaces time.Now, for elapsed-time and deadline checks and
// for Retry-After dates.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Middleware returns a middleware, for middleware.Chain, applying New with opts.
func Middleware(opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, opts...) }
}

// New returns a *Transport, an http.RoundTripper that sends requests through next
// (http.DefaultTransport if nil), retrying as described in the package
// documentation. It is safe for concurrent use if next is.
func New(next http.RoundTripper, opts ...Option) *Transport {
	t := &Transport{next: next, config: config{
		maxAttempts:   DefaultMaxAttempts,
		maxElapsed:    DefaultMaxElapsedTime,
		maxRetryAfter: DefaultMaxRetryAfter,
		newBackOff:    defaultBackOff,
		sleep:         ctxsleep.Sleep,
		now:           time.Now,
	}}
	for _, o := range opts {
		if o != nil {
			o(&t.config)
		}
	}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	if t.newBackOff == nil {
		t.newBackOff = defaultBackOff
	}
	t.sleep = ctxsleep.Or(t.sleep)
	if t.now == nil {
		t.now = time.Now
	}
	return t
}

func defaultBackOff() backoff.BackOff {
	return &backoff.ExponentialBackOff{
		InitialInterval:     DefaultInitialInterval,
		RandomizationFactor: DefaultRandomizationFactor,
		Multiplier:          DefaultMultiplier,
		MaxInterval:         DefaultMaxInterval,
		Stop:                backoff.Stop,
		Clock:               backoff.SystemClock,
	}
}

// Transport is the retrying http.RoundTripper that New returns. Its
// configuration is set by New's options; the zero value is not usable.
type Transport struct {
	next http.RoundTripper
	config
}

// Unwrap returns the RoundTripper the retrier wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

// ErrNilRequest is returned for a nil request. It is
// composiohttp.ErrNilRequest.
var ErrNilRequest = composiohttp.ErrNilRequest

// ErrNilResponse is returned when the next RoundTripper returned neither a
// response nor an error.
var ErrNilResponse = errors.New("retry: next RoundTripper returned a nil response and a nil error")

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, ErrNilRequest
	}
	if t.next == nil { // built by hand: nothing to call
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("retry: %w", composiohttp.ErrZeroTransport)
	}
	if t.budget != nil {
		t.budget.call(req.Context())
	}
	// The first attempt sends the caller's request itself: nothing is
	// allocated when it succeeds.
	resp, err := t.send(req)
	if t.maxAttempts <= 1 || !t.replayable(req) {
		return resp, err
	}
	var (
		ctx   = req.Context()
		start time.Time
		bo    backoff.BackOff
	)
	for attempt := 1; ; attempt++ {
		status, retryAfter, ok := t.retryable(resp, err)
		if !ok || attempt >= t.maxAttempts || ctx.Err() != nil {
			return resp, err
		}
		if bo == nil {
			// The call's start is taken after the first attempt, so
			// that the first attempt costs no clock read.
			start = t.now()
			bo = t.newBackOff()
			bo.Reset()
		}
		wait := retryAfter
		if wait <= 0 {
			wait = bo.NextBackOff()
			if wait == backoff.Stop {
				return resp, err
			}
		} else if t.maxRetryAfter > 0 && wait > t.maxRetryAfter {
			wait = t.maxRetryAfter
		}
		now := t.now()
		if t.maxElapsed > 0 && now.Add(wait).Sub(start) > t.maxElapsed {
			return resp, err
		}
		if ctxsleep.Outlasts(ctx, now, wait) {
			return resp, err
		}
		if t.budget != nil && !t.budget.retry(ctx) {
			if t.onBudgetExhausted != nil {
				t.onBudgetExhausted(Event{Request: req, Attempt: attempt, Wait: wait, StatusCode: status, Err: err})
			}
			if err != nil {
				return nil, &BudgetError{Err: err}
			}
			return resp, nil
		}
		next := req
		if req.Body != nil && req.Body != http.NoBody {
			body, gerr := req.GetBody()
			if gerr != nil {
				return resp, err
			}
			r := *req
			r.Body = body
			next = &r
		}
		if t.onRetry != nil {
			t.onRetry(Event{Request: req, Attempt: attempt, Wait: wait, StatusCode: status, Err: err})
		}
		if resp != nil {
			discard(resp)
		}
		if serr := t.sleep(ctx, wait); serr != nil {
			if next.Body != req.Body {
				next.Body.Close()
			}
			if err != nil {
				return nil, fmt.Errorf("retry: %w while waiting to retry after: %w", serr, err)
			}
			return nil, fmt.Errorf("retry: %w while waiting to retry after status %d", serr, status)
		}
		if info := composiohttp.CallInfoFromContext(ctx); info != nil {
			info.Retries++
		}
		resp, err = t.send(next)
	}
}

// send makes one attempt. A next RoundTripper that breaks the contract
// gets its error alone (its response closed) or ErrNilResponse, so that
// the caller never gets both, nor neither.
func (t *Transport) send(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	switch {
	case err != nil && resp != nil:
		discard(resp)
		return nil, err
	case err == nil && resp == nil:
		return nil, ErrNilResponse
	}
	return resp, err
}

// replayable reports whether req may be sent again.
func (t *Transport) replayable(req *http.Request) bool {
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	if t.nonIdempotent {
		return true
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodOptions, http.MethodTrace:
		return true
	}
	return len(req.Header["Idempotency-Key"]) > 0
}

// retryable reports whether the outcome of an attempt is worth retrying,
// with the upstream status (0 for an error) and the Retry-After asked for
// (0 if none).
func (t *Transport) retryable(resp *http.Response, err error) (status int, retryAfter time.Duration, ok bool) {
	if err != nil {
		var pe *composiohttp.Error
		if errors.As(err, &pe) && pe.ShouldRetry != nil {
			// x-should-retry: the proxy's explicit word wins.
			return 0, pe.RetryAfter, *pe.ShouldRetry
		}
		if !composiohttp.IsRetryable(err) {
			return 0, 0, false
		}
		if pe != nil {
			retryAfter = pe.RetryAfter
		}
		return 0, retryAfter, true
	}
	if retry, ok := composiohttp.ShouldRetryHeader(resp.Header); ok {
		return resp.StatusCode, composiohttp.RetryAfterHeader(resp.Header, t.now()), retry
	}
	if composiohttp.RetryableStatus(resp.StatusCode) {
		return resp.StatusCode, composiohttp.RetryAfterHeader(resp.Header, t.now()), true
	}
	return resp.StatusCode, 0, false
}

// discard drains (bounded: httpbody.ReuseLimit, for the next attempt to
// reuse the connection) and closes a response that is not returned.
func discard(resp *http.Response) { httpbody.DrainClose(resp.Body, httpbody.ReuseLimit) }
