package cache_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/middleware/logging"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/middleware/trace"
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
		"trace":     func(rt http.RoundTripper) http.RoundTripper { return trace.New(rt) },
		"cache":     func(rt http.RoundTripper) http.RoundTripper { return cache.New(rt, cache.WithStore(brokenStore{})) },
		"all": func(rt http.RoundTripper) http.RoundTripper {
			return trace.New(logging.New(retry.New(ratelimit.New(rt, ratelimit.NewLocal(1e6, 1e6))), logging.WithLogger(quiet)))
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
		"trace":     trace.New(next),
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
