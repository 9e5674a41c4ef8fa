package cache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil"
)

// The tests of this file check the storage and reuse rules listed in the
// package documentation (doc.go), each in both modes where it applies:
// "proxy" (the cache above a composiohttp.Transport talking to the
// in-process fake) and "direct" (the cache above schemes.Transport, which
// sends the request to the upstream itself).

var modes = []string{"proxy", "direct"}

// rig is a cache above one mode's Transport, with everything a test looks
// at: the raw store, the upstream's call count, the requests that reached
// the cache's next RoundTripper.
type rig struct {
	rt       http.RoundTripper
	store    *rawStore
	upstream atomic.Int64 // calls that reached the upstream handler
	next     *recordNext
	srv      *testutil.Server // proxy mode only
	fail     atomic.Pointer[error]
}

// newRig builds a rig of mode whose upstream runs h for
// https://api.github.com. It works inside a synctest bubble (nothing
// listens on a socket).
func newRig(t testing.TB, mode string, h http.HandlerFunc, opts ...cache.Option) *rig {
	t.Helper()
	r := &rig{store: &rawStore{MemoryStore: cache.NewMemoryStore(0)}}
	counted := func(w http.ResponseWriter, req *http.Request) {
		r.upstream.Add(1)
		h(w, req)
	}
	var below http.RoundTripper
	switch mode {
	case "proxy":
		srv := testutil.NewUnstartedServer()
		srv.URL = "http://composio.test"
		srv.AddAccount(testutil.Account{ID: "ca_1", Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "tok_ca_1"}, Handler: http.HandlerFunc(counted)})
		tr := srv.InProcessTransport()
		tr.ConnectedAccountID = "ca_1"
		r.srv, below = srv, tr
	case "direct":
		upstream := roundTripFunc(func(req *http.Request) (*http.Response, error) {
			if err := r.fail.Swap(nil); err != nil {
				return nil, *err
			}
			rec := httptest.NewRecorder()
			counted(rec, req)
			resp := rec.Result()
			resp.Request = req
			return resp, nil
		})
		below = &schemes.Transport{Base: upstream, Connection: &credentials.Connection{
			AuthScheme: credentials.OAuth2, ToolkitSlug: "github",
			Val: credentials.Val{AccessToken: "tok_direct", BaseURL: "https://api.github.com"}}}
		opts = append([]cache.Option{cache.WithDefaultIdentity("direct")}, opts...)
	default:
		t.Fatalf("unknown mode %q", mode)
	}
	r.next = &recordNext{next: below}
	r.rt = cache.New(r.next, append(opts, cache.WithStore(r.store))...)
	return r
}

// transportError makes the next call fail as a broken connection does:
// the fake drops it (proxy mode), the upstream's connection resets
// (direct mode).
func (r *rig) transportError() {
	if r.srv != nil {
		r.srv.Inject(testutil.Fault{Drop: true, Times: 1})
		return
	}
	err := error(fmt.Errorf("read tcp: %w", io.ErrUnexpectedEOF))
	r.fail.Store(&err)
}

// call sends a GET of path with the header pairs hdr and returns the
// response (body read and closed), its body and RoundTrip's error.
func (r *rig) call(t testing.TB, ctx context.Context, path string, hdr ...string) (*http.Response, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := r.rt.RoundTrip(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if hit(resp) && resp.Request != req {
		t.Errorf("a response from the store has a Request other than the caller's")
	}
	return resp, string(b), nil
}

// mustCall is call failing the test on an error.
func (r *rig) mustCall(t testing.TB, path string, hdr ...string) (*http.Response, string) {
	t.Helper()
	resp, body, err := r.call(t, context.Background(), path, hdr...)
	if err != nil {
		t.Fatalf("RoundTrip: %v", err)
	}
	return resp, body
}

// recordNext records a copy of every request that reaches the cache's
// next RoundTripper.
type recordNext struct {
	next http.RoundTripper
	mu   sync.Mutex
	reqs []*http.Request
}

func (n *recordNext) RoundTrip(req *http.Request) (*http.Response, error) {
	n.mu.Lock()
	n.reqs = append(n.reqs, req.Clone(context.Background()))
	n.mu.Unlock()
	return n.next.RoundTrip(req)
}

func (n *recordNext) Unwrap() http.RoundTripper { return n.next }

func (n *recordNext) requests() []*http.Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]*http.Request(nil), n.reqs...)
}

