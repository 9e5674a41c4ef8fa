package ratelimit

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/ctxsleep"
)

// Composio's organisation rate-limit headers, sent on every reply of its
// API (https://docs.composio.dev/reference/rate-limits).
const (
	HeaderRateLimit           = "X-RateLimit"
	HeaderRateLimitRemaining  = "X-RateLimit-Remaining"
	HeaderRateLimitWindowSize = "X-RateLimit-Window-Size"
)

// Defaults of OrgLimiter.
const (
	// DefaultSlowBelow: callers are paced once fewer than this share of
	// the window's limit remains.
	DefaultSlowBelow = 0.1
	// DefaultOrgPoll is how often callers waiting for the first reply
	// of a new window look again.
	DefaultOrgPoll = 50 * time.Millisecond
)

// OrgLimiter keeps a whole organisation under Composio's rate limit, a
// fixed window per organisation (20,000 or 100,000 requests per 10
// minutes, depending on the plan), learnt from the X-RateLimit,
// X-RateLimit-Remaining and X-RateLimit-Window-Size headers of the
// proxy's replies rather than configured.
//
// Put it below the composiohttp.Transport, where the proxy's own replies
// pass, with Transport (one OrgLimiter for every Transport of the
// organisation):
//
//	org := &ratelimit.OrgLimiter{}
//	tr := &composiohttp.Transport{Base: org.Transport(nil)}
//
// How it paces: calls go out freely while more than SlowBelow of the limit
// remains. Below that, they are spread evenly over the time left in the
// window, so that Remaining reaches 0 as the window ends instead of a 429
// arriving early. With nothing left, callers wait for the window's end,
// then one call goes first to learn the new window's count. Calls in
// flight are counted as already spent. The window's end is estimated from
// the replies (never earlier than it is), and set exactly by a 429's
// Retry-After, which also pauses the whole organisation until then.
//
// Waits honour the request context: one that would end after its deadline
// fails at once with a *LimitError (errors.Is(err, ErrLimited)).
//
// Set the fields before first use and do not change them after. It is
// safe for concurrent use. The zero value is ready to use.
type OrgLimiter struct {
	// SlowBelow is the share of the limit below which calls are paced.
	// Default DefaultSlowBelow; a negative value never paces (callers
	// only stop when nothing is left).
	SlowBelow float64
	// Now replaces time.Now. Tests set it (or run in a testing/synctest
	// bubble).
	Now func() time.Time
	// Sleep replaces the wait (default: a timer that stops when ctx
	// ends). It must return ctx's error if ctx ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// OnWait, if set, is called with every wait a caller starts, and
	// its reason ("pace", "exhausted", "paused", "window").
	OnWait func(d time.Duration, reason string)

	mu          sync.Mutex
	known       bool // a reply with the headers has been seen
	limit       int
	window      time.Duration
	end         time.Time // estimated end of the current window (never before the real one)
	avail       int       // calls that may still start before end
	inflight    int
	probing     bool // the first call of a new window is out
	pausedUntil time.Time
	lastGrant   time.Time
}

// OrgState is what an OrgLimiter knows of the organisation's window.
type OrgState struct {
	// Known is false until a reply carrying the headers is seen.
	Known bool
	// Limit and Window are the announced limit and window size.
	Limit  int
	Window time.Duration
	// Available is how many calls may still start before End.
	Available int
	// End is the estimated end of the current window.
	End time.Time
	// InFlight counts calls sent and not yet answered.
	InFlight int
}

// State returns what the limiter knows.
func (o *OrgLimiter) State() OrgState {
	o.mu.Lock()
	defer o.mu.Unlock()
	return OrgState{Known: o.known, Limit: o.limit, Window: o.window, Available: o.avail, End: o.end, InFlight: o.inflight}
}

// Wait blocks until a call may go out without risking the organisation's
// limit, and counts it as in flight: every successful Wait must be
// followed by one Done.
func (o *OrgLimiter) Wait(ctx context.Context) error {
	for {
		o.mu.Lock()
		now := o.now()
		d, reason := o.waitFor(now)
		if d <= 0 {
			o.inflight++
			if o.known {
				o.avail--
			}
			o.lastGrant = now
			o.mu.Unlock()
			return nil
		}
		o.mu.Unlock()
		if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
			return &LimitError{Key: "org", Wait: d}
		}
		if o.OnWait != nil {
			o.OnWait(d, reason)
		}
		sleep := o.Sleep
		if sleep == nil {
			sleep = ctxsleep.Sleep
		}
		if err := sleep(ctx, d); err != nil {
			return fmt.Errorf("ratelimit: waiting for the organisation's rate limit: %w", err)
		}
	}
}

