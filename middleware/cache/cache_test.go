package cache_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/cache"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// stub serves requests in process with h and counts them.
type stub struct {
	calls atomic.Int64
	h     http.HandlerFunc
}

func (s *stub) RoundTrip(r *http.Request) (*http.Response, error) {
	s.calls.Add(1)
	if r.Body != nil {
		defer r.Body.Close()
	}
	rec := httptest.NewRecorder()
	s.h(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// cacheable answers with a body naming the account and the path, fresh for
// an hour, with an ETag.
func cacheable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Header().Set("ETag", `"v1"`)
	acct, _ := composiohttp.ConnectedAccountFromContext(r.Context())
	fmt.Fprintf(w, "%s %s %s", acct, r.URL.Path, r.Header.Get("Authorization"))
}

func get(t *testing.T, rt http.RoundTripper, ctx context.Context, url string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func account(id string) context.Context {
	return composiohttp.WithConnectedAccount(context.Background(), id)
}

func TestHitMissAndTenants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		opts      []cache.Option
		first     context.Context
		second    context.Context
		hdr1      []string
		hdr2      []string
		wantCalls int64
	}{
		{name: "same account hits", first: account("a"), second: account("a"), wantCalls: 1},
		{name: "default identity hits", opts: []cache.Option{cache.WithDefaultIdentity("me")}, first: context.Background(), second: context.Background(), wantCalls: 1},
		{name: "no identity is not cached", first: context.Background(), second: context.Background(), wantCalls: 2},
		{name: "accounts never share", first: account("a"), second: account("b"), wantCalls: 2},
		{name: "account vs default", first: account("a"), second: context.Background(), wantCalls: 2},
		{name: "authorization bypasses", first: account("a"), second: account("a"),
			hdr1: []string{"Authorization", "Bearer x"}, hdr2: []string{"Authorization", "Bearer x"}, wantCalls: 2},
		{name: "authorization opted in hits", opts: []cache.Option{cache.WithAuthorizedRequests()}, first: account("a"), second: account("a"),
			hdr1: []string{"Authorization", "Bearer x"}, hdr2: []string{"Authorization", "Bearer x"}, wantCalls: 1},
		{name: "authorization opted in keyed by header", opts: []cache.Option{cache.WithAuthorizedRequests()}, first: account("a"), second: account("a"),
			hdr1: []string{"Authorization", "Bearer x"}, hdr2: []string{"Authorization", "Bearer y"}, wantCalls: 2},
		// An account id holding the key's old separators must
		// not reach the entry of another tenant with an Authorization header.
		{name: "NUL in account id vs authorization", opts: []cache.Option{cache.WithAuthorizedRequests()},
			first: account("a"), second: account("a\x00authorization\x00Bearer x"),
			hdr1: []string{"Authorization", "Bearer x"}, wantCalls: 2},
		{name: "authorization vs NUL in account id", opts: []cache.Option{cache.WithAuthorizedRequests()},
			first: account("a\x00authorization\x00Bearer x"), second: account("a"),
			hdr2: []string{"Authorization", "Bearer x"}, wantCalls: 2},
		{name: "range bypasses", first: account("a"), second: account("a"),
			hdr1: []string{"Range", "bytes=0-1"}, hdr2: []string{"Range", "bytes=0-1"}, wantCalls: 2},
		{name: "no-cache request revalidates", first: account("a"), second: account("a"),
			hdr2: []string{"Cache-Control", "no-cache"}, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &stub{h: cacheable}
			rt := cache.New(s, tt.opts...)
			_, b1 := get(t, rt, tt.first, "https://api.example.com/p", tt.hdr1...)
			info := new(composiohttp.CallInfo)
			resp, b2 := get(t, rt, composiohttp.WithCallInfo(tt.second, info), "https://api.example.com/p", tt.hdr2...)
			if got := s.calls.Load(); got != tt.wantCalls {
				t.Fatalf("next called %d times, want %d", got, tt.wantCalls)
			}
			hit := tt.wantCalls == 1
			if info.CacheHit != hit || (resp.Header.Get(cache.XFromCache) == "1") != hit {
				t.Errorf("CacheHit = %v, X-From-Cache = %q, want hit %v", info.CacheHit, resp.Header.Get(cache.XFromCache), hit)
			}
			if hit && b1 != b2 {
				t.Errorf("hit body %q, first body %q", b2, b1)
			}
			if want, _ := composiohttp.ConnectedAccountFromContext(tt.second); !strings.HasPrefix(b2, want+" ") {
				t.Errorf("second call got %q: another tenant's response", b2)
			}
		})
	}
}

