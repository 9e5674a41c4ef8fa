package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestStaticSource(t *testing.T) {
	t.Parallel()
	c := &Connection{AuthScheme: BearerToken, Val: Val{Token: "t"}}
	got, err := StaticSource(c).Connection(context.Background())
	if err != nil || got != c {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := StaticSource(nil).Connection(context.Background()); err == nil {
		t.Error("nil connection: no error")
	}
	var _ Source = SourceFunc(func(context.Context) (*Connection, error) { return c, nil })
}

func writeFile(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

func TestFileSource(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "conn.json")
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	writeFile(t, path, `{"authScheme":"API_KEY","toolkitSlug":"openai","val":{"api_key":"k1"}}`, t0)
	src := FileSource(path)

	c1, err := src.Connection(ctx)
	if err != nil || c1.Val.APIKey != "k1" || c1.ToolkitSlug != "openai" {
		t.Fatalf("got %+v, %v", c1, err)
	}
	c2, _ := src.Connection(ctx)
	if c2 != c1 {
		t.Error("unchanged file parsed again")
	}
	// Rotated: new content and mtime.
	writeFile(t, path, `{"authScheme":"API_KEY","toolkitSlug":"openai","val":{"api_key":"k2"}}`, t0.Add(time.Second))
	if c3, err := src.Connection(ctx); err != nil || c3.Val.APIKey != "k2" {
		t.Fatalf("after rotation: %+v, %v", c3, err)
	}
	// Broken file: the error names the path, not the contents.
	writeFile(t, path, `{"authScheme":"API_KEY","val":{"api_key":"secret-value"`, t0.Add(2*time.Second))
	_, err = src.Connection(ctx)
	if err == nil || !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), "secret-value") {
		t.Errorf("broken file: %v", err)
	}
	// Missing file.
	_, err = FileSource(filepath.Join(t.TempDir(), "none.json")).Connection(ctx)
	if !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "credentials:") {
		t.Errorf("missing file: %v", err)
	}
	// Ended context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := src.Connection(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

// TestEnvSource cannot run in parallel: it sets environment variables.
func TestEnvSource(t *testing.T) {
	ctx := context.Background()
	const name = "CREDENTIALS_TEST_CONNECTION"
	src := EnvSource(name)
	t.Setenv(name, "")
	if _, err := src.Connection(ctx); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("unset: %v", err)
	}
	t.Setenv(name, `{"authScheme":"BEARER_TOKEN","val":{"token":"t1"}}`)
	c1, err := src.Connection(ctx)
	if err != nil || c1.Val.Token != "t1" {
		t.Fatalf("got %+v, %v", c1, err)
	}
	if c2, _ := src.Connection(ctx); c2 != c1 {
		t.Error("unchanged value parsed again")
	}
	t.Setenv(name, `{"authScheme":"BEARER_TOKEN","val":{"token":"t2"}}`)
	if c3, _ := src.Connection(ctx); c3 == nil || c3.Val.Token != "t2" {
		t.Errorf("changed value not read: %+v", c3)
	}
	t.Setenv(name, `{"val":{"token":secret-value}}`)
	if _, err := src.Connection(ctx); err == nil || strings.Contains(err.Error(), "secret-value") || !strings.Contains(err.Error(), name) {
		t.Errorf("invalid: %v", err)
	}
}

