//go:build unix

package redisbreaker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/composiohttp/composiohttp/internal/redistest"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/breaker/redisbreaker"
)

// A Group keyed by tenant sees many keys: more distinct keys than
// Settings.MaxKeys (default breaker.DefaultMaxKeys, as for breaker.Local)
// keep the breakers it holds in process, and its store's per-key lock
// entries, within the bound. Before the fix both grew by one a key.
func TestManyKeysKeptWithinBound(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	for _, c := range []struct {
		maxKeys, bound, keys int
	}{
		{0, breaker.DefaultMaxKeys, breaker.DefaultMaxKeys + 2000},
		{100, 100, 1000},
	} {
		t.Run(fmt.Sprintf("MaxKeys=%d", c.maxKeys), func(t *testing.T) {
			g := &redisbreaker.Group{Client: client, Prefix: "test:" + t.Name() + ":", FailClosed: true,
				Settings: breaker.Settings{MaxKeys: c.maxKeys}}
			const workers = 8
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				errs []error
				peak int
			)
			for w := range workers {
				wg.Go(func() {
					for i := w; i < c.keys; i += workers {
						done, err := g.Allow(context.Background(), fmt.Sprintf("account:ca_%d", i))
						if err != nil {
							mu.Lock()
							errs = append(errs, err)
							mu.Unlock()
							return
						}
						done(breaker.Success)
						if n, _ := redisbreaker.Kept(g, ""); n > c.bound {
							mu.Lock()
							peak = max(peak, n)
							mu.Unlock()
						}
					}
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if peak > 0 {
				t.Errorf("%d breakers kept at the peak, bound %d", peak, c.bound)
			}
			if n, _ := redisbreaker.Kept(g, ""); n != c.bound {
				t.Errorf("%d breakers kept after %d keys, want %d (the bound)", n, c.keys, c.bound)
			}
			if n := redisbreaker.Locks(g); n != 0 {
				t.Errorf("%d lock entries kept with no lock held, want 0", n)
			}
		})
	}
}

// A breaker dropped from the process loses nothing: its state is in
// Redis. A key opened, then evicted by other keys, is still open when used
// again (same RetryAt); one evicted while its call is in flight still
// counts that call's outcome; and a replica that keeps the key sees what
// the evicting replica recorded.
func TestEvictedKeyKeepsSharedState(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	client := srv.Client(t)
	bg := context.Background()
	settings := breaker.Settings{MaxKeys: 2, ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 3 }}
	prefix := "test:" + t.Name() + ":"
	g := &redisbreaker.Group{Client: client, Prefix: prefix, FailClosed: true, Settings: settings}
	peer := &redisbreaker.Group{Client: client, Prefix: prefix, FailClosed: true, Settings: settings}

	allow := func(g *redisbreaker.Group, key string) func(breaker.Outcome) {
		t.Helper()
		done, err := g.Allow(bg, key)
		if err != nil {
			t.Fatalf("Allow(%q): %v", key, err)
		}
		return done
	}
	evict := func(key string) {
		t.Helper()
		for i := range 3 {
			allow(g, fmt.Sprintf("filler-%s-%d", key, i))(breaker.Success)
		}
		if n, kept := redisbreaker.Kept(g, key); kept || n > 2 {
			t.Fatalf("after 3 other keys: %q kept %v, %d breakers kept; want evicted, at most 2", key, kept, n)
		}
	}

	// Two failures recorded, then the breaker for "a" is evicted while a
	// third call is in flight; its failure, recorded after the eviction,
	// still counts and opens the breaker.
	allow(g, "a")(breaker.Failure)
	allow(g, "a")(breaker.Failure)
	inFlight := allow(g, "a")
	evict("a")
	inFlight(breaker.Failure)
	if st, err := peer.State("a"); err != nil || st != breaker.StateOpen {
		t.Fatalf("peer sees %v, %v after 3 failures; want open", st, err)
	}
	_, err := peer.Allow(bg, "a")
	var first *breaker.OpenError
	if !errors.As(err, &first) || first.State != breaker.StateOpen || first.RetryAt.IsZero() {
		t.Fatalf("peer: %v, want open with a RetryAt", err)
	}

	// Evicted again, and used again: still open, until the same time.
	evict("a")
	_, err = g.Allow(bg, "a")
	var again *breaker.OpenError
	if !errors.As(err, &again) || again.State != breaker.StateOpen || !again.RetryAt.Equal(first.RetryAt) {
		t.Fatalf("a used again after eviction: %v, want open until %v", err, first.RetryAt)
	}
	if st, err := g.State("a"); err != nil || st != breaker.StateOpen {
		t.Errorf("State(a) after eviction: %v, %v; want open", st, err)
	}
	if n := redisbreaker.Locks(g); n != 0 {
		t.Errorf("%d lock entries kept with no lock held, want 0", n)
	}
}
