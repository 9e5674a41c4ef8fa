package rediscache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/cache/rediscache"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// redisURL returns a Redis to test against: $REDIS_URL, else a
// redis-server started on a free loopback port for this test and killed
// when it ends. It skips the test only when neither is available.
func redisURL(t *testing.T) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("rediscache: no REDIS_URL and no redis-server on PATH; install redis-server or set REDIS_URL to run the Redis tests")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	ready := &readyWriter{ready: make(chan struct{})}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Dir = dir
	cmd.Stdout = ready
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	select {
	case <-ready.ready:
	case err := <-done:
		t.Fatalf("redis-server exited before it was ready: %v\n%s", err, ready.log())
	case <-time.After(10 * time.Second):
		t.Fatalf("redis-server not ready after 10s:\n%s", ready.log())
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", port)})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis-server does not answer PING: %v", err)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", port)
}

// readyWriter collects redis-server's log and signals the line saying it
// accepts connections.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), []byte("Ready to accept connections")) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *readyWriter) log() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func client(t *testing.T) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(redisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestStore(t *testing.T) {
	t.Parallel()
	c := client(t)
	ctx := context.Background()
	s := &rediscache.Store{Client: c, Prefix: "test:" + t.Name() + ":", TTL: time.Minute}
	if _, ok, err := s.Get(ctx, "k"); ok || err != nil {
		t.Fatalf("Get missing: ok %v err %v", ok, err)
	}
	if err := s.Set(ctx, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := s.Get(ctx, "k"); !ok || err != nil || string(v) != "v" {
		t.Fatalf("Get: %q %v %v", v, ok, err)
	}
	if ttl := c.TTL(ctx, "test:"+t.Name()+":k").Val(); ttl <= 0 || ttl > time.Minute {
		t.Errorf("TTL %v", ttl)
	}
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Get(ctx, "k"); ok {
		t.Error("deleted key still there")
	}
}

func TestNoClient(t *testing.T) {
	t.Parallel()
	var s rediscache.Store
	if _, _, err := s.Get(context.Background(), "k"); !errors.Is(err, rediscache.ErrNoClient) {
		t.Errorf("err = %v", err)
	}
}

type stub struct {
	calls atomic.Int64
}

func (s *stub) RoundTrip(r *http.Request) (*http.Response, error) {
	s.calls.Add(1)
	rec := httptest.NewRecorder()
	rec.Header().Set("Cache-Control", "max-age=3600")
	acct, _ := composiohttp.ConnectedAccountFromContext(r.Context())
	io.WriteString(rec, "for "+acct)
	return rec.Result(), nil
}

func get(t *testing.T, rt http.RoundTripper, acct string) string {
	t.Helper()
	req, _ := http.NewRequestWithContext(composiohttp.WithConnectedAccount(context.Background(), acct), http.MethodGet, "https://api.example.com/x", nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// Two replicas (two clients, two middlewares) share one cache, and the
// tenants stay apart in it.
func TestSharedBetweenReplicas(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	var next stub
	var replicas []http.RoundTripper
	for range 2 {
		opt, _ := redis.ParseURL(url)
		c := redis.NewClient(opt)
		t.Cleanup(func() { c.Close() })
		replicas = append(replicas, cache.New(&next, cache.WithStore(&rediscache.Store{Client: c, Prefix: "test:" + t.Name() + ":"})))
	}
	for i, acct := range []string{"a", "a", "b", "b"} {
		if got := get(t, replicas[i%2], acct); got != "for "+acct {
			t.Fatalf("account %s got %q", acct, got)
		}
	}
	if n := next.calls.Load(); n != 2 {
		t.Errorf("next called %d times, want 2", n)
	}
}

// A Redis that is down degrades to no caching.
func TestRedisDownDegrades(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: time.Second})
	t.Cleanup(func() { c.Close() })
	var errs atomic.Int64
	var next stub
	rt := cache.New(&next, cache.WithStore(rediscache.New(c)), cache.WithErrorHandler(func(error) { errs.Add(1) }))
	for range 2 {
		if got := get(t, rt, "a"); got != "for a" {
			t.Fatalf("got %q", got)
		}
	}
	if next.calls.Load() != 2 || errs.Load() == 0 {
		t.Errorf("calls %d, store errors %d", next.calls.Load(), errs.Load())
	}
}
