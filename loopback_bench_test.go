package composiohttp_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// The loopback benchmarks run the same 1 KiB JSON call three ways, over
// real sockets in one run: straight to the upstream, through
// httputil.ReverseProxy, and through the Transport and the fake proxy.
// Compare the ns/op of the last two: the proxy path should cost at most
// 1.5x the reverse-proxy path.

func loopbackPayload() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 1000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"title":"issue number %d","open":true}`, i, i)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func loopbackUpstream(b *testing.B, payload []byte) *httptest.Server {
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write(payload)
	}))
	b.Cleanup(up.Close)
	return up
}

func runLoopback(b *testing.B, client *http.Client, target string, payload []byte) {
	b.SetBytes(int64(2 * len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, target, bytes.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n != int64(len(payload)) {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
}

func BenchmarkLoopback(b *testing.B) {
	payload := loopbackPayload()
	b.Run("direct", func(b *testing.B) {
		up := loopbackUpstream(b, payload)
		runLoopback(b, up.Client(), up.URL+"/v1/items", payload)
	})
	b.Run("reverseproxy", func(b *testing.B) {
		up := loopbackUpstream(b, payload)
		u, _ := url.Parse(up.URL)
		rp := httptest.NewServer(httputil.NewSingleHostReverseProxy(u))
		b.Cleanup(rp.Close)
		runLoopback(b, rp.Client(), rp.URL+"/v1/items", payload)
	})
	b.Run("transport+fake", func(b *testing.B) {
		up := loopbackUpstream(b, payload)
		srv := testutil.NewServer(b)
		srv.AddAccount(testutil.Account{ID: "ca_bench", Toolkit: "github", AuthScheme: credentials.NoAuth, BaseURL: up.URL})
		tr := srv.Transport()
		tr.ConnectedAccountID = "ca_bench"
		runLoopback(b, &http.Client{Transport: tr}, up.URL+"/v1/items", payload)
	})
}
