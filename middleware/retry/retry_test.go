package retry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// body is a response or request body that records how it was used.
type body struct {
	*strings.Reader
	mu     sync.Mutex
	closed int
}

func newBody(s string) *body { return &body{Reader: strings.NewReader(s)} }

func (b *body) Close() error {
	b.mu.Lock()
	b.closed++
	b.mu.Unlock()
	return nil
}

func (b *body) closes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// outcome is what the stub returns for one attempt: a response with
// status (and Retry-After ra) or err.
type outcome struct {
	status int
	ra     string
	err    error
}

// stub answers each attempt with the next outcome (the last one repeats)
// and records what it received.
type stub struct {
	mu       sync.Mutex
	outcomes []outcome
	calls    int
	bodies   []string // request body of each attempt
	reqs     []*http.Request
	resps    []*body
}

func (s *stub) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.outcomes[min(s.calls, len(s.outcomes)-1)]
	s.calls++
	s.reqs = append(s.reqs, req)
	if req.Body != nil {
		b, _ := io.ReadAll(req.Body)
		req.Body.Close()
		s.bodies = append(s.bodies, string(b))
	}
	if o.err != nil {
		return nil, o.err
	}
	rb := newBody(strings.Repeat("x", 10) + http.StatusText(o.status))
	s.resps = append(s.resps, rb)
	h := http.Header{}
	if o.ra != "" {
		h.Set("Retry-After", o.ra)
	}
	return &http.Response{StatusCode: o.status, Header: h, Body: rb, Request: req}, nil
}

