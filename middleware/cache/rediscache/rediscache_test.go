package rediscache_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/redistest"
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
	return "redis://" + redistest.Start(t).Addr + "/0"
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

// With WithAuthorizedRequests and a response that varies on
// Authorization, the bytes in Redis hold no Authorization value (the
// cache stores a salted digest), and the digest is the same on every
// replica, so the second replica is answered from the store.
func TestAuthorizationNeverInRedis(t *testing.T) {
	t.Parallel()
	url := redisURL(t)
	const secret = "Bearer redis-secret-71d0"
	var calls atomic.Int64
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		rec := httptest.NewRecorder()
		rec.Header().Set("Cache-Control", "max-age=3600")
		rec.Header().Set("Vary", "Authorization")
		io.WriteString(rec, "ok")
		return rec.Result(), nil
	})
	prefix := "test:" + t.Name() + ":"
	var replicas []http.RoundTripper
	var c *redis.Client
	for range 2 {
		opt, _ := redis.ParseURL(url)
		replica := redis.NewClient(opt)
		t.Cleanup(func() { replica.Close() })
		c = replica
		replicas = append(replicas, cache.New(next, cache.WithAuthorizedRequests(),
			cache.WithStore(&rediscache.Store{Client: c, Prefix: prefix})))
	}
	for i, rt := range replicas {
		req, _ := http.NewRequestWithContext(composiohttp.WithConnectedAccount(context.Background(), "a"), http.MethodGet, "https://api.example.com/me", nil)
		req.Header.Set("Authorization", secret)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if hit := resp.Header.Get(cache.XFromCache) == "1"; hit != (i == 1) {
			t.Errorf("replica %d: hit %v", i, hit)
		}
		for k := range resp.Header {
			if strings.HasPrefix(k, "X-Varied-") {
				t.Errorf("replica %d: response carries %s", i, k)
			}
		}
	}
	ctx := context.Background()
	keys, err := c.Keys(ctx, prefix+"*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v, err %v", keys, err)
	}
	for _, k := range keys {
		v, err := c.Get(ctx, k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(v), "redis-secret") || strings.Contains(k, "redis-secret") {
			t.Errorf("Redis holds the Authorization value under %s", k)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("next called %d times, want 1", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
