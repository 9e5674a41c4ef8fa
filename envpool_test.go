package composiohttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// lateWriter is registered as an *http.Transport's protocol for "http", so
// that the Transport pools its envelopes, and behaves as HTTP/2 may: it
// answers at once and reads the request body afterwards, in its own
// goroutine, when the test lets it (open, oldest call first), then
// reports WroteRequest.
// With retry, it first reads the body whole and reports it, then reads a
// second body from GetBody later, as a retried write would.
type lateWriter struct {
	retry bool
	got   chan []byte
	wg    sync.WaitGroup
	mu    sync.Mutex
	gates []chan struct{}
}

// open lets the oldest waiting call's body be read, and returns it.
func (l *lateWriter) open() []byte {
	l.mu.Lock()
	g := l.gates[0]
	l.gates = l.gates[1:]
	l.mu.Unlock()
	close(g)
	return <-l.got
}

func (l *lateWriter) RoundTrip(r *http.Request) (*http.Response, error) {
	trace := httptrace.ContextClientTrace(r.Context())
	body := r.Body
	if l.retry {
		io.ReadAll(body)
		body.Close()
		if trace != nil && trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
		var err error
		if body, err = r.GetBody(); err != nil {
			return nil, err
		}
	}
	gate := make(chan struct{})
	l.mu.Lock()
	l.gates = append(l.gates, gate)
	l.mu.Unlock()
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		<-gate
		b, _ := io.ReadAll(body)
		body.Close()
		if trace != nil && trace.WroteRequest != nil {
			trace.WroteRequest(httptrace.WroteRequestInfo{})
		}
		l.got <- b
	}()
	reply := `{"status":200,"headers":{"content-type":"application/json"},"data":{"ok":true}}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(reply)), ContentLength: int64(len(reply)), Request: r}, nil
}

// TestPooledEnvelopeNotReusedWhileWritten: a pooled envelope buffer goes
// back only once net/http has said it wrote every body it took from it.
// Each call's envelope is read after the call has returned and the next
// call has built its own; it must still be the call's own.
func TestPooledEnvelopeNotReusedWhileWritten(t *testing.T) {
	t.Parallel()
	for _, retry := range []bool{false, true} {
		t.Run(fmt.Sprintf("retry=%v", retry), func(t *testing.T) {
			t.Parallel()
			lw := &lateWriter{retry: retry, got: make(chan []byte, 1)}
			base := &http.Transport{}
			base.RegisterProtocol("http", lw)
			tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: "http://proxy.invalid", ConnectedAccountID: "ca_1", Base: base}
			call := func(i int) {
				payload := fmt.Sprintf(`{"call":%d,"pad":%q}`, i, strings.Repeat(string(rune('a'+i%26)), 2000))
				req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/x", strings.NewReader(payload))
				req.Header.Set("Content-Type", "application/json")
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			const n = 20
			call(0)
			for i := 1; i <= n; i++ {
				call(i) // built while call i-1's body is still unread
				got := lw.open()
				var env struct{ Body json.RawMessage }
				if err := json.Unmarshal(got, &env); err != nil {
					t.Fatalf("call %d: envelope read late is not JSON: %v", i-1, err)
				}
				if want := fmt.Sprintf(`{"call":%d,`, i-1); !bytes.HasPrefix(env.Body, []byte(want)) {
					t.Fatalf("call %d: envelope read late carries %.20s, want %s...", i-1, env.Body, want)
				}
			}
			lw.open()
			lw.wg.Wait()
		})
	}
}

// TestPooledEnvelopesConcurrent sends distinct bodies from several
// goroutines through the default Base (pooled envelopes) to the fake, whose
// upstream echoes them: each caller gets its own body back.
func TestPooledEnvelopesConcurrent(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_echo", Toolkit: "github", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.Copy(w, r.Body)
		})})
	tr := &composiohttp.Transport{APIKey: srv.APIKey, BaseURL: srv.URL, ConnectedAccountID: "ca_echo"}
	t.Cleanup(tr.CloseIdleConnections)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 40 {
				payload := fmt.Sprintf(`{"g":%d,"i":%d,"pad":%q}`, g, i, strings.Repeat("x", 100*(i%7)))
				req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/echo", strings.NewReader(payload))
				req.Header.Set("Content-Type", "application/json")
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != payload {
					t.Errorf("goroutine %d call %d: got %.40s, want %.40s", g, i, got, payload)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestOwnClientTraceKept: a call whose context carries the caller's own
// ClientTrace is not pooled, and that trace sees the request written.
func TestOwnClientTraceKept(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_echo", Toolkit: "github", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(w, r.Body) })})
	tr := &composiohttp.Transport{APIKey: srv.APIKey, BaseURL: srv.URL, ConnectedAccountID: "ca_echo"}
	t.Cleanup(tr.CloseIdleConnections)
	var wrote int
	ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote++ },
	})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.github.com/echo", strings.NewReader(`{"a":1}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if wrote != 1 {
		t.Fatalf("caller's WroteRequest called %d times, want 1", wrote)
	}
}

