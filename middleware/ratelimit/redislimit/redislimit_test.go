package redislimit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
)

// setProcAttr prepares the redis-server command (see sysproc_linux_test.go).
var setProcAttr = func(*exec.Cmd) {}

var redisOnce struct {
	sync.Once
	opts *redis.Options
	err  error
	stop func()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if redisOnce.stop != nil {
		redisOnce.stop()
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// redisOptions returns options for a Redis to test against: $REDIS_URL if
// set, else a redis-server started on a free loopback port for the whole
// package run (stopped in TestMain). It skips the test with the reason
// when neither is available.
func redisOptions(t *testing.T) *redis.Options {
	t.Helper()
	redisOnce.Do(func() { redisOnce.opts, redisOnce.err = startRedis() })
	if redisOnce.err != nil {
		t.Skipf("no Redis to test against: %v (set REDIS_URL or install redis-server)", redisOnce.err)
	}
	o := *redisOnce.opts
	return &o
}

func startRedis() (*redis.Options, error) {
	if u := os.Getenv("REDIS_URL"); u != "" {
		o, err := redis.ParseURL(u)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return o, ping(o)
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	dir, err := os.MkdirTemp("", "redislimit")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	redisOnce.stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.RemoveAll(dir)
	}
	o := &redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	return o, ping(o)
}

// ping waits up to 10s for Redis to answer PING.
func ping(o *redis.Options) error {
	c := redis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := c.Ping(ctx).Err()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("redis at %s does not answer PING: %w", o.Addr, err)
		case <-tick.C:
		}
	}
}

// newClient returns a client of the test Redis, closed at cleanup.
func newClient(t *testing.T) *redis.Client {
	c := redis.NewClient(redisOptions(t))
	t.Cleanup(func() { c.Close() })
	return c
}

var prefixes atomic.Int64

// uniquePrefix keeps tests (and runs against a shared REDIS_URL) apart.
func uniquePrefix(t *testing.T) string {
	return fmt.Sprintf("test:%d:%d:%s:", os.Getpid(), prefixes.Add(1), t.Name())
}

func TestTwoClientsShareTheLimit(t *testing.T) {
	t.Parallel()
	prefix := uniquePrefix(t)
	// 10 calls an hour, burst 10: however long the test takes (under
	// six minutes), the two clients together get exactly 10.
	limit := redis_rate.Limit{Rate: 10, Burst: 10, Period: time.Hour}
	a := &Limiter{Client: newClient(t), Limit: limit, Prefix: prefix}
	b := &Limiter{Client: newClient(t), Limit: limit, Prefix: prefix}
	var allowed atomic.Int64
	var wg sync.WaitGroup
	for _, l := range []*Limiter{a, b, a, b} {
		wg.Go(func() {
			for range 15 {
				d, err := l.Allow(context.Background(), "account:ca_1")
				if err != nil {
					t.Error(err)
					return
				}
				if d == 0 {
					allowed.Add(1)
				} else if d < 0 || d > time.Hour {
					t.Errorf("retry after %v", d)
				}
			}
		})
	}
	wg.Wait()
	if n := allowed.Load(); n != 10 {
		t.Errorf("allowed %d calls in total, want the limit, 10", n)
	}
	// Another key has its own budget.
	if d, err := a.Allow(context.Background(), "account:ca_2"); err != nil || d != 0 {
		t.Errorf("other key: %v, %v", d, err)
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	limit := redis_rate.Limit{Rate: 1, Burst: 1, Period: time.Hour}
	t.Run("deadline too short fails fast taking nothing", func(t *testing.T) {
		t.Parallel()
		l := &Limiter{Client: newClient(t), Limit: limit, Prefix: uniquePrefix(t),
			Sleep: func(context.Context, time.Duration) error { t.Error("slept"); return nil }}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := l.Wait(ctx, "k"); err != nil {
			t.Fatal(err)
		}
		var le *ratelimit.LimitError
		if err := l.Wait(ctx, "k"); !errors.As(err, &le) || !errors.Is(err, ratelimit.ErrLimited) || le.Wait < 59*time.Minute {
			t.Fatalf("err = %v, want a LimitError waiting about an hour", err)
		}
	})
	t.Run("sleeps what Redis asks then proceeds", func(t *testing.T) {
		t.Parallel()
		c := newClient(t)
		prefix := uniquePrefix(t)
		var waits []time.Duration
		l := &Limiter{Client: c, Limit: limit, Prefix: prefix, Sleep: func(ctx context.Context, d time.Duration) error {
			waits = append(waits, d)
			// Time "passes": the bucket is full again.
			return redis_rate.NewLimiter(c).Reset(ctx, prefix+"k")
		}}
		for range 2 {
			if err := l.Wait(context.Background(), "k"); err != nil {
				t.Fatal(err)
			}
		}
		if len(waits) != 1 || waits[0] < 59*time.Minute || waits[0] > time.Hour {
			t.Errorf("waits = %v, want one of about an hour", waits)
		}
	})
	t.Run("canceled during wait", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		l := &Limiter{Client: newClient(t), Limit: limit, Prefix: uniquePrefix(t),
			Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
		l.Wait(ctx, "k")
		if err := l.Wait(ctx, "k"); !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "redislimit: ") {
			t.Fatalf("err = %v, want redislimit: ... context canceled", err)
		}
	})
}

