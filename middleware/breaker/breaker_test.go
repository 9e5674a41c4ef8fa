package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestClassify(t *testing.T) {
	t.Parallel()
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code} }
	proxy := func(code int) error { return &composiohttp.Error{StatusCode: code} }
	conn := fmt.Errorf("dial: %w", syscall.ECONNREFUSED)
	tests := []struct {
		name     string
		ctx      context.Context
		resp     *http.Response
		err      error
		failures breaker.Failures
		want     breaker.Outcome
	}{
		{"upstream 200", nil, resp(200), nil, breaker.DefaultFailures, breaker.Success},
		{"upstream 404", nil, resp(404), nil, breaker.DefaultFailures, breaker.Success},
		{"upstream 429", nil, resp(429), nil, breaker.DefaultFailures, breaker.Success},
		{"upstream 503", nil, resp(503), nil, breaker.DefaultFailures, breaker.Failure},
		{"upstream 500 not selected", nil, resp(500), nil, breaker.ProxyErrors | breaker.ConnectionErrors, breaker.Success},
		{"proxy 502", nil, nil, proxy(502), breaker.DefaultFailures, breaker.Failure},
		{"proxy 500", nil, nil, proxy(500), breaker.DefaultFailures, breaker.Failure},
		{"proxy 500 not selected", nil, nil, proxy(500), breaker.UpstreamErrors, breaker.Success},
		{"proxy 400", nil, nil, proxy(400), breaker.DefaultFailures, breaker.Success},
		{"proxy 429", nil, nil, proxy(429), breaker.DefaultFailures, breaker.Success},
		{"proxy 404", nil, nil, proxy(404), breaker.DefaultFailures, breaker.Success},
		{"malformed envelope", nil, nil, &composiohttp.EnvelopeError{Reason: "x", Offset: -1}, breaker.DefaultFailures, breaker.Failure},
		{"connection refused", nil, nil, conn, breaker.DefaultFailures, breaker.Failure},
		{"unexpected EOF", nil, nil, io.ErrUnexpectedEOF, breaker.DefaultFailures, breaker.Failure},
		{"connection not selected", nil, nil, conn, breaker.ProxyErrors, breaker.Ignore},
		{"caller cancelled", cancelled, nil, fmt.Errorf("x: %w", context.Canceled), breaker.DefaultFailures, breaker.Ignore},
		{"caller cancelled, error looks like a connection error", cancelled, nil, conn, breaker.DefaultFailures, breaker.Ignore},
		{"caller cancelled, proxy 502", cancelled, nil, proxy(502), breaker.DefaultFailures, breaker.Ignore},
		{"refused before sending", nil, nil, composiohttp.ErrNoAuthContext, breaker.DefaultFailures, breaker.Ignore},
		{"bad request", nil, nil, fmt.Errorf("%w: nil URL", composiohttp.ErrBadRequest), breaker.DefaultFailures, breaker.Ignore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/user", nil)
			if got := breaker.Classify(tt.failures)(req, tt.resp, tt.err); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// fixture is the fake in process (for synctest bubbles) with an account
// whose upstream answers upstreamStatus, or blocks while gate is set.
type fixture struct {
	s        *testutil.Server
	upstream atomic.Int32 // status the upstream answers
	gate     chan struct{}
	gated    atomic.Bool
	entered  chan struct{}
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{gate: make(chan struct{}), entered: make(chan struct{}, 10)}
	f.upstream.Store(200)
	f.s = testutil.NewUnstartedServer()
	f.s.URL = "http://composio.test"
	t.Cleanup(f.s.Close)
	f.s.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if f.gated.Load() {
				f.entered <- struct{}{}
				<-f.gate
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(int(f.upstream.Load()))
			io.WriteString(w, `{}`)
		})})
	return f
}

func (f *fixture) transport() *composiohttp.Transport {
	tr := f.s.InProcessTransport()
	tr.ConnectedAccountID = "ca_1"
	return tr
}

func get(t *testing.T, rt http.RoundTripper) (*http.Response, error) {
	t.Helper()
	req, _ := http.NewRequest("GET", "https://api.example.com/x", nil)
	resp, err := rt.RoundTrip(req)
	if resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return resp, err
}

