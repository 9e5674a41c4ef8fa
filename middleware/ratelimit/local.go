package ratelimit

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/composiohttp/composiohttp/internal/ctxsleep"
)

// DefaultMaxKeys is the number of keys a Local tracks before it evicts
// idle ones.
const DefaultMaxKeys = 10000

// evictScan bounds how many keys, from the least recently used, a new key
// beyond MaxKeys looks at to find an idle one to evict.
const evictScan = 16

// Local is a Limiter and Pauser keeping one token bucket
// (golang.org/x/time/rate) per key in process.
//
// # Bounded keys
//
// Beyond MaxKeys keys, a new key evicts the least recently used idle key:
// one that is not paused and whose bucket is full (it spent no token it
// has not earned back), so that it loses nothing by being forgotten and
// starts again exactly where it was. A busy key (paused, or with tokens
// spent within its refill window, burst/limit) is never evicted: it would
// come back with a fresh burst and without its pause, and call inside the
// Retry-After it was given.
//
// When no idle key is found among the evictScan (16) least recently used,
// the new key is tracked anyway: the Local exceeds MaxKeys, and counts it
// in LocalStats.Overflows (see Stats). It does not refuse the call: a
// refusal would fail a tenant that did nothing wrong because others are
// busy, and forgetting state would let a busy tenant exceed its rate.
// The excess is bounded by the traffic itself: a key stays busy at most
// burst/limit seconds after its last call (or until its pause, at most
// WithMaxPause, ends), so more than MaxKeys busy keys take more than
// MaxKeys distinct calls within that window. Later new keys evict the
// keys that have become idle, up to evictScan each, until the Local is
// back within MaxKeys.
//
// Set the fields before first use and do not change them after. A Local
// is safe for concurrent use. Its zero value refuses every call (Burst
// 0); use NewLocal or set Limit and Burst.
type Local struct {
	// Limit is the rate of calls per key, in calls per second
	// (rate.Every(d) for one call per d; rate.Inf for no limit).
	Limit rate.Limit
	// Burst is the number of calls a key may make at once.
	Burst int
	// MaxKeys is the number of keys tracked before idle keys are evicted
	// (see "Bounded keys"). Default: DefaultMaxKeys.
	MaxKeys int
	// Now replaces time.Now. Tests set it, or run in a testing/synctest
	// bubble where time.Now is the bubble's clock (a test of a whole
	// chain: see package testutil, "Tests that never wait").
	Now func() time.Time
	// Sleep replaces the wait (default: a timer that stops when ctx
	// ends). It must return ctx's error if ctx ends first. Tests set it
	// together with Now, or use a synctest bubble.
	Sleep func(ctx context.Context, d time.Duration) error

	mu    sync.Mutex
	keys  map[string]*list.Element // of *bucket
	lru   list.List                // front: most recently used
	stats LocalStats               // but Keys and MaxKeys
}

// LocalStats says how many keys a Local tracks and how its bound on them
// held, e.g. for a metric. See Local, "Bounded keys".
type LocalStats struct {
	// Keys is the number of keys tracked now.
	Keys int
	// MaxKeys is the bound in effect: Local.MaxKeys or DefaultMaxKeys.
	MaxKeys int
	// PeakKeys is the most keys tracked at once so far.
	PeakKeys int
	// Evictions counts idle keys evicted to make room for new ones.
	Evictions uint64
	// Overflows counts new keys tracked beyond MaxKeys because every key
	// looked at for eviction was busy. Nonzero means the Local held
	// more than MaxKeys keys at some point rather than forget a busy
	// key's state.
	Overflows uint64
}

type bucket struct {
	key         string
	lim         *rate.Limiter
	pausedUntil time.Time
}

// NewLocal returns a Local allowing each key limit calls per second
// with bursts of burst calls.
func NewLocal(limit rate.Limit, burst int) *Local {
	return &Local{Limit: limit, Burst: burst}
}

// ErrNoBurst is returned by a Local whose Burst is 0 (and Limit not
// rate.Inf): it can never allow a call.
var ErrNoBurst = errors.New("ratelimit: Local with Burst 0 allows no call")

