package testutil_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

func newHTTPUpstream(t *testing.T, h http.Handler) string {
	t.Helper()
	up := httptest.NewServer(h)
	t.Cleanup(up.Close)
	return up.URL
}

// canned answers with a fixed status, content type and body.
func canned(status int, contentType, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.Header().Add("X-Multi", "a")
		w.Header().Add("X-Multi", "b")
		w.WriteHeader(status)
		io.WriteString(w, body)
	})
}

func TestWrapping(t *testing.T) {
	t.Parallel()
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	tests := []struct {
		name        string
		status      int
		ct, body    string
		method      string
		wantData    string // raw JSON of data; "" = absent
		wantBinary  string // content type of binary_data; "" = none
		overHTTP    bool
		wantStatus  int
		wantHeaders map[string]string
	}{
		{name: "JSON verbatim", status: 200, ct: "application/json", body: `{"b": 1, "a": [true, false, 0, {}]}`, wantData: `{"b": 1, "a": [true, false, 0, {}]}`},
		{name: "JSON with charset", status: 200, ct: "application/json; charset=utf-8", body: `[1,2]`, wantData: `[1,2]`},
		{name: "vendor JSON", status: 200, ct: "application/vnd.github+json", body: `{"id":1}`, wantData: `{"id":1}`},
		{name: "problem JSON 404", status: 404, ct: "application/problem+json", body: `{"title":"nope"}`, wantData: `{"title":"nope"}`},
		{name: "upstream 500 inside 200", status: 500, ct: "application/json", body: `{"message":"boom"}`, wantData: `{"message":"boom"}`},
		// A body labelled JSON that is not JSON travels as binary_data, so
		// that its bytes arrive unchanged.
		{name: "invalid JSON labelled JSON", status: 502, ct: "application/json", body: `<html>bad gateway`, wantBinary: "application/json"},
		{name: "OK labelled JSON", status: 200, ct: "application/json; charset=utf-8", body: `OK`, wantBinary: "application/json; charset=utf-8"},
		{name: "JSON string", status: 200, ct: "application/json", body: `"hello"`, wantData: `"hello"`},
		{name: "text", status: 200, ct: "text/plain; charset=utf-8", body: "hello\nworld", wantData: `"hello\nworld"`},
		{name: "csv", status: 200, ct: "text/csv", body: "a,b\n1,2\n", wantData: `"a,b\n1,2\n"`},
		{name: "xml", status: 200, ct: "application/atom+xml", body: "<feed/>", wantData: `"<feed/>"`},
		{name: "no content type JSON", status: 200, body: `{"x":1}`, wantData: `{"x":1}`},
		{name: "no content type text", status: 200, body: `plain words`, wantData: `"plain words"`},
		{name: "no content type binary", status: 200, body: png, wantBinary: "image/png"},
		{name: "png", status: 200, ct: "image/png", body: png, wantBinary: "image/png"},
		{name: "pdf", status: 200, ct: "application/pdf", body: "%PDF-1.4", wantBinary: "application/pdf"},
		{name: "binary text type", status: 200, ct: "text/plain", body: "\xff\xfe", wantBinary: "text/plain"},
		{name: "empty 204", status: 204},
		{name: "empty JSON 200", status: 200, ct: "application/json"},
		{name: "HEAD", status: 200, ct: "application/json", body: `{"x":1}`, method: "HEAD"},
		{name: "redirect not followed", status: 302, ct: "text/plain", body: "moved", wantData: `"moved"`},
		{name: "JSON over HTTP", status: 201, ct: "application/json", body: `{"id":7}` + "\n", wantData: `{"id":7}`, overHTTP: true},
		{name: "binary over HTTP", status: 200, ct: "application/zip", body: "PK\x03\x04", wantBinary: "application/zip", overHTTP: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			h := canned(tt.status, tt.ct, tt.body)
			a := testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: h}
			if tt.overHTTP {
				a.Handler, a.BaseURL = nil, newHTTPUpstream(t, h)
			}
			s.AddAccount(a)
			method := tt.method
			if method == "" {
				method = "GET"
			}
			r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/f", "method": method})
			if r.status != 200 || r.env.Status != tt.status {
				t.Fatalf("got %d, upstream status %d: %s", r.status, r.env.Status, r.body)
			}
			if string(r.env.Data) != tt.wantData {
				t.Errorf("data = %s, want %s", r.env.Data, tt.wantData)
			}
			if r.env.Headers["x-multi"] != "a, b" {
				t.Errorf("headers = %v", r.env.Headers)
			}
			if tt.ct != "" && r.env.Headers["content-type"] != tt.ct {
				t.Errorf("content-type = %q", r.env.Headers["content-type"])
			}
			bd := r.env.BinaryData
			if tt.wantBinary == "" {
				if bd != nil {
					t.Errorf("unexpected binary_data %+v", bd)
				}
				return
			}
			if bd == nil || bd.ContentType != tt.wantBinary || bd.Size != int64(len(tt.body)) || bd.ExpiresAt == "" ||
				!strings.HasPrefix(bd.URL, s.URL+"/binary/") {
				t.Fatalf("binary_data = %+v", bd)
			}
			res, err := http.Get(bd.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || string(got) != tt.body || res.Header.Get("Content-Type") != tt.wantBinary {
				t.Errorf("download: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), got)
			}
		})
	}
}