// clock is a fake clock advanced by its sleep.
type clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newClock() *clock { return &clock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
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

// constant is a deterministic backoff for tests.
func constant(d time.Duration) Option {
	return WithBackOff(func() backoff.BackOff { return backoff.NewConstantBackOff(d) })
}

func proxyErr(status int, ra time.Duration) error {
	return &composiohttp.Error{StatusCode: status, Message: "m", RetryAfter: ra}
}

func connReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	const s = time.Second
	httpDate := func(c *clock, d time.Duration) string { return c.now().Add(d).UTC().Format(http.TimeFormat) }
	tests := []struct {
		name       string
		method     string
		body       string // "" = no body
		noGetBody  bool
		header     http.Header
		outcomes   []outcome
		raDate     time.Duration // if set, outcome 0 gets Retry-After as an HTTP date this far ahead
		opts       []Option
		wantCalls  int
		wantStatus int // 0 = want error
		wantErr    error
		wantWaits  []time.Duration
	}{
		{name: "success", method: "GET", outcomes: []outcome{{status: 200}}, wantCalls: 1, wantStatus: 200},
		{name: "upstream 503 then 200", method: "GET", outcomes: []outcome{{status: 503}, {status: 200}},
			wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "upstream 429 Retry-After seconds", method: "GET", outcomes: []outcome{{status: 429, ra: "2"}, {status: 200}},
			wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{2 * s}},
		{name: "upstream 429 Retry-After date", method: "GET", outcomes: []outcome{{status: 429}, {status: 200}}, raDate: 7 * s,
			wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{7 * s}},
		{name: "Retry-After capped", method: "GET", outcomes: []outcome{{status: 503, ra: "3600"}, {status: 200}},
			opts: []Option{WithMaxRetryAfter(5 * s), WithMaxElapsedTime(0)}, wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{5 * s}},
		{name: "Retry-After uncapped", method: "GET", outcomes: []outcome{{status: 503, ra: "3600"}, {status: 200}},
			opts: []Option{WithMaxRetryAfter(0), WithMaxElapsedTime(0)}, wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{time.Hour}},
		{name: "Retry-After beyond max elapsed time", method: "GET", outcomes: []outcome{{status: 503, ra: "3600"}, {status: 200}},
			opts: []Option{WithMaxRetryAfter(0)}, wantCalls: 1, wantStatus: 503},
		{name: "invalid Retry-After uses backoff", method: "GET", outcomes: []outcome{{status: 502, ra: "soon"}, {status: 200}},
			wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "upstream 504 exhausts attempts", method: "GET", outcomes: []outcome{{status: 504}},
			wantCalls: 4, wantStatus: 504, wantWaits: []time.Duration{s, s, s}},
		{name: "max attempts 2", method: "GET", outcomes: []outcome{{status: 504}}, opts: []Option{WithMaxAttempts(2)},
			wantCalls: 2, wantStatus: 504, wantWaits: []time.Duration{s}},
		{name: "max attempts 1 disables", method: "GET", outcomes: []outcome{{status: 504}}, opts: []Option{WithMaxAttempts(1)},
			wantCalls: 1, wantStatus: 504},
		{name: "max elapsed time", method: "GET", outcomes: []outcome{{status: 503}}, opts: []Option{WithMaxElapsedTime(2500 * time.Millisecond)},
			wantCalls: 3, wantStatus: 503, wantWaits: []time.Duration{s, s}},
		{name: "backoff stop", method: "GET", outcomes: []outcome{{status: 503}},
			opts:      []Option{WithBackOff(func() backoff.BackOff { return &backoff.StopBackOff{} })},
			wantCalls: 1, wantStatus: 503},
		{name: "upstream 501 not retried", method: "GET", outcomes: []outcome{{status: 501}}, wantCalls: 1, wantStatus: 501},
		{name: "upstream 404 not retried", method: "GET", outcomes: []outcome{{status: 404}}, wantCalls: 1, wantStatus: 404},
		{name: "proxy 429 RetryAfter", method: "GET", outcomes: []outcome{{err: proxyErr(429, 3*s)}, {status: 200}},
			wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{3 * s}},
		{name: "proxy 500 twice then success", method: "GET", outcomes: []outcome{{err: proxyErr(500, 0)}, {err: proxyErr(500, 0)}, {status: 200}},
			wantCalls: 3, wantStatus: 200, wantWaits: []time.Duration{s, s}},
		{name: "proxy 502 exhausts attempts", method: "GET", outcomes: []outcome{{err: proxyErr(502, 0)}},
			wantCalls: 4, wantErr: &composiohttp.Error{}, wantWaits: []time.Duration{s, s, s}},
		{name: "proxy 400 not retried", method: "GET", outcomes: []outcome{{err: proxyErr(400, 0)}}, wantCalls: 1, wantErr: &composiohttp.Error{}},
		{name: "proxy 401 not retried", method: "GET", outcomes: []outcome{{err: proxyErr(401, 0)}}, wantCalls: 1, wantErr: &composiohttp.Error{}},
		{name: "proxy 404 not retried", method: "GET", outcomes: []outcome{{err: proxyErr(404, 0)}}, wantCalls: 1, wantErr: &composiohttp.Error{}},
		{name: "proxy 422 not retried", method: "GET", outcomes: []outcome{{err: proxyErr(422, 0)}}, wantCalls: 1, wantErr: &composiohttp.Error{}},
		{name: "connection reset retried", method: "GET", outcomes: []outcome{{err: connReset()}, {status: 200}},
			wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "unexpected EOF retried", method: "HEAD", outcomes: []outcome{{err: io.ErrUnexpectedEOF}, {status: 204}},
			wantCalls: 2, wantStatus: 204, wantWaits: []time.Duration{s}},
		{name: "canceled not retried", method: "GET", outcomes: []outcome{{err: context.Canceled}}, wantCalls: 1, wantErr: context.Canceled},
		{name: "validation error not retried", method: "GET", outcomes: []outcome{{err: composiohttp.ErrBadRequest}}, wantCalls: 1, wantErr: composiohttp.ErrBadRequest},
		{name: "POST not retried", method: "POST", body: "{}", outcomes: []outcome{{status: 503}}, wantCalls: 1, wantStatus: 503},
		{name: "PATCH not retried", method: "PATCH", body: "{}", outcomes: []outcome{{err: proxyErr(500, 0)}}, wantCalls: 1, wantErr: &composiohttp.Error{}},
		{name: "POST with Idempotency-Key", method: "POST", body: `{"a":1}`, header: http.Header{"Idempotency-Key": {"k1"}},
			outcomes: []outcome{{status: 503}, {err: connReset()}, {status: 201}}, wantCalls: 3, wantStatus: 201, wantWaits: []time.Duration{s, s}},
		{name: "POST opted in", method: "POST", body: "x", opts: []Option{WithNonIdempotent()},
			outcomes: []outcome{{status: 429}, {status: 200}}, wantCalls: 2, wantStatus: 200, wantWaits: []time.Duration{s}},
		{name: "PUT body replayed", method: "PUT", body: "payload", outcomes: []outcome{{status: 502}, {status: 502}, {status: 200}},
			wantCalls: 3, wantStatus: 200, wantWaits: []time.Duration{s, s}},
		{name: "body without GetBody not retried", method: "PUT", body: "payload", noGetBody: true,
			outcomes: []outcome{{status: 502}}, wantCalls: 1, wantStatus: 502},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			if tc.raDate != 0 {
				tc.outcomes[0].ra = httpDate(c, tc.raDate)
			}
			st := &stub{outcomes: tc.outcomes}
			var events []Event
			opts := append([]Option{constant(s), WithClock(c.now), WithSleep(c.sleep),
				WithOnRetry(func(e Event) { events = append(events, e) })}, tc.opts...)
			rt := New(st, opts...)

			var reqBody *body
			var rb io.Reader
			if tc.body != "" {
				reqBody = newBody(tc.body)
				rb = reqBody
			}
			info := &composiohttp.CallInfo{}
			ctx := composiohttp.WithCallInfo(context.Background(), info)
			req, err := http.NewRequestWithContext(ctx, tc.method, "https://api.example.com/x", rb)
			if err != nil {
				t.Fatal(err)
			}
			if tc.body != "" {
				payload := tc.body
				req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(payload)), nil }
				if tc.noGetBody {
					req.GetBody = nil
				}
			}
			for k, v := range tc.header {
				req.Header[k] = v
			}
			orig := *req
			origHeader := req.Header.Clone()

			resp, err := rt.RoundTrip(req)

			if st.calls != tc.wantCalls {
				t.Errorf("calls = %d, want %d", st.calls, tc.wantCalls)
			}
			if got := c.waits(); !equalDurations(got, tc.wantWaits) {
				t.Errorf("waits = %v, want %v", got, tc.wantWaits)
			}
			if info.Retries != tc.wantCalls-1 {
				t.Errorf("CallInfo.Retries = %d, want %d", info.Retries, tc.wantCalls-1)
			}
			if len(events) != tc.wantCalls-1 {
				t.Errorf("%d retry events, want %d", len(events), tc.wantCalls-1)
			}
			for i, e := range events {
				if e.Attempt != i+1 || e.Request != req || e.Wait != tc.wantWaits[i] {
					t.Errorf("event %d = %+v", i, e)
				}
				if (e.Err == nil) == (e.StatusCode == 0) {
					t.Errorf("event %d: want exactly one of Err and StatusCode: %+v", i, e)
				}
			}
			if tc.wantStatus == 0 {
				if resp != nil {
					t.Errorf("got response %d, want error", resp.StatusCode)
				}
				if err == nil {
					t.Fatal("got nil error")
				}
				var pe *composiohttp.Error
				if want, ok := tc.wantErr.(*composiohttp.Error); ok && want != nil {
					if !errors.As(err, &pe) {
						t.Errorf("error %v is not a *composiohttp.Error", err)
					}
				} else if !errors.Is(err, tc.wantErr) {
					t.Errorf("error = %v, want %v", err, tc.wantErr)
				}
				// The last error is returned as is.
				if last := tc.outcomes[min(st.calls, len(tc.outcomes))-1].err; err != last {
					t.Errorf("error = %v, want the last attempt's error as is", err)
				}
			} else {
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status = %d, want %d", resp.StatusCode, tc.wantStatus)
				}
				// The last response is returned as is: the stub's last
				// body, unread and open.
				last := st.resps[len(st.resps)-1]
				if resp.Body != last || last.closes() != 0 || last.Len() == 0 {
					t.Errorf("last response not returned as is (closes=%d, unread=%d)", last.closes(), last.Len())
				}
				resp.Body.Close()
			}
			// Every discarded response was drained and closed.
			for i, b := range st.resps[:max(len(st.resps)-1, 0)] {
				if b.closes() != 1 || b.Len() != 0 {
					t.Errorf("discarded response %d: closes=%d unread=%d", i, b.closes(), b.Len())
				}
			}
			if tc.wantStatus == 0 && len(st.resps) > 0 {
				if b := st.resps[len(st.resps)-1]; b.closes() != 1 {
					t.Errorf("response before final error: closes=%d", b.closes())
				}
			}
			// The caller's body was closed exactly once, every attempt
			// got the whole body, and the caller's request is untouched.
			if reqBody != nil && reqBody.closes() != 1 {
				t.Errorf("caller's body closed %d times, want 1", reqBody.closes())
			}
			for i, b := range st.bodies {
				if b != tc.body {
					t.Errorf("attempt %d body = %q, want %q", i+1, b, tc.body)
				}
			}
			if req.Body != orig.Body || req.Method != orig.Method || req.URL != orig.URL || !equalHeader(req.Header, origHeader) {
				t.Error("caller's request was modified")
			}
			for i, r := range st.reqs[1:] {
				if r == req && tc.body != "" {
					t.Errorf("attempt %d reused the caller's request with its consumed body", i+2)
				}
			}
		})
	}
}

