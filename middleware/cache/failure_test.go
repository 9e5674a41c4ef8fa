package cache_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil"
)

// TestServerErrorNeverStored: a 5xx, even one that carries freshness
// (max-age, Expires), is never stored, and never replaces nor removes a
// stored entry: after it, the stored 200 is still the URL's entry (a
// request with max-stale gets it from the store), never the 5xx. The
// clock is the synctest bubble's.
func TestServerErrorNeverStored(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		status    int      // the upstream's failure (0: the proxy's own error, proxyFault)
		proxy     int      // the status of the proxy's own error, proxy mode only
		cc        []string // the failure's Cache-Control field lines
		expires   bool     // the failure has an Expires an hour ahead
		prime     string   // the good response's Cache-Control; "" stores nothing first
		reqCC     string   // the failing request's Cache-Control
		primeDate time.Duration
	}{
		{name: "503 max-age, nothing stored", status: 503, cc: []string{"max-age=60"}},
		{name: "500 public max-age, nothing stored", status: 500, cc: []string{"public, max-age=3600"}},
		{name: "502 Expires, nothing stored", status: 502, expires: true},
		{name: "504 Max-Age on a second line, nothing stored", status: 504, cc: []string{"public", "Max-Age=60"}},
		{name: "501 max-age, nothing stored", status: 501, cc: []string{"max-age=60"}},
		{name: "503 max-age after a stale 200", status: 503, cc: []string{"max-age=60"}, prime: "max-age=60", primeDate: 90 * time.Second},
		{name: "500 Expires after a stale 200", status: 500, expires: true, prime: "max-age=60", primeDate: 90 * time.Second},
		{name: "503 after a stale 200 with stale-if-error out of window", status: 503, cc: []string{"max-age=60"}, prime: "max-age=60, stale-if-error=10", primeDate: 90 * time.Second},
		{name: "503 max-age after a fresh 200, request no-cache", status: 503, cc: []string{"max-age=60"}, prime: "max-age=3600", reqCC: "no-cache"},
		{name: "502 max-age after a no-cache 200", status: 502, cc: []string{"max-age=60"}, prime: "no-cache"},
		{name: "proxy 503 after a stale 200", proxy: 503, prime: "max-age=60", primeDate: 90 * time.Second},
		{name: "proxy 500 after a fresh 200, request no-cache", proxy: 500, prime: "max-age=3600", reqCC: "no-cache"},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			if tt.proxy != 0 && mode != "proxy" {
				continue
			}
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					var down atomic.Bool
					r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
						if down.Load() {
							for _, v := range tt.cc {
								w.Header().Add("Cache-Control", v)
							}
							if tt.expires {
								w.Header().Set("Expires", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
							}
							w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
							w.WriteHeader(tt.status)
							io.WriteString(w, "down")
							return
						}
						w.Header().Set("Cache-Control", tt.prime)
						w.Header().Set("ETag", `"v1"`)
						w.Header().Set("Date", time.Now().Add(-tt.primeDate).UTC().Format(http.TimeFormat))
						io.WriteString(w, "good")
					})
					if tt.prime != "" {
						r.mustCall(t, "/p")
						if r.store.Len() != 1 {
							t.Fatal("the good response was not stored")
						}
					}
					writes := r.store.writes()
					var hdr []string
					if tt.reqCC != "" {
						hdr = []string{"Cache-Control", tt.reqCC}
					}
					if tt.proxy != 0 {
						r.srv.Inject(testutil.Fault{Status: tt.proxy, Times: 1})
						_, _, err := r.call(t, context.Background(), "/p", hdr...)
						var perr *composiohttp.Error
						if !errors.As(err, &perr) || perr.StatusCode != tt.proxy {
							t.Fatalf("want the proxy's %d; got %v", tt.proxy, err)
						}
					} else {
						down.Store(true)
						resp, body := r.mustCall(t, "/p", hdr...)
						if resp.StatusCode != tt.status || body != "down" || hit(resp) {
							t.Fatalf("failing call: status %d, body %q, hit %v; want the upstream's %d", resp.StatusCode, body, hit(resp), tt.status)
						}
					}
					if got := r.store.writes(); got != writes {
						t.Errorf("the %d was written to the store (%d writes, want %d)", cmpOr(tt.status, tt.proxy), got, writes)
					}
					if r.store.contains("down") {
						t.Errorf("the store holds the %d's body", cmpOr(tt.status, tt.proxy))
					}
					upstream := r.upstream.Load()
					if tt.prime == "" {
						if r.store.Len() != 0 {
							t.Errorf("store holds %d entries after a %d, want none", r.store.Len(), tt.status)
						}
						// The next caller is not served the 5xx from the store.
						resp, _ := r.mustCall(t, "/p", "Cache-Control", "max-stale")
						if hit(resp) || r.upstream.Load() != upstream+1 {
							t.Errorf("next call served from the store (status %d), want the upstream", resp.StatusCode)
						}
						return
					}
					// The good entry is still there, unchanged (no write, one
					// entry): a caller accepting it stale gets it without an
					// upstream call (a no-cache entry is revalidated first).
					if r.store.Len() != 1 {
						t.Fatalf("the stored 200 was dropped by the %d", cmpOr(tt.status, tt.proxy))
					}
					if strings.Contains(tt.prime, "no-cache") {
						return
					}
					resp, body := r.mustCall(t, "/p", "Cache-Control", "max-stale")
					if !hit(resp) || resp.StatusCode != http.StatusOK || body != "good" || r.upstream.Load() != upstream {
						t.Errorf("after the failure: status %d, body %q, hit %v, upstream calls %d -> %d; want the stored 200 from the store",
							resp.StatusCode, body, hit(resp), upstream, r.upstream.Load())
					}
				})
			})
		}
	}
}

