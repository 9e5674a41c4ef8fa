// Package rediscache is a Redis store for package cache, built on
// github.com/redis/go-redis/v9, so that many replicas share one HTTP cache.
// It lives in its own package so that importing cache does not compile
// go-redis.
//
// A cache must fail fast when Redis is unreachable, since every call then
// degrades to an uncached one. Each Store operation therefore gets a
// budget, Store.OpTimeout (default DefaultOpTimeout) and at most half the
// time left before the context's deadline, and returns an error when the
// budget ends even if go-redis has not (a client without
// ContextTimeoutEnabled reads for its full ReadTimeout, 3s by default;
// dial retries, 5 times 100ms apart by default, can outlast any deadline).
// The caller's deadline so bounds a cached call whatever options the
// client has. redis.Options{DialerRetries: 1, MaxRetries: -1,
// ContextTimeoutEnabled: true} with short timeouts also keeps abandoned
// operations from holding the client's connections.
package rediscache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/composiohttp/composiohttp/internal/bounded"
)

// Defaults.
const (
	// DefaultPrefix is prepended to every key when Store.Prefix is empty.
	DefaultPrefix = "composiohttp:cache:"
	// DefaultTTL bounds how long an entry lives when Store.TTL is 0.
	// Entries usually stop being fresh much earlier; a stale entry is still
	// useful for revalidation (ETag, Last-Modified).
	DefaultTTL = 24 * time.Hour
	// DefaultOpTimeout bounds each Store operation when Store.OpTimeout
	// is 0.
	DefaultOpTimeout = 500 * time.Millisecond
)

// Store is a cache.Store kept in Redis. Keys are "<Prefix><digest>";
// values are httpcache's serialized responses. Its methods return Redis
// errors, which the cache middleware turns into misses. Each method
// returns within its budget (OpTimeout, and half the time left before the
// context's deadline), whatever the client's own timeouts. A Store is safe for concurrent use; do not change its fields
// after first use.
type Store struct {
	// Client is the Redis connection (a *redis.Client, *redis.ClusterClient
	// or *redis.Ring). Required.
	Client redis.UniversalClient
	// Prefix namespaces the keys. Default: DefaultPrefix.
	Prefix string
	// TTL is each entry's expiry. Default: DefaultTTL; negative: no expiry.
	TTL time.Duration
	// OpTimeout bounds each Get, Set and Delete; the budget is also at
	// most half the time left before the context's deadline. Default:
	// DefaultOpTimeout.
	OpTimeout time.Duration
}

// New returns a Store using client with the default prefix and TTL.
func New(client redis.UniversalClient) *Store { return &Store{Client: client} }

// ErrNoClient is returned by every method of a Store without a Client.
var ErrNoClient = errors.New("rediscache: Store.Client is nil")

func (s *Store) key(k string) string {
	if s.Prefix == "" {
		return DefaultPrefix + k
	}
	return s.Prefix + k
}

// Get returns the value stored under key.
func (s *Store) Get(ctx context.Context, key string) ([]byte, bool, error) {
	if s.Client == nil {
		return nil, false, ErrNoClient
	}
	b, err := do(ctx, s, func(ctx context.Context) ([]byte, error) { return s.Client.Get(ctx, s.key(key)).Bytes() })
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case err != nil:
		return nil, false, err
	}
	return b, true, nil
}

// Set stores value under key with the Store's TTL.
func (s *Store) Set(ctx context.Context, key string, value []byte) error {
	if s.Client == nil {
		return ErrNoClient
	}
	ttl := s.TTL
	switch {
	case ttl == 0:
		ttl = DefaultTTL
	case ttl < 0:
		ttl = 0 // go-redis: no expiry
	}
	_, err := do(ctx, s, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.Client.Set(ctx, s.key(key), value, ttl).Err()
	})
	return err
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if s.Client == nil {
		return ErrNoClient
	}
	_, err := do(ctx, s, func(ctx context.Context) (struct{}, error) { return struct{}{}, s.Client.Del(ctx, s.key(key)).Err() })
	return err
}

// do runs op within s's budget under ctx.
func do[T any](ctx context.Context, s *Store, op func(context.Context) (T, error)) (T, error) {
	max := s.OpTimeout
	if max <= 0 {
		max = DefaultOpTimeout
	}
	v, err := bounded.Do(ctx, bounded.Budget(ctx, max), op)
	if err != nil && !errors.Is(err, redis.Nil) {
		err = fmt.Errorf("rediscache: %w", err)
	}
	return v, err
}
