package testutil_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// Hostile clients of a fake served on a shared machine (fakeproxy): the
// API key is checked before a body is read, and buffers grow with the
// bytes that arrive, never with the length a request declares.

// countingBody is a request body that counts what is read from it.
type countingBody struct {
	r    io.Reader
	read atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read.Add(int64(n))
	return n, err
}

func (b *countingBody) Close() error { return nil }

// hugeDeclared is the Content-Length the hostile requests declare (250 MiB,
// MaxEnvelope): 8 of them once cost 8 buffers of that size.
const hugeDeclared = 262144000

// TestUnauthenticatedBodyNotRead: a request with a missing or wrong API
// key is answered 401 without its body being read, and is not kept in the
// request log.
func TestUnauthenticatedBodyNotRead(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t, testutil.WithUserAPIKey("uak_user"))
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: testutil.NewEcho()})
	env := `{"connected_account_id":"ca","endpoint":"/x","method":"POST","body":{"pad":"` + strings.Repeat("x", 1<<20) + `"}}`
	tests := []struct {
		name, path string
		set        func(h http.Header)
	}{
		{"no key", "/api/v3.1/tools/execute/proxy", func(h http.Header) {}},
		{"wrong key", "/api/v3.1/tools/execute/proxy", func(h http.Header) { h.Set("X-Api-Key", "ak_wrong") }},
		{"wrong key, v3", "/api/v3/tools/execute/proxy", func(h http.Header) { h.Set("X-Api-Key", "ak_wrong") }},
		{"wrong user key", "/api/v3.1/tools/execute/proxy", func(h http.Header) { h.Set("X-User-Api-Key", "uak_wrong") }},
		{"user key as project key", "/api/v3.1/tools/execute/proxy", func(h http.Header) { h.Set("X-Api-Key", "uak_user") }},
		{"session proxy", "/api/v3.1/tool_router/session/trs_x/proxy_execute", func(h http.Header) { h.Set("X-Api-Key", "ak_wrong") }},
		{"session create", "/api/v3.1/tool_router/session", func(h http.Header) {}},
	}
	for _, tt := range tests {
		body := &countingBody{r: strings.NewReader(env)}
		req := httptest.NewRequest(http.MethodPost, tt.path, body)
		req.ContentLength = int64(len(env))
		req.Header.Set("Content-Type", "application/json")
		tt.set(req.Header)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", tt.name, w.Code, w.Body)
		}
		if n := body.read.Load(); n != 0 {
			t.Errorf("%s: %d bytes of the body read before the key was refused", tt.name, n)
		}
	}
	req := httptest.NewRequest(http.MethodGet, "/api/v3.1/connected_accounts?user_ids=u", nil)
	req.Header.Set("X-Api-Key", "ak_wrong")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, req)
	if w.Code != http.StatusUnauthorized {
		t.Errorf("listing: status %d, want 401", w.Code)
	}
	if n, m := len(s.Requests()), len(s.AccountListings()); n != 0 || m != 0 {
		t.Errorf("%d unauthenticated requests and %d listings kept in the request log", n, m)
	}
}

// TestDeclaredLengthNotPreallocated: a request that declares
// Content-Length 262144000 and sends one byte costs what it sent, not what
// it declared, with a valid key or without. Not parallel: it measures the
// heap allocated while it runs.
func TestDeclaredLengthNotPreallocated(t *testing.T) {
	s := testutil.NewServer(t)
	for _, tt := range []struct {
		name string
		key  string
		want int
	}{
		{"valid key", s.APIKey, http.StatusBadRequest}, // one byte is no envelope
		{"wrong key", "ak_wrong", http.StatusUnauthorized},
	} {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		for range 8 {
			req := httptest.NewRequest(http.MethodPost, "/api/v3.1/tools/execute/proxy", strings.NewReader("{"))
			req.ContentLength = hugeDeclared
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Api-Key", tt.key)
			w := httptest.NewRecorder()
			s.ServeHTTP(w, req)
			if w.Code != tt.want {
				t.Fatalf("%s: status %d, want %d", tt.name, w.Code, tt.want)
			}
		}
		runtime.ReadMemStats(&ms)
		if alloc := ms.TotalAlloc - before; alloc > 4<<20 {
			t.Errorf("%s: 8 requests declaring %d bytes and sending 1 allocated %d MiB", tt.name, hugeDeclared, alloc>>20)
		} else {
			t.Logf("%s: 8 requests declaring %d bytes and sending 1 allocated %d KiB", tt.name, hugeDeclared, alloc>>10)
		}
	}
}

// TestWithMaxEnvelope: a lower envelope limit answers 413 past it, with
// the limit in the message, and records the call without its body.
func TestWithMaxEnvelope(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t, testutil.WithMaxEnvelope(1024))
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: testutil.NewEcho()})
	small := `{"connected_account_id":"ca","endpoint":"/x","method":"GET"}`
	if r := call(t, s, small); r.status != http.StatusOK {
		t.Fatalf("small: %d %s", r.status, r.body)
	}
	big := `{"connected_account_id":"ca","endpoint":"/x","method":"POST","body":{"pad":"` + strings.Repeat("x", 2048) + `"}}`
	r := call(t, s, big)
	checkError(t, r, http.StatusRequestEntityTooLarge, "PayloadTooLarge", "")
	if !strings.Contains(r.err.Message, "1024 bytes") {
		t.Errorf("message %q does not name the limit", r.err.Message)
	}
	if recs := s.Requests(); len(recs) != 2 || recs[1].Body != nil || recs[1].Status != http.StatusRequestEntityTooLarge {
		t.Errorf("records: %d", len(recs))
	}
}

// TestBinaryStoreBound: the stored binary bodies stay within
// WithBinaryStore's bound, the oldest dropped first (their URLs then
// answer 404 NoSuchKey); a body larger than the bound is still served,
// alone.
func TestBinaryStoreBound(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t, testutil.WithBinaryStore(5<<10))
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/octet-stream")
			io.WriteString(w, strings.Repeat("b", map[string]int{"/small": 2 << 10, "/big": 8 << 10}[r.URL.Path]))
		})})
	get := func(endpoint string) string {
		r := call(t, s, `{"connected_account_id":"ca","endpoint":"`+endpoint+`","method":"GET"}`)
		if r.status != 200 || r.env.BinaryData == nil {
			t.Fatalf("%s: %d %s", endpoint, r.status, r.body)
		}
		return r.env.BinaryData.URL
	}
	download := func(u string) int {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	u1, u2 := get("/small"), get("/small")
	if a, b := download(u1), download(u2); a != 200 || b != 200 {
		t.Fatalf("two 2 KiB bodies in 5 KiB: %d %d", a, b)
	}
	u3 := get("/small") // 6 KiB: the oldest goes
	if a, b, c := download(u1), download(u2), download(u3); a != 404 || b != 200 || c != 200 {
		t.Errorf("after a third: %d %d %d, want 404 200 200", a, b, c)
	}
	u4 := get("/big") // larger than the bound: kept alone
	if b, c, d := download(u2), download(u3), download(u4); b != 404 || c != 404 || d != 200 {
		t.Errorf("after a body over the bound: %d %d %d, want 404 404 200", b, c, d)
	}
}