func TestExpiry(t *testing.T) {
	t.Parallel()
	jan1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		expiresAt string
		want      time.Time // zero: not ok
	}{
		{"RFC 3339 UTC", "2026-01-01T00:00:00Z", jan1},
		{"RFC 3339 fraction and offset", "2026-01-01T01:00:00.5+01:00", jan1.Add(5e8)},
		{"RFC 3339 nanoseconds", "2026-01-01T00:00:00.123456789Z", jan1.Add(123456789)},
		{"RFC 3339 lower case", "2026-01-01t00:00:00.25z", jan1.Add(25e7)},
		{"RFC 3339 space", "2026-01-01 00:00:00+00:00", jan1},
		{"offset without colon", "2026-01-01T02:00:00+0200", jan1},
		{"offset hours only", "2026-01-01 00:00:00+00", jan1},
		{"no zone is UTC", "2026-01-01T00:00:00", jan1},
		{"no zone, fraction", "2026-01-01T00:00:00.123456", jan1.Add(123456e3)},
		{"no zone, space", "2026-01-01 00:00:00", jan1},
		{"Unix seconds", "1767225600", jan1},
		{"Unix seconds, fraction", "1767225600.25", jan1.Add(25e7)},
		{"Unix seconds, microseconds", "1767225600.000001", jan1.Add(time.Microsecond)},
		{"Unix seconds, exponent", "1.7672256e9", jan1},
		{"Unix seconds, far future", "253402300799", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"Unix seconds, just below the cut-off", "999999999999", time.Unix(999999999999, 0)},
		{"Unix milliseconds at the cut-off", "1000000000000", time.Unix(1e9, 0)},
		{"Unix milliseconds", "1767225600000", jan1},
		{"Unix milliseconds, odd", "1767225600123", jan1.Add(123 * time.Millisecond)},
		{"Unix milliseconds, fraction", "1767225600000.5", jan1.Add(500 * time.Microsecond)},
		{"Unix negative", "-1.5", time.Unix(-2, 5e8)},
		{"zero", "0", time.Unix(0, 0)},
		{"empty", "", time.Time{}},
		{"words", "tomorrow", time.Time{}},
		{"date only", "2026-01-01", time.Time{}},
		{"bad month", "2026-13-01T00:00:00Z", time.Time{}},
		{"trailing text", "2026-01-01T00:00:00Zjunk", time.Time{}},
		{"Inf", "Inf", time.Time{}},
		{"NaN", "NaN", time.Time{}},
		{"hex", "0x10", time.Time{}},
		{"huge", "1e300", time.Time{}},
		{"beyond milliseconds", "1e16", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := Val{ExpiresAt: tt.expiresAt}
			got, ok := v.Expiry()
			if ok != !tt.want.IsZero() || !got.Equal(tt.want) {
				t.Errorf("Expiry(%q) = %v, %v; want %v, %v", tt.expiresAt, got, ok, tt.want, !tt.want.IsZero())
			}
		})
	}
	// A JSON number on the wire reads the same as its text.
	var v Val
	if err := json.Unmarshal([]byte(`{"expires_at":1767225600000}`), &v); err != nil {
		t.Fatal(err)
	}
	if got, ok := v.Expiry(); !ok || !got.Equal(jan1) {
		t.Errorf("number: %v, %v", got, ok)
	}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// countingSource returns connections numbered by call, expiring ttl after
// the clock's time (no expiry when ttl is 0), or err when set.
type countingSource struct {
	clock *fakeClock
	ttl   time.Duration
	calls atomic.Int32
	err   atomic.Pointer[error]
}

func (s *countingSource) Connection(context.Context) (*Connection, error) {
	n := s.calls.Add(1)
	if e := s.err.Load(); e != nil {
		return nil, *e
	}
	c := &Connection{AuthScheme: OAuth2, Val: Val{AccessToken: "token-" + strconv.Itoa(int(n))}}
	if s.ttl > 0 {
		c.Val.ExpiresAt = s.clock.Now().Add(s.ttl).Format(time.RFC3339)
	}
	return c, nil
}

func TestCachingSourceExpiry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	src := &countingSource{clock: clock, ttl: time.Hour}
	cs := CachingSource(src, WithClock(clock.Now), WithExpirySkew(time.Minute))

	token := func() string {
		t.Helper()
		c, err := cs.Connection(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.Val.AccessToken
	}
	steps := []struct {
		advance time.Duration
		want    string
	}{
		{0, "token-1"},
		{58 * time.Minute, "token-1"},
		{time.Minute - time.Nanosecond, "token-1"}, // just before expiry - skew
		{time.Nanosecond, "token-2"},               // at expiry - skew
		{30 * time.Minute, "token-2"},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		if got := token(); got != st.want {
			t.Errorf("step %d: got %s, want %s", i, got, st.want)
		}
	}
}