func TestBinaryURL(t *testing.T) {
	t.Parallel()
	clock := newClock()
	body := bytes.Repeat([]byte{0, 1, 2, 0xff}, 1000)
	s := testutil.NewServer(t, testutil.WithClock(clock.Now), testutil.WithBinaryTTL(time.Minute))
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: canned(200, "application/octet-stream", string(body))})
	r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/f", "method": "GET"})
	bd := r.env.BinaryData
	if bd == nil {
		t.Fatalf("no binary_data: %s", r.body)
	}
	if want := clock.Now().Add(time.Minute).Format(time.RFC3339); bd.ExpiresAt != want {
		t.Errorf("expires_at = %s, want %s", bd.ExpiresAt, want)
	}
	download := func(url string, key bool) (int, string, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key {
			req.Header.Set("X-Api-Key", s.APIKey)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), b
	}
	if st, _, b := download(bd.URL, false); st != 200 || !bytes.Equal(b, body) {
		t.Fatalf("download: %d, %d bytes", st, len(b))
	}
	if st, _, _ := download(bd.URL, true); st != 200 {
		t.Fatalf("download with key: %d", st)
	}
	if st, ct, b := download(strings.Replace(bd.URL, "sig=", "sig=0", 1), false); st != 403 || ct != "application/xml" || !bytes.Contains(b, []byte("SignatureDoesNotMatch")) {
		t.Errorf("bad signature: %d %s %s", st, ct, b)
	}
	if st, _, _ := download(strings.Replace(bd.URL, "exp=", "exp=9", 1), false); st != 403 {
		t.Errorf("forged expiry: %d", st)
	}
	clock.Advance(59 * time.Second)
	if st, _, _ := download(bd.URL, false); st != 200 {
		t.Errorf("just before expiry: %d", st)
	}
	clock.Advance(time.Second)
	if st, _, b := download(bd.URL, false); st != 403 || !bytes.Contains(b, []byte("<Code>AccessDenied</Code>")) {
		t.Errorf("after expiry: %d %s", st, b)
	}
	d := s.Downloads()
	if len(d) != 6 {
		t.Fatalf("downloads = %d", len(d))
	}
	if d[0].HadAPIKey || !d[1].HadAPIKey || d[1].Header.Get("X-Api-Key") != "[REDACTED]" {
		t.Errorf("HadAPIKey not recorded: %+v", d[:2])
	}
	if d[0].Status != 200 || d[5].Status != 403 || !d[5].Time.Equal(clock.Now()) {
		t.Errorf("statuses/times: %+v", d)
	}
	s.Reset()
	if st, _, _ := download(bd.URL, false); st != 403 {
		t.Errorf("after Reset: %d", st)
	}
}

func TestBinaryURLErrors(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	u, err := s.Upload(t.Context(), strings.NewReader("x"), 1, "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodDelete, u, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 405 {
		t.Errorf("DELETE: %d", res.StatusCode)
	}
	res, err = http.Head(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || res.ContentLength != 1 || res.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("HEAD: %d %d %q", res.StatusCode, res.ContentLength, res.Header.Get("Content-Type"))
	}
}