// syncWriter is registered as an *http.Transport's protocol for "http", so
// that the Transport pools its envelopes: it reads the body whole, reports
// WroteRequest and answers, all before RoundTrip returns, so that each
// call's envelope goes back to the pool at once, on the caller's goroutine.
type syncWriter struct{}

func (syncWriter) RoundTrip(r *http.Request) (*http.Response, error) {
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	if trace := httptrace.ContextClientTrace(r.Context()); trace != nil && trace.WroteRequest != nil {
		trace.WroteRequest(httptrace.WroteRequestInfo{})
	}
	reply := `{"status":200,"headers":{"content-type":"application/json"},"data":{"ok":true}}`
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(reply)), ContentLength: int64(len(reply)), Request: r}, nil
}

// peekReader is a caller's body of unknown length that, before filling p,
// looks into it for bytes of another call (io.Reader lets Read use all of
// p; nothing stops it from reading p first).
type peekReader struct {
	r    io.Reader
	seen []string // the secrets found in p
}

func (p *peekReader) Read(b []byte) (int, error) {
	for _, s := range []string{"_END_OF_TENANT_A_TOKEN", "tenant-a-card-4242"} {
		if bytes.Contains(b, []byte(s)) {
			p.seen = append(p.seen, s)
		}
	}
	return p.r.Read(b)
}

// TestPooledEnvelopeSpareBytesCleared: a pooled envelope buffer goes back
// to the pool without the bytes of the call that used it, so that the
// next call, which reads its caller's body into the buffer's spare
// capacity, never hands that Reader another tenant's credentials or body.
func TestPooledEnvelopeSpareBytesCleared(t *testing.T) {
	t.Parallel()
	base := &http.Transport{}
	base.RegisterProtocol("http", syncWriter{})
	tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: "http://proxy.invalid", ConnectedAccountID: "ca_b", Base: base}
	tenantA := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "github",
		Val: credentials.Val{Token: "sk_live_" + strings.Repeat("Q", 600) + "_END_OF_TENANT_A_TOKEN"}}
	send := func(ctx context.Context, body io.Reader) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.github.com/x", body)
		req.Header.Set("Content-Type", "application/json")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for i := range 50 {
		send(composiohttp.WithConnection(context.Background(), tenantA),
			strings.NewReader(`{"pad":"`+strings.Repeat("p", 400)+`","card":"tenant-a-card-4242"}`))
		pr := &peekReader{r: strings.NewReader(`{"b":1}`)}
		send(context.Background(), pr)
		if len(pr.seen) > 0 {
			t.Fatalf("call %d: tenant B's body Reader was handed a buffer holding tenant A's %q", i, pr.seen)
		}
	}
}

// BenchmarkPooledEnvelope: one call with a JSON body through an
// *http.Transport whose protocol for "http" answers at once (syncWriter),
// so that the envelope is pooled: what the pool costs or saves per call,
// clearing of the buffer included, by body size.
func BenchmarkPooledEnvelope(b *testing.B) {
	for _, size := range []int{1 << 10, 32 << 10} {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			base := &http.Transport{}
			base.RegisterProtocol("http", syncWriter{})
			tr := &composiohttp.Transport{APIKey: "ak_bench", BaseURL: "http://proxy.invalid", ConnectedAccountID: "ca_b", Base: base}
			payload := `{"pad":"` + strings.Repeat("x", size) + `"}`
			b.ReportAllocs()
			for b.Loop() {
				req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/x", strings.NewReader(payload))
				req.Header.Set("Content-Type", "application/json")
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