func TestCachingSourceExpiresInAndMaxAge(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	var n atomic.Int32
	src := SourceFunc(func(context.Context) (*Connection, error) {
		n.Add(1)
		return &Connection{AuthScheme: OAuth2, Val: Val{AccessToken: "a", ExpiresIn: "120"}}, nil
	})
	cs := CachingSource(src, WithClock(clock.Now), WithExpirySkew(20*time.Second))
	cs.Connection(ctx)
	clock.Advance(99 * time.Second)
	cs.Connection(ctx)
	if n.Load() != 1 {
		t.Errorf("refreshed before expires_in: %d calls", n.Load())
	}
	clock.Advance(time.Second)
	cs.Connection(ctx)
	if n.Load() != 2 {
		t.Errorf("not refreshed after expires_in - skew: %d calls", n.Load())
	}

	// No expiry: kept forever, or until the max age.
	forever := &countingSource{clock: clock}
	cs = CachingSource(forever, WithClock(clock.Now))
	cs.Connection(ctx)
	clock.Advance(1000 * time.Hour)
	cs.Connection(ctx)
	if forever.calls.Load() != 1 {
		t.Errorf("no expiry: %d calls", forever.calls.Load())
	}
	capped := &countingSource{clock: clock, ttl: time.Hour}
	cs = CachingSource(capped, WithClock(clock.Now), WithMaxAge(time.Minute))
	cs.Connection(ctx)
	clock.Advance(time.Minute)
	cs.Connection(ctx)
	if capped.calls.Load() != 2 {
		t.Errorf("max age: %d calls", capped.calls.Load())
	}
}

func TestCachingSourceAlreadyExpired(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	src := &countingSource{clock: clock, ttl: time.Second} // within the default skew
	cs := CachingSource(src, WithClock(clock.Now))
	for i := 1; i <= 3; i++ {
		c, err := cs.Connection(context.Background())
		if err != nil || c.Val.AccessToken != "token-"+strconv.Itoa(i) {
			t.Fatalf("call %d: %v, %v", i, c, err)
		}
	}
}

func TestCachingSourceErrorNotCached(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	src := &countingSource{clock: clock, ttl: time.Hour}
	boom := errors.New("token endpoint down")
	src.err.Store(&boom)
	cs := CachingSource(src, WithClock(clock.Now))
	for range 2 {
		if _, err := cs.Connection(ctx); !errors.Is(err, boom) {
			t.Fatalf("got %v", err)
		}
	}
	src.err.Store(nil)
	if c, err := cs.Connection(ctx); err != nil || c.Val.AccessToken != "token-3" {
		t.Fatalf("after recovery: %v, %v", c, err)
	}
	// A nil connection without error is an error.
	cs = CachingSource(SourceFunc(func(context.Context) (*Connection, error) { return nil, nil }))
	if _, err := cs.Connection(ctx); err == nil {
		t.Error("nil connection accepted")
	}
}

func TestCachingSourceOneRefreshForManyCallers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		const callers = 50
		clock := &fakeClock{now: time.Unix(1e9, 0)}
		release := make(chan struct{})
		var calls atomic.Int32
		src := SourceFunc(func(context.Context) (*Connection, error) {
			calls.Add(1)
			<-release
			return &Connection{AuthScheme: OAuth2, Val: Val{AccessToken: "shared"}}, nil
		})
		cs := CachingSource(src, WithClock(clock.Now))

		var wg sync.WaitGroup
		results := make([]*Connection, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() { results[i], errs[i] = cs.Connection(context.Background()) })
		}
		// Hold the refresh until every other caller waits on it.
		synctest.Wait()
		close(release)
		wg.Wait()
		if calls.Load() != 1 {
			t.Errorf("%d refreshes for %d callers, want 1", calls.Load(), callers)
		}
		for i := range callers {
			if errs[i] != nil || results[i] != results[0] {
				t.Fatalf("caller %d: %v, %v", i, results[i], errs[i])
			}
		}
	})
}

func TestCachingSourceWaiterContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		src := SourceFunc(func(context.Context) (*Connection, error) {
			close(entered)
			<-release
			return &Connection{AuthScheme: NoAuth}, nil
		})
		cs := CachingSource(src)
		leader := make(chan error, 1)
		go func() {
			_, err := cs.Connection(context.Background())
			leader <- err
		}()
		<-entered
		ctx, cancel := context.WithCancel(context.Background())
		waiterErr := make(chan error, 1)
		go func() {
			_, err := cs.Connection(ctx)
			waiterErr <- err
		}()
		synctest.Wait() // the second caller waits on the refresh

		cancel()
		if err := <-waiterErr; !errors.Is(err, context.Canceled) {
			t.Errorf("waiter: %v", err)
		}
		close(release)
		if err := <-leader; err != nil {
			t.Errorf("leader: %v", err)
		}
	})
}