// waitFor returns how long a caller must wait at now (≤ 0: go, and if
// the window must be learnt, as its first call). o.mu is held.
func (o *OrgLimiter) waitFor(now time.Time) (time.Duration, string) {
	if d := o.pausedUntil.Sub(now); d > 0 {
		return d, "paused"
	}
	if !o.known {
		return 0, ""
	}
	if !now.Before(o.end) { // the window is over: learn the next one
		if o.probing {
			return min(DefaultOrgPoll, max(o.window/20, time.Millisecond)), "window"
		}
		o.probing = true
		o.avail = o.limit // Done replaces it with the reply's count
		return 0, ""
	}
	if o.avail <= 0 {
		return o.end.Sub(now), "exhausted"
	}
	slow := o.SlowBelow
	if slow == 0 {
		slow = DefaultSlowBelow
	}
	if float64(o.avail) < slow*float64(o.limit) {
		spacing := o.end.Sub(now) / time.Duration(o.avail+1)
		if d := o.lastGrant.Add(spacing).Sub(now); d > 0 {
			return d, "pace"
		}
	}
	return 0, ""
}

// Done records the outcome of a call that Wait let through: resp is the
// proxy's reply (nil if none came). Its X-RateLimit* headers update the
// window; a 429 pauses the organisation until its Retry-After.
func (o *OrgLimiter) Done(resp *http.Response) {
	o.mu.Lock()
	defer o.mu.Unlock()
	now := o.now()
	o.inflight--
	var limit, remaining int
	var window time.Duration
	ok := false
	if resp != nil {
		limit, remaining, window, ok = parseOrgHeaders(resp.Header)
	}
	if !ok && (resp == nil || resp.StatusCode != http.StatusTooManyRequests) {
		// Nothing learnt; if this was the first call of a new window,
		// let another caller try.
		o.probing = false
		return
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		ra := composiohttp.RetryAfterHeader(resp.Header, now)
		if ra <= 0 {
			ra = o.window
		}
		if ra <= 0 {
			ra = time.Second
		}
		until := now.Add(ra)
		if until.After(o.pausedUntil) {
			o.pausedUntil = until
		}
		if ok {
			o.known, o.limit, o.window = true, limit, window
		}
		if o.known {
			// Retry-After is the time until the window resets: the
			// exact end.
			o.end, o.avail, o.probing = until, 0, false
		}
		return
	}
	if !o.known || o.probing || !now.Before(o.end) {
		o.known, o.limit, o.window = true, limit, window
		o.end = now.Add(window)
		o.avail = remaining - o.inflight
		o.probing = false
		return
	}
	o.limit, o.window = limit, window
	o.avail = min(o.avail, remaining-o.inflight)
}

func (o *OrgLimiter) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// parseOrgHeaders reads Composio's rate-limit headers; ok is false unless
// all three are present and valid. The window size is "600s" per the
// docs; a bare number of seconds or any Go duration is accepted too.
func parseOrgHeaders(h http.Header) (limit, remaining int, window time.Duration, ok bool) {
	if h.Get(HeaderRateLimit) == "" || h.Get(HeaderRateLimitRemaining) == "" || h.Get(HeaderRateLimitWindowSize) == "" {
		return 0, 0, 0, false // no parsing (and no error values) for replies without them
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRateLimit)))
	r, err2 := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRateLimitRemaining)))
	ws := strings.TrimSpace(h.Get(HeaderRateLimitWindowSize))
	w, err3 := time.ParseDuration(ws)
	if err3 != nil {
		if secs, err := strconv.ParseFloat(ws, 64); err == nil {
			w, err3 = time.Duration(secs*float64(time.Second)), nil
		}
	}
	if err1 != nil || err2 != nil || err3 != nil || l <= 0 || r < 0 || w <= 0 {
		return 0, 0, 0, false
	}
	return l, r, w, true
}

// Transport returns an http.RoundTripper for composiohttp.Transport.Base:
// it waits for o before each request to the proxy and feeds o the reply's
// headers. next is the RoundTripper to the proxy (http.DefaultTransport if
// nil). Requests to other hosts (the signed URLs of binary bodies) pass
// through without counting: only requests whose path starts with /api/
// count.
func (o *OrgLimiter) Transport(next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &orgTransport{o: o, next: next}
}

type orgTransport struct {
	o    *OrgLimiter
	next http.RoundTripper
}

// Unwrap returns the RoundTripper it wraps.
func (t *orgTransport) Unwrap() http.RoundTripper { return t.next }

// CloseIdleConnections closes the idle connections of the RoundTripper it
// wraps, if it has the method.
func (t *orgTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

func (t *orgTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, ErrNilRequest
	}
	if req.URL == nil || !strings.HasPrefix(req.URL.Path, "/api/") {
		return t.next.RoundTrip(req)
	}
	if err := t.o.Wait(req.Context()); err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		resp = nil
	}
	t.o.Done(resp)
	return resp, err
}
