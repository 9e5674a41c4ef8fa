package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp/middleware/breaker"
)

// trip opens key's breaker in l (ReadyToTrip: one failure) and asserts
// that it is open.
func trip(t *testing.T, l *breaker.Local, key string) {
	t.Helper()
	done, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: first call refused: %v", key, err)
	}
	done(breaker.Failure)
	if st := l.State(key); st != breaker.StateOpen {
		t.Fatalf("%s: state %v after a failure, want open", key, st)
	}
}

// succeed makes one successful call for key (its breaker closed).
func succeed(t *testing.T, l *breaker.Local, key string) {
	t.Helper()
	done, err := l.Allow(context.Background(), key)
	if err != nil {
		t.Fatalf("%s: refused: %v", key, err)
	}
	done(breaker.Success)
}

// use makes a call for key whatever its state: a refused call is a use
// too (it looked the breaker up).
func use(l *breaker.Local, key string) {
	if done, err := l.Allow(context.Background(), key); err == nil {
		done(breaker.Success)
	}
}

func oneFailure(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }

// TestLocalBoundedWhateverTheState: MaxKeys bounds the breakers a Local
// keeps even when all of them are open (many distinct failing hosts or
// accounts, which a hostile or broken upstream can cause). It kept every
// open breaker, so the map grew without bound: 100 open keys with
// MaxKeys 4 kept 100.
func TestLocalBoundedWhateverTheState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		maxKeys int
		keys    int
	}{
		{"4 of 100", 4, 100},
		{"1 of 10", 1, 10},
		{"10 of 1000", 10, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := breaker.NewLocal(breaker.Settings{MaxKeys: tt.maxKeys, ReadyToTrip: oneFailure})
			for i := range tt.keys {
				trip(t, l, fmt.Sprintf("host-%d", i))
				if n := l.Len(); n > tt.maxKeys {
					t.Fatalf("after %d open keys: %d breakers kept, want at most %d", i+1, n, tt.maxKeys)
				}
			}
			// The most recently used MaxKeys are the ones kept, open.
			for i := range tt.keys {
				key := fmt.Sprintf("host-%d", i)
				want := breaker.StateClosed // evicted: not kept
				if i >= tt.keys-tt.maxKeys {
					want = breaker.StateOpen
				}
				if st := l.State(key); st != want {
					t.Errorf("%s: %v, want %v", key, st, want)
				}
			}
		})
	}
}

// TestLocalEvictionOrder: the least recently used closed breaker goes
// first; only when none is closed does the least recently used open (or
// half-open) one go. A refused call counts as a use.
func TestLocalEvictionOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		maxKeys int
		steps   func(t *testing.T, l *breaker.Local)
		kept    []string // in any order
	}{
		{"closed go before open, oldest first", 3, func(t *testing.T, l *breaker.Local) {
			trip(t, l, "a") // oldest, open
			succeed(t, l, "b")
			succeed(t, l, "c")
			succeed(t, l, "d") // evicts b
			succeed(t, l, "e") // evicts c
			succeed(t, l, "f") // evicts d
		}, []string{"a", "e", "f"}},
		{"a closed breaker used again is kept", 3, func(t *testing.T, l *breaker.Local) {
			succeed(t, l, "a")
			succeed(t, l, "b")
			succeed(t, l, "c")
			succeed(t, l, "a") // b is now the least recently used
			succeed(t, l, "d") // evicts b
		}, []string{"a", "c", "d"}},
		{"all open: least recently used", 2, func(t *testing.T, l *breaker.Local) {
			trip(t, l, "a")
			trip(t, l, "b")
			use(l, "a") // refused, but used: b is older
			trip(t, l, "c")
		}, []string{"a", "c"}},
		{"all open, then a closed one: the closed one goes next", 2, func(t *testing.T, l *breaker.Local) {
			trip(t, l, "a")
			succeed(t, l, "b")
			trip(t, l, "c")    // evicts b, the only closed one
			succeed(t, l, "d") // none closed: evicts a, the oldest
			trip(t, l, "e")    // evicts d, closed, though c is older
		}, []string{"c", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := breaker.NewLocal(breaker.Settings{MaxKeys: tt.maxKeys, ReadyToTrip: oneFailure})
			tt.steps(t, l)
			if n := l.Len(); n != len(tt.kept) {
				t.Errorf("%d breakers kept, want %d", n, len(tt.kept))
			}
			for _, k := range tt.kept {
				if !l.Kept(k) {
					t.Errorf("%q not kept", k)
				}
			}
		})
	}
}

// TestLocalEvictedOpenBreakerStartsClosed: an open breaker that was
// evicted is forgotten: the next call for its key goes through, to a new,
// closed breaker. A call in flight when its breaker is evicted records its
// outcome on the old breaker, without error.
func TestLocalEvictedOpenBreakerStartsClosed(t *testing.T) {
	t.Parallel()
	l := breaker.NewLocal(breaker.Settings{MaxKeys: 1, ReadyToTrip: oneFailure})
	trip(t, l, "a")
	if _, err := l.Allow(context.Background(), "a"); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("open breaker let a call through: %v", err)
	}
	inFlight, err := l.Allow(context.Background(), "b") // evicts a
	if err != nil {
		t.Fatal(err)
	}
	if l.Kept("a") {
		t.Fatal("a kept beyond MaxKeys")
	}
	done, err := l.Allow(context.Background(), "a") // evicts b, in flight
	if err != nil {
		t.Fatalf("evicted open breaker: next call %v, want it let through by a new closed breaker", err)
	}
	done(breaker.Success)
	inFlight(breaker.Failure) // recorded on b's evicted breaker
	if l.Len() != 1 || l.State("a") != breaker.StateClosed || l.Kept("b") {
		t.Errorf("Len %d, a %v, b kept %v; want only a, closed", l.Len(), l.State("a"), l.Kept("b"))
	}
}