// TestOpenHalfOpenClose: failures of each kind open the breaker, calls then
// fail fast without reaching the proxy, after Timeout one probe goes
// through (a second concurrent call is refused), and its success closes
// the breaker. The bubble's clock makes the 30 s timeout instant.
func TestOpenHalfOpenClose(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		fail func(f *fixture) // makes the next calls fail
		heal func(f *fixture)
	}{
		{"proxy 502", func(f *fixture) { f.s.Inject(testutil.Fault{Status: 502}) }, func(f *fixture) { f.s.Reset() }},
		{"proxy 500", func(f *fixture) { f.s.Inject(testutil.Fault{Status: 500}) }, func(f *fixture) { f.s.Reset() }},
		{"upstream 503", func(f *fixture) { f.upstream.Store(503) }, func(f *fixture) { f.upstream.Store(200) }},
		{"dropped connection", func(f *fixture) { f.s.Inject(testutil.Fault{Drop: true}) }, func(f *fixture) { f.s.Reset() }},
		{"malformed envelope", func(f *fixture) { f.s.Inject(testutil.Fault{Malformed: true}) }, func(f *fixture) { f.s.Reset() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t)
				var mu sync.Mutex
				var changes []string
				g := breaker.NewLocal(breaker.Settings{OnStateChange: func(key string, from, to breaker.State) {
					mu.Lock()
					changes = append(changes, fmt.Sprintf("%s: %s→%s", key, from, to))
					mu.Unlock()
				}})
				rt := breaker.New(f.transport(), breaker.WithGroup(g))

				tt.fail(f)
				for i := range breaker.DefaultConsecutiveFailures {
					if _, err := get(t, rt); err == nil && i < breaker.DefaultConsecutiveFailures-1 && tt.name != "upstream 503" {
						t.Fatalf("call %d succeeded", i)
					}
				}
				opened := time.Now()
				sent := len(f.s.Requests())
				_, err := get(t, rt)
				var oe *breaker.OpenError
				if !errors.As(err, &oe) || !errors.Is(err, breaker.ErrOpen) || !errors.Is(err, gobreaker.ErrOpenState) {
					t.Fatalf("open: got %v, want an *OpenError", err)
				}
				if oe.Key != "api.example.com" || oe.State != breaker.StateOpen || !oe.RetryAt.Equal(opened.Add(breaker.DefaultTimeout)) ||
					oe.RetryAfter(time.Now()) != breaker.DefaultTimeout {
					t.Errorf("open error %+v (%v), want retry at %v", oe, err, opened.Add(breaker.DefaultTimeout))
				}
				if !strings.Contains(err.Error(), "next try at") || composiohttp.IsRetryable(err) {
					t.Errorf("error %q, retryable %v", err, composiohttp.IsRetryable(err))
				}
				if n := len(f.s.Requests()); n != sent {
					t.Errorf("open breaker let %d calls reach the proxy", n-sent)
				}
				if g.State("api.example.com") != breaker.StateOpen {
					t.Errorf("state %v", g.State("api.example.com"))
				}

				time.Sleep(breaker.DefaultTimeout + time.Millisecond)
				tt.heal(f)
				f.gated.Store(true)
				probe := make(chan error)
				go func() { _, err := get(t, rt); probe <- err }()
				<-f.entered // the probe is at the upstream
				_, err = get(t, rt)
				if !errors.As(err, &oe) || oe.State != breaker.StateHalfOpen || !errors.Is(err, gobreaker.ErrTooManyRequests) {
					t.Errorf("second call while half-open: %v, want refused", err)
				}
				close(f.gate)
				if err := <-probe; err != nil {
					t.Fatalf("probe: %v", err)
				}
				f.gated.Store(false)
				if _, err := get(t, rt); err != nil {
					t.Errorf("after closing: %v", err)
				}
				mu.Lock()
				defer mu.Unlock()
				want := []string{"api.example.com: closed→open", "api.example.com: open→half-open", "api.example.com: half-open→closed"}
				if !slices.Equal(changes, want) {
					t.Errorf("state changes %q, want %q", changes, want)
				}
			})
		})
	}
}

