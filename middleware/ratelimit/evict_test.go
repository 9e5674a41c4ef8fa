package ratelimit

import (
	"context"
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// fill adds n idle keys: each takes one token, then the clock moves on
// until every filler's bucket is full again.
func fill(l *Local, c *clock, n int, refill time.Duration) {
	for i := range n {
		l.Allow(fmt.Sprintf("filler-%d", i))
	}
	c.advance(refill)
}

// More than MaxKeys keys (the default, 10,000) never evict a busy key: not
// one that is paused, nor one that spent tokens within its refill window.
func TestLocalNeverEvictsBusyKeys(t *testing.T) {
	t.Parallel()
	t.Run("paused key keeps its pause", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		l := newTestLocal(c, 10, 1) // refills in 100ms
		l.Pause(context.Background(), "busy", 30*time.Second)
		fill(l, c, DefaultMaxKeys, time.Second)
		l.Allow("new") // one key too many: something must go, not "busy"
		if n := l.Len(); n != DefaultMaxKeys {
			t.Errorf("Len = %d, want %d: idle fillers evicted", n, DefaultMaxKeys)
		}
		ok, wait := l.Allow("busy")
		if ok || wait != 29*time.Second {
			t.Errorf("paused key: Allow = %v, %v; want false, 29s (its pause was evicted)", ok, wait)
		}
	})
	t.Run("key with spent tokens keeps its bucket", func(t *testing.T) {
		t.Parallel()
		c := newClock()
		l := newTestLocal(c, rate.Every(time.Minute), 5) // a full bucket in 5 minutes
		for range 5 {
			if ok, _ := l.Allow("busy"); !ok {
				t.Fatal("burst refused")
			}
		}
		fill(l, c, DefaultMaxKeys, 2*time.Minute) // fillers full again; busy has 2 tokens
		l.Allow("new")
		allowed := 0
		for range 5 {
			if ok, _ := l.Allow("busy"); ok {
				allowed++
			}
		}
		if allowed != 2 {
			t.Errorf("busy key: %d calls allowed, want the 2 tokens it earned back (a fresh burst is 5)", allowed)
		}
	})
}

func TestLocalEviction(t *testing.T) {
	t.Parallel()
	type step func(l *Local, c *clock) error
	allow := func(key string, want bool) step {
		return func(l *Local, _ *clock) error {
			if ok, wait := l.Allow(key); ok != want {
				return fmt.Errorf("Allow(%q) = %v, %v; want %v", key, ok, wait, want)
			}
			return nil
		}
	}
	pause := func(key string, d time.Duration) step {
		return func(l *Local, _ *clock) error { return l.Pause(context.Background(), key, d) }
	}
	advance := func(d time.Duration) step {
		return func(_ *Local, c *clock) error { c.advance(d); return nil }
	}
	tests := []struct {
		name    string
		limit   rate.Limit
		burst   int
		maxKeys int
		steps   []step
		want    LocalStats // MaxKeys is filled in
	}{
		{
			name: "a paused key at the LRU end does not block evicting an idle one", limit: 1, burst: 1, maxKeys: 2,
			steps: []step{pause("p", time.Minute), allow("idle", true), advance(time.Second), allow("new", true),
				allow("p", false), allow("new", false)},
			want: LocalStats{Keys: 2, PeakKeys: 2, Evictions: 1},
		},
		{
			name: "all busy: tracked beyond MaxKeys, then back within it once idle", limit: 1, burst: 1, maxKeys: 1,
			steps: []step{allow("a", true), allow("b", true), allow("c", true), allow("a", false), allow("b", false),
				advance(time.Second), allow("d", true)},
			want: LocalStats{Keys: 1, PeakKeys: 3, Evictions: 3, Overflows: 2},
		},
		{
			name: "no limit: every unpaused key is idle", limit: rate.Inf, burst: 0, maxKeys: 1,
			steps: []step{allow("a", true), allow("b", true), allow("a", true)},
			want:  LocalStats{Keys: 1, PeakKeys: 1, Evictions: 2},
		},
		{
			name: "no refill: a key that spent a token is never idle", limit: 0, burst: 1, maxKeys: 1,
			steps: []step{allow("a", true), advance(time.Hour), allow("b", true), allow("a", false)},
			want:  LocalStats{Keys: 2, PeakKeys: 2, Overflows: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			l := newTestLocal(c, tc.limit, tc.burst)
			l.MaxKeys = tc.maxKeys
			for i, s := range tc.steps {
				if err := s(l, c); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
			}
			tc.want.MaxKeys = tc.maxKeys
			if got := l.Stats(); got != tc.want {
				t.Errorf("Stats = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A call waiting for its token holds a reservation: its key is busy and
// stays while other keys come and go.
func TestLocalWaiterKeepsItsKey(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := &Local{Limit: 1, Burst: 1, MaxKeys: 1, Now: c.now}
	l.Sleep = func(ctx context.Context, d time.Duration) error {
		l.Allow("other") // during the wait: must not evict "a"
		c.advance(d)
		return nil
	}
	l.Allow("a")
	if err := l.Wait(context.Background(), "a"); err != nil {
		t.Fatal(err)
	}
	// The waiter took the token it reserved; a fresh bucket would have one.
	if ok, wait := l.Allow("a"); ok || wait != time.Second {
		t.Errorf("Allow(a) after the wait = %v, %v; want false, 1s", ok, wait)
	}
	if s := l.Stats(); s.Overflows != 1 {
		t.Errorf("Stats = %+v, want 1 overflow (\"other\" added while \"a\" waited)", s)
	}
}
