package composiohttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
)

// stubProxy is an in-memory proxy: it records each envelope and replies
// with a canned status and body.
type stubProxy struct {
	mu       sync.Mutex
	calls    int
	paths    []string
	headers  []http.Header
	bodies   [][]byte
	status   int
	reply    string
	replyHdr http.Header
	err      error
	files    map[string]string // binary downloads by URL
	fileHdr  []http.Header
}

func (s *stubProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		body, _ = io.ReadAll(r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f, ok := s.files[r.URL.String()]; ok {
		s.fileHdr = append(s.fileHdr, r.Header.Clone())
		if f == "EXPIRED" {
			return &http.Response{StatusCode: 403, Body: io.NopCloser(strings.NewReader("<Error>expired</Error>")), ContentLength: -1, Request: r}, nil
		}
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(f)), ContentLength: -1, Request: r}, nil
	}
	s.calls++
	s.paths = append(s.paths, r.URL.String())
	s.headers = append(s.headers, r.Header.Clone())
	s.bodies = append(s.bodies, body)
	if s.err != nil {
		return nil, s.err
	}
	st := s.status
	if st == 0 {
		st = 200
	}
	h := s.replyHdr.Clone()
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: st, Header: h, Body: io.NopCloser(strings.NewReader(s.reply)), ContentLength: int64(len(s.reply)), Request: r}, nil
}

func (s *stubProxy) envelope(t *testing.T) map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bodies) == 0 {
		t.Fatal("no proxy call")
	}
	var m map[string]any
	if err := json.Unmarshal(s.bodies[len(s.bodies)-1], &m); err != nil {
		t.Fatalf("envelope is not JSON: %v\n%s", err, s.bodies[len(s.bodies)-1])
	}
	return m
}

const okReply = `{"status":200,"headers":{"content-type":"application/json"},"data":{"ok":true}}`

