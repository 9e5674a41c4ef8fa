// Package rediscache is a Redis store for package cache, built on
// github.com/redis/go-redis/v9, so that many replicas share one HTTP cache.
// It lives in its own package so that importing cache does not compile
// go-redis.
//
// A cache should fail fast when Redis is unreachable, since every call
// then degrades to an uncached one: go-redis by default retries a failed
// dial 5 times 100ms apart, so consider redis.Options{DialerRetries: 1,
// MaxRetries: -1} and short DialTimeout, ReadTimeout and WriteTimeout for
// the cache's client.
package rediscache

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults.
const (
	// DefaultPrefix is prepended to every key when Store.Prefix is empty.
	DefaultPrefix = "composiohttp:cache:"
	// DefaultTTL bounds how long an entry lives when Store.TTL is 0.
	// Entries usually stop being fresh much earlier; a stale entry is still
	// useful for revalidation (ETag, Last-Modified).
	DefaultTTL = 24 * time.Hour
)

// Store is a cache.Store kept in Redis. Keys are "<Prefix><digest>";
// values are httpcache's serialized responses. Its methods return Redis
// errors, which the cache middleware turns into misses. Timeouts are the
// client's (redis.Options.ReadTimeout, WriteTimeout) and the request
// context's. A Store is safe for concurrent use; do not change its fields
// after first use.
type Store struct {
	// Client is the Redis connection (a *redis.Client, *redis.ClusterClient
	// or *redis.Ring). Required.
	Client redis.UniversalClient
	// Prefix namespaces the keys. Default: DefaultPrefix.
	Prefix string
	// TTL is each entry's expiry. Default: DefaultTTL; negative: no expiry.
	TTL time.Duration
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
	b, err := s.Client.Get(ctx, s.key(key)).Bytes()
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
	return s.Client.Set(ctx, s.key(key), value, ttl).Err()
}

// Delete removes key.
func (s *Store) Delete(ctx context.Context, key string) error {
	if s.Client == nil {
		return ErrNoClient
	}
	return s.Client.Del(ctx, s.key(key)).Err()
}
