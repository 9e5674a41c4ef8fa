package composiohttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// cannedProxy answers every call with the same envelope, in memory: no
// sockets, so the benchmarks measure the Transport alone.
type cannedProxy struct {
	reply []byte
	files map[string]int64 // binary URL -> size of zeros served
}

func (c *cannedProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	if n, ok := c.files[r.URL.String()]; ok {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(io.LimitReader(zeros{}, n)), ContentLength: n}, nil
	}
	return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(c.reply)), ContentLength: int64(len(c.reply))}, nil
}

// jsonKiB is a JSON document of about 1 KiB.
func jsonKiB() []byte {
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

// BenchmarkSmallJSONCall: 1 KiB of JSON each way, through the Transport,
// against an in-memory canned proxy. Target: <= 10 µs and <= 60 allocs/op.
func BenchmarkSmallJSONCall(b *testing.B) {
	data := jsonKiB()
	tr := &Transport{APIKey: "ak_bench", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_bench", Base: &cannedProxy{reply: smallCallReply(data)}}
	benchSmallCall(b, tr, data)
}

// BenchmarkUpload4MB: a 4 MB non-JSON body, streamed as base64. Bytes
// allocated per op must stay well under the body size.
func BenchmarkUpload4MB(b *testing.B) {
	body := make([]byte, MaxInlineBody)
	tr := &Transport{APIKey: "ak_bench", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_bench", Base: &cannedProxy{reply: []byte(okReply)}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("PUT", "https://api.github.com/upload", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/zip")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
	}
}

// BenchmarkDownload64MiB: a 64 MiB binary_data body, streamed from its
// signed URL. Target: <= 1 MiB allocated per op.
func BenchmarkDownload64MiB(b *testing.B) {
	const size = 64 << 20
	const url = "https://signed.test/blob?sig=x"
	reply := fmt.Sprintf(`{"status":200,"headers":{"content-type":"application/octet-stream"},"binary_data":{"url":%q,"content_type":"application/octet-stream","size":%d}}`, url, size)
	tr := &Transport{APIKey: "ak_bench", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_bench",
		Base: &cannedProxy{reply: []byte(reply), files: map[string]int64{url: size}}}
	b.SetBytes(size)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("GET", "https://api.github.com/blob", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != size {
			b.Fatal(n, err)
		}
		resp.Body.Close()
	}
}

// naiveTransport is the straightforward encoding/json version of the same
// call (read the body, marshal the envelope, decode the reply into a
// struct), kept as the baseline BenchmarkSmallJSONCall is compared with.
type naiveTransport struct{ base http.RoundTripper }

func (n naiveTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	env := ProxyRequest{ConnectedAccountID: "ca_bench", Endpoint: r.URL.Scheme + "://" + r.URL.Host + r.URL.Path, Method: r.Method, Body: body}
	for k, vs := range r.Header {
		for _, v := range vs {
			env.Parameters = append(env.Parameters, Parameter{k, v, ParamHeader})
		}
	}
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			env.Parameters = append(env.Parameters, Parameter{k, v, ParamQuery})
		}
	}
	b, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	preq, _ := http.NewRequestWithContext(r.Context(), "POST", "https://proxy.test/api/v3.1/tools/execute/proxy", bytes.NewReader(b))
	preq.Header.Set("X-Api-Key", "ak_bench")
	preq.Header.Set("Content-Type", "application/json")
	presp, err := n.base.RoundTrip(preq)
	if err != nil {
		return nil, err
	}
	defer presp.Body.Close()
	var out ProxyResponse
	if err := json.NewDecoder(presp.Body).Decode(&out); err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, v := range out.Headers {
		h.Set(k, v)
	}
	return &http.Response{StatusCode: out.Status, Header: h, Body: io.NopCloser(bytes.NewReader(out.Data)), ContentLength: int64(len(out.Data)), Request: r}, nil
}

func smallCallReply(data []byte) []byte {
	return fmt.Appendf(nil, `{"status":200,"headers":{"content-type":"application/json; charset=utf-8","etag":"W/\"abc\"","x-github-request-id":"C0DE:1234","x-ratelimit-remaining":"4999","cache-control":"private, max-age=60","date":"Wed, 25 Nov 2026 08:00:00 GMT"},"data":%s}`, data)
}

func benchSmallCall(b *testing.B, rt http.RoundTripper, data []byte) {
	ctx := context.Background()
	b.SetBytes(int64(2 * len(data)))
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, "POST", "https://api.github.com/repos/o/r/issues?per_page=50", bytes.NewReader(data))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/vnd.github+json")
		resp, err := rt.RoundTrip(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// BenchmarkSmallJSONCallNaive is the encoding/json baseline, same run.
func BenchmarkSmallJSONCallNaive(b *testing.B) {
	data := jsonKiB()
	benchSmallCall(b, naiveTransport{base: &cannedProxy{reply: smallCallReply(data)}}, data)
}

// BenchmarkSmallCallHarness is the cost of the harness alone (building
// the request, the canned reply): subtract it from the figures above.
func BenchmarkSmallCallHarness(b *testing.B) {
	data := jsonKiB()
	p := &cannedProxy{reply: smallCallReply(data)}
	benchSmallCall(b, roundTripFunc(func(r *http.Request) (*http.Response, error) { return p.RoundTrip(r) }), data)
}