func newTestTransport(p *stubProxy) *Transport {
	return &Transport{APIKey: "ak_test_secret", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_1", Base: p}
}

func params(t *testing.T, env map[string]any) []Parameter {
	t.Helper()
	raw, _ := json.Marshal(env["parameters"])
	var ps []Parameter
	json.Unmarshal(raw, &ps)
	return ps
}

func TestRequestMapping(t *testing.T) {
	t.Parallel()
	type want struct {
		endpoint string
		method   string
		params   []Parameter // nil: not checked
		body     string      // raw JSON of "body", "" absent
		binary   *BinaryBody
	}
	big := strings.Repeat("x", 100)
	cases := []struct {
		name  string
		build func() *http.Request
		tr    func(*Transport)
		want  want
	}{
		{
			name: "absolute GET with ordered repeated query",
			build: func() *http.Request {
				r, _ := http.NewRequest("GET", "https://api.github.com/repos/o/r/issues?state=open&label=b&label=a&q=a%20b%26c&empty=&flag", nil)
				return r
			},
			want: want{endpoint: "https://api.github.com/repos/o/r/issues", method: "GET", params: []Parameter{
				{"state", "open", "query"}, {"label", "b", "query"}, {"label", "a", "query"}, {"q", "a b&c", "query"}, {"empty", "", "query"}, {"flag", "", "query"},
			}},
		},
		{
			name: "relative endpoint keeps escaped path",
			build: func() *http.Request {
				r, _ := http.NewRequest("DELETE", "/v1/files/a%2Fb", nil)
				return r
			},
			want: want{endpoint: "/v1/files/a%2Fb", method: "DELETE", params: []Parameter{}},
		},
		{
			name: "headers minus hop-by-hop, Host, Content-Length, Accept-Encoding, Connection-listed",
			build: func() *http.Request {
				r, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
				r.Header.Set("Accept", "application/vnd.github+json")
				r.Header.Add("X-Multi", "1")
				r.Header.Add("X-Multi", "2")
				for _, h := range []string{"Connection", "Keep-Alive", "Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade", "Host", "Content-Length", "Accept-Encoding", "Proxy-Connection"} {
					r.Header.Set(h, "x")
				}
				r.Header.Set("Connection", "X-Hop")
				r.Header.Set("X-Hop", "secret-hop")
				r.Host = "other.example"
				return r
			},
			want: want{endpoint: "https://api.github.com/user", method: "GET", params: []Parameter{
				{"Accept", "application/vnd.github+json", "header"}, {"X-Multi", "1", "header"}, {"X-Multi", "2", "header"},
			}},
		},
		{
			name: "JSON body byte-exact with falsy fields",
			build: func() *http.Request {
				r, _ := http.NewRequest("POST", "https://api.github.com/x", strings.NewReader(`{"a":false,"b":0,"c":{},"d":[],"e":null, "f":"\u00e9"}`))
				r.Header.Set("Content-Type", "application/json; charset=utf-8")
				return r
			},
			want: want{endpoint: "https://api.github.com/x", method: "POST", body: `{"a":false,"b":0,"c":{},"d":[],"e":null, "f":"\u00e9"}`},
		},
		{
			name: "+json content type goes as body",
			build: func() *http.Request {
				r, _ := http.NewRequest("PATCH", "https://api.github.com/x", strings.NewReader(`[1,2]`))
				r.Header.Set("Content-Type", "application/merge-patch+json")
				return r
			},
			want: want{endpoint: "https://api.github.com/x", method: "PATCH", body: `[1,2]`},
		},
		{
			name: "JSONAsBinary sends JSON as binary_body",
			build: func() *http.Request {
				r, _ := http.NewRequest("POST", "https://api.github.com/x", strings.NewReader(`{"a":false}`))
				r.Header.Set("Content-Type", "application/json")
				return r
			},
			tr:   func(t *Transport) { t.JSONAsBinary = true },
			want: want{endpoint: "https://api.github.com/x", method: "POST", binary: &BinaryBody{Base64: base64.StdEncoding.EncodeToString([]byte(`{"a":false}`)), ContentType: "application/json"}},
		},
		{
			name: "text body with known length streams as base64",
			build: func() *http.Request {
				r, _ := http.NewRequest("PUT", "https://api.github.com/x", strings.NewReader(big))
				r.Header.Set("Content-Type", "text/plain")
				return r
			},
			want: want{endpoint: "https://api.github.com/x", method: "PUT", binary: &BinaryBody{Base64: base64.StdEncoding.EncodeToString([]byte(big)), ContentType: "text/plain"}},
		},
		{
			name: "unknown-length body without content type",
			build: func() *http.Request {
				r, _ := http.NewRequest("POST", "https://api.github.com/x", io.MultiReader(strings.NewReader("\x00\x01\xff")))
				return r
			},
			want: want{endpoint: "https://api.github.com/x", method: "POST", binary: &BinaryBody{Base64: "AAH/", ContentType: "application/octet-stream"}},
		},
		{
			name: "empty JSON body is no body",
			build: func() *http.Request {
				r, _ := http.NewRequest("POST", "https://api.github.com/x", strings.NewReader(""))
				r.Header.Set("Content-Type", "application/json")
				return r
			},
			want: want{endpoint: "https://api.github.com/x", method: "POST"},
		},
		{
			name: "empty method is GET; userinfo and fragment dropped",
			build: func() *http.Request {
				r, _ := http.NewRequest("GET", "https://user:pw@api.github.com/x#frag", nil)
				r.Method = ""
				return r
			},
			want: want{endpoint: "https://api.github.com/x", method: "GET"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			if tc.tr != nil {
				tc.tr(tr)
			}
			resp, err := tr.RoundTrip(tc.build())
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			env := p.envelope(t)
			if env["endpoint"] != tc.want.endpoint || env["method"] != tc.want.method {
				t.Errorf("endpoint, method = %v %v; want %v %v", env["endpoint"], env["method"], tc.want.endpoint, tc.want.method)
			}
			if env["connected_account_id"] != "ca_1" {
				t.Errorf("connected_account_id = %v", env["connected_account_id"])
			}
			if tc.want.params != nil {
				got := params(t, env)
				if got == nil {
					got = []Parameter{}
				}
				if !reflect.DeepEqual(got, tc.want.params) {
					t.Errorf("parameters = %v\nwant %v", got, tc.want.params)
				}
			}
			var raw struct {
				Body       json.RawMessage `json:"body"`
				BinaryBody *BinaryBody     `json:"binary_body"`
			}
			json.Unmarshal(p.bodies[0], &raw)
			if string(raw.Body) != tc.want.body {
				t.Errorf("body = %s, want %s", raw.Body, tc.want.body)
			}
			if !reflect.DeepEqual(raw.BinaryBody, tc.want.binary) {
				t.Errorf("binary_body = %+v, want %+v", raw.BinaryBody, tc.want.binary)
			}
		})
	}
}

func TestProxyCallConfiguration(t *testing.T) {
	cases := []struct {
		name    string
		tr      *Transport
		env     map[string]string
		wantURL string
		wantHdr map[string]string // "" value: must be absent
		wantErr error
	}{
		{name: "defaults: v3.1 and project key", tr: &Transport{APIKey: "ak_x"},
			wantURL: "https://backend.composio.dev/api/v3.1/tools/execute/proxy",
			wantHdr: map[string]string{"X-Api-Key": "ak_x", "X-User-Api-Key": "", "Content-Type": "application/json"}},
		{name: "v3 and user key never as x-api-key", tr: &Transport{APIKey: "uak_u", APIVersion: "v3", BaseURL: "http://127.0.0.1:9/", Header: http.Header{"x-api-key": {"ak_wrong"}}},
			wantURL: "http://127.0.0.1:9/api/v3/tools/execute/proxy",
			wantHdr: map[string]string{"X-User-Api-Key": "uak_u", "X-Api-Key": ""}},
		{name: "environment", env: map[string]string{"COMPOSIO_API_KEY": "ak_env", "COMPOSIO_BASE_URL": "https://eu.composio.test", "COMPOSIO_CUSTOM_HEADERS": "X-Team: blue\n\n# comment\nX-Trace: 1"},
			wantURL: "https://eu.composio.test/api/v3.1/tools/execute/proxy",
			wantHdr: map[string]string{"X-Api-Key": "ak_env", "X-Team": "blue", "X-Trace": "1"}},
		{name: "no key", env: map[string]string{"COMPOSIO_API_KEY": ""}, wantErr: ErrNoAPIKey},
		{name: "bad version", tr: &Transport{APIKey: "ak", APIVersion: "v2"}, wantErr: ErrBadRequest},
		{name: "bad base URL", tr: &Transport{APIKey: "ak", BaseURL: "ftp://x"}, wantErr: ErrBadRequest},
		{name: "bad custom headers", tr: &Transport{APIKey: "ak"}, env: map[string]string{"COMPOSIO_CUSTOM_HEADERS": "no colon here"}, wantErr: ErrBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { // not parallel: t.Setenv
			for _, k := range []string{"COMPOSIO_API_KEY", "COMPOSIO_BASE_URL", "COMPOSIO_CUSTOM_HEADERS"} {
				t.Setenv(k, tc.env[k])
			}
			p := &stubProxy{reply: okReply}
			tr := tc.tr
			if tr == nil {
				tr = &Transport{}
			}
			tr.Base = p
			tr.ConnectedAccountID = "ca_1"
			req, _ := http.NewRequest("GET", "https://api.github.com/user", nil)
			resp, err := tr.RoundTrip(req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				if p.calls != 0 {
					t.Fatal("proxy called despite a configuration error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if p.paths[0] != tc.wantURL {
				t.Errorf("proxy URL = %s, want %s", p.paths[0], tc.wantURL)
			}
			for k, v := range tc.wantHdr {
				if got := p.headers[0].Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestAuthSelection(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "stripe", Val: credentials.Val{Token: "sk_live_secret", BaseURL: "https://api.stripe.com"}}
	cases := []struct {
		name    string
		tr      *Transport
		ctx     func(context.Context) context.Context
		account any
		toolkit any
		wantErr error
	}{
		{name: "transport account", tr: &Transport{ConnectedAccountID: "ca_t"}, account: "ca_t"},
		{name: "context account overrides", tr: &Transport{ConnectedAccountID: "ca_t"}, ctx: func(c context.Context) context.Context { return WithConnectedAccount(c, "ca_ctx") }, account: "ca_ctx"},
		{name: "context connection overrides", tr: &Transport{ConnectedAccountID: "ca_t"}, ctx: func(c context.Context) context.Context { return WithConnection(c, conn) }, toolkit: "stripe"},
		{name: "transport connection", tr: &Transport{Connection: conn}, toolkit: "stripe"},
		{name: "latest selection wins", tr: &Transport{ConnectedAccountID: "ca_t"}, ctx: func(c context.Context) context.Context {
			return WithConnectedAccount(WithConnection(c, conn), "ca_later")
		}, account: "ca_later"},
		{name: "nil connection clears the context's selection", tr: &Transport{ConnectedAccountID: "ca_t"}, ctx: func(c context.Context) context.Context {
			return WithConnection(WithConnectedAccount(c, "ca_ctx"), nil)
		}, account: "ca_t"},
		{name: "empty account id is an explicit choice, not a fallback", tr: &Transport{ConnectedAccountID: "ca_t"}, ctx: func(c context.Context) context.Context {
			return WithConnectedAccount(c, "")
		}, wantErr: ErrNoAuthContext},
		{name: "nothing", wantErr: ErrNoAuthContext},
		{name: "invalid connection", tr: &Transport{Connection: &credentials.Connection{AuthScheme: credentials.OAuth1}}, wantErr: ErrBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := tc.tr
			if tr == nil {
				tr = &Transport{}
			}
			tr.APIKey, tr.BaseURL, tr.Base = "ak_k", "https://proxy.test", p
			ctx := context.Background()
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.stripe.com/v1/charges", nil)
			resp, err := tr.RoundTrip(req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || p.calls != 0 {
					t.Fatalf("err = %v, calls = %d; want %v and no call", err, p.calls, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			env := p.envelope(t)
			if env["connected_account_id"] != tc.account {
				t.Errorf("connected_account_id = %v, want %v", env["connected_account_id"], tc.account)
			}
			ccd, _ := env["custom_connection_data"].(map[string]any)
			if tc.toolkit != nil {
				val, _ := ccd["val"].(map[string]any)
				if ccd["toolkitSlug"] != tc.toolkit || ccd["authScheme"] != "BEARER_TOKEN" || val["token"] != "sk_live_secret" {
					t.Errorf("custom_connection_data = %v", ccd)
				}
			} else if ccd != nil {
				t.Errorf("unexpected custom_connection_data %v", ccd)
			}
		})
	}
}

func TestRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		build   func() *http.Request
		upload  UploadFunc
		wantErr error
	}{
		{"method CONNECT", func() *http.Request { r, _ := http.NewRequest("CONNECT", "https://a.test/", nil); return r }, nil, ErrUnsupportedMethod},
		{"method OPTIONS", func() *http.Request { r, _ := http.NewRequest("OPTIONS", "https://a.test/", nil); return r }, nil, ErrUnsupportedMethod},
		{"known size over 4 MB, no upload hook", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.test/", bytes.NewReader(make([]byte, MaxInlineBody+1)))
			return r
		}, nil, ErrBodyTooLarge},
		{"unknown size over 4 MB, no upload hook", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.test/", io.LimitReader(zeros{}, MaxInlineBody+10))
			return r
		}, nil, ErrBodyTooLarge},
		{"bad query escape", func() *http.Request {
			r, _ := http.NewRequest("GET", "https://a.test/", nil)
			r.URL.RawQuery = "a=%zz"
			return r
		}, nil, ErrBadRequest},
		{"nil URL", func() *http.Request { return &http.Request{Method: "GET", Header: http.Header{}} }, nil, ErrBadRequest},
		{"header value with CRLF", func() *http.Request {
			r, _ := http.NewRequest("GET", "https://a.test/", nil)
			r.Header["X-Evil"] = []string{"a\r\nInjected: 1"}
			return r
		}, nil, ErrBadRequest},
		{"invalid header name", func() *http.Request {
			r, _ := http.NewRequest("GET", "https://a.test/", nil)
			r.Header["Bad Name"] = []string{"x"}
			return r
		}, nil, ErrBadRequest},
		{"JSON over the proxy's request limit", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.test/", strings.NewReader(`{}`))
			r.Header.Set("Content-Type", "application/json")
			r.ContentLength = MaxRequestSize + 1
			return r
		}, nil, ErrBodyTooLarge},
		{"JSON longer than its ContentLength", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.test/", strings.NewReader(`{}{}`))
			r.Header.Set("Content-Type", "application/json")
			r.ContentLength = 2
			return r
		}, nil, ErrBadRequest},
		{"JSON shorter than its ContentLength", func() *http.Request {
			r, _ := http.NewRequest("POST", "https://a.test/", strings.NewReader(`{}`))
			r.Header.Set("Content-Type", "application/json")
			r.ContentLength = 10
			return r
		}, nil, io.ErrUnexpectedEOF},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			req := tc.build()
			cb := &countingBody{r: req.Body}
			if req.Body != nil {
				req.Body = cb
			}
			_, err := tr.RoundTrip(req)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if p.calls != 0 {
				t.Fatalf("proxy called %d times", p.calls)
			}
			if req.Body != nil && cb.closes.Load() != 1 {
				t.Fatalf("body closed %d times", cb.closes.Load())
			}
			if strings.Contains(err.Error(), "ak_test_secret") {
				t.Fatal("API key in error")
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestUploadHook(t *testing.T) {
	t.Parallel()
	for _, known := range []bool{true, false} {
		t.Run(fmt.Sprint("known size ", known), func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: okReply}
			tr := newTestTransport(p)
			var gotSize int64
			var gotN int64
			tr.Upload = func(ctx context.Context, body io.Reader, size int64, ct string) (string, error) {
				gotSize = size
				gotN, _ = io.Copy(io.Discard, body)
				return "https://uploads.test/obj?sig=1", nil
			}
			n := int64(MaxInlineBody + 100)
			var body io.Reader = io.LimitReader(zeros{}, n)
			if known {
				body = bytes.NewReader(make([]byte, n))
			}
			req, _ := http.NewRequest("PUT", "https://a.test/upload", body)
			req.Header.Set("Content-Type", "video/mp4")
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if gotN != n || (known && gotSize != n) || (!known && gotSize != -1) {
				t.Errorf("upload got %d bytes, size %d", gotN, gotSize)
			}
			bb := p.envelope(t)["binary_body"].(map[string]any)
			if bb["url"] != "https://uploads.test/obj?sig=1" || bb["content_type"] != "video/mp4" || bb["base64"] != nil {
				t.Errorf("binary_body = %v", bb)
			}
		})
	}
	t.Run("hook error", func(t *testing.T) {
		t.Parallel()
		p := &stubProxy{reply: okReply}
		tr := newTestTransport(p)
		boom := errors.New("bucket unavailable")
		tr.Upload = func(context.Context, io.Reader, int64, string) (string, error) { return "", boom }
		cb := &countingBody{r: bytes.NewReader(make([]byte, MaxInlineBody+1))}
		req, _ := http.NewRequest("PUT", "https://a.test/upload", cb)
		req.ContentLength = MaxInlineBody + 1
		if _, err := tr.RoundTrip(req); !errors.Is(err, boom) || p.calls != 0 || cb.closes.Load() != 1 {
			t.Fatalf("err = %v, calls %d, closes %d", err, p.calls, cb.closes.Load())
		}
	})
}

func TestResponseMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		method string
		reply  string
		status int
		header http.Header
		body   string
		clen   int64
	}{
		{name: "JSON data byte-exact", reply: `{"status":201,"headers":{"content-type":"application/json","content-length":"99","content-encoding":"gzip","transfer-encoding":"chunked","x-github-request-id":"A:B","set-cookie":"a=1, b=2"},"data":{"id": 1, "ok" :false}}`,
			status: 201, header: http.Header{"Content-Type": {"application/json"}, "X-Github-Request-Id": {"A:B"}, "Set-Cookie": {"a=1, b=2"}}, body: `{"id": 1, "ok" :false}`, clen: 22},
		{name: "text data", reply: `{"status":200,"headers":{"Content-Type":"text/plain; charset=utf-8"},"data":"hello\nworld \u00e9"}`,
			status: 200, header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}}, body: "hello\nworld é", clen: 14},
		{name: "JSON string under JSON content type stays JSON", reply: `{"status":200,"headers":{"content-type":"application/json"},"data":"hi"}`,
			status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `"hi"`, clen: 4},
		{name: "null data", reply: `{"status":204,"headers":{},"data":null}`, status: 204, header: http.Header{}, body: "", clen: 0},
		{name: "absent data and headers", reply: `{"status":304}`, status: 304, header: http.Header{}, body: "", clen: 0},
		{name: "upstream 404 is a response", reply: `{"status":404,"headers":{"content-type":"application/json"},"data":{"message":"Not Found"}}`,
			status: 404, header: http.Header{"Content-Type": {"application/json"}}, body: `{"message":"Not Found"}`, clen: 23},
		{name: "upstream 500 is a response", reply: `{"status":500,"data":"oops"}`, status: 500, header: http.Header{}, body: "oops", clen: 4},
		{name: "upstream 429 is a response", reply: `{"status":429,"headers":{"retry-after":"3"},"data":null}`, status: 429, header: http.Header{"Retry-After": {"3"}}, body: "", clen: 0},
		{name: "HEAD has no body, keeps the length", method: "HEAD", reply: `{"status":200,"headers":{"content-length":"1234"},"data":"ignored"}`,
			status: 200, header: http.Header{}, body: "", clen: 1234},
		{name: "invalid header names and values dropped", reply: `{"status":200,"headers":{"bad name":"x","x-ok":"1","x-crlf":"a\r\nInjected: 1"},"data":null}`,
			status: 200, header: http.Header{"X-Ok": {"1"}}, body: "", clen: 0},
		{name: "names differing only in case keep every value, in order", reply: `{"status":200,"headers":{"x-a":"1","X-A":"2","x-b":"3"},"data":null}`,
			status: 200, header: http.Header{"X-A": {"1", "2"}, "X-B": {"3"}}, body: "", clen: 0},
		{name: "hop-by-hop headers dropped, as httputil.ReverseProxy does", reply: `{"status":200,"headers":{"connection":"keep-alive, X-Hop","keep-alive":"timeout=5","upgrade":"h2c","proxy-connection":"close","proxy-authenticate":"Basic","te":"trailers","trailer":"X-T","x-hop":"1","x-end":"2"},"data":null}`,
			status: 200, header: http.Header{"X-End": {"2"}}, body: "", clen: 0},
		{name: "Connection-listed headers dropped, any case and spacing", reply: `{"status":101,"headers":{"Connection":"Upgrade,x-one ,  X-TWO","x-one":"1","x-two":"2","x-three":"3"},"data":null}`,
			status: 101, header: http.Header{"X-Three": {"3"}}, body: "", clen: 0},
		{name: "headers with spaces, escapes and null values", reply: "{\"status\":200,\"headers\" : {\n \"x-a\" : \"1\" ,\t\"x-n\" : null , \"x-\\u0062\":\"a\\\"b\" , \"x-n2\":null } ,\"data\":null}",
			status: 200, header: http.Header{"X-A": {"1"}, "X-B": {`a"b`}}, body: "", clen: 0},
		{name: "unknown envelope fields ignored", reply: `{"successful":true,"status":200,"extra":{"a":[1,2,{"b":null}]},"data":[true]}`,
			status: 200, header: http.Header{}, body: `[true]`, clen: 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: tc.reply}
			tr := newTestTransport(p)
			method := tc.method
			if method == "" {
				method = "GET"
			}
			req, _ := http.NewRequest(method, "https://api.github.com/x", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Status != fmt.Sprintf("%d %s", tc.status, http.StatusText(tc.status)) {
				t.Errorf("status = %d %q", resp.StatusCode, resp.Status)
			}
			if !reflect.DeepEqual(resp.Header, tc.header) {
				t.Errorf("header = %v\nwant %v", resp.Header, tc.header)
			}
			if string(b) != tc.body || resp.ContentLength != tc.clen {
				t.Errorf("body = %q (ContentLength %d), want %q (%d)", b, resp.ContentLength, tc.body, tc.clen)
			}
			if resp.Request != req {
				t.Error("resp.Request is not the caller's request")
			}
		})
	}
}

