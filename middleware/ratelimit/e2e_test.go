package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/testutil"
)

// fakeClock is a clock advanced by its sleep.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	waits []time.Duration
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.waits = append(c.waits, d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) slept() string { c.mu.Lock(); defer c.mu.Unlock(); return fmt.Sprint(c.waits) }

// newFake returns the fake proxy with accounts ca_1 and ca_2, whose
// upstream answers 429 with Retry-After: 4 to requests for /slow-down
// (and with retry-after-ms: 1500 and Retry-After: 9 for /slow-down-ms),
// and a rate-limited client over it (the Transport acts as ca_1).
func newFake(t *testing.T, l *ratelimit.Local) (*testutil.Server, *http.Client) {
	t.Helper()
	srv := testutil.NewServer(t)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow-down":
			w.Header().Set("Retry-After", "4")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		case "/slow-down-ms": // Composio's generated clients read retry-after-ms first
			w.Header().Set("Retry-After-Ms", "1500")
			w.Header().Set("Retry-After", "9")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true}`))
	})
	for _, id := range []string{"ca_1", "ca_2"} {
		srv.AddAccount(testutil.Account{ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "tok"}, Handler: h})
	}
	tr := srv.Transport()
	tr.ConnectedAccountID = "ca_1"
	return srv, &http.Client{Transport: ratelimit.New(tr, l)}
}

func get(ctx context.Context, c *http.Client, path string) (int, error) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com"+path, nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func TestEndToEndAdaptivePause(t *testing.T) {
	t.Parallel()
	ca2 := composiohttp.WithConnectedAccount(context.Background(), "ca_2")
	tests := []struct {
		name   string
		fault  *testutil.Fault
		path   string
		status int // of the first call; 0: a proxy error
		wait   string
	}{
		{name: "proxy 429 Retry-After", fault: &testutil.Fault{Status: 429, RetryAfter: "3", Times: 1, Account: "ca_1"}, path: "/x", wait: "[3s]"},
		{name: "upstream 429 Retry-After", path: "/slow-down", status: 429, wait: "[4s]"},
		{name: "upstream 429 retry-after-ms", path: "/slow-down-ms", status: 429, wait: "[1.5s]"},
		{name: "proxy 500 no pause", fault: &testutil.Fault{Status: 500, RetryAfter: "3", Times: 1}, path: "/x", wait: "[]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &fakeClock{t: time.Now()}
			l := &ratelimit.Local{Limit: 100, Burst: 100, Now: c.now, Sleep: c.sleep}
			srv, client := newFake(t, l)
			if tc.fault != nil {
				srv.Inject(*tc.fault)
			}
			status, err := get(context.Background(), client, tc.path)
			if tc.status == 0 {
				var pe *composiohttp.Error
				if !errors.As(err, &pe) {
					t.Fatalf("first call: %v, want a proxy error", err)
				}
			} else if status != tc.status {
				t.Fatalf("first call: %d, %v", status, err)
			}
			// The other account is not held back.
			if status, err := get(ca2, client, "/x"); status != 200 {
				t.Fatalf("ca_2: %d, %v", status, err)
			}
			if got := c.slept(); got != "[]" {
				t.Errorf("ca_2 waited %s", got)
			}
			// ca_1 waits out the pause, then goes through.
			if status, err := get(context.Background(), client, "/x"); status != 200 {
				t.Fatalf("ca_1: %d, %v", status, err)
			}
			if got := c.slept(); got != tc.wait {
				t.Errorf("ca_1 waited %s, want %s", got, tc.wait)
			}
		})
	}
}

func TestEndToEndDeadline(t *testing.T) {
	t.Parallel()
	c := &fakeClock{t: time.Now()}
	l := &ratelimit.Local{Limit: 1, Burst: 2, Now: c.now, Sleep: c.sleep}
	srv, client := newFake(t, l)
	for range 2 {
		if status, err := get(context.Background(), client, "/x"); status != 200 {
			t.Fatalf("%d, %v", status, err)
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), c.now().Add(500*time.Millisecond))
	defer cancel()
	if _, err := get(ctx, client, "/x"); !errors.Is(err, ratelimit.ErrLimited) {
		t.Fatalf("err = %v, want ErrLimited", err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d proxy calls, want 2: the refused call must not reach the proxy", n)
	}
	if status, err := get(context.Background(), client, "/x"); status != 200 || c.slept() != "[1s]" {
		t.Fatalf("third call: %d, %v after waits %s, want 200 after [1s]", status, err, c.slept())
	}
}

// passThrough is a middleware of the caller's own between the limiter and
// the Transport; the limiter finds the Transport through its Unwrap.
type passThrough struct{ next http.RoundTripper }

func (p passThrough) RoundTrip(req *http.Request) (*http.Response, error) {
	return p.next.RoundTrip(req)
}
func (p passThrough) Unwrap() http.RoundTripper { return p.next }

// Transports acting for different accounts through their own
// ConnectedAccountID, sharing one Local, keep separate buckets: a 429 for
// one account pauses that account only.
func TestEndToEndTransportsShareLimiter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault *testutil.Fault
		path  string
		wrap  func(http.RoundTripper) http.RoundTripper
		wait  string
	}{
		{name: "proxy 429", fault: &testutil.Fault{Status: 429, RetryAfter: "3", Times: 1, Account: "ca_1"}, path: "/x", wait: "[3s]"},
		{name: "upstream 429", path: "/slow-down", wait: "[4s]"},
		{name: "upstream 429 through another middleware", path: "/slow-down", wait: "[4s]",
			wrap: func(rt http.RoundTripper) http.RoundTripper { return passThrough{rt} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &fakeClock{t: time.Now()}
			l := &ratelimit.Local{Limit: 100, Burst: 100, Now: c.now, Sleep: c.sleep}
			srv, _ := newFake(t, l)
			if tc.fault != nil {
				srv.Inject(*tc.fault)
			}
			clients := map[string]*http.Client{}
			for _, id := range []string{"ca_1", "ca_2"} {
				tr := srv.Transport()
				tr.ConnectedAccountID = id
				var rt http.RoundTripper = tr
				if tc.wrap != nil {
					rt = tc.wrap(rt)
				}
				clients[id] = &http.Client{Transport: ratelimit.New(rt, l)}
			}
			if status, err := get(context.Background(), clients["ca_1"], tc.path); status == 200 {
				t.Fatalf("ca_1 first call: %d, %v; want a 429", status, err)
			}
			if status, err := get(context.Background(), clients["ca_2"], "/x"); status != 200 {
				t.Fatalf("ca_2: %d, %v", status, err)
			}
			if got := c.slept(); got != "[]" {
				t.Errorf("ca_2 waited %s after ca_1's 429: its Transport shares ca_1's key", got)
			}
			if status, err := get(context.Background(), clients["ca_1"], "/x"); status != 200 {
				t.Fatalf("ca_1: %d, %v", status, err)
			}
			if got := c.slept(); got != tc.wait {
				t.Errorf("ca_1 waited %s, want %s", got, tc.wait)
			}
		})
	}
}