func TestRetryContext(t *testing.T) {
	t.Parallel()
	t.Run("deadline shorter than wait fails fast", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		st := &stub{outcomes: []outcome{{err: proxyErr(429, 10*time.Second)}, {status: 200}}}
		rt := New(st, WithClock(c.now), WithSleep(c.sleep))
		ctx, cancel := context.WithDeadline(context.Background(), c.now().Add(5*time.Second))
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
		_, err := rt.RoundTrip(req)
		var pe *composiohttp.Error
		if !errors.As(err, &pe) || pe.StatusCode != 429 {
			t.Fatalf("err = %v, want the proxy 429", err)
		}
		if st.calls != 1 || len(c.waits()) != 0 {
			t.Errorf("calls = %d, waits = %v; want 1 call and no wait", st.calls, c.waits())
		}
	})
	t.Run("deadline shorter than upstream Retry-After returns the response", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		st := &stub{outcomes: []outcome{{status: 503, ra: "20"}, {status: 200}}}
		rt := New(st, WithClock(c.now), WithSleep(c.sleep))
		ctx, cancel := context.WithDeadline(context.Background(), c.now().Add(5*time.Second))
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != 503 || st.resps[0].closes() != 0 {
			t.Fatalf("resp, err = %v, %v; want the 503 response, open", resp, err)
		}
		resp.Body.Close()
	})
	t.Run("canceled during wait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		st := &stub{outcomes: []outcome{{status: 503}, {status: 200}}}
		var gotBody *body
		rt := New(st, constant(time.Hour), WithMaxElapsedTime(0), WithSleep(func(ctx context.Context, d time.Duration) error {
			cancel()
			return ctx.Err()
		}))
		req, _ := http.NewRequestWithContext(ctx, "PUT", "https://api.example.com/", strings.NewReader("b"))
		req.GetBody = func() (io.ReadCloser, error) { gotBody = newBody("b"); return gotBody, nil }
		resp, err := rt.RoundTrip(req)
		if resp != nil || !errors.Is(err, context.Canceled) {
			t.Fatalf("resp, err = %v, %v; want context.Canceled", resp, err)
		}
		if !strings.HasPrefix(err.Error(), "retry: ") {
			t.Errorf("error %q lacks the retry: prefix", err)
		}
		if st.calls != 1 || st.resps[0].closes() != 1 || gotBody.closes() != 1 {
			t.Errorf("calls=%d, discarded closes=%d, replay body closes=%d", st.calls, st.resps[0].closes(), gotBody.closes())
		}
	})
	t.Run("canceled during wait keeps the last error", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		st := &stub{outcomes: []outcome{{err: proxyErr(502, 0)}}}
		rt := New(st, WithSleep(func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }))
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
		_, err := rt.RoundTrip(req)
		var pe *composiohttp.Error
		if !errors.Is(err, context.Canceled) || !errors.As(err, &pe) {
			t.Fatalf("err = %v; want context.Canceled wrapping the proxy error", err)
		}
	})
	t.Run("context already done", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		st := &stub{outcomes: []outcome{{status: 503}}}
		rt := New(st, WithSleep(func(context.Context, time.Duration) error { t.Error("slept"); return nil }))
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
		resp, err := rt.RoundTrip(req)
		if err != nil || resp.StatusCode != 503 || st.calls != 1 {
			t.Fatalf("resp, err = %v, %v after %d calls", resp, err, st.calls)
		}
		resp.Body.Close()
	})
	t.Run("default sleep honours the context", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		st := &stub{outcomes: []outcome{{status: 503}}}
		rt := New(st, constant(time.Hour), WithMaxElapsedTime(0), WithOnRetry(func(Event) { cancel() }))
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
		if _, err := rt.RoundTrip(req); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestRetryDefaultBackOff(t *testing.T) {
	t.Parallel()
	var waits []time.Duration
	st := &stub{outcomes: []outcome{{status: 503}}}
	rt := New(st, WithMaxAttempts(6), WithSleep(func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }))
	req, _ := http.NewRequest("GET", "https://api.example.com/", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	interval := DefaultInitialInterval
	for i, w := range waits {
		lo := time.Duration(float64(interval) * (1 - DefaultRandomizationFactor))
		hi := time.Duration(float64(interval) * (1 + DefaultRandomizationFactor))
		if w < lo || w > hi {
			t.Errorf("wait %d = %v, want in [%v, %v]", i, w, lo, hi)
		}
		interval = min(time.Duration(float64(interval)*DefaultMultiplier), DefaultMaxInterval)
	}
	if len(waits) != 5 {
		t.Errorf("%d waits, want 5", len(waits))
	}
}

func TestRetryBadInput(t *testing.T) {
	t.Parallel()
	rt := New(nil, nil)
	if _, err := rt.RoundTrip(nil); !errors.Is(err, ErrNilRequest) {
		t.Errorf("nil request: err = %v", err)
	}
}

func TestRetryConcurrent(t *testing.T) {
	t.Parallel()
	c := newClock()
	rt := New(&stub{outcomes: []outcome{{status: 503}, {status: 200}}}, WithSleep(c.sleep), WithClock(c.now))
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			req, _ := http.NewRequest("PUT", "https://api.example.com/", bytes.NewReader([]byte("x")))
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
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

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}
