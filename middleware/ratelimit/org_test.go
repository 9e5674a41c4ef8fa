package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/testutil"
)

// orgFake is the fake, in process, enforcing an org limit.
func orgFake(t *testing.T, limit int, window time.Duration) *testutil.Server {
	s := testutil.NewUnstartedServer(testutil.WithOrgLimit(limit, window))
	s.URL = "http://composio.test"
	t.Cleanup(s.Close)
	s.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })})
	return s
}

func orgClient(s *testutil.Server, org *ratelimit.OrgLimiter) *http.Client {
	tr := s.InProcessTransport()
	tr.ConnectedAccountID = "ca_1"
	tr.Base = org.Transport(tr.Base)
	return &http.Client{Transport: tr}
}

func fetch(c *http.Client) error {
	resp, err := c.Get("https://api.example.com/x")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// TestOrgLimiterNo429: 4 goroutines push 240 calls at a fake allowing 60
// per minute; the limiter learns the limit from the headers and keeps the
// client under it: no 429, never more than 60 calls in a window, and the
// calls spread over the windows they need. The bubble's clock makes the
// minutes instant.
func TestOrgLimiterNo429(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		slowBelow float64
	}{
		{"default pacing", 0},
		{"no pacing", -1},
		{"paced from the start", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				s := orgFake(t, 60, time.Minute)
				var mu sync.Mutex
				waits := map[string]int{}
				org := &ratelimit.OrgLimiter{SlowBelow: tt.slowBelow, OnWait: func(d time.Duration, reason string) {
					mu.Lock()
					waits[reason]++
					mu.Unlock()
				}}
				c := orgClient(s, org)
				start := time.Now()
				var wg sync.WaitGroup
				errs := make(chan error, 240)
				for range 4 {
					wg.Go(func() {
						for range 60 {
							if err := fetch(c); err != nil {
								errs <- err
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					t.Errorf("call failed: %v", err)
				}
				perWindow := map[time.Time]int{}
				for _, r := range s.Requests() {
					if r.Status == http.StatusTooManyRequests {
						t.Errorf("a 429 at %v", r.Time.Sub(start))
					}
					perWindow[r.Time.Truncate(time.Minute)]++
				}
				for w, n := range perWindow {
					if n > 60 {
						t.Errorf("window %v: %d calls", w, n)
					}
				}
				if n := len(s.Requests()); n != 240 {
					t.Errorf("%d calls reached the fake, want 240", n)
				}
				if elapsed := time.Since(start); elapsed < 3*time.Minute || elapsed > 8*time.Minute {
					t.Errorf("took %v for 240 calls at 60/min", elapsed)
				}
				mu.Lock()
				defer mu.Unlock()
				if waits["exhausted"]+waits["pace"] == 0 {
					t.Errorf("no caller was slowed: %v", waits)
				}
				if tt.slowBelow == 1 && waits["pace"] == 0 {
					t.Errorf("paced from the start, but waits %v", waits)
				}
				if st := org.State(); !st.Known || st.Limit != 60 || st.Window != time.Minute || st.InFlight != 0 {
					t.Errorf("state %+v", st)
				}
			})
		})
	}
}

// TestOrgLimiter429Pauses: a 429 (here: the window exhausted by another
// client) pauses the organisation until its Retry-After; the next call
// waits that long and goes through.
func TestOrgLimiter429Pauses(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		s := orgFake(t, 100, time.Minute)
		org := &ratelimit.OrgLimiter{}
		c := orgClient(s, org)
		time.Sleep(15 * time.Second) // mid-window: 45 s left
		s.ExhaustOrgLimit()
		err := fetch(c)
		var pe *composiohttp.Error
		if !errors.As(err, &pe) || pe.StatusCode != 429 || pe.RetryAfter != 45*time.Second {
			t.Fatalf("got %v, want the fake's 429", err)
		}
		if st := org.State(); st.Available != 0 || st.End != time.Now().Add(45*time.Second) {
			t.Errorf("state after 429: %+v", st)
		}
		start := time.Now()
		if err := fetch(c); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 45*time.Second {
			t.Errorf("next call waited %v, want 45s", d)
		}
		// A caller whose deadline comes before the pause ends is refused
		// at once.
		s.ExhaustOrgLimit()
		fetch(c)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
		if _, err := c.Do(req); !errors.Is(err, ratelimit.ErrLimited) {
			t.Errorf("short deadline: %v", err)
		}
	})
}

