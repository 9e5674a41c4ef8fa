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

// DefaultMaxKeys bounds the number of keys a Local tracks.
const DefaultMaxKeys = 10000

// Local is a Limiter and Pauser keeping one token bucket
// (golang.org/x/time/rate) per key in process. The least recently used
// key is evicted beyond MaxKeys; a key idle long enough for its bucket to
// refill loses nothing by it.
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
	// MaxKeys bounds the keys tracked. Default: DefaultMaxKeys.
	MaxKeys int
	// Now replaces time.Now. Tests set it, or run in a testing/synctest
	// bubble where time.Now is the bubble's clock (a test of a whole
	// chain: see package testutil, "Tests that never wait").
	Now func() time.Time
	// Sleep replaces the wait (default: a timer that stops when ctx
	// ends). It must return ctx's error if ctx ends first. Tests set it
	// together with Now, or use a synctest bubble.
	Sleep func(ctx context.Context, d time.Duration) error

	mu   sync.Mutex
	keys map[string]*list.Element // of *bucket
	lru  list.List                // front: most recently used
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
	b := l.bucket(key)
	until := b.pausedUntil
	l.mu.Unlock()

	if d := until.Sub(now); d > 0 {
		if err := l.sleep(ctx, key, now, d); err != nil {
			return err
		}
		now = l.now()
	}
	if b.lim.AllowN(now, 1) {
		return nil
	}
	r := b.lim.ReserveN(now, 1)
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
	b := l.bucket(key)
	until := b.pausedUntil
	l.mu.Unlock()
	if d := until.Sub(now); d > 0 {
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
	until := l.now().Add(d)
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bucket(key); until.After(b.pausedUntil) {
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

// sleep waits d for key unless ctx's deadline comes first.
func (l *Local) sleep(ctx context.Context, key string, now time.Time, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && now.Add(d).After(dl) {
		return &LimitError{Key: key, Wait: d}
	}
	sleep := l.Sleep
	if sleep == nil {
		sleep = ctxsleep.Sleep
	}
	if err := sleep(ctx, d); err != nil {
		return fmt.Errorf("ratelimit: waiting for key %q: %w", key, err)
	}
	return nil
}

// bucket returns key's bucket, creating it and evicting the least
// recently used one if needed. l.mu must be held.
func (l *Local) bucket(key string) *bucket {
	if e, ok := l.keys[key]; ok {
		l.lru.MoveToFront(e)
		return e.Value.(*bucket)
	}
	if l.keys == nil {
		l.keys = make(map[string]*list.Element)
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.Limit, l.Burst)}
	l.keys[key] = l.lru.PushFront(b)
	max := l.MaxKeys
	if max <= 0 {
		max = DefaultMaxKeys
	}
	for len(l.keys) > max {
		e := l.lru.Back()
		delete(l.keys, e.Value.(*bucket).key)
		l.lru.Remove(e)
	}
	return b
}

func (l *Local) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