func TestBinaryResponse(t *testing.T) {
	t.Parallel()
	const url = "https://signed.test/obj?sig=abc"
	cases := []struct {
		name    string
		file    string
		size    int64
		want    string
		wantErr bool
		status  int
	}{
		{name: "streamed", file: "\x89PNG....", size: 8, want: "\x89PNG...."},
		{name: "expired URL", file: "EXPIRED", size: 8, wantErr: true, status: 403},
		{name: "shorter than declared", file: "abc", size: 8, wantErr: true},
		{name: "longer than declared", file: "abcdefghijk", size: 8, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{
				reply: fmt.Sprintf(`{"status":200,"headers":{"content-length":"8"},"binary_data":{"url":%q,"content_type":"image/png","size":%d,"expires_at":"2030-01-01T00:00:00Z"}}`, url, tc.size),
				files: map[string]string{url: tc.file},
			}
			tr := newTestTransport(p)
			req, _ := http.NewRequest("GET", "https://api.github.com/avatar", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.ContentLength != tc.size || resp.Header.Get("Content-Type") != "image/png" {
				t.Errorf("ContentLength %d, Content-Type %q", resp.ContentLength, resp.Header.Get("Content-Type"))
			}
			if len(p.fileHdr) != 0 {
				t.Fatal("binary fetched before the body was read")
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if tc.wantErr {
				var be *BinaryError
				if !errors.As(err, &be) || !errors.Is(err, ErrBinaryBody) || be.StatusCode != tc.status {
					t.Fatalf("err = %v, want *BinaryError with status %d", err, tc.status)
				}
				if int64(len(b)) > tc.size {
					t.Fatalf("read %d bytes past the declared size", len(b))
				}
				return
			}
			if err != nil || string(b) != tc.want {
				t.Fatalf("body %q, err %v", b, err)
			}
			for k := range p.fileHdr[0] {
				if strings.Contains(strings.ToLower(k), "api-key") {
					t.Fatalf("Composio key sent to the signed URL: %s", k)
				}
			}
		})
	}
}

func TestMalformedEnvelopes(t *testing.T) {
	t.Parallel()
	cases := []string{
		``,
		`{`,
		`{"status":200,"data":{"a":`,
		`[]`,
		`"str"`,
		`{"status":"200"}`,
		`{"status":2000}`,
		`{"status":99}`,
		`{"status":-200}`,
		`{"status":200.5}`,
		`{"data":{}}`,
		`{"status":200,"headers":[]}`,
		`{"status":200,"headers":"x"}`,
		`{"status":200,"headers":{"a":1}}`,
		`{"status":200,"headers":{"a":["x"]}}`,
		`{"status":200,"binary_data":"x"}`,
		`{"status":200,"binary_data":{"url":"https://s.test/x","size":-1}}`,
		`{"status":200,"binary_data":{"url":"https://s.test/x","size":"12"}}`,
		`{"status":200,"binary_data":{"url":"https://s.test/x","size":1.5}}`,
		`{"status":200,"binary_data":{"url":"file:///etc/passwd","size":1}}`,
		`{"status":200,"binary_data":{"size":1}}`,
		`{"status":200} trailing`,
		`{"status":200,"data":"\x01"}`,
		`{"status":200,"data":tru}`,
		strings.Repeat("[", 20000) + strings.Repeat("]", 20000),
		`{"status":200,"headers":{` + strings.Repeat(`"x-h":"v",`, maxResponseHeaders+1) + `"y":"z"}}`,
		`{"status":200,"headers":{"x":"` + strings.Repeat("a", maxResponseHeaderBytes) + `"}}`,
	}
	for i, reply := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: reply}
			tr := newTestTransport(p)
			req, _ := http.NewRequest("GET", "https://api.github.com/x", nil)
			resp, err := tr.RoundTrip(req)
			var ee *EnvelopeError
			if resp != nil || !errors.As(err, &ee) || !errors.Is(err, ErrMalformedEnvelope) {
				t.Fatalf("reply %.60q: resp %v, err %v; want *EnvelopeError", reply, resp, err)
			}
		})
	}
	t.Run("oversized reply", func(t *testing.T) {
		t.Parallel()
		p := &stubProxy{reply: `{"status":200,"data":"` + strings.Repeat("a", 2000) + `"}`}
		tr := newTestTransport(p)
		tr.MaxResponseSize = 1000
		req, _ := http.NewRequest("GET", "https://api.github.com/x", nil)
		if _, err := tr.RoundTrip(req); !errors.Is(err, ErrMalformedEnvelope) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestProxyErrors(t *testing.T) {
	t.Parallel()
	// The time in a synctest bubble, where each case runs: RoundTrip reads
	// the clock (time.Now) to turn a Retry-After date into a wait.
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		status     int
		body       string
		retryAfter string
		want       Error
		temporary  bool
	}{
		{400, `{"error":{"message":"Endpoint origin does not match","code":10400,"slug":"OriginMismatch","status":400,"request_id":"req_1","suggested_fix":"Use a relative endpoint","errors":["endpoint: bad origin",{"field":"x"}]}}`, "",
			Error{StatusCode: 400, Code: 10400, Slug: "OriginMismatch", Message: "Endpoint origin does not match", RequestID: "req_1", SuggestedFix: "Use a relative endpoint", Errors: []string{"endpoint: bad origin", `{"field":"x"}`}}, false},
		{401, `{"error":{"message":"Invalid API key","error_code":"10401"}}`, "", Error{StatusCode: 401, Code: 10401, Message: "Invalid API key"}, false},
		{403, `{"error":{"message":"forbidden"}}`, "", Error{StatusCode: 403, Message: "forbidden"}, false},
		{404, `{"error":{"message":"Connected account not found","slug":"ConnectedAccountNotFound"}}`, "", Error{StatusCode: 404, Slug: "ConnectedAccountNotFound", Message: "Connected account not found"}, false},
		{422, `{"error":{"message":"Account is EXPIRED"}}`, "", Error{StatusCode: 422, Message: "Account is EXPIRED"}, false},
		{429, `{"error":{"message":"Rate limited"}}`, "7", Error{StatusCode: 429, Message: "Rate limited", RetryAfter: 7 * time.Second}, true},
		{429, `not json`, now.Add(90 * time.Second).Format(http.TimeFormat), Error{StatusCode: 429, Message: "Too Many Requests", RetryAfter: 90 * time.Second}, true},
		{500, ``, "", Error{StatusCode: 500, Message: "Internal Server Error"}, true},
		{501, `{"error":{"message":"Unsupported auth scheme","slug":"NotImplemented"}}`, "", Error{StatusCode: 501, Slug: "NotImplemented", Message: "Unsupported auth scheme"}, false},
		{502, `{"message":"bad gateway"}`, "", Error{StatusCode: 502, Message: "bad gateway"}, true},
		{403, `{"error":"Forbidden by policy"}`, "", Error{StatusCode: 403, Message: "Forbidden by policy"}, false},
		{504, `{"error":{"message":"Upstream timed out","slug":"UpstreamTimeout"}}`, "", Error{StatusCode: 504, Slug: "UpstreamTimeout", Message: "Upstream timed out"}, true},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.status, tc.want.Slug), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := &stubProxy{status: tc.status, reply: tc.body, replyHdr: http.Header{}}
				if tc.retryAfter != "" {
					p.replyHdr.Set("Retry-After", tc.retryAfter)
				}
				tr := newTestTransport(p)
				req, _ := http.NewRequest("GET", "https://api.github.com/x", nil)
				_, err := (&http.Client{Transport: tr}).Do(req)
				var ue *url.Error
				var pe *Error
				if !errors.As(err, &ue) || !errors.As(err, &pe) {
					t.Fatalf("err = %v, want *url.Error wrapping *Error", err)
				}
				if !reflect.DeepEqual(*pe, tc.want) {
					t.Errorf("got  %+v\nwant %+v", *pe, tc.want)
				}
				if pe.Temporary() != tc.temporary || IsRetryable(err) != tc.temporary {
					t.Errorf("Temporary %v, IsRetryable %v; want %v", pe.Temporary(), IsRetryable(err), tc.temporary)
				}
				if strings.Contains(err.Error(), "ak_test_secret") {
					t.Error("API key in error string")
				}
			})
		})
	}
}