// TestFailedProbeReopens: a probe that fails opens the breaker for another
// Timeout.
func TestFailedProbeReopens(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		g := breaker.NewLocal(breaker.Settings{Timeout: 10 * time.Second, ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 2 }})
		rt := breaker.New(f.transport(), breaker.WithGroup(g))
		f.s.Inject(testutil.Fault{Status: 502})
		get(t, rt)
		get(t, rt)
		time.Sleep(10*time.Second + time.Millisecond)
		if g.State("api.example.com") != breaker.StateHalfOpen {
			t.Fatalf("state %v, want half-open", g.State("api.example.com"))
		}
		if _, err := get(t, rt); errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("probe refused: %v", err)
		}
		_, err := get(t, rt)
		var oe *breaker.OpenError
		if !errors.As(err, &oe) || oe.State != breaker.StateOpen || !oe.RetryAt.Equal(time.Now().Add(10*time.Second)) {
			t.Errorf("after a failed probe: %v, want open until %v", err, time.Now().Add(10*time.Second))
		}
	})
}

// TestNeverOpens: 4xx and the caller's own cancellation never open it.
func TestNeverOpens(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		call func(t *testing.T, f *fixture, rt http.RoundTripper)
	}{
		{"proxy 429", func(t *testing.T, f *fixture, rt http.RoundTripper) {
			f.s.Inject(testutil.Fault{Status: 429, Times: 1})
			get(t, rt)
		}},
		{"proxy 404 unknown account", func(t *testing.T, f *fixture, rt http.RoundTripper) {
			req, _ := http.NewRequestWithContext(composiohttp.WithConnectedAccount(context.Background(), "ca_nope"), "GET", "https://api.example.com/x", nil)
			rt.RoundTrip(req)
		}},
		{"upstream 400", func(t *testing.T, f *fixture, rt http.RoundTripper) {
			f.upstream.Store(400)
			get(t, rt)
		}},
		{"caller cancelled", func(t *testing.T, f *fixture, rt http.RoundTripper) {
			ctx, cancel := context.WithCancel(context.Background())
			f.s.Inject(testutil.Fault{Latency: time.Second, Times: 1})
			time.AfterFunc(time.Millisecond, cancel)
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
			if _, err := rt.RoundTrip(req); !errors.Is(err, context.Canceled) {
				t.Fatalf("got %v", err)
			}
		}},
		{"caller deadline", func(t *testing.T, f *fixture, rt http.RoundTripper) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			defer cancel()
			f.s.Inject(testutil.Fault{Latency: time.Second, Times: 1})
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/x", nil)
			if _, err := rt.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t)
				g := breaker.NewLocal(breaker.Settings{})
				rt := breaker.New(f.transport(), breaker.WithGroup(g))
				for range 3 * breaker.DefaultConsecutiveFailures {
					tt.call(t, f, rt)
				}
				if st := g.State("api.example.com"); st != breaker.StateClosed {
					t.Errorf("state %v, want closed", st)
				}
			})
		})
	}
}

// TestRetryStopsAtOpenBreaker: inside retry, every attempt counts, and an
// open breaker ends the retrying: the call returns the *OpenError after the
// attempt that opened it.
func TestRetryStopsAtOpenBreaker(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		g := breaker.NewLocal(breaker.Settings{ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 2 }})
		rt := middleware.Chain(f.transport(), retry.Middleware(retry.WithMaxAttempts(10)), breaker.Middleware(breaker.WithGroup(g)))
		f.s.Inject(testutil.Fault{Status: 502})
		info := &composiohttp.CallInfo{}
		req, _ := http.NewRequestWithContext(composiohttp.WithCallInfo(context.Background(), info), "GET", "https://api.example.com/x", nil)
		_, err := rt.RoundTrip(req)
		if !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("got %v, want the open-state error", err)
		}
		if n := len(f.s.Requests()); n != 2 || info.Retries != 2 {
			t.Errorf("%d proxy calls, %d retries; want 2 calls then the refused third attempt, not retried", n, info.Retries)
		}
	})
}

