package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Source supplies the Connection to use for a request, for credentials that
// rotate or refresh. Implementations must be safe for concurrent use.
// Callers must treat the returned Connection as read-only: sources may
// return the same value to many callers.
type Source interface {
	Connection(ctx context.Context) (*Connection, error)
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context) (*Connection, error)

// Connection calls f(ctx).
func (f SourceFunc) Connection(ctx context.Context) (*Connection, error) { return f(ctx) }

// StaticSource returns a Source that always returns c. It fails if c is
// nil.
func StaticSource(c *Connection) Source {
	return SourceFunc(func(context.Context) (*Connection, error) {
		if c == nil {
			return nil, errors.New("credentials: static source has a nil Connection")
		}
		return c, nil
	})
}

// FileSource returns a Source that reads a Connection as JSON
// ({"authScheme", "toolkitSlug", "val"}) from the file at path. The file is
// checked with os.Stat on every call and read again when its modification
// time or size changed, so a rotated file (including a Kubernetes secret
// volume, which swaps a symlink) takes effect on the next request. Errors
// name the path but never quote the file's contents.
func FileSource(path string) Source {
	return &fileSource{path: path}
}

type fileSource struct {
	path string

	mu    sync.Mutex
	mtime time.Time
	size  int64
	conn  *Connection
}

func (s *fileSource) Connection(ctx context.Context) (*Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, fmt.Errorf("credentials: file source: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && fi.ModTime().Equal(s.mtime) && fi.Size() == s.size {
		return s.conn, nil
	}
	data, err := os.ReadFile(s.path)
	if err != nil {
		return nil, fmt.Errorf("credentials: file source: %w", err)
	}
	c, err := parseConnection(data)
	if err != nil {
		return nil, fmt.Errorf("credentials: file source %s: %w", s.path, err)
	}
	s.conn, s.mtime, s.size = c, fi.ModTime(), fi.Size()
	return c, nil
}

// EnvSource returns a Source that reads a Connection as JSON from the
// environment variable name on every call (parsing again only when the
// value changed). It fails when the variable is unset or empty. Errors
// name the variable but never quote its value.
func EnvSource(name string) Source {
	return &envSource{name: name}
}

type envSource struct {
	name string

	mu   sync.Mutex
	raw  string
	conn *Connection
}

func (s *envSource) Connection(ctx context.Context) (*Connection, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	raw := os.Getenv(s.name)
	if raw == "" {
		return nil, fmt.Errorf("credentials: environment variable %s is not set", s.name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && raw == s.raw {
		return s.conn, nil
	}
	c, err := parseConnection([]byte(raw))
	if err != nil {
		return nil, fmt.Errorf("credentials: environment variable %s: %w", s.name, err)
	}
	s.raw, s.conn = raw, c
	return c, nil
}

// parseConnection decodes a Connection without quoting data in errors.
func parseConnection(data []byte) (*Connection, error) {
	var c Connection
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, sanitize(err)
	}
	return &c, nil
}

// CacheOption configures CachingSource.
type CacheOption func(*cachingSource)

// WithClock sets the clock CachingSource reads. Default: time.Now.
func WithClock(now func() time.Time) CacheOption {
	return func(s *cachingSource) { s.now = now }
}

// WithExpirySkew sets how long before its expiry a connection is refreshed.
// Default: DefaultExpirySkew.
func WithExpirySkew(d time.Duration) CacheOption {
	return func(s *cachingSource) { s.skew = d }
}

// WithMaxAge caps how long a connection is cached, whatever its expiry;
// it also bounds connections that carry no expiry. Zero (the default)
// means no cap: a connection without expiry is kept until the process
// ends.
func WithMaxAge(d time.Duration) CacheOption {
	return func(s *cachingSource) { s.maxAge = d }
}

// DefaultFetchTimeout bounds one call CachingSource makes to its source.
const DefaultFetchTimeout = 30 * time.Second

// WithFetchTimeout bounds each call CachingSource makes to its source:
// the call's context ends after d. Zero or negative means
// DefaultFetchTimeout.
func WithFetchTimeout(d time.Duration) CacheOption {
	return func(s *cachingSource) { s.fetchTimeout = d }
}

// CachingSource returns a Source that returns src's connection until it
// expires, then asks src again. The expiry is Val.Expiry (expires_at), else
// expires_in seconds counted from the fetch, minus the skew; a connection
// with neither is kept until WithMaxAge, if set.
//
// Concurrent callers that find the cache stale share one call to src. That
// call runs in its own goroutine, detached from the callers: its context
// carries the values of the context of the caller that started it, but not
// its cancellation or deadline, and ends after the fetch timeout
// (WithFetchTimeout, default DefaultFetchTimeout). A caller whose context
// ends stops waiting and returns its context's error; the call goes on and
// its result is cached for the others. A failed call is returned to
// everyone waiting on it and is not cached: the next call tries again. A
// panic in src is recovered and returned as an error.
func CachingSource(src Source, opts ...CacheOption) Source {
	s := &cachingSource{src: src, now: time.Now, skew: DefaultExpirySkew, fetchTimeout: DefaultFetchTimeout}
	for _, o := range opts {
		o(s)
	}
	if s.fetchTimeout <= 0 {
		s.fetchTimeout = DefaultFetchTimeout
	}
	return s
}

type cachingSource struct {
	src          Source
	now          func() time.Time
	skew         time.Duration
	maxAge       time.Duration
	fetchTimeout time.Duration

	group singleflight.Group // one call to src at a time
	mu    sync.Mutex
	conn  *Connection
	until time.Time // zero: no expiry
}

func (s *cachingSource) Connection(ctx context.Context) (*Connection, error) {
	if c := s.cached(); c != nil {
		return c, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := s.group.DoChan("", func() (any, error) { return s.fetch(context.WithoutCancel(ctx)) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*Connection), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// cached returns the cached connection while it is fresh, else nil.
func (s *cachingSource) cached() *Connection {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil && (s.until.IsZero() || s.now().Before(s.until)) {
		return s.conn
	}
	return nil
}

// fetch calls the source, bounded by the fetch timeout, and caches a
// connection it returns. It runs in singleflight's goroutine, where a
// panic would end the program: a panic in src is an error.
func (s *cachingSource) fetch(ctx context.Context) (conn *Connection, err error) {
	if c := s.cached(); c != nil { // a call that ended since the caller looked
		return c, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.fetchTimeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			conn, err = nil, fmt.Errorf("credentials: source panicked: %v", p)
		}
	}()
	conn, err = s.src.Connection(ctx)
	if err == nil && conn == nil {
		err = errors.New("credentials: source returned a nil Connection")
	}
	if err != nil {
		return nil, err
	}
	until := s.expiry(conn)
	s.mu.Lock()
	s.conn, s.until = conn, until
	s.mu.Unlock()
	return conn, nil
}

// expiry returns when a connection fetched now must be fetched again.
func (s *cachingSource) expiry(c *Connection) time.Time {
	now := s.now()
	var until time.Time
	if t, ok := c.Val.Expiry(); ok {
		until = t.Add(-s.skew)
	} else if secs, err := strconv.ParseFloat(c.Val.ExpiresIn, 64); err == nil && secs > 0 && secs < 1<<40 {
		until = now.Add(time.Duration(secs*float64(time.Second)) - s.skew)
	}
	if s.maxAge > 0 && (until.IsZero() || until.After(now.Add(s.maxAge))) {
		until = now.Add(s.maxAge)
	}
	if !until.IsZero() && !until.After(now) {
		// Already stale: return it once, fetch again next time.
		until = now
	}
	return until
}
