//go:build unix

package redisbreaker_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/breaker/redisbreaker"
	"github.com/composiohttp/composiohttp/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// replica is one service instance: its own Redis client and Group, the
// same prefix as its peers.
type replica struct {
	group *redisbreaker.Group
	rt    http.RoundTripper
}

func newReplica(t *testing.T, addr, prefix string, tr http.RoundTripper, s breaker.Settings) *replica {
	c := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { c.Close() })
	g := &redisbreaker.Group{Client: c, Prefix: prefix, Settings: s, FailClosed: true}
	return &replica{group: g, rt: breaker.New(tr, breaker.WithGroup(g))}
}

func (r *replica) get(t *testing.T) error {
	t.Helper()
	req, _ := http.NewRequest("GET", "https://api.example.com/x", nil)
	resp, err := r.rt.RoundTrip(req)
	if resp != nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	return err
}

// TestTwoReplicasShareOneBreaker: failures seen by replica A open the
// breaker for replica B too, which fails fast without calling the proxy;
// after the timeout, one probe across both replicas goes through (the
// other replica is refused), and its success closes the breaker for both.
// A real redis-server holds the state; the bubble's clock makes the
// timeout instant.
func TestTwoReplicasShareOneBreaker(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	synctest.Test(t, func(t *testing.T) {
		f := testutil.NewUnstartedServer()
		f.URL = "http://composio.test"
		defer f.Close()
		var gated atomic.Bool
		gate, entered := make(chan struct{}), make(chan struct{}, 1)
		f.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth,
			Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if gated.Load() {
					entered <- struct{}{}
					<-gate
				}
			})})
		tr := f.InProcessTransport()
		tr.ConnectedAccountID = "ca_1"
		var changes atomic.Int32
		settings := breaker.Settings{
			Timeout:       20 * time.Second,
			ReadyToTrip:   func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 3 },
			OnStateChange: func(string, breaker.State, breaker.State) { changes.Add(1) },
		}
		prefix := "test:" + t.Name() + ":"
		a := newReplica(t, srv.Addr, prefix, tr, settings)
		b := newReplica(t, srv.Addr, prefix, tr, settings)

		f.Inject(testutil.Fault{Status: 502, Times: 3})
		for range 3 {
			var pe *composiohttp.Error
			if err := a.get(t); !errors.As(err, &pe) {
				t.Fatalf("A: %v", err)
			}
		}
		opened := time.Now()
		if st, err := b.group.State("api.example.com"); err != nil || st != breaker.StateOpen {
			t.Fatalf("B sees %v, %v; want open", st, err)
		}
		err := b.get(t)
		var oe *breaker.OpenError
		if !errors.As(err, &oe) || oe.State != breaker.StateOpen || !oe.RetryAt.Equal(opened.Add(20*time.Second)) {
			t.Fatalf("B: %v (%+v), want open until %v", err, oe, opened.Add(20*time.Second))
		}
		if n := len(f.Requests()); n != 3 {
			t.Errorf("%d proxy calls, want 3 (B refused without calling)", n)
		}

		time.Sleep(20*time.Second + time.Millisecond)
		gated.Store(true)
		probe := make(chan error)
		go func() { probe <- b.get(t) }()
		<-entered
		if err := a.get(t); !errors.As(err, &oe) || oe.State != breaker.StateHalfOpen {
			t.Errorf("A during B's probe: %v, want refused (half-open, probes bounded across replicas)", err)
		}
		close(gate)
		if err := <-probe; err != nil {
			t.Fatalf("probe: %v", err)
		}
		gated.Store(false)
		for _, r := range []*replica{a, b} {
			if st, err := r.group.State("api.example.com"); err != nil || st != breaker.StateClosed {
				t.Errorf("after the probe: %v, %v; want closed", st, err)
			}
			if err := r.get(t); err != nil {
				t.Errorf("after closing: %v", err)
			}
		}
		if changes.Load() < 3 {
			t.Errorf("%d state changes reported", changes.Load())
		}
	})
}

// TestFailOpen: with Redis unreachable, calls go through unless
// FailClosed.
func TestFailOpen(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer c.Close()
	ok := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	for _, failClosed := range []bool{false, true} {
		g := &redisbreaker.Group{Client: c, FailClosed: failClosed, OpTimeout: 200 * time.Millisecond}
		req, _ := http.NewRequestWithContext(context.Background(), "GET", "https://api.example.com/x", nil)
		_, err := breaker.New(ok, breaker.WithGroup(g)).RoundTrip(req)
		if (err != nil) != failClosed {
			t.Errorf("FailClosed %v: %v", failClosed, err)
		}
	}
	if _, err := (&redisbreaker.Group{}).Allow(context.Background(), "k"); !errors.Is(err, redisbreaker.ErrNoClient) {
		t.Errorf("no client: %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkClosed: what a closed shared breaker adds to a call (its Redis
// round trips to a local redis-server).
func BenchmarkClosed(b *testing.B) {
	srv := redistest.Start(b)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	ok := roundTripFunc(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	rt := breaker.New(ok, breaker.WithGroup(&redisbreaker.Group{Client: c, Prefix: "bench:"}))
	req, _ := http.NewRequest("GET", "https://api.example.com/x", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}