func TestBinaryBodyURL(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	s.AddUpstream("https://files.example.net", canned(200, "image/gif", "GIF89a"))
	fileSrv := newHTTPUpstream(t, canned(200, "text/csv", "a,b"))
	uploaded, err := s.Upload(t.Context(), strings.NewReader("big file"), -1, "application/x-tar")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, url, ct, wantBody, wantCT string
	}{
		{"the fake's own upload", uploaded, "", "big file", "application/x-tar"},
		{"in-process upstream", "https://files.example.net/cat.gif", "", "GIF89a", "image/gif"},
		{"over HTTP, content type given", fileSrv + "/data.csv", "text/plain", "a,b", "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bb := map[string]string{"url": tt.url}
			if tt.ct != "" {
				bb["content_type"] = tt.ct
			}
			e := decodeEcho(t, call(t, s, map[string]any{"connected_account_id": "ca_github", "endpoint": "/up", "method": "POST", "binary_body": bb}))
			if e.Body != tt.wantBody || http.Header(e.Header).Get("Content-Type") != tt.wantCT {
				t.Errorf("upstream got %q as %q", e.Body, http.Header(e.Header).Get("Content-Type"))
			}
		})
	}
	t.Run("fetch fails", func(t *testing.T) {
		t.Parallel()
		r := call(t, s, map[string]any{"connected_account_id": "ca_github", "endpoint": "/up", "method": "POST",
			"binary_body": map[string]string{"url": s.URL + "/binary/nope?exp=1&sig=x"}})
		checkError(t, r, 400, composiohttp.SlugBinaryBodyFetchFailed, "")
	})
}

// unreachable is an upstream whose connections refusingUpstream refuses.
// A closed httptest server's URL is not one: its port may be taken by a
// parallel test's server before the fake dials it (seen in CI: a 404 from
// another test's upstream instead of the 502).
const unreachable = "http://unreachable.test"

// refusingUpstream is the fake's upstream transport, refusing every dial
// to unreachable.test (connection refused) and dialling anything else.
func refusingUpstream(t *testing.T) testutil.Option {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if strings.HasPrefix(addr, "unreachable.test:") {
			return nil, &net.OpError{Op: "dial", Net: network, Err: errors.New("connection refused")}
		}
		return dial(ctx, network, addr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return testutil.WithUpstreamTransport(tr)
}

func TestUpstreamFailures(t *testing.T) {
	t.Parallel()
	blocking := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	tests := []struct {
		name   string
		a      testutil.Account
		status int
		slug   string
	}{
		{"unreachable", testutil.Account{BaseURL: unreachable}, 502, composiohttp.SlugBadGateway},
		{"no upstream", testutil.Account{}, 502, composiohttp.SlugBadGateway},
		{"handler panics", testutil.Account{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })}, 502, composiohttp.SlugBadGateway},
		{"in-process timeout", testutil.Account{Handler: blocking}, 504, composiohttp.SlugUpstreamTimeout},
		{"HTTP timeout", testutil.Account{BaseURL: newHTTPUpstream(t, blocking)}, 504, composiohttp.SlugUpstreamTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Only the timeout cases wait for the timeout; the others get a
			// long one, so that a loaded machine cannot turn their 502 into
			// a 504 (it did, once, with 20ms for all).
			timeout := time.Minute
			if tt.status == http.StatusGatewayTimeout {
				timeout = 20 * time.Millisecond
			}
			s := testutil.NewServer(t, testutil.WithUpstreamTimeout(timeout), refusingUpstream(t))
			tt.a.ID, tt.a.AuthScheme = "ca", credentials.NoAuth
			s.AddAccount(tt.a)
			r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/x", "method": "GET"})
			checkError(t, r, tt.status, tt.slug, "")
		})
	}
}

func TestUpstreamFailureHidesQuery(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t, refusingUpstream(t))
	// Google toolkits put an API key in the "key" query parameter.
	s.AddAccount(testutil.Account{ID: "ca", Toolkit: "gmail", AuthScheme: credentials.APIKey, Val: credentials.Val{APIKey: "sk_secret"}, BaseURL: unreachable})
	r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/x", "method": "GET"})
	checkError(t, r, 502, composiohttp.SlugBadGateway, "")
	if strings.Contains(string(r.body), "sk_secret") {
		t.Errorf("error reply leaks the upstream query: %s", r.body)
	}
}