func TestPauseIsShared(t *testing.T) {
	t.Parallel()
	prefix := uniquePrefix(t)
	limit := redis_rate.PerSecond(100)
	a := &Limiter{Client: newClient(t), Limit: limit, Prefix: prefix}
	b := &Limiter{Client: newClient(t), Limit: limit, Prefix: prefix}
	if err := a.Pause(context.Background(), "account:ca_1", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	d, err := b.Allow(context.Background(), "account:ca_1")
	if err != nil || d < 25*time.Second || d > 30*time.Second {
		t.Errorf("other replica: Allow = %v, %v; want a wait of about 30s", d, err)
	}
	if d, err := b.Allow(context.Background(), "account:ca_2"); err != nil || d != 0 {
		t.Errorf("other key paused: %v, %v", d, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := b.Wait(ctx, "account:ca_1"); !errors.Is(err, ratelimit.ErrLimited) {
		t.Errorf("Wait during pause: %v, want ErrLimited", err)
	}
}

// stub answers 429 with Retry-After, then 200.
type stub struct{ calls atomic.Int64 }

func (s *stub) RoundTrip(req *http.Request) (*http.Response, error) {
	if s.calls.Add(1) == 1 {
		return &http.Response{StatusCode: 429, Header: http.Header{"Retry-After": {"20"}}, Body: http.NoBody, Request: req}, nil
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func TestMiddlewareAcrossReplicas(t *testing.T) {
	t.Parallel()
	prefix := uniquePrefix(t)
	limit := redis_rate.PerSecond(100)
	// Replica 1 gets a 429; replica 2, with its own client, then waits
	// for the same account.
	r1 := ratelimit.New(&stub{}, &Limiter{Client: newClient(t), Limit: limit, Prefix: prefix})
	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_1")
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
	resp, err := r1.RoundTrip(req)
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("replica 1: %v, %v", resp, err)
	}
	var waited time.Duration
	l2 := &Limiter{Client: newClient(t), Limit: limit, Prefix: prefix, Sleep: func(ctx context.Context, d time.Duration) error {
		waited = d
		return newClient(t).Del(ctx, prefix+"pause:account:ca_1").Err()
	}}
	s2 := &stub{}
	s2.calls.Store(1)
	resp, err = ratelimit.New(s2, l2).RoundTrip(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("replica 2: %v, %v", resp, err)
	}
	if waited < 15*time.Second || waited > 20*time.Second {
		t.Errorf("replica 2 waited %v, want about 20s", waited)
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	closed := &Limiter{Client: c, Limit: redis_rate.PerSecond(1)}
	if err := closed.Wait(context.Background(), "k"); err == nil || !strings.HasPrefix(err.Error(), "redislimit: ") {
		t.Errorf("fail closed: err = %v", err)
	}
	open := &Limiter{Client: c, Limit: redis_rate.PerSecond(1), FailOpen: true}
	if err := open.Wait(context.Background(), "k"); err != nil {
		t.Errorf("fail open: err = %v", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	for _, l := range []*Limiter{{}, {Client: redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})}} {
		if err := l.Wait(context.Background(), "k"); !errors.Is(err, ErrConfig) {
			t.Errorf("Wait: %v, want ErrConfig", err)
		}
		if l.Client != nil {
			l.Client.Close()
		}
	}
}