// Wait implements Limiter.
func (l *Local) Wait(ctx context.Context, key string) error {
	now := l.now()
	l.mu.Lock()
	b := l.bucket(key, now)
	if d := b.pausedUntil.Sub(now); d > 0 {
		l.mu.Unlock()
		if err := l.sleep(ctx, key, now, d); err != nil {
			return err
		}
		// Paused, the bucket was not evicted; it may be now, idle: look
		// it up again.
		now = l.now()
		l.mu.Lock()
		b = l.bucket(key, now)
	}
	// The token is taken under l.mu, so that no key is evicted between
	// its lookup and its spending a token.
	if b.lim.AllowN(now, 1) {
		l.mu.Unlock()
		return nil
	}
	r := b.lim.ReserveN(now, 1) // a reservation keeps the bucket busy
	l.mu.Unlock()
	if !r.OK() {
		return ErrNoBurst
	}
	d := r.DelayFrom(now)
	if err := l.sleep(ctx, key, now, d); err != nil {
		r.CancelAt(l.now())
		return err
	}
	return nil
}

// Allow reports whether a call for key may proceed now, taking its token
// if so; else it returns how long until one may (an estimate when other
// calls compete), taking nothing.
func (l *Local) Allow(key string) (ok bool, wait time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if d := b.pausedUntil.Sub(now); d > 0 {
		return false, d
	}
	if b.lim.AllowN(now, 1) {
		return true, 0
	}
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, rate.InfDuration
	}
	wait = r.DelayFrom(now)
	r.CancelAt(now)
	return false, wait
}

// Pause implements Pauser: calls for key wait until d from now (or
// longer, if already paused longer).
func (l *Local) Pause(_ context.Context, key string, d time.Duration) error {
	now := l.now()
	until := now.Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bucket(key, now); until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
	return nil
}

// Len returns the number of keys tracked.
func (l *Local) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

// Stats returns the number of keys tracked and how the MaxKeys bound held.
func (l *Local) Stats() LocalStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.stats
	s.Keys, s.MaxKeys = len(l.keys), l.maxKeys()
	return s
}

// sleep waits d for key unless ctx's deadline comes first.
func (l *Local) sleep(ctx context.Context, key string, now time.Time, d time.Duration) error {
	if ctxsleep.Outlasts(ctx, now, d) {
		return &LimitError{Key: key, Wait: d}
	}
	if err := ctxsleep.Or(l.Sleep)(ctx, d); err != nil {
		return fmt.Errorf("ratelimit: waiting for key %q: %w", key, err)
	}
	return nil
}

// bucket returns key's bucket, creating it if needed, and then evicting
// idle keys beyond MaxKeys (see "Bounded keys"). l.mu must be held.
func (l *Local) bucket(key string, now time.Time) *bucket {
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if l.keys == nil {
		l.keys = make(map[string]*list.Element)
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.Limit, l.Burst)}
	added := l.lru.PushFront(b)
	l.keys[key] = added
	if max := l.maxKeys(); len(l.keys) > max {
		l.evict(now, max, added)
	}
	l.stats.PeakKeys = max(l.stats.PeakKeys, len(l.keys))
	return b
}

// evict removes idle keys, least recently used first, until at most max
// remain, looking at no more than evictScan keys and never at added. A
// busy key looked at moves to the front, so that the next scan starts
// with others. l.mu must be held.
func (l *Local) evict(now time.Time, max int, added *list.Element) {
	for range evictScan {
		e := l.lru.Back()
		if len(l.keys) <= max || e == added {
			break
		}
		if b := e.Value.(*bucket); l.idle(b, now) {
			delete(l.keys, b.key)
			l.lru.Remove(e)
			l.stats.Evictions++
		} else {
			l.lru.MoveToFront(e)
		}
	}
	if len(l.keys) > max {
		l.stats.Overflows++
	}
}

// idle reports whether b may be forgotten at now without loss: not
// paused, and its bucket full, as a new one would be.
func (l *Local) idle(b *bucket, now time.Time) bool {
	if b.pausedUntil.After(now) {
		return false
	}
	// With no limit a bucket is always full (and TokensAt's arithmetic
	// is Inf×0 for no time elapsed).
	return l.Limit == rate.Inf || b.lim.TokensAt(now) >= float64(l.Burst)
}

func (l *Local) maxKeys() int {
	if l.MaxKeys > 0 {
		return l.MaxKeys
	}
	return DefaultMaxKeys
}

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
