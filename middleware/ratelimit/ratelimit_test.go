package ratelimit

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/time/rate"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// clock is a fake clock advanced by its sleep. It starts at the real
// time so that context deadlines built from it are not already past.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *clock) waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

func newTestLocal(c *clock, r rate.Limit, burst int) *Local {
	return &Local{Limit: r, Burst: burst, Now: c.now, Sleep: c.sleep}
}

func TestLocalWait(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		limit     rate.Limit
		burst     int
		calls     int
		pause     time.Duration
		deadline  time.Duration // 0: none
		wantWaits []time.Duration
		wantErr   error // for the last call
	}{
		{name: "within burst", limit: 1, burst: 3, calls: 3},
		{name: "beyond burst waits", limit: 2, burst: 2, calls: 4, wantWaits: []time.Duration{500 * time.Millisecond, 500 * time.Millisecond}},
		{name: "every 3s", limit: rate.Every(3 * time.Second), burst: 1, calls: 2, wantWaits: []time.Duration{3 * time.Second}},
		{name: "infinite", limit: rate.Inf, burst: 0, calls: 100},
		{name: "deadline too short fails fast", limit: 1, burst: 1, calls: 2, deadline: 500 * time.Millisecond, wantErr: ErrLimited},
		{name: "deadline long enough", limit: 1, burst: 1, calls: 2, deadline: 2 * time.Second, wantWaits: []time.Duration{time.Second}},
		{name: "paused", limit: 10, burst: 10, calls: 1, pause: 3 * time.Second, wantWaits: []time.Duration{3 * time.Second}},
		{name: "pause past deadline fails fast", limit: 10, burst: 10, calls: 1, pause: 3 * time.Second, deadline: time.Second, wantErr: ErrLimited},
		{name: "zero burst", limit: 1, burst: 0, calls: 1, wantErr: ErrNoBurst},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := newTestLocal(c, tc.limit, tc.burst)
			if tc.pause > 0 {
				l.Pause(context.Background(), "k", tc.pause)
			}
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, c.now().Add(tc.deadline))
				defer cancel()
			}
			var err error
			for i := range tc.calls {
				if err = l.Wait(ctx, "k"); err != nil && i < tc.calls-1 {
					t.Fatalf("call %d: %v", i, err)
				}
			}
			if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if got := c.waits(); !equalDurations(got, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tc.wantWaits)
			}
		})
	}
}

func TestLocalFailFastTakesNothing(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newTestLocal(c, 1, 1)
	if ok, _ := l.Allow("k"); !ok {
		t.Fatal("first call refused")
	}
	ctx, cancel := context.WithDeadline(context.Background(), c.now().Add(100*time.Millisecond))
	defer cancel()
	var le *LimitError
	for range 5 { // refused calls must not push the next token further away
		if err := l.Wait(ctx, "k"); !errors.As(err, &le) || le.Key != "k" || le.Wait != time.Second {
			t.Fatalf("err = %v, want a LimitError for k waiting 1s", err)
		}
	}
	if !strings.HasPrefix(le.Error(), "ratelimit: ") {
		t.Errorf("error %q lacks the prefix", le)
	}
	c.advance(time.Second)
	if ok, wait := l.Allow("k"); !ok {
		t.Fatalf("after 1s: refused, wait %v", wait)
	}
	if ok, wait := l.Allow("k"); ok || wait != time.Second {
		t.Fatalf("Allow = %v, %v; want refused for 1s", ok, wait)
	}
}

func TestLocalCanceledWaitReturnsToken(t *testing.T) {
	t.Parallel()
	c := newClock()
	ctx, cancel := context.WithCancel(context.Background())
	l := &Local{Limit: 1, Burst: 1, Now: c.now, Sleep: func(ctx context.Context, d time.Duration) error {
		cancel()
		return ctx.Err()
	}}
	l.Allow("k")
	err := l.Wait(ctx, "k")
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "ratelimit: ") {
		t.Fatalf("err = %v, want a ratelimit: error wrapping context.Canceled", err)
	}
	c.advance(time.Second)
	if ok, _ := l.Allow("k"); !ok {
		t.Error("the canceled wait kept its token")
	}
}

