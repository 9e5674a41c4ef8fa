package composiohttp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// seqProxy answers call n with a JSON body of 2 KiB made of one letter,
// 'A' for the first call, 'B' for the next and so on, so that a body that
// shows bytes of another call is seen at once.
type seqProxy struct{ n atomic.Int64 }

func seqBody(n int64) string {
	return `{"v":"` + strings.Repeat(string(rune('A'+n%26)), 2048) + `"}`
}

func (p *seqProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	reply := `{"status":200,"headers":{"content-type":"application/json"},"data":` + seqBody(p.n.Add(1)-1) + `}`
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(reply)), ContentLength: int64(len(reply)), Request: r}, nil
}

func seqCall(t *testing.T, tr *Transport) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestPooledReplyBodyClosed: once closed, a body held in memory (whose
// buffer goes back to the pool) gives nothing more, as a net/http body.
func TestPooledReplyBodyClosed(t *testing.T) {
	t.Parallel()
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: &seqProxy{}}
	for _, c := range []struct {
		name string
		use  func(io.ReadCloser) error
	}{
		{"Read", func(b io.ReadCloser) error { _, err := b.Read(make([]byte, 8)); return err }},
		{"WriteTo", func(b io.ReadCloser) error { _, err := b.(io.WriterTo).WriteTo(io.Discard); return err }},
		{"ReadAll", func(b io.ReadCloser) error { _, err := io.ReadAll(b); return err }},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp := seqCall(t, tr)
			var one [1]byte
			if _, err := resp.Body.Read(one[:]); err != nil {
				t.Fatal(err)
			}
			if err := resp.Body.Close(); err != nil {
				t.Fatal(err)
			}
			if err := c.use(resp.Body); !errors.Is(err, http.ErrBodyReadAfterClose) {
				t.Fatalf("after Close: %v, want http.ErrBodyReadAfterClose", err)
			}
			if err := resp.Body.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
		})
	}
}

// TestPooledReplyNeverShared: whatever the order of reads and closes, a
// body only ever shows its own call's bytes, even as later calls reuse
// the buffers of closed ones.
func TestPooledReplyNeverShared(t *testing.T) {
	t.Parallel()
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: &seqProxy{}}
	var open []*http.Response
	for i := range 40 {
		resp := seqCall(t, tr)
		if i%3 == 0 { // left open while later calls run
			open = append(open, resp)
			continue
		}
		if got, _ := io.ReadAll(resp.Body); string(got) != seqBody(int64(i)) {
			t.Fatalf("call %d: body %.12q..., want its own", i, got)
		}
		resp.Body.Close()
	}
	for j, resp := range open {
		if got, _ := io.ReadAll(resp.Body); string(got) != seqBody(int64(3*j)) {
			t.Fatalf("call %d, read after later calls: %.12q..., want its own", 3*j, got)
		}
		resp.Body.Close()
	}
}

// blockingWriter holds its first Write until release is closed, keeping
// the slice it was handed.
type blockingWriter struct {
	got     chan []byte
	release chan struct{}
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	w.got <- p
	<-w.release
	return len(p), nil
}

// TestPooledReplyCloseDuringWriteTo: Close while WriteTo is inside a
// Write returns at once, and the bytes that Write holds are not handed to
// another call before it returns.
func TestPooledReplyCloseDuringWriteTo(t *testing.T) {
	t.Parallel()
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: &seqProxy{}}
	resp := seqCall(t, tr) // call 0: 'A's
	w := &blockingWriter{got: make(chan []byte, 1), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := resp.Body.(io.WriterTo).WriteTo(w)
		done <- err
	}()
	held := <-w.got
	resp.Body.Close() // must not wait for the Write
	for range 20 {    // later calls, which would reuse a released buffer
		r := seqCall(t, tr)
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if string(held) != seqBody(0) {
		t.Fatalf("the slice inside Write changed before Write returned: %.12q...", held)
	}
	close(w.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestPooledReplyConcurrentReadClose: Read and Close from two goroutines
// (run with -race).
func TestPooledReplyConcurrentReadClose(t *testing.T) {
	t.Parallel()
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: &seqProxy{}}
	for i := range 50 {
		resp := seqCall(t, tr)
		want := seqBody(int64(i))
		var wg sync.WaitGroup
		var got bytes.Buffer
		wg.Go(func() {
			buf := make([]byte, 100)
			for {
				n, err := resp.Body.Read(buf)
				got.Write(buf[:n])
				if err != nil {
					return
				}
			}
		})
		wg.Go(func() { resp.Body.Close() })
		wg.Wait()
		if !strings.HasPrefix(want, got.String()) {
			t.Fatalf("call %d: read %q, not a prefix of its own body", i, got.String())
		}
	}
}

// shortWriter accepts n bytes of each Write.
type shortWriter struct{ n int }

func (w shortWriter) Write(p []byte) (int, error) { return min(w.n, len(p)), nil }

// lyingWriter claims more than it was given.
type lyingWriter struct{}

func (lyingWriter) Write(p []byte) (int, error) { return len(p) + 1, nil }

func TestPooledReplyWriteToResults(t *testing.T) {
	t.Parallel()
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: &seqProxy{}}
	for _, c := range []struct {
		name    string
		w       io.Writer
		wantN   int64
		wantErr error
	}{
		{"short write", shortWriter{10}, 10, io.ErrShortWrite},
		{"count beyond the slice", lyingWriter{}, 0, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			resp := seqCall(t, tr)
			defer resp.Body.Close()
			n, err := resp.Body.(io.WriterTo).WriteTo(c.w)
			if n != c.wantN || (c.wantErr != nil && !errors.Is(err, c.wantErr)) || err == nil {
				t.Fatalf("WriteTo = %d, %v; want %d and an error%s", n, err, c.wantN, fmt.Sprint(" ", c.wantErr))
			}
		})
	}
}

// snoopProxy answers each call with a reply carrying a secret of its own,
// and its body's Read looks at the whole of p, which the Transport takes
// from its pool of reply buffers: p must never hold an earlier call's
// reply (another tenant's data), whatever a Base's Read does with p.
type snoopProxy struct {
	n    atomic.Int64
	mu   sync.Mutex
	seen []string
}

type snoopBody struct {
	r *strings.Reader
	p *snoopProxy
	n int64
}

func (b *snoopBody) Read(p []byte) (int, error) {
	for k := range b.n {
		if secret := fmt.Sprintf("SECRET-%03d", k); bytes.Contains(p, []byte(secret)) {
			b.p.mu.Lock()
			b.p.seen = append(b.p.seen, secret)
			b.p.mu.Unlock()
		}
	}
	return b.r.Read(p)
}

func (b *snoopBody) Close() error { return nil }

func (p *snoopProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	n := p.n.Add(1) - 1
	reply := fmt.Sprintf(`{"status":200,"headers":{"content-type":"application/json"},"data":{"token":"SECRET-%03d","pad":%q}}`, n, strings.Repeat("x", 1000))
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: &snoopBody{strings.NewReader(reply), p, n},
		ContentLength: -1, Request: r}, nil
}

// TestPooledReplyBufferCleared: a reply buffer goes back to the pool
// cleared, so that the next call's Base never finds the last reply in the
// p its body's Read is given.
func TestPooledReplyBufferCleared(t *testing.T) {
	t.Parallel()
	sp := &snoopProxy{}
	tr := &Transport{APIKey: "ak_x", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_x", Base: sp}
	for range 30 {
		resp := seqCall(t, tr)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if len(sp.seen) > 0 {
		t.Fatalf("a Base's body read saw earlier replies in p: %v", sp.seen)
	}
}
