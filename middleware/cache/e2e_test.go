package cache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware/cache"
	"github.com/composiohttp/composiohttp/testutil"
)

// fake starts the fake proxy with accounts ca_1 and ca_2 whose upstream
// runs h, and returns it with a Transport acting as ca_1 by default.
func fake(t testing.TB, h http.HandlerFunc) (*testutil.Server, *composiohttp.Transport) {
	srv := testutil.NewServer(t)
	for _, id := range []string{"ca_1", "ca_2"} {
		srv.AddAccount(testutil.Account{ID: id, Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "tok_" + id}, Handler: h})
	}
	tr := srv.Transport()
	tr.ConnectedAccountID = "ca_1"
	return srv, tr
}

// whoami answers with the token the fake injected, so that a response
// shows which account it was made for; fresh for an hour.
func whoami(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=3600")
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"auth":%q,"path":%q}`, r.Header.Get("Authorization"), r.URL.Path)
}

func TestE2EHitWithoutProxyCall(t *testing.T) {
	t.Parallel()
	srv, tr := fake(t, whoami)
	rt := cache.New(tr)
	_, first := get(t, rt, context.Background(), "https://api.github.com/user")
	info := new(composiohttp.CallInfo)
	resp, second := get(t, rt, composiohttp.WithCallInfo(context.Background(), info), "https://api.github.com/user")
	if n := len(srv.Requests()); n != 1 {
		t.Fatalf("proxy saw %d requests, want 1", n)
	}
	if first != second || first != `{"auth":"Bearer tok_ca_1","path":"/user"}` {
		t.Errorf("first %q second %q", first, second)
	}
	if !info.CacheHit || resp.Header.Get(cache.XFromCache) != "1" {
		t.Errorf("hit not marked: CacheHit %v header %q", info.CacheHit, resp.Header.Get(cache.XFromCache))
	}
}

func TestE2ETwoAccountsNeverShare(t *testing.T) {
	t.Parallel()
	srv, tr := fake(t, whoami)
	rt := cache.New(tr)
	want := map[string]string{
		"":     `{"auth":"Bearer tok_ca_1","path":"/user"}`, // the Transport's own account
		"ca_1": `{"auth":"Bearer tok_ca_1","path":"/user"}`,
		"ca_2": `{"auth":"Bearer tok_ca_2","path":"/user"}`,
	}
	for range 2 {
		for _, id := range []string{"", "ca_1", "ca_2"} {
			ctx := context.Background()
			if id != "" {
				ctx = composiohttp.WithConnectedAccount(ctx, id)
			}
			if _, body := get(t, rt, ctx, "https://api.github.com/user"); body != want[id] {
				t.Errorf("account %q got %s", id, body)
			}
		}
	}
	// The default identity of a Transport acting as ca_1 is ca_1's: 2 misses.
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("proxy saw %d requests, want 2", n)
	}
}

func TestE2EETagRevalidation(t *testing.T) {
	t.Parallel()
	var notModified atomic.Int64
	srv, tr := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("ETag", `"v7"`)
		if r.Header.Get("If-None-Match") == `"v7"` {
			notModified.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "full body")
	})
	rt := cache.New(tr)
	get(t, rt, context.Background(), "https://api.github.com/doc")
	info := new(composiohttp.CallInfo)
	resp, body := get(t, rt, composiohttp.WithCallInfo(context.Background(), info), "https://api.github.com/doc")
	if resp.StatusCode != 200 || body != "full body" {
		t.Errorf("revalidated response %d %q", resp.StatusCode, body)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || notModified.Load() != 1 {
		t.Fatalf("proxy saw %d requests, upstream answered 304 %d times; want 2 and 1", len(reqs), notModified.Load())
	}
	var sent bool
	for _, p := range reqs[1].Envelope.Parameters {
		sent = sent || (p.Name == "If-None-Match" && p.Value == `"v7"`)
	}
	if !sent {
		t.Errorf("If-None-Match not sent through the proxy: %+v", reqs[1].Envelope.Parameters)
	}
	if !info.CacheHit || info.RequestID == "" {
		t.Errorf("CallInfo after revalidation: %+v", info)
	}
}

func TestE2ELastModifiedRevalidation(t *testing.T) {
	t.Parallel()
	const lm = "Mon, 02 Jan 2006 15:04:05 GMT"
	srv, tr := fake(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Last-Modified", lm)
		w.Header().Set("Cache-Control", "max-age=0")
		if r.Header.Get("If-Modified-Since") == lm {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		io.WriteString(w, "v1")
	})
	rt := cache.New(tr)
	get(t, rt, context.Background(), "https://api.github.com/lm")
	if resp, body := get(t, rt, context.Background(), "https://api.github.com/lm"); body != "v1" || resp.Header.Get(cache.XFromCache) != "1" {
		t.Errorf("got %q %v", body, resp.Header)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("proxy saw %d requests, want 2", n)
	}
}

func TestE2EAuthorizationNotCached(t *testing.T) {
	t.Parallel()
	srv, tr := fake(t, whoami)
	rt := cache.New(tr)
	for range 2 {
		get(t, rt, context.Background(), "https://api.github.com/user", "Authorization", "Bearer mine")
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("proxy saw %d requests, want 2: a request with its own Authorization was cached", n)
	}
}

func TestE2EBrokenStoreDegrades(t *testing.T) {
	t.Parallel()
	srv, tr := fake(t, whoami)
	rt := cache.New(tr, cache.WithStore(brokenStore{}))
	for range 2 {
		if resp, body := get(t, rt, context.Background(), "https://api.github.com/user"); resp.StatusCode != 200 || body == "" {
			t.Fatalf("got %d %q", resp.StatusCode, body)
		}
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("proxy saw %d requests, want 2", n)
	}
}

func TestE2EProxyErrorNotCached(t *testing.T) {
	t.Parallel()
	srv, tr := fake(t, whoami)
	srv.Inject(testutil.Fault{Status: 500, Times: 1})
	rt := cache.New(tr)
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
	if _, err := rt.RoundTrip(req); err == nil {
		t.Fatal("want the proxy error")
	}
	get(t, rt, context.Background(), "https://api.github.com/user")
	get(t, rt, context.Background(), "https://api.github.com/user")
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("proxy saw %d requests, want 2", n)
	}
}

// BenchmarkE2E compares a cache hit with a miss, both through the
// in-process fake.
func BenchmarkE2E(b *testing.B) {
	for _, bc := range []struct {
		name string
		cc   string
	}{{"hit", "max-age=3600"}, {"miss", "no-store"}} {
		b.Run(bc.name, func(b *testing.B) {
			_, tr := fake(b, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", bc.cc)
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"login":"octocat","id":1,"name":"The Octocat"}`)
			})
			rt := cache.New(tr)
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
			b.ReportAllocs()
			done := benchcpu.Start(b)
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			done()
		})
	}
}