// rawStore keeps a copy of every value ever written, to search the raw
// bytes a store receives.
type rawStore struct {
	*cache.MemoryStore
	mu     sync.Mutex
	values [][]byte
}

func (s *rawStore) Set(ctx context.Context, k string, v []byte) error {
	s.mu.Lock()
	s.values = append(s.values, bytes.Clone(v))
	s.mu.Unlock()
	return s.MemoryStore.Set(ctx, k, v)
}

// contains reports whether any value ever written holds secret.
func (s *rawStore) contains(secret string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.values {
		if bytes.Contains(v, []byte(secret)) {
			return true
		}
	}
	return false
}

func (s *rawStore) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.values)
}

// hit reports whether resp was served from the cache.
func hit(resp *http.Response) bool { return resp.Header.Get(cache.XFromCache) == "1" }

// TestStorageRules: what the upstream says about storing (Cache-Control
// in any case and on any number of field lines, Vary, the status) decides
// whether the second identical GET is served from the cache.
func TestStorageRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		cc     []string // the response's Cache-Control field lines
		vary   []string
		cookie string   // the response's Set-Cookie, if any
		status int      // default 200
		reqCC  []string // the second request's Cache-Control field lines
		first  []string // the first request's Cache-Control field lines
		stored bool     // the first response is stored
		served bool     // the second request is answered from the store
	}{
		{name: "max-age stored and served", cc: []string{"max-age=600"}, stored: true, served: true},
		// Directive names are case-insensitive (RFC 9111 §5.2).
		{name: "No-Store in mixed case", cc: []string{"max-age=600, No-Store"}},
		{name: "NO-STORE alone", cc: []string{"NO-STORE"}},
		{name: "Max-Age in mixed case is fresh", cc: []string{"Max-Age=600"}, stored: true, served: true},
		{name: "No-Cache in mixed case revalidates", cc: []string{"max-age=600, No-Cache"}, stored: true},
		// Every Cache-Control field line counts (RFC 9110 §5.3).
		{name: "no-store on a second field line", cc: []string{"max-age=600", "no-store"}},
		{name: "no-cache on a second field line revalidates", cc: []string{"max-age=600", "no-cache"}, stored: true},
		{name: "max-age on a second field line", cc: []string{"public", "max-age=600"}, stored: true, served: true},
		// Vary: * never matches a later request (RFC 9111 §4.1).
		{name: "Vary star", cc: []string{"max-age=600"}, vary: []string{"*"}},
		{name: "Vary star among names", cc: []string{"max-age=600"}, vary: []string{"Accept, *"}},
		{name: "Vary star on a second field line", cc: []string{"max-age=600"}, vary: []string{"Accept", "*"}},
		// A 206 to a request without Range is not the full answer (RFC 9111 §3.3).
		{name: "206 partial content", cc: []string{"max-age=600"}, status: http.StatusPartialContent},
		// A Set-Cookie (a session, a credential) never reaches a store.
		{name: "Set-Cookie", cc: []string{"max-age=600"}, cookie: "sid=SECRET"},
		{name: "Set-Cookie, private", cc: []string{"private, max-age=600"}, cookie: "sid=SECRET"},
		// The request's directives, in any case and on any line.
		{name: "request No-Store", cc: []string{"max-age=600"}, first: []string{"No-Store"}},
		{name: "request no-store on a second line", cc: []string{"max-age=600"}, first: []string{"max-age=0", "no-store"}},
		{name: "request No-Cache revalidates", cc: []string{"max-age=600"}, reqCC: []string{"No-Cache"}, stored: true},
		{name: "request no-cache on a second line revalidates", cc: []string{"max-age=600"}, reqCC: []string{"max-stale=60", "no-cache"}, stored: true},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
					for _, v := range tt.cc {
						w.Header().Add("Cache-Control", v)
					}
					for _, v := range tt.vary {
						w.Header().Add("Vary", v)
					}
					w.Header().Set("ETag", `"v1"`)
					if tt.cookie != "" {
						w.Header().Set("Set-Cookie", tt.cookie)
					}
					if tt.status == http.StatusPartialContent {
						w.Header().Set("Content-Range", "bytes 0-3/10")
					}
					w.WriteHeader(cmpOr(tt.status, http.StatusOK))
					io.WriteString(w, "body")
				})
				var first, second []string
				for _, v := range tt.first {
					first = append(first, "Cache-Control", v)
				}
				for _, v := range tt.reqCC {
					second = append(second, "Cache-Control", v)
				}
				resp1, _ := r.mustCall(t, "/p", first...)
				if got := r.store.Len() > 0; got != tt.stored {
					t.Errorf("stored = %v, want %v (status %d, Cache-Control %q)", got, tt.stored, resp1.StatusCode, resp1.Header.Values("Cache-Control"))
				}
				if tt.cookie != "" && (resp1.Header.Get("Set-Cookie") != tt.cookie || r.store.contains("SECRET")) {
					t.Errorf("Set-Cookie to the caller %q (want %q); in the store: %v", resp1.Header.Get("Set-Cookie"), tt.cookie, r.store.contains("SECRET"))
				}
				resp2, body := r.mustCall(t, "/p", second...)
				served := r.upstream.Load() == 1
				if served != tt.served {
					t.Errorf("second call served from the store = %v, want %v (upstream calls %d)", served, tt.served, r.upstream.Load())
				}
				if hit(resp2) != tt.served {
					t.Errorf("X-From-Cache %q, want hit %v", resp2.Header.Get(cache.XFromCache), tt.served)
				}
				if body != "body" {
					t.Errorf("second body %q", body)
				}
				// The caller sees the upstream's field lines as they came
				// (the proxy's envelope has one value per header name).
				if got := resp1.Header.Values("Cache-Control"); mode == "direct" && strings.Join(got, "|") != strings.Join(tt.cc, "|") {
					t.Errorf("first response's Cache-Control %q, want the upstream's %q", got, tt.cc)
				}
			})
		}
	}
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// TestStoredEntryRechecked: an entry in the store that breaks a storage
// rule (written by another program sharing a Redis store, or by an older
// version) is never served: the cache applies the rules again before it
// answers from the store.
func TestStoredEntryRechecked(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rewrite func(entry []byte) []byte
		served  bool
	}{
		{name: "untouched", rewrite: func(b []byte) []byte { return b }, served: true},
		{name: "Vary star", rewrite: func(b []byte) []byte { return insertHeader(b, "Vary: *") }},
		{name: "vary star in lower case", rewrite: func(b []byte) []byte { return insertHeader(b, "vary: accept, *") }},
		{name: "No-Store on a second line", rewrite: func(b []byte) []byte { return insertHeader(b, "Cache-Control: No-Store") }},
		{name: "206", rewrite: func(b []byte) []byte {
			return bytes.Replace(b, []byte("HTTP/1.1 200 OK"), []byte("HTTP/1.1 206 Partial Content"), 1)
		}},
		{name: "503 (an older version stored 5xx)", rewrite: func(b []byte) []byte {
			return bytes.Replace(b, []byte("HTTP/1.1 200 OK"), []byte("HTTP/1.1 503 Service Unavailable"), 1)
		}},
		{name: "Set-Cookie (an older version stored it)", rewrite: func(b []byte) []byte { return insertHeader(b, "Set-Cookie: sid=SECRET") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &stub{h: cacheable}
			store := &rewritingStore{MemoryStore: cache.NewMemoryStore(0), rewrite: tt.rewrite}
			rt := cache.New(s, cache.WithStore(store))
			get(t, rt, account("a"), "https://api.example.com/p")
			resp, _ := get(t, rt, account("a"), "https://api.example.com/p")
			if served := s.calls.Load() == 1; served != tt.served || hit(resp) != tt.served {
				t.Errorf("served from the store = %v (X-From-Cache %q), want %v", served, resp.Header.Get(cache.XFromCache), tt.served)
			}
		})
	}
}

