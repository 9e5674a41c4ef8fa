package cache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/testutil"
)

// privateWhoami answers with the token the fake injected, private and
// fresh for an hour: what one account must never see of another.
func privateWhoami(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "private, max-age=3600")
	fmt.Fprintf(w, "secret of %s", r.Header.Get("Authorization"))
}

// quiet discards every log line.
var quiet = slog.New(slog.DiscardHandler)

// Two Transports acting as different default accounts, each below other
// middlewares, share one store: the cache finds each Transport through
// Unwrap and keeps their entries apart.
func TestDefaultIdentityThroughChain(t *testing.T) {
	t.Parallel()
	below := map[string]func(http.RoundTripper) http.RoundTripper{
		"retry":     func(rt http.RoundTripper) http.RoundTripper { return retry.New(rt) },
		"ratelimit": func(rt http.RoundTripper) http.RoundTripper { return ratelimit.New(rt, ratelimit.NewLocal(1e6, 1e6)) },
		"logging":   func(rt http.RoundTripper) http.RoundTripper { return logging.New(rt, logging.WithLogger(quiet)) },
		"trace":     func(rt http.RoundTripper) http.RoundTripper { return otelproxy.New(rt) },
		"cache":     func(rt http.RoundTripper) http.RoundTripper { return cache.New(rt, cache.WithStore(brokenStore{})) },
		"all": func(rt http.RoundTripper) http.RoundTripper {
			return otelproxy.New(logging.New(retry.New(ratelimit.New(rt, ratelimit.NewLocal(1e6, 1e6))), logging.WithLogger(quiet)))
		},
	}
	for name, wrap := range below {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := testutil.NewServer(t)
			for _, id := range []string{"ca_1", "ca_2"} {
				srv.AddAccount(testutil.Account{ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
					Val: credentials.Val{AccessToken: "tok_" + id}, Handler: http.HandlerFunc(privateWhoami)})
			}
			store := cache.NewMemoryStore(0)
			clients := map[string]http.RoundTripper{}
			for _, id := range []string{"ca_1", "ca_2"} {
				tr := srv.Transport()
				tr.ConnectedAccountID = id
				clients[id] = cache.New(wrap(tr), cache.WithStore(store))
			}
			for _, id := range []string{"ca_1", "ca_2", "ca_1", "ca_2"} {
				if _, body := get(t, clients[id], context.Background(), "https://api.github.com/user"); body != "secret of Bearer tok_"+id {
					t.Fatalf("client of %s got %q", id, body)
				}
			}
			if n := len(srv.Requests()); n != 2 {
				t.Errorf("proxy saw %d requests, want 2 (one per account)", n)
			}
		})
	}
}

// countingStore counts the calls of a Store.
type countingStore struct {
	cache.Store
	calls int
}

func (c *countingStore) Get(ctx context.Context, k string) ([]byte, bool, error) {
	c.calls++
	return c.Store.Get(ctx, k)
}

func (c *countingStore) Set(ctx context.Context, k string, v []byte) error {
	c.calls++
	return c.Store.Set(ctx, k, v)
}

func (c *countingStore) Delete(ctx context.Context, k string) error {
	c.calls++
	return c.Store.Delete(ctx, k)
}

// Below an opaque RoundTripper, a request whose context selects no account
// has no known tenant: it is not cached (fail closed) unless
// WithDefaultIdentity names one.
func TestUnknownTenantNotCached(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []cache.Option
		ctx       context.Context
		wantCalls int64
		wantStore bool
	}{
		{name: "no identity", ctx: context.Background(), wantCalls: 2},
		{name: "WithDefaultIdentity", opts: []cache.Option{cache.WithDefaultIdentity("me")}, ctx: context.Background(), wantCalls: 1, wantStore: true},
		{name: "account in context", ctx: account("a"), wantCalls: 1, wantStore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &stub{h: cacheable}
			store := &countingStore{Store: cache.NewMemoryStore(0)}
			rt := cache.New(s, append(tt.opts, cache.WithStore(store))...)
			var last *http.Response
			for range 2 {
				last, _ = get(t, rt, tt.ctx, "https://api.github.com/p")
			}
			// An unsafe request does not touch the store either.
			req, _ := http.NewRequestWithContext(tt.ctx, http.MethodDelete, "https://api.github.com/p", nil)
			if resp, err := rt.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
			if got := s.calls.Load(); got != tt.wantCalls+1 {
				t.Errorf("next called %d times, want %d", got, tt.wantCalls+1)
			}
			if (store.calls > 0) != tt.wantStore || (last.Header.Get(cache.XFromCache) == "1") != tt.wantStore {
				t.Errorf("store used %d times, X-From-Cache %q; want store used %v", store.calls, last.Header.Get(cache.XFromCache), tt.wantStore)
			}
		})
	}
}