// TestOrgLimiterHeaders: the window is learnt only from complete, valid
// headers; retry-after-ms wins over Retry-After.
func TestOrgLimiterHeaders(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		status int
		header map[string]string
		known  bool
		window time.Duration
		avail  int
		paused time.Duration
	}{
		{"docs form", 200, map[string]string{"X-RateLimit": "20000", "X-RateLimit-Remaining": "19999", "X-RateLimit-Window-Size": "600s"}, true, 10 * time.Minute, 19999, 0},
		{"bare seconds", 200, map[string]string{"X-RateLimit": "60", "X-RateLimit-Remaining": "10", "X-RateLimit-Window-Size": "60"}, true, time.Minute, 10, 0},
		{"missing remaining", 200, map[string]string{"X-RateLimit": "60", "X-RateLimit-Window-Size": "60s"}, false, 0, 0, 0},
		{"bad limit", 200, map[string]string{"X-RateLimit": "x", "X-RateLimit-Remaining": "1", "X-RateLimit-Window-Size": "60s"}, false, 0, 0, 0},
		{"zero window", 200, map[string]string{"X-RateLimit": "1", "X-RateLimit-Remaining": "1", "X-RateLimit-Window-Size": "0s"}, false, 0, 0, 0},
		{"429 retry-after-ms", 429, map[string]string{"Retry-After-Ms": "1500", "Retry-After": "9"}, false, 0, 0, 1500 * time.Millisecond},
		{"429 Retry-After", 429, map[string]string{"X-RateLimit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Window-Size": "60s", "Retry-After": "9"}, true, time.Minute, 0, 9 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := now // each parallel subtest moves its own clock
			org := &ratelimit.OrgLimiter{Now: func() time.Time { return now }}
			if err := org.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			org.Done(&http.Response{StatusCode: tt.status, Header: h})
			st := org.State()
			if st.Known != tt.known || st.Window != tt.window || st.Available != tt.avail || st.InFlight != 0 {
				t.Errorf("state %+v", st)
			}
			var waited time.Duration
			org.Sleep = func(_ context.Context, d time.Duration) error {
				waited += d
				now = now.Add(d)
				return nil
			}
			start := now
			if tt.paused > 0 {
				org.Wait(context.Background())
				if waited != tt.paused {
					t.Errorf("paused %v, want %v", waited, tt.paused)
				}
			}
			now = start
		})
	}
}

// TestOrgLimiterOnlyAPI: the signed binary URLs do not count.
func TestOrgLimiterOnlyAPI(t *testing.T) {
	t.Parallel()
	org := &ratelimit.OrgLimiter{}
	rt := org.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if st := org.State(); st.InFlight != map[bool]int{true: 1, false: 0}[r.URL.Path == "/api/v3.1/tools/execute/proxy"] {
			return nil, fmt.Errorf("%s: in flight %d", r.URL.Path, st.InFlight)
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody, Header: http.Header{}}, nil
	}))
	for _, u := range []string{"http://composio.test/api/v3.1/tools/execute/proxy", "http://composio.test/binary/x?sig=1"} {
		req, _ := http.NewRequest("POST", u, nil)
		if _, err := rt.RoundTrip(req); err != nil {
			t.Error(err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A next RoundTripper that returns both a response and an error: the
// org limiter's Transport returns the error alone and closes the
// response's body, which nobody else could.
func TestOrgTransportClosesDroppedResponse(t *testing.T) {
	t.Parallel()
	var closed atomic.Int32
	org := &ratelimit.OrgLimiter{}
	rt := org.Transport(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body := &closeCounter{Reader: strings.NewReader("x"), n: &closed}
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: body, Request: r}, errors.New("broken next")
	}))
	req, _ := http.NewRequest(http.MethodPost, "https://backend.composio.dev/api/v3.1/tools/execute/proxy", nil)
	resp, err := rt.RoundTrip(req)
	if resp != nil || err == nil {
		t.Fatalf("RoundTrip = %v, %v; want nil and the error", resp, err)
	}
	if n := closed.Load(); n != 1 {
		t.Errorf("dropped response body closed %d times, want 1", n)
	}
}

type closeCounter struct {
	io.Reader
	n *atomic.Int32
}

func (c *closeCounter) Close() error { c.n.Add(1); return nil }