// rewritingStore changes every value as it is written.
type rewritingStore struct {
	*cache.MemoryStore
	rewrite func([]byte) []byte
}

func (s *rewritingStore) Set(ctx context.Context, k string, v []byte) error {
	return s.MemoryStore.Set(ctx, k, s.rewrite(bytes.Clone(v)))
}

// insertHeader adds a header line after the status line of a serialized
// response.
func insertHeader(b []byte, line string) []byte {
	i := bytes.Index(b, []byte("\r\n")) + 2
	return append(append(append([]byte(nil), b[:i]...), line+"\r\n"...), b[i:]...)
}

// TestAuthorizationNeverStored: with WithAuthorizedRequests and a
// response that varies on Authorization, the store holds a digest of the
// caller's Authorization, never the value; no X-Varied-* header reaches
// the caller; the next RoundTripper gets the real value; an equal
// Authorization is served from the store, another one is not.
func TestAuthorizationNeverStored(t *testing.T) {
	t.Parallel()
	const secret = "Bearer caller-secret-2c9f"
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Add("Vary", "Authorization")
				w.Header().Add("Vary", "Accept")
				io.WriteString(w, "body")
			}, cache.WithAuthorizedRequests())
			calls := []struct {
				auth   string
				served bool
			}{{secret, false}, {secret, true}, {"Bearer other", false}, {"Bearer other", true}, {secret, true}}
			for i, c := range calls {
				resp, _ := r.mustCall(t, "/me", "Authorization", c.auth, "Accept", "application/json")
				if hit(resp) != c.served {
					t.Errorf("call %d: served from the store = %v, want %v", i, hit(resp), c.served)
				}
				for k, v := range resp.Header {
					if strings.HasPrefix(k, "X-Varied-") {
						t.Errorf("call %d: response carries %s: %q", i, k, v)
					}
				}
			}
			if r.store.writes() == 0 {
				t.Fatal("nothing stored")
			}
			if r.store.contains("caller-secret") || r.store.contains("Bearer other") {
				t.Errorf("the store holds an Authorization value in clear")
			}
			for _, req := range r.next.requests() {
				if a := req.Header.Get("Authorization"); a != secret && a != "Bearer other" {
					t.Errorf("next got Authorization %q, want the caller's", a)
				}
			}
			if n := r.upstream.Load(); n != 2 {
				t.Errorf("upstream called %d times, want 2 (one per Authorization)", n)
			}
		})
	}
}

