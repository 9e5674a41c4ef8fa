package composiohttp_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// lateWriter is registered as an *http.Transport's protocol for "http"
// (the kind of Base an envelope buffer pool would trust, see the README's
// Performance section), and behaves as HTTP/2 may: it
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

// TestEnvelopeNotReusedWhileWritten: each call's envelope is read after
// the call has returned and the next call has built its own; it must
// still be the call's own (an envelope buffer reused too early would not
// be).
func TestEnvelopeNotReusedWhileWritten(t *testing.T) {
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
				req := jsonPost(context.Background(), payload)
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

// TestEnvelopesConcurrent sends distinct bodies from several
// goroutines through the default Base to the fake, whose
// upstream echoes them: each caller gets its own body back.
func TestEnvelopesConcurrent(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_echo", Toolkit: "github", AuthScheme: credentials.NoAuth,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.Copy(w, r.Body)
		})})
	tr := &composiohttp.Transport{APIKey: srv.APIKey, BaseURL: srv.URL, ConnectedAccountID: "ca_echo"}
	t.Cleanup(tr.CloseIdleConnections)
	callsConcurrently(t, tr, 8, 40, func(g, i int) (string, string) {
		payload := fmt.Sprintf(`{"g":%d,"i":%d,"pad":%q}`, g, i, strings.Repeat("x", 100*(i%7)))
		return payload, payload
	})
}

// jsonPost is a POST of payload, labelled JSON, to an upstream URL.
func jsonPost(ctx context.Context, payload string) *http.Request {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.github.com/x", strings.NewReader(payload))
	req.Header.Set("Content-Type", "application/json")
	return req
}

// callsConcurrently makes calls POSTs of a JSON body from each of
// goroutines goroutines through tr; mk gives call i of goroutine g its body
// and the reply body it must get.
func callsConcurrently(t *testing.T, tr *composiohttp.Transport, goroutines, calls int, mk func(g, i int) (payload, want string)) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				payload, want := mk(g, i)
				req := jsonPost(context.Background(), payload)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				got, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(got) != want {
					t.Errorf("goroutine %d call %d: got %.60q, want %.60q", g, i, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestOwnClientTraceKept: a call whose context carries the caller's own
// ClientTrace: that trace sees the request written, once.
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
	req := jsonPost(ctx, `{"a":1}`)
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

// syncWriter is registered as an *http.Transport's protocol for "http": it
// reads the body whole, reports WroteRequest and answers, all before
// RoundTrip returns (an envelope buffer pool would take each call's buffer
// back at once, on the caller's goroutine).
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

// TestEnvelopeSpareBytesNotAnotherCalls: a call reads its caller's JSON
// body straight into the envelope buffer's spare capacity; that Reader
// must never find there another call's envelope (another tenant's
// credentials or body), as it did with the envelope pool before its
// buffers were cleared.
func TestEnvelopeSpareBytesNotAnotherCalls(t *testing.T) {
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

// BenchmarkEnvelopeInMemory: one call with a JSON body through an
// *http.Transport whose protocol for "http" answers at once (syncWriter):
// the Transport's own cost per call, without the network, by body size.
func BenchmarkEnvelopeInMemory(b *testing.B) {
	for _, size := range []int{1 << 10, 32 << 10} {
		b.Run(fmt.Sprintf("body=%dKiB", size>>10), func(b *testing.B) {
			base := &http.Transport{}
			base.RegisterProtocol("http", syncWriter{})
			tr := &composiohttp.Transport{APIKey: "ak_bench", BaseURL: "http://proxy.invalid", ConnectedAccountID: "ca_b", Base: base}
			payload := `{"pad":"` + strings.Repeat("x", size) + `"}`
			b.ReportAllocs()
			for b.Loop() {
				req := jsonPost(context.Background(), payload)
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

// TestEnvelopeDialerWritesWithContext: net/http dials with the
// call's context values (Transport.getConn keeps them, and a dial may
// outlive the call), so that a DialContext that sends HTTP requests of its
// own with the context it is given (DNS over HTTPS: one query for A, one
// for AAAA; a CONNECT to a forward proxy) reports them written to whatever
// ClientTrace the call's context holds. Such reports must not count as the
// envelope written: the proxy must read the call's envelope, not a buffer
// handed back (cleared, or taken by the next call) before net/http wrote
// it. The proxy answers from the headers, before reading the body, as a
// proxy may.
func TestEnvelopeDialerWritesWithContext(t *testing.T) {
	t.Parallel()
	for _, dialWrites := range []int{0, 1, 2} {
		t.Run(fmt.Sprintf("dialWrites=%d", dialWrites), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				got := make(chan []byte, 1)
				base := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
					for range dialWrites {
						lookup, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://doh.invalid/dns-query", strings.NewReader("query"))
						lookup.Write(io.Discard)
					}
					client, server := net.Pipe()
					go serveEarly(server, got)
					return client, nil
				}}
				defer base.CloseIdleConnections()
				tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: "http://proxy.invalid", ConnectedAccountID: "ca_a", Base: base}
				payload := `{"tenant":"a","pad":"` + strings.Repeat("a", 16<<10) + `"}`
				req := jsonPost(context.Background(), payload)
				resp, err := tr.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				env := <-got
				var e struct {
					ConnectedAccountID string          `json:"connected_account_id"`
					Body               json.RawMessage `json:"body"`
				}
				if err := json.Unmarshal(env, &e); err != nil || e.ConnectedAccountID != "ca_a" || string(e.Body) != payload {
					t.Fatalf("the proxy read an envelope that is not the call's (%v): %.60q...%.60q", err, env, env[max(0, len(env)-60):])
				}
			})
		})
	}
}

// serveEarly serves one request on c as a proxy that answers from the
// headers, then reads the body; it sends the body it read on got.
func serveEarly(c net.Conn, got chan<- []byte) {
	defer c.Close()
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		got <- nil
		return
	}
	reply := `{"status":200,"headers":{"content-type":"application/json"},"data":{"ok":true}}`
	fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(reply), reply)
	b, _ := io.ReadAll(req.Body)
	got <- b
}

// TestEnvelopesHTTP2: calls from several goroutines through an
// *http.Transport speaking HTTP/2, to a proxy that
// answers before reading the envelope (HTTP/2 keeps writing a body after
// a 2xx reply, after RoundTrip has returned): every envelope the proxy
// reads is whole and the call's own, and every caller gets its own reply.
func TestEnvelopesHTTP2(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var bad []string
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		env, err := io.ReadAll(r.Body)
		var e struct {
			Body struct {
				Call string `json:"call"`
				Pad  string `json:"pad"`
			} `json:"body"`
		}
		if err == nil {
			err = json.Unmarshal(env, &e)
		}
		if err != nil || e.Body.Pad != strings.Repeat(e.Body.Call, 300) || r.ProtoMajor != 2 {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%s %v: %.80q", r.Proto, err, env))
			mu.Unlock()
		}
		fmt.Fprintf(w, `{"status":200,"headers":{"content-type":"text/plain"},"binary_data":null,"data":%q}`, e.Body.Call)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	base := srv.Client().Transport.(*http.Transport)
	t.Cleanup(base.CloseIdleConnections)
	tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: srv.URL, ConnectedAccountID: "ca_1", Base: base}
	callsConcurrently(t, tr, 6, 30, func(g, i int) (string, string) {
		call := fmt.Sprintf("g%di%02d.", g, i)
		return fmt.Sprintf(`{"call":%q,"pad":%q}`, call, strings.Repeat(call, 300)), call
	})
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d envelopes read not whole or not the call's own, first: %s", len(bad), bad[0])
	}
}