// TestKeys: breakers are per key; one open key does not refuse another.
func TestKeys(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "stripe", Val: credentials.Val{Token: "sk_x"}}
	tests := []struct {
		name string
		key  func(*http.Request) string
		ctx  context.Context
		url  string
		want string
	}{
		{"host", breaker.KeyByHost, context.Background(), "https://api.github.com:8443/x", "api.github.com:8443"},
		{"toolkit of a connection", breaker.KeyByToolkit, composiohttp.WithConnection(context.Background(), conn), "https://api.stripe.com/v1", "toolkit:stripe"},
		{"toolkit from host", breaker.KeyByToolkit, context.Background(), "https://slack.com/api", "host:slack.com"},
		{"account", breaker.KeyByAccount, composiohttp.WithConnectedAccount(context.Background(), "ca_9"), "https://x.test/", "account:ca_9"},
		{"function", func(*http.Request) string { return "all" }, context.Background(), "https://x.test/", "all"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			g := breaker.NewLocal(breaker.Settings{ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
			failing := breaker.New(roundTripFunc(func(*http.Request) (*http.Response, error) {
				return nil, &composiohttp.Error{StatusCode: 502}
			}), breaker.WithGroup(g), breaker.WithKey(tt.key))
			req, _ := http.NewRequestWithContext(tt.ctx, "GET", tt.url, nil)
			failing.RoundTrip(req)
			if st := g.State(tt.want); st != breaker.StateOpen {
				t.Errorf("breaker %q is %v, want open", tt.want, st)
			}
			if g.Len() != 1 || g.State("other") != breaker.StateClosed {
				t.Errorf("%d breakers", g.Len())
			}
		})
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestContract: a refused call closes the body and modifies nothing;
// MaxKeys bounds the breakers kept.
func TestContract(t *testing.T) {
	t.Parallel()
	g := breaker.NewLocal(breaker.Settings{MaxKeys: 3, ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
	rt := breaker.New(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return nil, io.ErrUnexpectedEOF
	}), breaker.WithGroup(g))
	for range 2 {
		body := &closeCounter{Reader: strings.NewReader("x")}
		req, _ := http.NewRequest("POST", "https://a.test/", body)
		rt.RoundTrip(req)
		if body.closed.Load() != 1 {
			t.Errorf("body closed %d times", body.closed.Load())
		}
	}
	if _, err := rt.RoundTrip(nil); !errors.Is(err, breaker.ErrNilRequest) || !errors.Is(err, composiohttp.ErrNilRequest) {
		t.Errorf("nil request: %v", err)
	}
	ok := breaker.New(roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	}), breaker.WithGroup(g))
	for _, h := range []string{"b.test", "c.test", "d.test", "e.test"} {
		req, _ := http.NewRequest("GET", "https://"+h+"/", nil)
		ok.RoundTrip(req)
	}
	if g.Len() > 3 || g.State("a.test") != breaker.StateOpen {
		t.Errorf("%d breakers, a.test %v: want ≤ 3 and the open one kept", g.Len(), g.State("a.test"))
	}
}

type closeCounter struct {
	io.Reader
	closed atomic.Int32
}

func (c *closeCounter) Close() error { c.closed.Add(1); return nil }

// TestOutageScenario: the fake's "open the breaker" scenario opens a
// breaker with default settings, and the probe after the timeout closes it.
func TestOutageScenario(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t)
		g := breaker.NewLocal(breaker.Settings{})
		rt := breaker.New(f.transport(), breaker.WithGroup(g))
		f.s.InjectOutage(0)
		for range testutil.DefaultOutageCalls {
			if _, err := get(t, rt); err == nil {
				t.Fatal("a call of the outage succeeded")
			}
		}
		if _, err := get(t, rt); !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("after the outage: %v, want the breaker open", err)
		}
		time.Sleep(breaker.DefaultTimeout + time.Millisecond)
		if _, err := get(t, rt); err != nil {
			t.Fatalf("probe: %v", err)
		}
		if st := g.State("api.example.com"); st != breaker.StateClosed {
			t.Errorf("state %v, want closed", st)
		}
	})
}

// A Local built by hand (&breaker.Local{}) panicked on its first Allow (a
// nil map); its zero value is now NewLocal(Settings{}): the defaults.
func TestLocalZeroValue(t *testing.T) {
	t.Parallel()
	l := &breaker.Local{}
	if got := l.State("h"); got != breaker.StateClosed {
		t.Fatalf("State = %v", got)
	}
	for i := range breaker.DefaultConsecutiveFailures {
		done, err := l.Allow(context.Background(), "h")
		if err != nil {
			t.Fatalf("call %d refused: %v", i, err)
		}
		done(breaker.Failure)
	}
	if _, err := l.Allow(context.Background(), "h"); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after %d failures: err = %v, want ErrOpen", breaker.DefaultConsecutiveFailures, err)
	}
	if l.Len() != 1 {
		t.Errorf("Len = %d", l.Len())
	}
}
