//go:build unix

package rediscache_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/cache/rediscache"
)

// deadlineStub is an upstream that notes whether the caller's context
// had ended when it was called.
type deadlineStub struct{ calls, late atomic.Int64 }

func (s *deadlineStub) RoundTrip(r *http.Request) (*http.Response, error) {
	s.calls.Add(1)
	if r.Context().Err() != nil {
		s.late.Add(1)
	}
	rec := httptest.NewRecorder()
	rec.Header().Set("Cache-Control", "max-age=3600")
	io.WriteString(rec, "from upstream")
	return rec.Result(), nil
}

// The caller's deadline bounds a cached call whatever go-redis options the
// user chose, here go-redis's defaults (5 dial retries, 3s ReadTimeout,
// context deadlines ignored by socket reads), when Redis is killed or
// frozen: the cache misses and the upstream serves the call in time.
//
// Promptness is asserted without timing: each call gets a 1s deadline,
// and the test checks that the upstream was called and the body read to
// its end (httpcache stores then) before that deadline passed. The Store's
// OpTimeout is 100ms (Get and Set: 200ms), leaving 800ms of slack for a
// loaded machine. Before the per-operation budget a frozen Redis held the
// Get for go-redis's 3s ReadTimeout.
func TestDeadlineBoundsCacheWhenRedisFails(t *testing.T) {
	t.Parallel()
	for _, c := range redistest.Failures {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			srv := redistest.Start(t)
			client := srv.Client(t) // go-redis defaults
			var storeErrs atomic.Int64
			var next deadlineStub
			rt := cache.New(&next,
				cache.WithStore(&rediscache.Store{Client: client, Prefix: "test:" + t.Name() + ":", OpTimeout: 100 * time.Millisecond}),
				cache.WithErrorHandler(func(error) { storeErrs.Add(1) }))
			c.Break(srv)
			for i := range 3 {
				ctx, cancel := context.WithTimeout(composiohttp.WithConnectedAccount(context.Background(), "ca_1"), time.Second)
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.example.com/x", nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					cancel()
					t.Fatalf("call %d: %v", i, err)
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				late := ctx.Err()
				cancel()
				if err != nil || string(b) != "from upstream" {
					t.Fatalf("call %d: body %q, %v", i, b, err)
				}
				if late != nil {
					t.Fatalf("call %d: done after the caller's 1s deadline", i)
				}
			}
			if next.calls.Load() != 3 || next.late.Load() != 0 || storeErrs.Load() == 0 {
				t.Errorf("upstream calls %d (%d after the deadline), store errors %d; want 3, 0, some",
					next.calls.Load(), next.late.Load(), storeErrs.Load())
			}
		})
	}
}

// Each Store method returns within its budget when Redis is frozen, even
// with a context that has no deadline (Set and Delete run detached from
// the caller's context).
func TestStoreBudgetWithoutDeadline(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	s := &rediscache.Store{Client: client, Prefix: "test:" + t.Name() + ":", OpTimeout: 100 * time.Millisecond}
	if err := s.Set(context.Background(), "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	srv.Freeze()
	// A guard deadline far beyond the budget: the methods must end long
	// before it (go-redis's defaults alone would take 3s and more).
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	noDeadline := context.WithoutCancel(ctx)
	if _, _, err := s.Get(noDeadline, "k"); err == nil {
		t.Error("Get: no error from a frozen Redis")
	}
	if err := s.Set(noDeadline, "k", []byte("v")); err == nil {
		t.Error("Set: no error from a frozen Redis")
	}
	if err := s.Delete(noDeadline, "k"); err == nil {
		t.Error("Delete: no error from a frozen Redis")
	}
	if ctx.Err() != nil {
		t.Error("the three calls took more than 2s, with a budget of 100ms each")
	}
}