func TestLocalKeysAndEviction(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newTestLocal(c, 1, 1)
	l.MaxKeys = 2
	for _, k := range []string{"a", "b", "c"} {
		if ok, _ := l.Allow(k); !ok {
			t.Fatalf("%s refused", k)
		}
	}
	// a and b spent their token: c is tracked beyond MaxKeys, counted.
	if got, want := l.Stats(), (LocalStats{Keys: 3, MaxKeys: 2, PeakKeys: 3, Overflows: 1}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if ok, wait := l.Allow("a"); ok || wait != time.Second { // a is now most recently used
		t.Fatalf("a: Allow = %v, %v; want false, 1s: a lost its state", ok, wait)
	}
	c.advance(time.Second) // every bucket full again: all idle
	l.Allow("d")           // evicts b and c, the least recently used, back to MaxKeys
	if got, want := l.Stats(), (LocalStats{Keys: 2, MaxKeys: 2, PeakKeys: 3, Evictions: 2, Overflows: 1}); got != want {
		t.Errorf("Stats = %+v, want %+v", got, want)
	}
	if ok, _ := l.Allow("b"); !ok { // b starts afresh, as it was; evicts a
		t.Error("b refused")
	}
	if ok, _ := l.Allow("d"); ok {
		t.Error("d lost its state")
	}
	if n := l.Len(); n != 2 {
		t.Errorf("Len = %d, want 2", n)
	}
}

func TestLocalConcurrent(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := &Local{Limit: rate.Every(time.Hour), Burst: 10, Now: c.now, MaxKeys: 3}
	var mu sync.Mutex
	allowed := map[string]int{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 20 {
				k := string(rune('a' + (g+i)%2))
				if ok, _ := l.Allow(k); ok {
					mu.Lock()
					allowed[k]++
					mu.Unlock()
				}
				l.Pause(context.Background(), "z", time.Millisecond)
			}
		})
	}
	wg.Wait()
	if allowed["a"] != 10 || allowed["b"] != 10 {
		t.Errorf("allowed = %v, want 10 per key", allowed)
	}
}

// stub answers every call with status (and Retry-After ra) or err.
type stub struct {
	mu     sync.Mutex
	status int
	ra     string
	err    error
	calls  int
}

func (s *stub) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	if req.Body != nil {
		req.Body.Close()
	}
	if s.err != nil {
		return nil, s.err
	}
	h := http.Header{}
	if s.ra != "" {
		h.Set("Retry-After", s.ra)
	}
	return &http.Response{StatusCode: s.status, Header: h, Body: http.NoBody, Request: req}, nil
}

// recorder is a Limiter and Pauser that records what it is asked.
type recorder struct {
	mu     sync.Mutex
	keys   []string
	pauses map[string]time.Duration
	err    error
}

func (r *recorder) Wait(_ context.Context, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = append(r.keys, key)
	return r.err
}

func (r *recorder) Pause(_ context.Context, key string, d time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pauses == nil {
		r.pauses = map[string]time.Duration{}
	}
	r.pauses[key] = d
	return nil
}

type closeCounter struct {
	io.Reader
	n int
}

func (c *closeCounter) Close() error { c.n++; return nil }