func TestErrorBodyIsBounded(t *testing.T) {
	t.Parallel()
	cr := &countingReader{r: io.MultiReader(strings.NewReader(`{"error":{"message":"`), zeros{})}
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		r.Body.Close()
		return &http.Response{StatusCode: 500, Header: http.Header{}, Body: io.NopCloser(cr), ContentLength: -1}, nil
	})
	tr := &Transport{APIKey: "ak", ConnectedAccountID: "ca", Base: base}
	req, _ := http.NewRequest("GET", "https://a.test/", nil)
	_, err := tr.RoundTrip(req)
	var pe *Error
	if !errors.As(err, &pe) || pe.StatusCode != 500 {
		t.Fatalf("err = %v", err)
	}
	if n := cr.n.Load(); n > maxErrorBody+4096 {
		t.Fatalf("read %d bytes of an endless error body", n)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// countingBody counts Close calls.
type countingBody struct {
	r      io.Reader
	closes atomic.Int32
}

func (c *countingBody) Read(p []byte) (int, error) { return c.r.Read(p) }
func (c *countingBody) Close() error               { c.closes.Add(1); return nil }

func TestIsRetryable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{&Error{StatusCode: 429}, true},
		{&Error{StatusCode: 503}, true}, // RetryableStatus: the proxy overloaded or down
		{&Error{StatusCode: 400}, false},
		{fmt.Errorf("wrapped: %w", &Error{StatusCode: 502}), true},
		{io.ErrUnexpectedEOF, true},
		{context.Canceled, false},
		{context.DeadlineExceeded, false},
		{ErrBadRequest, false},
		{&EnvelopeError{Reason: "x"}, false},
		{errors.New("something else"), false},
	}
	for _, tc := range cases {
		if got := IsRetryable(tc.err); got != tc.want {
			t.Errorf("IsRetryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestIdentity(t *testing.T) {
	t.Parallel()
	conn := &credentials.Connection{AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "sk_secret"}}
	bg := context.Background()
	if got := Identity(bg); got != "" {
		t.Errorf("Identity(background) = %q", got)
	}
	if got := Identity(WithConnectedAccount(bg, "ca_1")); got != "account:ca_1" {
		t.Errorf("account identity = %q", got)
	}
	a, b := Identity(WithConnection(bg, conn)), Identity(WithConnection(bg, conn.Clone()))
	if a != b || !strings.HasPrefix(a, "connection:") || strings.Contains(a, "sk_secret") {
		t.Errorf("connection identities %q, %q", a, b)
	}
	other := conn.Clone()
	other.Val.Token = "sk_other"
	if Identity(WithConnection(bg, other)) == a {
		t.Error("different credentials share an identity")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "0": 0, "-3": 0, " 12 ": 12 * time.Second, "abc": 0, "99999999999999": 24 * time.Hour,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
		now.Add(1000 * time.Hour).Format(http.TimeFormat): 24 * time.Hour,
	} {
		if got := ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// A streamed body that does not match its ContentLength fails the proxy
// request's write, as net/http would, instead of sending a short envelope.
func TestStreamedBodyLengthMismatch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		body string
		n    int64
	}{{"shorter", "abc", 10}, {"longer", "abcdefghijkl", 4}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				_, err := io.ReadAll(r.Body)
				r.Body.Close()
				if err == nil {
					t.Error("the envelope was written whole")
				}
				return nil, err
			})
			tr := &Transport{APIKey: "ak", ConnectedAccountID: "ca", Base: base}
			cb := &countingBody{r: strings.NewReader(tc.body)}
			req, _ := http.NewRequest("PUT", "https://a.test/f", cb)
			req.ContentLength = tc.n
			if _, err := tr.RoundTrip(req); !errors.Is(err, ErrBadRequest) {
				t.Fatalf("err = %v, want ErrBadRequest", err)
			}
			if cb.closes.Load() != 1 {
				t.Fatalf("closed %d times", cb.closes.Load())
			}
		})
	}
}

func TestCallInfo(t *testing.T) {
	t.Parallel()
	p := &stubProxy{reply: `{"status":201,"data":null}`, replyHdr: http.Header{"X-Request-Id": {"req_1"}}}
	tr := newTestTransport(p)
	info := &CallInfo{Retries: 2, CacheHit: true}
	ctx := WithCallInfo(context.Background(), info)
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := CallInfo{ConnectedAccountID: "ca_1", RequestID: "req_1", UpstreamStatus: 201, ProxyStatus: 200, Retries: 2, CacheHit: true}
	if *info != want {
		t.Fatalf("after success: %+v, want %+v", *info, want)
	}

	// A later attempt that fails on the way leaves nothing of the earlier one.
	p.err = errors.New("connection refused")
	if _, err := tr.RoundTrip(req); err == nil {
		t.Fatal("no error")
	}
	want = CallInfo{ConnectedAccountID: "ca_1", Retries: 2, CacheHit: true}
	if *info != want {
		t.Fatalf("after failure: %+v, want %+v", *info, want)
	}
}
