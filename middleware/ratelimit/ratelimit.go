// Package ratelimit holds calls of an [http.RoundTripper], typically a
// [composiohttp.Transport], to a rate per key: by default one token bucket
// per connected account (or connection), so that one busy tenant cannot
// use up another's share of the proxy or of the upstream API.
//
// A [Limiter] decides when a call may proceed. [Local] keeps the buckets in
// process ([golang.org/x/time/rate]); the sub-package redislimit shares
// them among many replicas through Redis (GCRA, go-redis/redis_rate), in
// its own package so that importing ratelimit does not compile go-redis.
//
// # Choosing a rate and a burst
//
// NewLocal(limit, burst) gives each key a bucket of burst tokens that
// refills at limit tokens a second; a call takes one. The rate is the
// sustained pace, the burst how many calls a key that has been idle
// may make at once before the pace applies. Over any span of T seconds
// a key makes at most burst + limit×T calls, so the burst never raises
// the long-run rate, only how bunched calls may be.
//
//   - limit: below the upstream's per-account limit, with room for the
//     other clients of the same account (GitHub: 5,000 an hour, about
//     1.4 a second; Slack's tier 3 methods: about 50 a minute). The
//     examples use 10 a second, a ceiling for chatty APIs.
//   - burst: the most calls one unit of your work makes at once (a
//     handler that fetches 20 items concurrently, a page of go-github
//     requests), so that such a fan-out does not queue behind itself;
//     never more than the upstream accepts in a second or two. At least
//     1: a Burst of 0 allows no call ([ErrNoBurst]). burst = limit
//     allows one second's worth at once; the documented chain uses
//     NewLocal(10, 20), two seconds' worth (20 calls at once, then 10
//     a second; at most 620 in a minute).
//
// The per-account bucket does not know Composio's organisation-wide
// limit, shared by all accounts: [OrgLimiter] paces that one from the
// proxy's own headers.
//
// Keys: a request is keyed by the account its context selects
// (composiohttp.Identity), else by the account of the Transport it goes
// through (composiohttp.TransportIdentity, found by unwrapping), so that
// Transports acting for different accounts may share one Limiter. A
// Local tracks at most MaxKeys (10,000) keys and evicts only idle ones,
// never a key that is paused or still earning back tokens it spent; when
// all are busy it holds more rather than forget, and reports it
// ([Local.Stats], [LocalStats.Overflows]).
//
// Waits honour the request context: a wait that would end after the
// context's deadline is not started, the call fails at once with a
// [*LimitError] (errors.Is(err, [ErrLimited])) and takes no token.
//
// Adaptive: after the proxy (a *composiohttp.Error with status 429 and
// RetryAfter) or the upstream (a 429 response with a Retry-After header)
// asked a key to slow down, that key pauses for the time asked, capped
// by [WithMaxPause], if the Limiter implements [Pauser] (Local and
// redislimit.Limiter do).
//
// Composio's organisation limit: [OrgLimiter], placed below the
// composiohttp.Transport (OrgLimiter.Transport as Transport.Base), learns
// the organisation's fixed window from the X-RateLimit* headers of the
// proxy's replies, slows callers down as the window's remaining count
// approaches 0 instead of running into the 429, and pauses the whole
// organisation until Retry-After when a 429 comes anyway.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/composiohttp/composiohttp"
)

// DefaultMaxPause caps the pause a Retry-After asks for.
const DefaultMaxPause = 5 * time.Minute

// Limiter decides when a call for a key may proceed. Implementations
// must be safe for concurrent use.
type Limiter interface {
	// Wait blocks until a call for key may proceed, and takes the token
	// for it. When the wait would end after ctx's deadline, it fails at
	// once with an error matching ErrLimited and takes nothing; when
	// ctx ends during the wait, it returns an error wrapping ctx's.
	Wait(ctx context.Context, key string) error
}

// LimiterFunc adapts a function to the Limiter interface.
type LimiterFunc func(ctx context.Context, key string) error

// Wait calls f(ctx, key).
func (f LimiterFunc) Wait(ctx context.Context, key string) error { return f(ctx, key) }

// Pauser is implemented by Limiters that can hold a key back for a
// while, used for adaptive pauses after a 429.
type Pauser interface {
	// Pause makes calls for key wait until d from now.
	Pause(ctx context.Context, key string, d time.Duration) error
}

// ErrLimited matches (errors.Is) the error of a call refused because its
// wait would outlast its context.
var ErrLimited = errors.New("ratelimit: rate limit wait exceeds the context deadline")

// LimitError is a call refused because its wait would outlast its
// context. It matches ErrLimited.
type LimitError struct {
	// Key is the rate-limit key (an account id or a digest, never a
	// secret).
	Key string
	// Wait is how long the call would have had to wait.
	Wait time.Duration
}

func (e *LimitError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("ratelimit: the Transport's own account (key \"\") would wait %v, past the context deadline", e.Wait)
	}
	return fmt.Sprintf("ratelimit: key %q would wait %v, past the context deadline", e.Key, e.Wait)
}

// Is makes errors.Is(err, ErrLimited) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimited }

// Code returns composiohttp.CodeDeadlineExceeded, the code
// composiohttp.CodeOf gives e: the call could not be made within its
// context's deadline (not retryable: within the same deadline the wait
// does not fit either).
func (e *LimitError) Code() composiohttp.Code { return composiohttp.CodeDeadlineExceeded }