// Every middleware of this module unwraps to the RoundTripper it wraps.
func TestUnwrap(t *testing.T) {
	t.Parallel()
	next := &stub{h: cacheable}
	for name, rt := range map[string]http.RoundTripper{
		"cache":     cache.New(next),
		"retry":     retry.New(next),
		"ratelimit": ratelimit.New(next, ratelimit.NewLocal(1, 1)),
		"logging":   logging.New(next),
		"trace":     otelproxy.New(next),
	} {
		u, ok := rt.(interface{ Unwrap() http.RoundTripper })
		if !ok {
			t.Errorf("%s: no Unwrap method", name)
			continue
		}
		if got := u.Unwrap(); got != http.RoundTripper(next) {
			t.Errorf("%s: Unwrap() = %T, want the wrapped RoundTripper", name, got)
		}
	}
}

// A *composiohttp.Transport with a Connection gives the connection's
// identity; one with neither account nor connection gives none.
func TestDefaultIdentityOfConnectionTransport(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{AccessToken: "x"}}
	var keys []string
	store := recordingStore{cache.NewMemoryStore(0), &keys}
	for _, tr := range []*composiohttp.Transport{{Connection: conn}, {ConnectedAccountID: "ca_1"}, {}} {
		tr.Base = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return nil, io.ErrUnexpectedEOF
		})
		rt := cache.New(retry.New(tr, retry.WithMaxAttempts(1)), cache.WithStore(store))
		req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/p", nil)
		req.Header.Set("Cache-Control", "only-if-cached")
		if resp, err := rt.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	if len(keys) != 2 || keys[0] == keys[1] {
		t.Errorf("keys looked up %q: want two different (the Transport without account is not cached)", keys)
	}
}

// zeros reads as an endless run of zero bytes, allocating nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// bigBody answers a cacheable GET with n zero bytes, streamed; length is
// the ContentLength it declares (-1: unknown).
func bigBody(n, length int64) roundTripFunc {
	return func(r *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: http.StatusOK, ContentLength: length, Request: r,
			Header: http.Header{"Cache-Control": {"max-age=3600"}, "Date": {time.Now().UTC().Format(http.TimeFormat)}},
			Body:   io.NopCloser(io.LimitReader(zeros{}, n)),
		}, nil
	}
}

// fetchAll GETs url through rt, reads the body to the end and returns the
// response, the number of body bytes and the bytes allocated meanwhile.
func fetchAll(t testing.TB, rt http.RoundTripper, url string) (resp *http.Response, n int64, alloc uint64) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	req, _ := http.NewRequestWithContext(account("a"), http.MethodGet, url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	return resp, n, after.TotalAlloc - before.TotalAlloc
}

// A body over the entry limit is neither buffered nor stored: memory stays
// O(KiB) for a 64 MiB body of known length, O(limit) for one of unknown
// length, and the caller sees the upstream's headers unchanged.
func TestLargeBodyNotBuffered(t *testing.T) { // not parallel: measures allocations
	const big = 64 << 20
	tests := []struct {
		name      string
		size      int64
		length    int64
		opts      []cache.Option
		maxAlloc  uint64
		wantStore bool
	}{
		{name: "known length", size: big, length: big, maxAlloc: 256 << 10},
		// Read ahead up to the limit: io.ReadAll's doublings, about 2x.
		{name: "unknown length", size: big, length: -1, maxAlloc: 3 * cache.DefaultMaxEntryBytes},
		{name: "event stream", size: big, length: -1, opts: []cache.Option{}, maxAlloc: 256 << 10},
		{name: "limit raised", size: 4 << 20, length: 4 << 20, opts: []cache.Option{cache.WithMaxEntryBytes(4 << 20)}, maxAlloc: 1 << 40, wantStore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := cache.NewMemoryStore(0)
			next := bigBody(tt.size, tt.length)
			if tt.name == "event stream" {
				next = func(r *http.Request) (*http.Response, error) {
					resp, err := bigBody(tt.size, tt.length)(r)
					resp.Header.Set("Content-Type", "text/event-stream")
					return resp, err
				}
			}
			rt := cache.New(next, append(tt.opts, cache.WithStore(store))...)
			resp, n, alloc := fetchAll(t, rt, "https://api.github.com/big")
			t.Logf("%d MiB body: %d KiB allocated", tt.size>>20, alloc>>10)
			if n != tt.size {
				t.Fatalf("read %d bytes, want %d", n, tt.size)
			}
			if alloc > tt.maxAlloc {
				t.Errorf("allocated %d KiB, want at most %d KiB", alloc>>10, tt.maxAlloc>>10)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "max-age=3600" {
				t.Errorf("caller sees Cache-Control %q, want the upstream's", cc)
			}
			if (store.Len() > 0) != tt.wantStore {
				t.Errorf("store holds %d entries, want stored %v", store.Len(), tt.wantStore)
			}
		})
	}
}