func TestPrivateStaysPerAccount(t *testing.T) {
	t.Parallel()
	s := &stub{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "private, max-age=3600")
		acct, _ := composiohttp.ConnectedAccountFromContext(r.Context())
		io.WriteString(w, "secret of "+acct)
	}}
	rt := cache.New(s)
	for _, id := range []string{"a", "b", "a", "b"} {
		if _, body := get(t, rt, account(id), "https://api.example.com/me"); body != "secret of "+id {
			t.Fatalf("account %s got %q", id, body)
		}
	}
	if got := s.calls.Load(); got != 2 {
		t.Errorf("next called %d times, want 2 (one per account)", got)
	}
}

func TestUnsafeMethodInvalidates(t *testing.T) {
	t.Parallel()
	s := &stub{h: cacheable}
	rt := cache.New(s)
	get(t, rt, account("a"), "https://api.example.com/p")
	get(t, rt, account("b"), "https://api.example.com/p")
	req, _ := http.NewRequestWithContext(account("a"), http.MethodPost, "https://api.example.com/p", strings.NewReader("{}"))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	get(t, rt, account("a"), "https://api.example.com/p") // refetched
	get(t, rt, account("b"), "https://api.example.com/p") // b's entry untouched
	if got := s.calls.Load(); got != 4 {
		t.Errorf("next called %d times, want 4", got)
	}
}

func TestVary(t *testing.T) {
	t.Parallel()
	s := &stub{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Vary", "Accept")
		io.WriteString(w, r.Header.Get("Accept"))
	}}
	rt := cache.New(s)
	for _, tc := range []struct{ accept, want string }{{"a", "a"}, {"a", "a"}, {"b", "b"}, {"b", "b"}} {
		if _, body := get(t, rt, account("x"), "https://api.example.com/v", "Accept", tc.accept); body != tc.want {
			t.Fatalf("Accept %s: body %q", tc.accept, body)
		}
	}
	if got := s.calls.Load(); got != 2 {
		t.Errorf("next called %d times, want 2", got)
	}
}

func TestUpstreamCannotFakeHit(t *testing.T) {
	t.Parallel()
	s := &stub{h: func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(cache.XFromCache, "1")
		w.Header().Set("Cache-Control", "no-store")
	}}
	info := new(composiohttp.CallInfo)
	resp, _ := get(t, cache.New(s), composiohttp.WithCallInfo(account("a"), info), "https://api.example.com/")
	if info.CacheHit || resp.Header.Get(cache.XFromCache) != "" {
		t.Errorf("upstream's X-From-Cache taken for a hit")
	}
}

// brokenStore fails every call.
type brokenStore struct{}

var errDown = errors.New("store down")

func (brokenStore) Get(context.Context, string) ([]byte, bool, error) { return nil, false, errDown }
func (brokenStore) Set(context.Context, string, []byte) error         { return errDown }
func (brokenStore) Delete(context.Context, string) error              { return errDown }

// garbageStore returns bytes that are no response.
type garbageStore struct{ brokenStore }

func (garbageStore) Get(context.Context, string) ([]byte, bool, error) {
	return []byte("not a response"), true, nil
}