// TestVariedHeadersNeverExposed: httpcache's X-Varied-* bookkeeping
// headers never reach the caller, on a miss or a hit, and an upstream
// cannot plant them to steer the matching of Vary.
func TestVariedHeadersNeverExposed(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Vary", "Accept-Language")
				w.Header().Set("X-Varied-Accept-Language", "fr") // planted
				io.WriteString(w, "body "+req.Header.Get("Accept-Language"))
			})
			// Stored without Accept-Language; the planted value would make
			// a later "fr" request match it.
			if resp, _ := r.mustCall(t, "/p"); resp.Header.Get("X-Varied-Accept-Language") != "" {
				t.Errorf("miss carries X-Varied-Accept-Language")
			}
			if resp, body := r.mustCall(t, "/p", "Accept-Language", "fr"); hit(resp) || body != "body fr" {
				t.Errorf("fr request served %q (hit %v): the planted X-Varied header matched", body, hit(resp))
			}
			resp, _ := r.mustCall(t, "/p", "Accept-Language", "fr")
			if !hit(resp) {
				t.Errorf("fr request not served from the store the second time")
			}
			for k := range resp.Header {
				if strings.HasPrefix(k, "X-Varied-") {
					t.Errorf("hit carries %s", k)
				}
			}
		})
	}
}