// TestOnlyIfCached: a request with only-if-cached (RFC 9111 §5.2.1.7)
// gets a stored response only if it may be reused without contacting the
// upstream (fresh, or stale within the request's max-stale, and matching
// Vary), else a 504 Gateway Timeout; next is never called, and the stored
// entry stays. The clock is the synctest bubble's.
func TestOnlyIfCached(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prime  string        // the stored response's Cache-Control; "" stores nothing
		age    time.Duration // of the stored response when asked
		reqCC  []string      // the only-if-cached request's Cache-Control field lines
		hdr    []string      // more header pairs of the only-if-cached request
		served bool          // the stored response answers; else 504
	}{
		{name: "nothing stored", reqCC: []string{"only-if-cached"}},
		{name: "fresh", prime: "max-age=3600", age: 90 * time.Second, reqCC: []string{"only-if-cached"}, served: true},
		{name: "stale", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"only-if-cached"}},
		{name: "stale, mixed case", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"Only-If-Cached"}},
		{name: "stale, max-stale, on a second line", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"max-stale", "Only-If-Cached"}, served: true},
		{name: "stale, second line, no max-age", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"public", "only-if-cached"}},
		{name: "stale with stale-if-error", prime: "max-age=60, stale-if-error=3600", age: 90 * time.Second, reqCC: []string{"only-if-cached"}},
		{name: "stale, max-stale", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"only-if-cached, max-stale"}, served: true},
		{name: "stale, max-stale=3600", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"only-if-cached, max-stale=3600"}, served: true},
		{name: "stale, max-stale=10", prime: "max-age=60", age: 90 * time.Second, reqCC: []string{"only-if-cached, max-stale=10"}},
		{name: "stale must-revalidate, max-stale", prime: "max-age=60, must-revalidate", age: 90 * time.Second, reqCC: []string{"only-if-cached, max-stale"}},
		{name: "response no-cache", prime: "no-cache", reqCC: []string{"only-if-cached"}},
		{name: "request no-cache", prime: "max-age=3600", reqCC: []string{"only-if-cached, no-cache"}},
		{name: "request max-age under the age", prime: "max-age=3600", age: 90 * time.Second, reqCC: []string{"only-if-cached, max-age=10"}},
		{name: "Vary mismatch", prime: "max-age=3600", reqCC: []string{"only-if-cached"}, hdr: []string{"Accept", "text/plain"}},
		{name: "Vary match", prime: "max-age=3600", reqCC: []string{"only-if-cached"}, hdr: []string{"Accept", "application/json"}, served: true},
		{name: "request that passes the cache by", prime: "max-age=3600", reqCC: []string{"only-if-cached"}, hdr: []string{"If-None-Match", `"v1"`}},
	}
	for _, mode := range modes {
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				synctest.Test(t, func(t *testing.T) {
					r := newRig(t, mode, func(w http.ResponseWriter, req *http.Request) {
						w.Header().Set("Cache-Control", tt.prime)
						w.Header().Set("Vary", "Accept")
						w.Header().Set("ETag", `"v1"`)
						w.Header().Set("Date", time.Now().Add(-tt.age).UTC().Format(http.TimeFormat))
						io.WriteString(w, "good")
					})
					if tt.prime != "" {
						r.mustCall(t, "/p", "Accept", "application/json")
						if r.store.Len() != 1 {
							t.Fatal("the response was not stored")
						}
					}
					calls := len(r.next.requests())
					writes := r.store.writes()
					hdr := append([]string(nil), tt.hdr...)
					if len(tt.hdr) == 0 || tt.hdr[0] != "Accept" {
						hdr = append(hdr, "Accept", "application/json")
					}
					for _, v := range tt.reqCC {
						hdr = append(hdr, "Cache-Control", v)
					}
					info := new(composiohttp.CallInfo)
					resp, body, err := r.call(t, composiohttp.WithCallInfo(context.Background(), info), "/p", hdr...)
					if err != nil {
						t.Fatalf("RoundTrip: %v", err)
					}
					if n := len(r.next.requests()); n != calls {
						t.Errorf("next called %d times for an only-if-cached request, want never", n-calls)
					}
					if tt.served {
						if resp.StatusCode != http.StatusOK || body != "good" || !hit(resp) || !info.CacheHit {
							t.Errorf("status %d, body %q, hit %v; want the stored 200", resp.StatusCode, body, hit(resp))
						}
					} else {
						if resp.StatusCode != http.StatusGatewayTimeout || hit(resp) || info.CacheHit || strings.Contains(body, "good") {
							t.Errorf("status %d, body %q, hit %v; want 504 Gateway Timeout", resp.StatusCode, body, hit(resp))
						}
						if resp.Status != "504 Gateway Timeout" {
							t.Errorf("Status %q", resp.Status)
						}
					}
					if got := r.store.writes(); got != writes {
						t.Errorf("%d store writes by an only-if-cached request, want none", got-writes)
					}
					if tt.prime != "" && r.store.Len() != 1 {
						t.Errorf("the stored entry was dropped")
					}
				})
			})
		}
	}
}

// TestOnlyIfCachedClosesBody: an only-if-cached request answered with a
// 504 before next is called still has its body closed (the RoundTripper
// contract), whatever its method.
func TestOnlyIfCachedClosesBody(t *testing.T) {
	t.Parallel()
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		t.Run(method, func(t *testing.T) {
			t.Parallel()
			r := newRig(t, "direct", func(w http.ResponseWriter, req *http.Request) { io.WriteString(w, "good") })
			body := &closeRecorder{Reader: strings.NewReader("payload")}
			req, _ := http.NewRequest(method, "https://api.github.com/p", body)
			req.Header.Set("Cache-Control", "only-if-cached")
			resp, err := r.rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusGatewayTimeout || resp.Request != req {
				t.Errorf("status %d (Request the caller's: %v), want 504", resp.StatusCode, resp.Request == req)
			}
			if !body.closed.Load() {
				t.Error("request body not closed")
			}
			if r.upstream.Load() != 0 || len(r.next.requests()) != 0 {
				t.Error("next was called")
			}
		})
	}
}

type closeRecorder struct {
	io.Reader
	closed atomic.Bool
}

func (c *closeRecorder) Close() error { c.closed.Store(true); return nil }