func TestBrokenStoreDegrades(t *testing.T) {
	t.Parallel()
	for _, st := range []cache.Store{brokenStore{}, garbageStore{}} {
		t.Run(fmt.Sprintf("%T", st), func(t *testing.T) {
			t.Parallel()
			s := &stub{h: cacheable}
			var mu sync.Mutex
			var errs []error
			rt := cache.New(s, cache.WithStore(st), cache.WithErrorHandler(func(err error) {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}))
			for range 3 {
				if resp, body := get(t, rt, account("a"), "https://api.example.com/p"); resp.StatusCode != 200 || body != "a /p " {
					t.Fatalf("got %d %q", resp.StatusCode, body)
				}
			}
			if got := s.calls.Load(); got != 3 {
				t.Errorf("next called %d times, want 3", got)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(errs) == 0 || !errors.Is(errs[0], errDown) || !strings.HasPrefix(errs[0].Error(), "cache: ") {
				t.Errorf("errors reported: %v", errs)
			}
		})
	}
}

func TestPassThrough(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, boom
	})
	rt := cache.New(next)
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		req, _ := http.NewRequest(m, "https://api.example.com/", nil)
		if _, err := rt.RoundTrip(req); !errors.Is(err, boom) {
			t.Errorf("%s: err = %v, want the next layer's", m, err)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestMemoryStoreLRU(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := cache.NewMemoryStore(30) // key (1) + value (9) = 10 bytes an entry
	for _, k := range []string{"a", "b", "c"} {
		s.Set(ctx, k, []byte("123456789"))
	}
	s.Get(ctx, "a") // a is now the most recent: b goes first
	s.Set(ctx, "d", []byte("123456789"))
	for k, want := range map[string]bool{"a": true, "b": false, "c": true, "d": true} {
		if _, ok, _ := s.Get(ctx, k); ok != want {
			t.Errorf("Get(%q) ok = %v, want %v", k, ok, want)
		}
	}
	if s.Size() != 30 || s.Len() != 3 {
		t.Errorf("Size %d Len %d, want 30 3", s.Size(), s.Len())
	}
	s.Set(ctx, "big", make([]byte, 100)) // over the limit: not stored, evicts nothing
	if _, ok, _ := s.Get(ctx, "big"); ok || s.Len() != 3 {
		t.Errorf("oversized value stored or evicted others")
	}
	s.Delete(ctx, "a")
	s.Set(ctx, "c", []byte("1")) // replace
	if s.Size() != 10+2 || s.Len() != 2 {
		t.Errorf("Size %d Len %d after delete and replace", s.Size(), s.Len())
	}
}

func TestConcurrent(t *testing.T) {
	t.Parallel()
	s := &stub{h: cacheable}
	rt := cache.New(s, cache.WithStore(cache.NewMemoryStore(4096)))
	var wg sync.WaitGroup
	for g := range 32 {
		wg.Go(func() {
			for i := range 20 {
				ctx := account(fmt.Sprint(g % 4))
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("https://api.example.com/%d", i%5), nil)
				resp, err := rt.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if want := fmt.Sprintf("%d /%d ", g%4, i%5); string(b) != want {
					t.Errorf("got %q want %q", b, want)
				}
			}
		})
	}
	wg.Wait()
}

func TestConnectionsKeptApart(t *testing.T) {
	t.Parallel()
	conn := func(tok string) context.Context {
		return composiohttp.WithConnection(context.Background(), &credentials.Connection{
			AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{AccessToken: tok}})
	}
	s := &stub{h: cacheable}
	rt := cache.New(s)
	for _, ctx := range []context.Context{conn("a"), conn("a"), conn("b"), conn("b")} {
		get(t, rt, ctx, "https://api.example.com/p")
	}
	if got := s.calls.Load(); got != 2 {
		t.Errorf("next called %d times, want 2 (one per connection)", got)
	}
}

// Two Transports acting as different default accounts, sharing one store,
// keep their entries apart without WithDefaultIdentity.
func TestDefaultIdentityFromTransport(t *testing.T) {
	t.Parallel()
	store := cache.NewMemoryStore(0)
	var keys []string
	for _, id := range []string{"ca_1", "ca_2"} {
		rt := cache.New(&composiohttp.Transport{ConnectedAccountID: id, Base: roundTripFunc(func(*http.Request) (*http.Response, error) {
			t.Fatal("the Transport must not be called: the request is refused by the test")
			return nil, nil
		})}, cache.WithStore(recordingStore{store, &keys}))
		// only-if-cached: httpcache answers 504 without calling the Transport.
		resp, _ := get(t, rt, context.Background(), "https://api.example.com/p", "Cache-Control", "only-if-cached")
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if len(keys) != 2 || keys[0] == keys[1] {
		t.Errorf("keys looked up %q: want two different", keys)
	}
}

// A Transport acting for a user (UserID) or a session (SessionID) has the
// default identity of that user or session: two users sharing a store
// keep their entries apart, and are cached at all.
func TestDefaultIdentityFromUserTransport(t *testing.T) {
	t.Parallel()
	store := cache.NewMemoryStore(0)
	var keys []string
	for _, tr := range []*composiohttp.Transport{{UserID: "alice"}, {UserID: "bob"}, {SessionID: "trs_1"}} {
		tr.Base = roundTripFunc(func(*http.Request) (*http.Response, error) {
			t.Fatal("the Transport must not be called: the request is refused by the test")
			return nil, nil
		})
		rt := cache.New(tr, cache.WithStore(recordingStore{store, &keys}))
		resp, _ := get(t, rt, context.Background(), "https://api.example.com/p", "Cache-Control", "only-if-cached")
		if resp.StatusCode != http.StatusGatewayTimeout {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	if len(keys) != 3 || keys[0] == keys[1] || keys[1] == keys[2] || keys[0] == keys[2] {
		t.Errorf("keys looked up %q: want three different", keys)
	}
}

type recordingStore struct {
	cache.Store
	keys *[]string
}

func (r recordingStore) Get(ctx context.Context, k string) ([]byte, bool, error) {
	*r.keys = append(*r.keys, k)
	return r.Store.Get(ctx, k)
}