// TestStaleIfError: a stale entry answers an error only when the error is
// a 5xx (500, 502, 503, 504: RFC 5861) or a transport error, never a
// proxy 4xx such as an account error, and only within a stated window
// (stale-if-error=N seconds, measured from the entry's Date); a bare
// stale-if-error is ignored. The clock is the synctest bubble's.
func TestStaleIfError(t *testing.T) {
	t.Parallel()
	type failure string
	const (
		upstream503  failure = "upstream 503"
		transport    failure = "transport error"
		proxy500     failure = "proxy 500"
		proxy503     failure = "proxy 503"
		accountError failure = "proxy 422 account not active"
		rateLimited  failure = "proxy 429"
		proxy401     failure = "proxy 401"
		proxy501     failure = "proxy 501"
	)
	tests := []struct {
		name  string
		cc    string        // the stored response's Cache-Control
		age   time.Duration // of the stored response when the error happens
		reqCC string        // the failing request's Cache-Control
		fail  failure
		stale bool // the stale entry answers
	}{
		{name: "5xx within window", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: upstream503, stale: true},
		{name: "transport error within window", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: transport, stale: true},
		{name: "proxy 500 within window", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: proxy500, stale: true},
		{name: "proxy 503 within window", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: proxy503, stale: true},
		{name: "account error never", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: accountError},
		{name: "rate limited never", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: rateLimited},
		{name: "bad API key never", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: proxy401},
		{name: "proxy 501 never", cc: "max-age=60, stale-if-error=3600", age: 90 * time.Second, fail: proxy501},
		{name: "bare stale-if-error, ten years old", cc: "max-age=60, stale-if-error", age: 10 * 365 * 24 * time.Hour, fail: upstream503},
		{name: "bare stale-if-error, young", cc: "max-age=60, stale-if-error", age: 90 * time.Second, fail: upstream503},
		{name: "bare stale-if-error, transport error", cc: "max-age=60, stale-if-error", age: 90 * time.Second, fail: transport},
		{name: "outside the window", cc: "max-age=60, stale-if-error=600", age: 2 * time.Hour, fail: upstream503},
		{name: "not delta-seconds", cc: "max-age=60, stale-if-error=soon", age: 90 * time.Second, fail: upstream503},
		{name: "negative seconds", cc: "max-age=60, stale-if-error=-5", age: 90 * time.Second, fail: upstream503},
		{name: "no stale-if-error", cc: "max-age=60", age: 90 * time.Second, fail: upstream503},
		{name: "mixed-case directive", cc: "max-age=60, Stale-If-Error=3600", age: 90 * time.Second, fail: upstream503, stale: true},
		{name: "request window", cc: "max-age=60", reqCC: "stale-if-error=3600", age: 90 * time.Second, fail: upstream503, stale: true},
		{name: "request bare stale-if-error", cc: "max-age=60", reqCC: "stale-if-error", age: 90 * time.Second, fail: upstream503},
		{name: "request bare, account error", cc: "max-age=60, stale-if-error=3600", reqCC: "stale-if-error", age: 90 * time.Second, fail: accountError},
		// RFC 9111 §4.2.4: no stale response where must-revalidate,
		// proxy-revalidate or no-cache forbids it.
		{name: "must-revalidate", cc: "max-age=60, must-revalidate, stale-if-error=3600", age: 90 * time.Second, fail: upstream503},
		{name: "proxy-revalidate", cc: "max-age=60, Proxy-Revalidate, stale-if-error=3600", age: 90 * time.Second, fail: transport},
		{name: "no-cache", cc: "no-cache, stale-if-error=3600", age: 90 * time.Second, fail: upstream503},
		{name: "must-revalidate, request window", cc: "max-age=60, must-revalidate", reqCC: "stale-if-error=3600", age: 90 * time.Second, fail: upstream503},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			proxyOnly := tt.fail != upstream503 && tt.fail != transport
			if proxyOnly && mode != "proxy" {
				continue
			}
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					var down atomic.Bool
					r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
						if down.Load() {
							w.WriteHeader(http.StatusServiceUnavailable)
							io.WriteString(w, "down")
							return
						}
						w.Header().Set("Cache-Control", tt.cc)
						w.Header().Set("Date", time.Now().Add(-tt.age).UTC().Format(http.TimeFormat))
						io.WriteString(w, "stale body")
					})
					if _, body := r.mustCall(t, "/p"); body != "stale body" {
						t.Fatalf("first body %q", body)
					}
					if r.store.Len() != 1 {
						t.Fatalf("first response not stored")
					}
					switch tt.fail {
					case upstream503:
						down.Store(true)
					case transport:
						r.transportError()
					case proxy500:
						r.srv.Inject(testutil.Fault{Status: 500, Times: 1})
					case proxy503:
						r.srv.Inject(testutil.Fault{Status: 503, Times: 1})
					case accountError:
						r.srv.Inject(testutil.Fault{Status: 422, Slug: composiohttp.SlugConnectedAccountNotActive, Times: 1})
					case rateLimited:
						r.srv.Inject(testutil.Fault{Status: 429, Times: 1})
					case proxy401:
						r.srv.Inject(testutil.Fault{Status: 401, Times: 1})
					case proxy501:
						r.srv.Inject(testutil.Fault{Status: 501, Times: 1})
					}
					var hdr []string
					if tt.reqCC != "" {
						hdr = []string{"Cache-Control", tt.reqCC}
					}
					info := new(composiohttp.CallInfo)
					resp, body, err := r.call(t, composiohttp.WithCallInfo(context.Background(), info), "/p", hdr...)
					if tt.stale {
						if err != nil || body != "stale body" || !hit(resp) || !info.CacheHit {
							t.Fatalf("want the stale entry; got err %v, body %q", err, body)
						}
						return
					}
					switch {
					case err == nil && hit(resp):
						t.Fatalf("answered from the store (body %q); want the failure", body)
					case tt.fail == upstream503:
						if err != nil || resp.StatusCode != http.StatusServiceUnavailable || body != "down" {
							t.Fatalf("want the upstream's 503; got err %v, body %q", err, body)
						}
					case tt.fail == transport:
						if err == nil || composiohttp.CodeOf(err) != composiohttp.CodeUnreachable {
							t.Fatalf("want the transport error; got %v", err)
						}
					default:
						var perr *composiohttp.Error
						if !errors.As(err, &perr) || perr.StatusCode < 400 {
							t.Fatalf("want the proxy's error; got %v", err)
						}
						if tt.fail == accountError && composiohttp.CodeOf(err) != composiohttp.CodeAccountNotActive {
							t.Errorf("CodeOf = %v, want account_not_active", composiohttp.CodeOf(err))
						}
					}
					if info.CacheHit {
						t.Errorf("CallInfo.CacheHit set on a failure")
					}
				})
			})
		}
	}
}

