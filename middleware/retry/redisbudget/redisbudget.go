// Package redisbudget shares a retry.Budget among replicas through Redis:
// every replica counts its calls and retries in one Redis hash, so that
// retries stay within the budget's share of all the replicas' calls. It is
// its own package so that importing retry does not compile go-redis.
//
//	budget := &retry.Budget{Store: &redisbudget.Store{Client: rdb}}
//	client := retry.New(transport, retry.WithBudget(budget))
//
// A Call is one Redis command, a Retry one Lua script. Bucket numbers come
// from the replicas' clocks, which must roughly agree.
package redisbudget

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp/internal/bounded"
	"github.com/composiohttp/composiohttp/middleware/retry"
)

// Defaults.
const (
	// DefaultKey names the shared budget in Redis.
	DefaultKey = "composiohttp:retrybudget"
	// DefaultOpTimeout bounds each Redis operation.
	DefaultOpTimeout = 200 * time.Millisecond
)

// Store is a retry.BudgetStore in Redis. Set the fields before first use
// and do not change them after; it is safe for concurrent use.
type Store struct {
	// Client is the Redis client. Required.
	Client redis.UniversalClient
	// Key names the budget; replicas sharing it use the same. Default
	// DefaultKey.
	Key string
	// OpTimeout bounds each operation, whatever the Client's options;
	// a retrier's operations are also bounded by the call's context, to
	// at most half the time left before its deadline. An operation still
	// running then is abandoned: a retry.Budget loses the call's count,
	// or lets the retry through. Default DefaultOpTimeout.
	OpTimeout time.Duration
}

// ErrNoClient is returned by a Store without a Client.
var ErrNoClient = errors.New("redisbudget: Store.Client is nil")

func (s *Store) key() string {
	if s.Key == "" {
		return DefaultKey
	}
	return s.Key
}

func (s *Store) opTimeout() time.Duration {
	if s.OpTimeout <= 0 {
		return DefaultOpTimeout
	}
	return s.OpTimeout
}

// One slot per bucket, i = n % nb: s<i> holds the bucket number, c<i>
// and r<i> its calls and retries. A slot whose number is stale is reset
// before use.
var script = redis.NewScript(`
local k, n, nb, op = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local ratio, minr = tonumber(ARGV[4]), tonumber(ARGV[5])
local i = n % nb
if tonumber(redis.call('HGET', k, 's' .. i)) ~= n then
  redis.call('HSET', k, 's' .. i, n, 'c' .. i, 0, 'r' .. i, 0)
end
redis.call('PEXPIRE', k, 86400000)
if op == 'call' then
  redis.call('HINCRBY', k, 'c' .. i, 1)
  return 1
end
local calls, retries = 0, 0
for j = 0, nb - 1 do
  local s = tonumber(redis.call('HGET', k, 's' .. j))
  if s and n - s < nb and n >= s then
    calls = calls + (tonumber(redis.call('HGET', k, 'c' .. j)) or 0)
    retries = retries + (tonumber(redis.call('HGET', k, 'r' .. j)) or 0)
  end
end
if retries + 1 > math.max(ratio * calls, minr) then return 0 end
redis.call('HINCRBY', k, 'r' .. i, 1)
return 1
`)

// run runs the script within OpTimeout and at most half the time left
// before ctx's deadline (bounded.Budget), returning when that ends or ctx
// is cancelled even if go-redis does not honour the context (no
// ContextTimeoutEnabled: a socket read waits for ReadTimeout, 3s by
// default).
func (s *Store) run(ctx context.Context, n int64, op string, ratio float64, minRetries int) (bool, error) {
	if s.Client == nil {
		return false, ErrNoClient
	}
	v, err := bounded.Do(ctx, bounded.Budget(ctx, s.opTimeout()), func(ctx context.Context) (int, error) {
		return script.Run(ctx, s.Client, []string{s.key()}, n, retry.BudgetBuckets, op,
			strconv.FormatFloat(ratio, 'g', -1, 64), minRetries).Int()
	})
	return v == 1, err
}

// Call implements retry.BudgetStore.
func (s *Store) Call(n int64) error { return s.CallContext(context.Background(), n) }

// Retry implements retry.BudgetStore.
func (s *Store) Retry(n int64, ratio float64, minRetries int) (bool, error) {
	return s.RetryContext(context.Background(), n, ratio, minRetries)
}

// CallContext implements retry.ContextBudgetStore: Call bounded by ctx
// too (at most half the time left before its deadline).
func (s *Store) CallContext(ctx context.Context, n int64) error {
	_, err := s.run(ctx, n, "call", 0, 0)
	return err
}

// RetryContext implements retry.ContextBudgetStore: Retry bounded by ctx
// too (at most half the time left before its deadline).
func (s *Store) RetryContext(ctx context.Context, n int64, ratio float64, minRetries int) (bool, error) {
	return s.run(ctx, n, "retry", ratio, minRetries)
}
