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
// Many replicas: give each OrgLimiter the same redislimit.OrgStore, which
// keeps this state in Redis, so that the replicas pace together.
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

	// Store keeps the window's state. Default: in process, for this
	// OrgLimiter's callers; redislimit.OrgStore shares it among replicas.
	Store OrgStore

	local memOrgStore
}

// OrgStore keeps the state of an OrgLimiter's window. Each method is one
// atomic step; implementations must be safe for concurrent use.
type OrgStore interface {
	// Acquire, at now, either lets a call go (wait 0, the call counted
	// in flight) or says how long to wait and why ("paused",
	// "exhausted", "pace", "window"). slowBelow is the share of the
	// limit below which calls are paced (< 0: never).
	Acquire(ctx context.Context, now time.Time, slowBelow float64) (wait time.Duration, reason string, err error)
	// Release records, at now, the outcome of a call Acquire let go.
	Release(ctx context.Context, now time.Time, o OrgObservation) error
	// State returns what the store knows.
	State(ctx context.Context, now time.Time) (OrgState, error)
}

// OrgObservation is what a reply told an OrgLimiter.
type OrgObservation struct {
	// Replied is false when the call got no reply at all.
	Replied bool
	// Status is the reply's HTTP status.
	Status int
	// Headers is true when the reply carried valid X-RateLimit,
	// X-RateLimit-Remaining and X-RateLimit-Window-Size, given in
	// Limit, Remaining and Window.
	Headers          bool
	Limit, Remaining int
	Window           time.Duration
	// RetryAfter is a 429's retry-after-ms or Retry-After (0 if none).
	RetryAfter time.Duration
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

// State returns what the limiter knows (the zero OrgState if its store
// fails).
func (o *OrgLimiter) State() OrgState {
	st, _ := o.store().State(context.Background(), o.now())
	return st
}

func (o *OrgLimiter) store() OrgStore {
	if o.Store != nil {
		return o.Store
	}
	return &o.local
}

func (o *OrgLimiter) slowBelow() float64 {
	if o.SlowBelow == 0 {
		return DefaultSlowBelow
	}
	return o.SlowBelow
}

// Wait blocks until a call may go out without risking the organisation's
// limit, and counts it as in flight: every successful Wait must be
// followed by one Done.
func (o *OrgLimiter) Wait(ctx context.Context) error {
	st := o.store()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("ratelimit: waiting for the organisation's rate limit: %w", err)
		}
		now := o.now()
		d, reason, err := st.Acquire(ctx, now, o.slowBelow())
		if err != nil {
			return err
		}
		if d <= 0 {
			return nil
		}
		if ctxsleep.Outlasts(ctx, now, d) {
			return &LimitError{Key: "org", Wait: d}
		}
		if o.OnWait != nil {
			o.OnWait(d, reason)
		}
		if err := ctxsleep.Or(o.Sleep)(ctx, d); err != nil {
			return fmt.Errorf("ratelimit: waiting for the organisation's rate limit: %w", err)
		}
	}
}

// Done records the outcome of a call that Wait let through: resp is the
// proxy's reply (nil if none came). Its X-RateLimit* headers update the
// window; a 429 pauses the organisation until its Retry-After. A store
// error loses the observation.
func (o *OrgLimiter) Done(resp *http.Response) {
	now := o.now()
	obs := OrgObservation{}
	if resp != nil {
		obs.Replied, obs.Status = true, resp.StatusCode
		obs.Limit, obs.Remaining, obs.Window, obs.Headers = parseOrgHeaders(resp.Header)
		if resp.StatusCode == http.StatusTooManyRequests {
			obs.RetryAfter = composiohttp.RetryAfterHeader(resp.Header, now)
		}
	}
	_ = o.store().Release(context.Background(), now, obs)
}

// memOrgStore is the in-process OrgStore.
type memOrgStore struct {
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

func (m *memOrgStore) State(context.Context, time.Time) (OrgState, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return OrgState{Known: m.known, Limit: m.limit, Window: m.window, Available: m.avail, End: m.end, InFlight: m.inflight}, nil
}

func (m *memOrgStore) Acquire(_ context.Context, now time.Time, slow float64) (time.Duration, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d, reason := m.waitFor(now, slow); d > 0 {
		return d, reason, nil
	}
	m.inflight++
	if m.known {
		m.avail--
	}
	m.lastGrant = now
	return 0, "", nil
}

// waitFor returns how long a caller must wait at now (≤ 0: go, and if
// the window must be learnt, as its first call). m.mu is held.
func (m *memOrgStore) waitFor(now time.Time, slow float64) (time.Duration, string) {
	if d := m.pausedUntil.Sub(now); d > 0 {
		return d, "paused"
	}
	if !m.known {
		return 0, ""
	}
	if !now.Before(m.end) { // the window is over: learn the next one
		if m.probing {
			return min(DefaultOrgPoll, max(m.window/20, time.Millisecond)), "window"
		}
		m.probing = true
		m.avail = m.limit // Release replaces it with the reply's count
		return 0, ""
	}
	if m.avail <= 0 {
		return m.end.Sub(now), "exhausted"
	}
	if float64(m.avail) < slow*float64(m.limit) {
		spacing := m.end.Sub(now) / time.Duration(m.avail+1)
		if d := m.lastGrant.Add(spacing).Sub(now); d > 0 {
			return d, "pace"
		}
	}
	return 0, ""
}

func (m *memOrgStore) Release(_ context.Context, now time.Time, o OrgObservation) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inflight--
	if !o.Headers && o.Status != http.StatusTooManyRequests {
		// Nothing learnt; if this was the first call of a new window,
		// let another caller try.
		m.probing = false
		return nil
	}
	if o.Status == http.StatusTooManyRequests {
		ra := o.RetryAfter
		if ra <= 0 {
			ra = m.window
		}
		if ra <= 0 {
			ra = time.Second
		}
		until := now.Add(ra)
		if until.After(m.pausedUntil) {
			m.pausedUntil = until
		}
		if o.Headers {
			m.known, m.limit, m.window = true, o.Limit, o.Window
		}
		if m.known {
			// Retry-After is the time until the window resets: the
			// exact end.
			m.end, m.avail, m.probing = until, 0, false
		}
		return nil
	}
	if !m.known || m.probing || !now.Before(m.end) {
		m.known, m.limit, m.window = true, o.Limit, o.Window
		m.end = now.Add(o.Window)
		m.avail = o.Remaining - m.inflight
		m.probing = false
		return nil
	}
	m.limit, m.window = o.Limit, o.Window
	m.avail = min(m.avail, o.Remaining-m.inflight)
	return nil
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
	ls, rs, ws := h.Get(HeaderRateLimit), h.Get(HeaderRateLimitRemaining), h.Get(HeaderRateLimitWindowSize)
	if ls == "" || rs == "" || ws == "" {
		return 0, 0, 0, false // no parsing (and no error values) for replies without them
	}
	l, err1 := strconv.Atoi(strings.TrimSpace(ls))
	r, err2 := strconv.Atoi(strings.TrimSpace(rs))
	ws = strings.TrimSpace(ws)
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
	if err != nil && resp != nil { // a RoundTripper returning both: drop the response, closed
		resp.Body.Close()
		resp = nil
	}
	t.o.Done(resp)
	return resp, err
}