// TestMaxStaleAndMustRevalidate: a request's max-stale does not make a
// stale entry marked must-revalidate (or proxy-revalidate) usable without
// validation (RFC 9111 §5.2.2.2); without must-revalidate it does.
func TestMaxStaleAndMustRevalidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, cc, reqCC string
		served          bool
	}{
		{name: "max-stale", cc: "max-age=60", reqCC: "max-stale", served: true},
		{name: "max-stale=N", cc: "max-age=60", reqCC: "max-stale=3600", served: true},
		{name: "must-revalidate", cc: "max-age=60, must-revalidate", reqCC: "max-stale"},
		{name: "must-revalidate, max-stale=N", cc: "max-age=60, must-revalidate", reqCC: "max-stale=3600"},
		{name: "Proxy-Revalidate", cc: "max-age=60, Proxy-Revalidate", reqCC: "Max-Stale"},
		{name: "fresh must-revalidate", cc: "max-age=3600, must-revalidate", reqCC: "max-stale", served: true},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
						w.Header().Set("Cache-Control", tt.cc)
						w.Header().Set("Date", time.Now().Add(-90*time.Second).UTC().Format(http.TimeFormat))
						io.WriteString(w, "body")
					})
					r.mustCall(t, "/p")
					resp, _ := r.mustCall(t, "/p", "Cache-Control", tt.reqCC)
					if hit(resp) != tt.served || (r.upstream.Load() == 1) != tt.served {
						t.Errorf("served from the store = %v (upstream calls %d), want %v", hit(resp), r.upstream.Load(), tt.served)
					}
				})
			})
		}
	}
}

// TestDateAddedOnArrival: a response without a Date header gets one on
// arrival (RFC 9110 §6.6.1), so that its freshness can be computed and it
// is served from the store while fresh.
func TestDateAddedOnArrival(t *testing.T) {
	t.Parallel()
	next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 200, Request: r, ContentLength: 2,
			Header: http.Header{"Cache-Control": {"max-age=600"}}, Body: io.NopCloser(strings.NewReader("ok"))}, nil
	})
	rt := cache.New(next)
	resp, _ := get(t, rt, account("a"), "https://api.example.com/p")
	if _, err := http.ParseTime(resp.Header.Get("Date")); err != nil {
		t.Errorf("no Date on the first response: %q", resp.Header.Get("Date"))
	}
	if resp, _ := get(t, rt, account("a"), "https://api.example.com/p"); !hit(resp) {
		t.Errorf("second call not served from the store")
	}
}

