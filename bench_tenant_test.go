package composiohttp_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/schemes"
)

// cannedReply is a proxy that answers every call with reply, in memory.
type cannedReply struct{ reply []byte }

func (c *cannedReply) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(c.reply)), ContentLength: int64(len(c.reply))}, nil
}

// benchJSON is about 1 KiB of JSON, and benchReply its proxy envelope
// (as in bench_test.go's BenchmarkSmallJSONCall).
func benchJSON() []byte {
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < 1000; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":%d,"title":"issue number %d","open":true,"labels":["bug","p%d"]}`, i, i, i%3)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func benchReply(data []byte) []byte {
	return fmt.Appendf(nil, `{"status":200,"headers":{"content-type":"application/json; charset=utf-8","etag":"W/\"abc\"","x-ratelimit-remaining":"4999","cache-control":"private, max-age=60"},"data":%s}`, data)
}

// listingOr answers the connected-accounts listing with one account and
// passes everything else to the canned proxy.
type listingOr struct{ proxy *cannedReply }

const benchListing = `{"items":[{"id":"ca_bench","user_id":"u_bench","toolkit":{"slug":"github"},"status":"ACTIVE"}],"next_cursor":null,"total_items":1}`

func (l listingOr) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, "/connected_accounts") {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(benchListing)), ContentLength: int64(len(benchListing))}, nil
	}
	return l.proxy.RoundTrip(r)
}

// BenchmarkAccountSelection: the small JSON call of BenchmarkSmallJSONCall
// made as an explicit account id, and as a user whose account is cached
// (toolkit given with WithToolkit, or derived from the host through
// schemes.DefaultToolkits), in the same run. Target: the cached user's
// call costs at most 1.10x the explicit account's.
func BenchmarkAccountSelection(b *testing.B) {
	data := benchJSON()
	bg := context.Background()
	cases := []struct {
		name string
		ctx  context.Context
		tks  ToolkitLookup
	}{
		{"account", WithConnectedAccount(bg, "ca_bench"), nil},
		{"user+toolkit_cached", WithToolkit(WithUser(bg, "u_bench"), "github"), nil},
		{"user+host_cached", WithUser(bg, "u_bench"), schemes.DefaultToolkits},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			tr := &Transport{APIKey: "ak_bench", BaseURL: "https://proxy.test", Toolkits: tc.tks,
				Base: listingOr{&cannedReply{reply: benchReply(data)}}}
			call := func() {
				req, _ := http.NewRequestWithContext(tc.ctx, "POST", "https://api.github.com/repos/o/r/issues?per_page=50", bytes.NewReader(data))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "application/vnd.github+json")
				resp, err := tr.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			call() // resolves and caches the user's account
			b.SetBytes(int64(2 * len(data)))
			b.ReportAllocs()
			for b.Loop() {
				call()
			}
		})
	}
}

// BenchmarkAccountSelectionInterleaved makes the three calls of
// BenchmarkAccountSelection in turn within each iteration, timing each,
// so that load on the machine weighs on all three alike, and reports the
// cached user's cost relative to the explicit account's
// (user/account-x, host/account-x; target <= 1.10).
func BenchmarkAccountSelectionInterleaved(b *testing.B) {
	data := benchJSON()
	bg := context.Background()
	newTr := func(tks ToolkitLookup) *Transport {
		return &Transport{APIKey: "ak_bench", BaseURL: "https://proxy.test", Toolkits: tks,
			Base: listingOr{&cannedReply{reply: benchReply(data)}}}
	}
	type variant struct {
		ctx   context.Context
		tr    *Transport
		total time.Duration
	}
	vs := []*variant{
		{ctx: WithConnectedAccount(bg, "ca_bench"), tr: newTr(nil)},
		{ctx: WithToolkit(WithUser(bg, "u_bench"), "github"), tr: newTr(nil)},
		{ctx: WithUser(bg, "u_bench"), tr: newTr(schemes.DefaultToolkits)},
	}
	call := func(v *variant) {
		req, _ := http.NewRequestWithContext(v.ctx, "POST", "https://api.github.com/repos/o/r/issues?per_page=50", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/vnd.github+json")
		resp, err := v.tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for _, v := range vs {
		call(v) // caches the user's account
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range vs {
			start := time.Now()
			call(v)
			v.total += time.Since(start)
		}
	}
	b.ReportMetric(float64(vs[1].total)/float64(vs[0].total), "user/account-x")
	b.ReportMetric(float64(vs[2].total)/float64(vs[0].total), "host/account-x")
}