func TestCachingSourcePanic(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	cs := CachingSource(SourceFunc(func(context.Context) (*Connection, error) {
		if calls.Add(1) == 1 {
			panic("source bug")
		}
		return &Connection{AuthScheme: NoAuth}, nil
	}))
	// The source runs in its own goroutine: its panic is an error.
	if _, err := cs.Connection(context.Background()); err == nil || !strings.Contains(err.Error(), "credentials: source panicked: source bug") {
		t.Errorf("panic: %v", err)
	}
	if _, err := cs.Connection(context.Background()); err != nil {
		t.Errorf("after panic: %v", err)
	}
}

type ctxKey struct{}

// TestCachingSourceFetchContext: the source sees the values of the caller's
// context, not its cancellation or deadline, and the fetch timeout.
func TestCachingSourceFetchContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts []CacheOption
		want time.Duration
	}{
		{"default", nil, DefaultFetchTimeout},
		{"option", []CacheOption{WithFetchTimeout(time.Minute)}, time.Minute},
		{"zero means default", []CacheOption{WithFetchTimeout(0)}, DefaultFetchTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := SourceFunc(func(ctx context.Context) (*Connection, error) {
				if ctx.Value(ctxKey{}) != "v" {
					return nil, errors.New("value lost")
				}
				deadline, ok := ctx.Deadline()
				if left := time.Until(deadline); !ok || left > tt.want || left < tt.want-time.Minute/2 {
					return nil, errors.New("deadline is not the fetch timeout: " + time.Until(deadline).String())
				}
				return &Connection{AuthScheme: NoAuth}, nil
			})
			// The caller's own deadline, far away, is not the source's.
			ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), ctxKey{}, "v"), time.Hour)
			defer cancel()
			if _, err := CachingSource(src, tt.opts...).Connection(ctx); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCachingSourceFetchTimeout(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	src := SourceFunc(func(ctx context.Context) (*Connection, error) {
		if calls.Add(1) == 1 {
			<-ctx.Done() // a source that hangs until its context ends
			return nil, ctx.Err()
		}
		return &Connection{AuthScheme: NoAuth}, nil
	})
	cs := CachingSource(src, WithFetchTimeout(time.Millisecond))
	if _, err := cs.Connection(context.Background()); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hung source: %v, want context.DeadlineExceeded", err)
	}
	if _, err := cs.Connection(context.Background()); err != nil {
		t.Errorf("next call: %v", err)
	}
	// A caller whose context has already ended starts no fetch.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cs = CachingSource(src)
	if _, err := cs.Connection(ctx); !errors.Is(err, context.Canceled) || calls.Load() != 2 {
		t.Errorf("ended context: %v, %d calls", err, calls.Load())
	}
}

// TestCachingSourceFirstCallerCancels: the caller whose call started the
// fetch gives up; the fetch goes on, detached from its context, and the
// other caller gets its result.
func TestCachingSourceFirstCallerCancels(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{})
		var calls atomic.Int32
		src := SourceFunc(func(ctx context.Context) (*Connection, error) {
			if calls.Add(1) == 1 {
				close(entered)
			}
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return &Connection{AuthScheme: NoAuth}, nil
		})
		cs := CachingSource(src)

		ctx1, cancel1 := context.WithCancel(context.Background())
		first := make(chan error, 1)
		go func() {
			_, err := cs.Connection(ctx1)
			first <- err
		}()
		<-entered
		second := make(chan error, 1)
		go func() {
			c, err := cs.Connection(context.Background())
			if err == nil && c == nil {
				err = errors.New("nil connection")
			}
			second <- err
		}()
		synctest.Wait() // the second caller waits on the refresh

		cancel1()
		if err := <-first; !errors.Is(err, context.Canceled) {
			t.Errorf("first caller: %v, want context.Canceled", err)
		}
		close(release)
		if err := <-second; err != nil {
			t.Errorf("second caller: %v", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("source called %d times, want 1", n)
		}
		// The result is cached.
		if _, err := cs.Connection(context.Background()); err != nil || calls.Load() != 1 {
			t.Errorf("after: %v, %d calls", err, calls.Load())
		}
	})
}