// ErrNoLimiter is returned by a middleware built with a nil Limiter.
var ErrNoLimiter = errors.New("ratelimit: nil Limiter")

// ErrNilRequest is returned for a nil request. It is
// composiohttp.ErrNilRequest.
var ErrNilRequest = composiohttp.ErrNilRequest

// KeyByAccount is the default key: composiohttp.Identity of the request
// context ("account:<id>", "connection:<digest>"), or "" when the
// context selects nothing, i.e. the Transport's own account. The
// middleware replaces a key of "" with the identity of the Transport it
// wraps (see New), so that Transports acting for different accounts
// through their own ConnectedAccountID keep apart in a shared Limiter.
func KeyByAccount(req *http.Request) string { return composiohttp.Identity(req.Context()) }

// KeyByToolkit keys calls by toolkit: "toolkit:<slug>" when the context
// carries a connection naming its toolkit, else "host:<upstream host>"
// (the host stands for the toolkit's API).
func KeyByToolkit(req *http.Request) string {
	if c, ok := composiohttp.ConnectionFromContext(req.Context()); ok && c.ToolkitSlug != "" {
		return "toolkit:" + c.ToolkitSlug
	}
	if req.URL == nil {
		return ""
	}
	return "host:" + req.URL.Host
}

// Option configures the middleware built by New or Middleware.
type Option func(*Transport)

// WithKey sets how a request's key is chosen (default KeyByAccount).
func WithKey(key func(*http.Request) string) Option {
	return func(t *Transport) { t.key = key }
}

// WithMaxPause caps the pause a Retry-After asks for (default
// DefaultMaxPause); d ≤ 0 disables adaptive pauses.
func WithMaxPause(d time.Duration) Option { return func(t *Transport) { t.maxPause = d } }

// WithOnWait calls f after each wait for the Limiter, with the key and
// how long the call waited (0 when it went at once), from the goroutine
// of the call, e.g. for a rate-limit wait histogram. Default: none.
func WithOnWait(f func(key string, waited time.Duration)) Option {
	return func(t *Transport) { t.onWait = f }
}

// WithClock replaces time.Now for reading Retry-After dates and, with
// WithOnWait, for timing waits.
func WithClock(now func() time.Time) Option { return func(t *Transport) { t.now = now } }

// Middleware returns a middleware, for middleware.Chain, applying New with l and opts.
func Middleware(l Limiter, opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, l, opts...) }
}

// New returns a *Transport, an http.RoundTripper that waits for l before each call it
// sends through next (http.DefaultTransport if nil). It is safe for
// concurrent use if next and l are.
//
// A request whose key is "" (with KeyByAccount: its context selects no
// account) acts for the wrapped Transport's own account, so its key is
// composiohttp.TransportIdentity(next): the identity of the
// *composiohttp.Transport found by unwrapping next ("account:<id>" for
// its ConnectedAccountID, "connection:<digest>", "session:<id>",
// "user:<id>"), the same key as a context selecting that account. It
// stays "" when next unwraps to no such Transport, or to one acting for
// nobody. The identity is read once, here: set the Transport's fields
// before calling New.
func New(next http.RoundTripper, l Limiter, opts ...Option) *Transport {
	t := &Transport{next: next, l: l, key: KeyByAccount, maxPause: DefaultMaxPause, now: time.Now, own: composiohttp.TransportIdentity(next)}
	for _, o := range opts {
		if o != nil {
			o(t)
		}
	}
	if t.next == nil {
		t.next = http.DefaultTransport
	}
	if t.key == nil {
		t.key = KeyByAccount
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.pauser, _ = l.(Pauser)
	return t
}

// Transport is the rate-limiting http.RoundTripper that New returns. Its
// configuration is set by New's options; the zero value is not usable.
type Transport struct {
	next     http.RoundTripper
	l        Limiter
	pauser   Pauser
	key      func(*http.Request) string
	maxPause time.Duration
	now      func() time.Time
	onWait   func(string, time.Duration)
	own      string // the key for "": the wrapped Transport's identity
}

// Unwrap returns the RoundTripper the limiter wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, ErrNilRequest
	}
	if t.l == nil {
		closeBody(req)
		return nil, ErrNoLimiter
	}
	key := t.key(req)
	if key == "" {
		key = t.own
	}
	var start time.Time
	if t.onWait != nil {
		start = t.now()
	}
	if err := t.l.Wait(req.Context(), key); err != nil {
		closeBody(req)
		return nil, err
	}
	if t.onWait != nil {
		t.onWait(key, t.now().Sub(start))
	}
	resp, err := t.next.RoundTrip(req)
	if t.pauser != nil && t.maxPause > 0 {
		if d := t.pauseFor(resp, err); d > 0 {
			// Best effort: a failed pause only loses the hint. The
			// request context may be done; the pause must still land.
			_ = t.pauser.Pause(context.WithoutCancel(req.Context()), key, min(d, t.maxPause))
		}
	}
	return resp, err
}

// pauseFor returns the pause a 429 asks for (retry-after-ms, else
// Retry-After, as retry and the org limiter read them), or 0.
func (t *Transport) pauseFor(resp *http.Response, err error) time.Duration {
	if err != nil {
		var pe *composiohttp.Error
		if errors.As(err, &pe) && pe.StatusCode == http.StatusTooManyRequests {
			return pe.RetryAfter
		}
		return 0
	}
	if resp != nil && resp.StatusCode == http.StatusTooManyRequests {
		return composiohttp.RetryAfterHeader(resp.Header, t.now())
	}
	return 0
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