// TestDocRulesNameTests: every rule listed in the package documentation
// names at least one test, and every test it names exists.
func TestDocRulesNameTests(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sub, err := filepath.Glob("rediscache/*_test.go") // the Redis store's tests
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, sub...)
	tests := map[string]bool{}
	var doc string
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if name == "doc.go" {
			doc = f.Doc.Text()
		}
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && (strings.HasPrefix(fn.Name.Name, "Test") || strings.HasPrefix(fn.Name.Name, "Fuzz")) {
				tests[fn.Name.Name] = true
			}
		}
	}
	_, rules, ok := strings.Cut(doc, "Storage and reuse rules")
	if !ok {
		t.Fatal("doc.go has no section on the storage and reuse rules")
	}
	testName := regexp.MustCompile(`\b(Test|Fuzz)[A-Z]\w*`)
	bullets := strings.Split(rules, "  - ")[1:]
	if len(bullets) < 10 {
		t.Fatalf("%d rules listed", len(bullets))
	}
	for _, b := range bullets {
		names := testName.FindAllString(b, -1)
		if len(names) == 0 {
			t.Errorf("rule names no test: %q", b)
		}
		for _, n := range names {
			if !tests[n] {
				t.Errorf("rule names %s, which does not exist", n)
			}
		}
	}
}

// TestCallerConditionalRequest: a 304 answering the caller's own
// validators is the caller's answer: it is neither stored as the URL's
// entry (a later unconditional GET must get the full response) nor
// replaced with a stored response.
func TestCallerConditionalRequest(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("ETag", `"v1"`)
				if req.Header.Get("If-None-Match") == `"v1"` {
					w.WriteHeader(http.StatusNotModified)
					return
				}
				io.WriteString(w, "full")
			})
			if resp, _ := r.mustCall(t, "/p", "If-None-Match", `"v1"`); resp.StatusCode != http.StatusNotModified {
				t.Fatalf("conditional request: status %d, want the upstream's 304", resp.StatusCode)
			}
			if resp, body := r.mustCall(t, "/p"); resp.StatusCode != 200 || body != "full" {
				t.Errorf("unconditional request after a 304: status %d, body %q; want the full response", resp.StatusCode, body)
			}
		})
	}
}

// TestCredentialHeadersNeverStored: like Authorization, the values of
// Cookie and Proxy-Authorization, which a response may vary on, reach the
// store only as digests, and Vary still matches per value.
func TestCredentialHeadersNeverStored(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		for _, name := range []string{"Cookie", "Proxy-Authorization", "X-Api-Key", "X-Shopify-Access-Token", "Private-Token", "X-Auth-Token"} {
			t.Run(mode+"/"+name, func(t *testing.T) {
				t.Parallel()
				r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
					w.Header().Set("Cache-Control", "max-age=600")
					w.Header().Set("Vary", name)
					io.WriteString(w, "body")
				})
				calls := []struct {
					value  string
					served bool
				}{{"session=s3cr3t-a", false}, {"session=s3cr3t-a", true}, {"session=s3cr3t-b", false}, {"session=s3cr3t-b", true}}
				for i, c := range calls {
					resp, _ := r.mustCall(t, "/me", name, c.value)
					if hit(resp) != c.served {
						t.Errorf("call %d: served from the store = %v, want %v", i, hit(resp), c.served)
					}
				}
				if r.store.writes() == 0 {
					t.Fatal("nothing stored")
				}
				if r.store.contains("s3cr3t") {
					t.Errorf("the store holds a %s value in clear", name)
				}
				for _, req := range r.next.requests() {
					if v := req.Header.Get(name); !strings.HasPrefix(v, "session=s3cr3t-") {
						t.Errorf("next got %s %q, want the caller's", name, v)
					}
				}
			})
		}
	}
}

// TestNilResponseFromNext: a next that breaks the RoundTripper contract
// with no response and no error panics neither a cacheable GET (httpcache
// reads the response's status) nor a POST (whose success drops entries):
// the cache reports the broken next as an error.
func TestNilResponseFromNext(t *testing.T) {
	t.Parallel()
	next := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, nil })
	rt := cache.New(next)
	for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPost} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(account("ca_1"), method, "https://api.example.com/x", nil)
			resp, err := rt.RoundTrip(req)
			if err == nil {
				t.Errorf("RoundTrip = %v, nil; want an error", resp)
			}
			if resp != nil {
				t.Errorf("a response with the error: %v", resp)
			}
		})
	}
}