// Bodies within the limit are cached whether their length is known or not.
func TestSmallBodyCached(t *testing.T) {
	t.Parallel()
	for _, length := range []int64{100, -1} {
		t.Run(fmt.Sprint(length), func(t *testing.T) {
			t.Parallel()
			store := cache.NewMemoryStore(0)
			rt := cache.New(bigBody(100, length), cache.WithStore(store), cache.WithMaxEntryBytes(100))
			for i := range 2 {
				resp, n, _ := fetchAll(t, rt, "https://api.github.com/small")
				if n != 100 || (resp.Header.Get(cache.XFromCache) == "1") != (i == 1) {
					t.Errorf("call %d: %d bytes, X-From-Cache %q", i, n, resp.Header.Get(cache.XFromCache))
				}
			}
		})
	}
}

// BenchmarkLargeBody measures a 64 MiB cacheable body passing through the
// cache (over the entry limit, so not stored).
func BenchmarkLargeBody(b *testing.B) {
	for _, length := range []int64{64 << 20, -1} {
		b.Run(fmt.Sprintf("length=%d", length), func(b *testing.B) {
			rt := cache.New(bigBody(64<<20, length), cache.WithStore(cache.NewMemoryStore(0)))
			req, _ := http.NewRequestWithContext(account("a"), http.MethodGet, "https://api.github.com/big", nil)
			b.SetBytes(64 << 20)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}

// closeCounter is a response body that counts its Close calls.
type closeCounter struct {
	io.Reader
	closed int
}

func (c *closeCounter) Close() error {
	c.closed++
	return nil
}

// A response that httpcache drops for a cached one (a 5xx answered with
// the stale entry under stale-if-error, a 304 answered with the cached
// body) is closed, not leaked.
func TestDroppedResponseClosed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		cc       string
		status   int
		wantBody string
	}{
		{name: "stale-if-error", cc: "max-age=0, stale-if-error=3600", status: http.StatusInternalServerError, wantBody: "v1"},
		{name: "not modified", cc: "no-cache", status: http.StatusNotModified, wantBody: "v1"},
		{name: "5xx without stale-if-error", cc: "no-cache", status: http.StatusBadGateway, wantBody: "down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var bodies []*closeCounter
			rt := cache.New(roundTripFunc(func(r *http.Request) (*http.Response, error) {
				status, text := http.StatusOK, "v1"
				if len(bodies) > 0 {
					status, text = tt.status, "down"
				}
				b := &closeCounter{Reader: strings.NewReader(text)}
				bodies = append(bodies, b)
				return &http.Response{StatusCode: status, ContentLength: int64(len(text)), Body: b, Request: r,
					Header: http.Header{"Cache-Control": {tt.cc}, "Etag": {`"v1"`}}}, nil
			}))
			get(t, rt, account("a"), "https://api.github.com/p")
			resp, body := get(t, rt, account("a"), "https://api.github.com/p")
			if len(bodies) != 2 || body != tt.wantBody {
				t.Fatalf("%d calls, body %q (status %d); want 2 calls, body %q", len(bodies), body, resp.StatusCode, tt.wantBody)
			}
			for i, b := range bodies {
				if b.closed == 0 {
					t.Errorf("body of response %d not closed", i+1)
				}
			}
		})
	}
}
