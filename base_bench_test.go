package composiohttp_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/testutil"
)

// helperProxyEnv makes the test binary serve a canned proxy instead of
// running tests (see TestMain): the CPU benchmark's proxy runs in another
// process, so that the process's CPU time is the client's alone.
const helperProxyEnv = "COMPOSIOHTTP_BENCH_PROXY"

func TestMain(m *testing.M) {
	if os.Getenv(helperProxyEnv) == "1" {
		serveCannedProxy()
		return
	}
	goleak.VerifyTestMain(m)
}

// cannedEnvelope is the proxy's reply for the loopback payload: 1 KiB of
// JSON from the upstream.
func cannedEnvelope() []byte {
	return []byte(`{"status":200,"headers":{"content-type":"application/json","x-github-request-id":"ABCD:1234"},"data":` + string(loopbackPayload()) + `}`)
}

// serveCannedProxy answers every POST with cannedEnvelope, on a loopback
// port it prints on stdout, until stdin closes (the parent is gone).
func serveCannedProxy() {
	reply := cannedEnvelope()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req_bench")
		w.Header().Set("Content-Length", fmt.Sprint(len(reply)))
		w.Write(reply)
	}))
}

// startHelperProxy runs serveCannedProxy in a child process and returns
// its URL.
func startHelperProxy(b *testing.B) string {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperProxyEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	addr, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("helper proxy: %v", err)
	}
	return "http://" + strings.TrimSpace(addr)
}

// BenchmarkClientCPU compares the client's CPU time per call through an
// http.Client with the Transport with a plain net/http POST (http.Client,
// default transport settings) of the same envelope, prebuilt, to the same
// proxy (a canned one in a child process), both reading the whole reply.
// The two run in interleaved blocks in this process, so that the
// machine's load falls on both alike. "cpu-ratio" is Transport / plain,
// the median over the rounds of blocks; "cpu-ratio-total" the same over
// all calls. Target: <= 1.10, not met: 1.12 (medians of 10 runs) with 2
// CPUs on a quiet machine, 1.15-1.17 with one core busy elsewhere, about
// 1.22 with -cpu 1. The Transport's own stages take 7-8 µs a call in
// place (4 µs in a tight loop: code, data and branch history are cold
// between round trips), against 55-120 µs for the plain POST; by
// ablation, JSON validation of both documents is about 0.05 of the ratio,
// the rest of decoding about 0.03, building the envelope about 0.05 (see
// the README's Performance section).
func BenchmarkClientCPU(b *testing.B) {
	proxyURL := startHelperProxy(b)
	payload := loopbackPayload()
	tr := &composiohttp.Transport{APIKey: "ak_bench", BaseURL: proxyURL, ConnectedAccountID: "ca_bench"}
	newReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, "https://api.github.com/repos/o/r/issues", bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		return req
	}
	// The envelope the Transport sends, captured once, for the plain POST.
	var envelope []byte
	var hdr http.Header
	capture := &composiohttp.Transport{APIKey: "ak_bench", BaseURL: proxyURL, ConnectedAccountID: "ca_bench",
		Base: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			envelope, _ = io.ReadAll(r.Body)
			r.Body.Close()
			hdr = r.Header.Clone()
			r2 := r.Clone(r.Context())
			r2.Body = io.NopCloser(bytes.NewReader(envelope))
			return http.DefaultTransport.RoundTrip(r2)
		})}
	if resp, err := capture.RoundTrip(newReq()); err != nil {
		b.Fatal(err)
	} else {
		resp.Body.Close()
	}
	plainClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	endpoint := proxyURL + "/api/v3.1/tools/execute/proxy"
	plain := func() {
		req, _ := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(envelope))
		req.Header = hdr.Clone()
		resp, err := plainClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			b.Fatalf("plain: %d, %d bytes", resp.StatusCode, len(body))
		}
	}
	trClient := &http.Client{Transport: tr}
	viaTransport := func() {
		resp, err := trClient.Do(newReq())
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(payload)) {
			b.Fatalf("transport: %d, %d bytes", resp.StatusCode, n)
		}
	}
	for range 50 { // warm both connection pools
		plain()
		viaTransport()
	}
	b.ReportAllocs()
	b.ResetTimer()
	plainNs, trNs, ratio, ok := benchcpu.Interleave(b.N, 100, plain, viaTransport)
	b.StopTimer()
	if ok {
		b.ReportMetric(plainNs, "plain-cpu-ns/call")
		b.ReportMetric(trNs, "transport-cpu-ns/call")
		b.ReportMetric(trNs/plainNs, "cpu-ratio-total")
		b.ReportMetric(ratio, "cpu-ratio")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// BenchmarkNewConns64 sends calls from 64 goroutines through the
// Transport to the fake proxy and reports how many new connections (not
// reused ones, counted with httptrace GotConn) each 1,000 calls opened.
// "default-base" is the Transport's default Base; "http.DefaultTransport"
// keeps 2 idle connections per host. Target: <= 64.
func BenchmarkNewConns64(b *testing.B) {
	for _, c := range []struct {
		name string
		base http.RoundTripper
	}{
		{"default-base", nil},
		{"http.DefaultTransport", http.DefaultTransport.(*http.Transport).Clone()},
	} {
		b.Run(c.name, func(b *testing.B) {
			srv := testutil.NewServer(b)
			srv.AddAccount(testutil.Account{ID: "ca_bench", Toolkit: "github", AuthScheme: credentials.NoAuth,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(`{"ok":true}`))
				})})
			tr := &composiohttp.Transport{APIKey: srv.APIKey, BaseURL: srv.URL, ConnectedAccountID: "ca_bench", Base: c.base}
			b.Cleanup(tr.CloseIdleConnections)
			var calls, fresh atomic.Int64
			ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
				GotConn: func(info httptrace.GotConnInfo) {
					if !info.Reused {
						fresh.Add(1)
					}
				},
			})
			b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
					resp, err := tr.RoundTrip(req)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					calls.Add(1)
				}
			})
			if n := calls.Load(); n > 0 {
				b.ReportMetric(float64(fresh.Load())*1000/float64(n), "newconns/1000calls")
			}
		})
	}
}