func TestMiddleware(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "github", Val: credentials.Val{Token: "secret-token"}}
	tests := []struct {
		name      string
		ctx       func(context.Context) context.Context
		opts      []Option
		url       string
		next      *stub
		limitErr  error
		wantKey   string
		wantPause time.Duration // -1: no pause recorded
		wantErr   error
	}{
		{name: "transport default account", next: &stub{status: 200}, wantKey: "", wantPause: -1},
		{name: "context account", ctx: func(c context.Context) context.Context { return composiohttp.WithConnectedAccount(c, "ca_1") },
			next: &stub{status: 200}, wantKey: "account:ca_1", wantPause: -1},
		{name: "by toolkit with connection", ctx: func(c context.Context) context.Context { return composiohttp.WithConnection(c, conn) },
			opts: []Option{WithKey(KeyByToolkit)}, next: &stub{status: 200}, wantKey: "toolkit:github", wantPause: -1},
		{name: "by toolkit falls back to host", opts: []Option{WithKey(KeyByToolkit)}, next: &stub{status: 200}, wantKey: "host:api.example.com", wantPause: -1},
		{name: "custom key", opts: []Option{WithKey(func(r *http.Request) string { return r.URL.Path })}, url: "https://api.example.com/repos",
			next: &stub{status: 200}, wantKey: "/repos", wantPause: -1},
		{name: "upstream 429 Retry-After seconds pauses", next: &stub{status: 429, ra: "7"}, wantPause: 7 * time.Second},
		{name: "upstream 429 Retry-After date pauses", next: &stub{status: 429, ra: now.Add(time.Minute).Format(http.TimeFormat)}, wantPause: time.Minute},
		{name: "pause capped", next: &stub{status: 429, ra: "86400"}, wantPause: DefaultMaxPause},
		{name: "custom cap", opts: []Option{WithMaxPause(time.Second)}, next: &stub{status: 429, ra: "9"}, wantPause: time.Second},
		{name: "adaptive off", opts: []Option{WithMaxPause(0)}, next: &stub{status: 429, ra: "9"}, wantPause: -1},
		{name: "upstream 429 without Retry-After", next: &stub{status: 429}, wantPause: -1},
		{name: "upstream 503 Retry-After ignored", next: &stub{status: 503, ra: "5"}, wantPause: -1},
		{name: "proxy 429 pauses", next: &stub{err: &composiohttp.Error{StatusCode: 429, RetryAfter: 4 * time.Second}},
			wantPause: 4 * time.Second, wantErr: &composiohttp.Error{}},
		{name: "proxy 500 does not pause", next: &stub{err: &composiohttp.Error{StatusCode: 500, RetryAfter: 4 * time.Second}},
			wantPause: -1, wantErr: &composiohttp.Error{}},
		{name: "limiter refuses", next: &stub{status: 200}, limitErr: &LimitError{Key: "", Wait: time.Second}, wantPause: -1, wantErr: ErrLimited},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{err: tc.limitErr}
			rt := New(tc.next, rec, append([]Option{WithClock(func() time.Time { return now })}, tc.opts...)...)
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			url := tc.url
			if url == "" {
				url = "https://api.example.com/x"
			}
			body := &closeCounter{Reader: strings.NewReader("{}")}
			req, _ := http.NewRequestWithContext(ctx, "PUT", url, body)
			resp, err := rt.RoundTrip(req)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
			} else {
				var pe *composiohttp.Error
				if _, isPE := tc.wantErr.(*composiohttp.Error); isPE && !errors.As(err, &pe) || !isPE && !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			}
			if body.n != 1 {
				t.Errorf("request body closed %d times, want 1", body.n)
			}
			if len(rec.keys) != 1 || rec.keys[0] != tc.wantKey {
				t.Errorf("keys = %q, want [%q]", rec.keys, tc.wantKey)
			}
			if tc.limitErr != nil && tc.next.calls != 0 {
				t.Error("refused call was sent")
			}
			got, paused := rec.pauses[tc.wantKey]
			if tc.wantPause < 0 && paused {
				t.Errorf("paused %v, want no pause", got)
			} else if tc.wantPause >= 0 && got != tc.wantPause {
				t.Errorf("pause = %v, want %v", got, tc.wantPause)
			}
			if strings.Contains(strings.Join(rec.keys, ","), "secret") {
				t.Error("secret in key")
			}
		})
	}
}

func TestMiddlewareLocalAdaptive(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newTestLocal(c, 100, 100)
	next := &stub{status: 429, ra: "2"}
	rt := New(next, l)
	for i, want := range [][]time.Duration{nil, {2 * time.Second}} {
		req, _ := http.NewRequest("GET", "https://api.example.com/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := c.waits(); !equalDurations(got, want) {
			t.Errorf("call %d: waits = %v, want %v", i, got, want)
		}
	}
	// Another account is not paused.
	req, _ := http.NewRequestWithContext(composiohttp.WithConnectedAccount(context.Background(), "other"), "GET", "https://api.example.com/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := len(c.waits()); n != 1 {
		t.Errorf("another account waited: %v", c.waits())
	}
}

func TestMiddlewareBadInput(t *testing.T) {
	t.Parallel()
	body := &closeCounter{Reader: strings.NewReader("x")}
	req, _ := http.NewRequest("PUT", "https://api.example.com/", body)
	if _, err := New(&stub{status: 200}, nil).RoundTrip(req); !errors.Is(err, ErrNoLimiter) || body.n != 1 {
		t.Errorf("nil limiter: err = %v, body closes = %d", err, body.n)
	}
	if _, err := New(nil, NewLocal(1, 1), nil).RoundTrip(nil); !errors.Is(err, ErrNilRequest) || !errors.Is(err, composiohttp.ErrNilRequest) {
		t.Errorf("nil request: err = %v", err)
	}
	f := LimiterFunc(func(context.Context, string) error { return nil })
	req, _ = http.NewRequest("GET", "https://api.example.com/", nil)
	resp, err := New(&stub{status: 204}, f).RoundTrip(req)
	if err != nil || resp.StatusCode != 204 {
		t.Errorf("LimiterFunc: %v, %v", resp, err)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
