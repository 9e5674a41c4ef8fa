// Package redislimit is a ratelimit.Limiter shared by many replicas
// through Redis: a GCRA rate limit per key (github.com/go-redis/redis_rate/v10
// on github.com/redis/go-redis/v9), so that all replicas together stay
// within the limit. It is a package of its own so that importing
// ratelimit does not compile go-redis.
//
// Each call costs two Redis round trips: one to read the key's adaptive
// pause (ratelimit.Pauser), one to run the GCRA script. Time is Redis's
// clock, so replicas' clocks need not agree.
//
// Keys need no bound of the Limiter's own: Redis expires a key's GCRA
// state when its bucket is full again and its pause key when the pause
// ends, so only busy keys take memory, and none is evicted while busy.
// Run the Redis with maxmemory-policy noeviction (the default): under an
// allkeys-* or volatile-* policy, memory pressure may evict a busy key's
// state, and it would come back with a fresh burst and no pause.
//
// The caller's deadline bounds every call whatever options the Redis
// client has: each Allow or Pause gets a budget, Limiter.OpTimeout (default
// DefaultOpTimeout) and at most half the time left before the context's
// deadline, and returns when the budget ends even if go-redis does not (a
// client without ContextTimeoutEnabled reads for its full ReadTimeout; dial
// retries can outlast any deadline). With FailOpen, a call whose Redis
// operation failed or ran out of budget then proceeds with time to spare.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp/middleware/ratelimit"

	"github.com/composiohttp/composiohttp/internal/bounded"
	"github.com/composiohttp/composiohttp/internal/ctxsleep"
)

// DefaultPrefix starts every Redis key the Limiter uses.
const DefaultPrefix = "composiohttp:ratelimit:"

// DefaultOpTimeout is the longest one Allow or Pause waits for Redis when
// Limiter.OpTimeout is 0.
const DefaultOpTimeout = 500 * time.Millisecond

// Limiter is a ratelimit.Limiter and ratelimit.Pauser keeping its state
// in Redis. Set the fields before first use and do not change them after;
// it is safe for concurrent use.
type Limiter struct {
	// Client is the Redis client (a *redis.Client, *redis.ClusterClient
	// or *redis.Ring). Required.
	Client redis.UniversalClient
	// Limit is the rate and burst per key, e.g. redis_rate.PerSecond(10).
	// Required.
	Limit redis_rate.Limit
	// Prefix starts the Redis keys. Default: DefaultPrefix. (redis_rate
	// adds "rate:" before it for the GCRA keys.)
	Prefix string
	// FailOpen lets calls through when Redis fails or does not answer
	// within the operation's budget, unless the call's context has ended.
	// Default: the call fails with the Redis error.
	FailOpen bool
	// OpTimeout bounds each Allow and Pause (both Redis round trips of an
	// Allow together). The budget is also at most half the time left
	// before the context's deadline. Default: DefaultOpTimeout.
	OpTimeout time.Duration
	// Now replaces time.Now, for deadline checks. Tests set it.
	Now func() time.Time
	// Sleep replaces the wait (default: a timer that stops when ctx
	// ends). It must return ctx's error if ctx ends first. Tests set it.
	Sleep func(ctx context.Context, d time.Duration) error

	once sync.Once
	rl   *redis_rate.Limiter
}

// New returns a Limiter allowing each key limit through client.
func New(client redis.UniversalClient, limit redis_rate.Limit) *Limiter {
	return &Limiter{Client: client, Limit: limit}
}

// ErrConfig is returned by a Limiter without Client or Limit.
var ErrConfig = errors.New("redislimit: Limiter needs a Client and a non-zero Limit")

// Allow takes a token for key if a call may proceed now and returns 0;
// else it returns how long until one may, taking nothing.
func (l *Limiter) Allow(ctx context.Context, key string) (time.Duration, error) {
	if l.Client == nil || l.Limit.Burst <= 0 || l.Limit.Rate <= 0 || l.Limit.Period <= 0 {
		return 0, ErrConfig
	}
	l.once.Do(func() { l.rl = redis_rate.NewLimiter(l.Client) })
	d, err := bounded.Do(ctx, bounded.Budget(ctx, l.opTimeout()), func(ctx context.Context) (time.Duration, error) {
		return l.allow(ctx, key)
	})
	if err != nil && !strings.HasPrefix(err.Error(), "redislimit: ") {
		err = fmt.Errorf("redislimit: key %q: %w", key, err)
	}
	return d, err
}

func (l *Limiter) allow(ctx context.Context, key string) (time.Duration, error) {
	pttl, err := l.Client.PTTL(ctx, l.pauseKey(key)).Result()
	if err != nil {
		return 0, fmt.Errorf("redislimit: reading pause of key %q: %w", key, err)
	}
	if pttl > 0 {
		return pttl, nil
	}
	res, err := l.rl.Allow(ctx, l.prefix()+key, l.Limit)
	if err != nil {
		return 0, fmt.Errorf("redislimit: key %q: %w", key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	if res.RetryAfter <= 0 { // not expected from GCRA; never spin
		return time.Millisecond, nil
	}
	return res.RetryAfter, nil
}

// Wait implements ratelimit.Limiter: it calls Allow until it allows,
// sleeping the time Allow asks for, and fails at once with a
// *ratelimit.LimitError when that time would outlast ctx's deadline.
func (l *Limiter) Wait(ctx context.Context, key string) error {
	for {
		// An ended context fails even with FailOpen, before Redis is asked.
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("redislimit: waiting for key %q: %w", key, err)
		}
		d, err := l.Allow(ctx, key)
		if err != nil {
			if ctx.Err() == nil && l.FailOpen && !errors.Is(err, ErrConfig) {
				return nil
			}
			return err
		}
		if d <= 0 {
			return nil
		}
		if ctxsleep.Outlasts(ctx, l.now(), d) {
			return &ratelimit.LimitError{Key: key, Wait: d}
		}
		if err := ctxsleep.Or(l.Sleep)(ctx, d); err != nil {
			return fmt.Errorf("redislimit: waiting for key %q: %w", key, err)
		}
	}
}

// Pause implements ratelimit.Pauser: calls for key, on every replica,
// wait until d from now, or longer if an earlier Pause asked for longer
// (as with ratelimit.Local).
func (l *Limiter) Pause(ctx context.Context, key string, d time.Duration) error {
	if l.Client == nil {
		return ErrConfig
	}
	if d < time.Millisecond {
		return nil
	}
	_, err := bounded.Do(ctx, bounded.Budget(ctx, l.opTimeout()), func(ctx context.Context) (struct{}, error) {
		return struct{}{}, pauseScript.Run(ctx, l.Client, []string{l.pauseKey(key)}, d.Milliseconds()).Err()
	})
	if err != nil {
		return fmt.Errorf("redislimit: pausing key %q: %w", key, err)
	}
	return nil
}

// pauseScript makes KEYS[1] expire in ARGV[1] milliseconds, unless it
// already expires later: atomically, so that concurrent pauses keep the
// longest.
var pauseScript = redis.NewScript(`
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
end
return 1
`)

func (l *Limiter) prefix() string {
	if l.Prefix == "" {
		return DefaultPrefix
	}
	return l.Prefix
}

func (l *Limiter) pauseKey(key string) string { return l.prefix() + "pause:" + key }

func (l *Limiter) opTimeout() time.Duration {
	if l.OpTimeout > 0 {
		return l.OpTimeout
	}
	return DefaultOpTimeout
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}