// TestLocalHalfOpenClosedIsEvictableAgain: a breaker that opened and then
// closed again (a successful probe) is a closed breaker for eviction: it
// goes before an open one used longer ago. The bubble's clock passes the
// timeout.
func TestLocalHalfOpenClosedIsEvictableAgain(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := breaker.NewLocal(breaker.Settings{MaxKeys: 2, Timeout: time.Second, ReadyToTrip: oneFailure})
		trip(t, l, "a")
		time.Sleep(time.Second / 2)
		trip(t, l, "b")
		time.Sleep(time.Second/2 + time.Millisecond) // a half-opens; b is still open
		succeed(t, l, "a")                           // the probe closes a
		if st := l.State("a"); st != breaker.StateClosed {
			t.Fatalf("a: %v after a successful probe, want closed", st)
		}
		trip(t, l, "c") // evicts a (closed), not b (open, used longer ago)
		if !l.Kept("b") || l.Kept("a") || !l.Kept("c") {
			t.Errorf("kept a %v, b %v, c %v; want b and c", l.Kept("a"), l.Kept("b"), l.Kept("c"))
		}
	})
}

// TestLocalBoundConcurrent: many goroutines on more keys than MaxKeys,
// failing and succeeding: the bound holds, and -race finds nothing.
func TestLocalBoundConcurrent(t *testing.T) {
	t.Parallel()
	const maxKeys = 8
	l := breaker.NewLocal(breaker.Settings{MaxKeys: maxKeys, ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 2 }})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				key := fmt.Sprintf("k%d", (g*31+i)%40)
				done, err := l.Allow(context.Background(), key)
				if err != nil {
					if !errors.Is(err, breaker.ErrOpen) {
						t.Errorf("%s: %v", key, err)
					}
					continue
				}
				if i%3 == 0 {
					done(breaker.Success)
				} else {
					done(breaker.Failure)
				}
				if n := l.Len(); n > maxKeys {
					t.Errorf("%d breakers kept, want at most %d", n, maxKeys)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n > maxKeys {
		t.Errorf("%d breakers kept, want at most %d", n, maxKeys)
	}
}

// TestLocalExpiredOpenDroppedFirst: open breakers of keys no longer used
// (their Timeout passed) are dropped before closed ones. Keeping them and
// dropping closed breakers instead let two live keys take turns in the one
// slot left, each dropping the other's counts: with MaxKeys 4 and three
// dead keys stuck open, a key failing every call was refused 0 times in
// 100 calls.
func TestLocalExpiredOpenDroppedFirst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := breaker.NewLocal(breaker.Settings{MaxKeys: 4, Timeout: time.Minute})
		for _, k := range []string{"dead-1", "dead-2", "dead-3"} {
			for range breaker.DefaultConsecutiveFailures {
				done, err := l.Allow(context.Background(), k)
				if err != nil {
					t.Fatalf("%s: refused while closed: %v", k, err)
				}
				done(breaker.Failure)
			}
		}
		time.Sleep(2 * time.Minute) // the dead keys' breakers would half-open now
		refused := 0
		for range 100 {
			if done, err := l.Allow(context.Background(), "failing"); err != nil {
				refused++
			} else {
				done(breaker.Failure)
			}
			succeed(t, l, "healthy")
		}
		if refused == 0 {
			t.Fatal("the failing key was never refused: its breaker kept being dropped")
		}
		for _, k := range []string{"failing", "healthy"} {
			if !l.Kept(k) {
				t.Errorf("%s: not kept", k)
			}
		}
	})
}

// TestLocalHalfOpenNotDroppedAsExpired: a half-open breaker's Timeout has
// passed too, but its key is live (a call half-opened it, and its probe
// may be in flight), so it is not dropped before closed ones as an
// expired open breaker is: dropping it lost the probe's failure, and the
// failing key's next call went through on a fresh closed breaker.
func TestLocalHalfOpenNotDroppedAsExpired(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := breaker.NewLocal(breaker.Settings{MaxKeys: 3, Timeout: time.Minute})
		for range breaker.DefaultConsecutiveFailures {
			done, err := l.Allow(context.Background(), "failing")
			if err != nil {
				t.Fatalf("refused while closed: %v", err)
			}
			done(breaker.Failure)
		}
		succeed(t, l, "a")
		succeed(t, l, "b")
		time.Sleep(2 * time.Minute)
		probe, err := l.Allow(context.Background(), "failing") // half-opens it
		if err != nil {
			t.Fatalf("probe refused: %v", err)
		}
		succeed(t, l, "c") // a new key: one breaker is dropped
		probe(breaker.Failure)
		if !l.Kept("failing") {
			t.Error("the half-open breaker was dropped, not the least recently used closed one")
		}
		if done, err := l.Allow(context.Background(), "failing"); err == nil {
			done(breaker.Failure)
			t.Error("the failing key was let through after its probe failed")
		}
	})
}
