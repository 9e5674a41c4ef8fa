package testutil_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// streamer is an upstream that answers size bytes of text in 32 KiB
// writes, stopping at the first write that fails; with declare it sets
// Content-Length first.
func streamer(size int, declare bool) http.HandlerFunc {
	chunk := []byte(strings.Repeat("x", 32<<10))
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if declare {
			w.Header().Set("Content-Length", strconv.Itoa(size))
		}
		for left := size; left > 0; left -= len(chunk) {
			if _, err := w.Write(chunk[:min(left, len(chunk))]); err != nil {
				return
			}
		}
	}
}

// TestUpstreamReplyCapped: the fake reads an upstream's reply only up to
// WithMaxUpstreamReply; a longer one, from an in-process handler or over
// HTTP, declared or streamed, is a 502 BadGateway naming the limit, and
// costs the fake a few times the limit in memory, not the reply's size.
// Not parallel: it measures the process's allocations (runtime.MemStats),
// as TestDeclaredLengthNotPreallocated does.
func TestUpstreamReplyCapped(t *testing.T) {
	const limit = 1 << 20
	const huge = 64 << 20
	s := testutil.NewServer(t, testutil.WithMaxUpstreamReply(limit))
	for _, tt := range []struct {
		name     string
		size     int
		declare  bool
		inProc   bool
		wantOver bool
	}{
		{"in process, at the limit", limit, false, true, false},
		{"in process, streamed past it", huge, false, true, true},
		{"over HTTP, at the limit", limit, false, false, false},
		{"over HTTP, streamed past it", huge, false, false, true},
		{"over HTTP, declared past it", huge, true, false, true},
		{"over HTTP, one byte past it", limit + 1, true, false, true},
	} {
		id := fmt.Sprintf("ca_%d", len(s.Requests()))
		acct := testutil.Account{ID: id, AuthScheme: credentials.NoAuth}
		if tt.inProc {
			acct.Handler = streamer(tt.size, tt.declare)
		} else {
			up := httptest.NewServer(streamer(tt.size, tt.declare))
			t.Cleanup(up.Close)
			acct.BaseURL = up.URL
		}
		s.AddAccount(acct)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		r := call(t, s, map[string]any{"connected_account_id": id, "endpoint": "/big", "method": "GET"})
		runtime.ReadMemStats(&ms)
		alloc := ms.TotalAlloc - before
		if !tt.wantOver {
			if r.status != http.StatusOK || r.env.Status != http.StatusOK || len(r.env.Data) != limit+2 { // a JSON string
				t.Errorf("%s: %d, upstream status %d, %d bytes of data", tt.name, r.status, r.env.Status, len(r.env.Data))
			}
			continue
		}
		if r.status != http.StatusBadGateway {
			t.Errorf("%s: status %d, want 502; allocated %d MiB; reply begins %.100s", tt.name, r.status, alloc>>20, r.body)
			continue
		}
		checkError(t, r, http.StatusBadGateway, composiohttp.SlugBadGateway, "")
		if !strings.Contains(r.err.Message, strconv.Itoa(limit)+" bytes") {
			t.Errorf("%s: message %q does not name the limit", tt.name, r.err.Message)
		}
		if alloc > huge/4 { // read whole, it costs more than huge (twice that, buffers growing); capped, a few times limit
			t.Errorf("%s: a %d MiB reply over a %d MiB limit allocated %d MiB", tt.name, tt.size>>20, limit>>20, alloc>>20)
		} else {
			t.Logf("%s: allocated %d KiB", tt.name, alloc>>10)
		}
	}
}

// TestBinaryBodyURLCapped: a binary_body.url body is a request body, read
// up to the request limit (WithMaxEnvelope, fakeproxy's -max-body) from
// an HTTP file server or an in-process one; a longer one, declared or
// streamed, is answered as any request body over the limit, 413
// PayloadTooLarge naming it, without calling the upstream, and costs the
// fake a few times the limit, not the body's size. A body at the limit
// reaches the upstream whole and is recorded in Calls whole. Before the
// fix the fake copied a body fetched over HTTP into Calls however long it
// was. Not parallel: it measures the process's allocations
// (runtime.MemStats), as TestDeclaredLengthNotPreallocated does.
func TestBinaryBodyURLCapped(t *testing.T) {
	const limit = 1 << 20
	const huge = 64 << 20
	s := testutil.NewServer(t, testutil.WithMaxEnvelope(limit))
	var got atomic.Int64 // bytes the upstream read
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			got.Store(n)
		})})
	for i, tt := range []struct {
		name     string
		size     int
		declare  bool
		inProc   bool
		wantOver bool
	}{
		{"over HTTP, at the limit", limit, true, false, false},
		{"over HTTP, streamed to the limit", limit, false, false, false},
		{"over HTTP, streamed past it", huge, false, false, true},
		{"over HTTP, declared past it", huge, true, false, true},
		{"over HTTP, one byte past it, declared", limit + 1, true, false, true},
		{"over HTTP, one byte past it, streamed", limit + 1, false, false, true},
		{"in process, at the limit", limit, false, true, false},
		{"in process, streamed past it", huge, false, true, true},
	} {
		fileURL := fmt.Sprintf("https://files%d.example.net/f", i)
		if tt.inProc {
			s.AddUpstream(strings.TrimSuffix(fileURL, "/f"), streamer(tt.size, tt.declare))
		} else {
			up := httptest.NewServer(streamer(tt.size, tt.declare))
			t.Cleanup(up.Close)
			fileURL = up.URL + "/f"
		}
		calls := len(s.Calls("", ""))
		got.Store(-1)
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/up", "method": "POST",
			"binary_body": map[string]string{"url": fileURL}})
		runtime.ReadMemStats(&ms)
		alloc := ms.TotalAlloc - before
		recorded := s.Calls("", "")[calls:]
		if !tt.wantOver {
			if r.status != http.StatusOK || got.Load() != int64(tt.size) || len(recorded) != 1 || len(recorded[0].Body) != tt.size {
				t.Errorf("%s: status %d, the upstream read %d bytes, %d calls recorded; want 200, %d bytes read and recorded", tt.name, r.status, got.Load(), len(recorded), tt.size)
			}
			continue
		}
		if r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s: status %d, want 413; allocated %d MiB; reply begins %.100s", tt.name, r.status, alloc>>20, r.body)
			continue
		}
		checkError(t, r, http.StatusRequestEntityTooLarge, composiohttp.SlugPayloadTooLarge, "")
		if !strings.Contains(r.err.Message, strconv.Itoa(limit)+" bytes") {
			t.Errorf("%s: message %q does not name the limit", tt.name, r.err.Message)
		}
		if got.Load() != -1 || len(recorded) != 0 {
			t.Errorf("%s: the upstream was called (read %d bytes, %d calls recorded)", tt.name, got.Load(), len(recorded))
		}
		if alloc > huge/4 { // read whole, it costs more than huge (twice that, buffers growing); capped, a few times limit
			t.Errorf("%s: a %d MiB body over a %d MiB limit allocated %d MiB", tt.name, tt.size>>20, limit>>20, alloc>>20)
		} else {
			t.Logf("%s: allocated %d KiB", tt.name, alloc>>10)
		}
	}
}
