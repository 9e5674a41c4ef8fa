package composiohttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
)

// snapshot is what a RoundTripper must leave untouched in a request.
type snapshot struct {
	Method        string
	URL           string
	Header        http.Header
	ContentLength int64
	Host          string
	Body          io.ReadCloser
	GetBody       bool
	Trailer       http.Header
	Form          bool
	Ctx           context.Context
}

func snap(r *http.Request) snapshot {
	return snapshot{r.Method, r.URL.String(), r.Header.Clone(), r.ContentLength, r.Host, r.Body, r.GetBody != nil, r.Trailer.Clone(), r.Form != nil, r.Context()}
}

// contractCases cover every path through RoundTrip: success of each body
// kind, and each error before, during and after the proxy call.
func contractCases() []struct {
	name    string
	proxy   *stubProxy
	tr      func(*Transport)
	method  string
	ct      string
	body    string
	unknown bool // body of unknown length
	wantErr bool
} {
	return []struct {
		name    string
		proxy   *stubProxy
		tr      func(*Transport)
		method  string
		ct      string
		body    string
		unknown bool
		wantErr bool
	}{
		{name: "GET ok", proxy: &stubProxy{reply: okReply}, method: "GET"},
		{name: "JSON ok", proxy: &stubProxy{reply: okReply}, method: "POST", ct: "application/json", body: `{"a":1}`},
		{name: "streamed binary ok", proxy: &stubProxy{reply: okReply}, method: "PUT", ct: "image/png", body: "\x89PNG"},
		{name: "unknown-length binary ok", proxy: &stubProxy{reply: okReply}, method: "PUT", body: "data", unknown: true},
		{name: "upload ok", proxy: &stubProxy{reply: okReply}, method: "PUT", body: strings.Repeat("z", MaxInlineBody+1),
			tr: func(t *Transport) {
				t.Upload = func(_ context.Context, r io.Reader, _ int64, _ string) (string, error) {
					io.Copy(io.Discard, r)
					return "https://u.test/1", nil
				}
			}},
		{name: "unsupported method", proxy: &stubProxy{}, method: "TRACE", body: "x", wantErr: true},
		{name: "invalid JSON goes as binary", proxy: &stubProxy{reply: okReply}, method: "POST", ct: "application/json", body: "{"},
		{name: "too large", proxy: &stubProxy{}, method: "POST", body: strings.Repeat("z", MaxInlineBody+1), wantErr: true},
		{name: "bad configuration", proxy: &stubProxy{}, method: "POST", body: "x", tr: func(t *Transport) { t.APIKey = "-"; t.BaseURL = "::bad" }, wantErr: true},
		{name: "no account", proxy: &stubProxy{}, method: "POST", body: "x", tr: func(t *Transport) { t.ConnectedAccountID = "" }, wantErr: true},
		{name: "proxy error", proxy: &stubProxy{status: 500, reply: `{"error":{"message":"x"}}`}, method: "POST", ct: "application/json", body: `{}`, wantErr: true},
		{name: "proxy error, streamed body", proxy: &stubProxy{status: 429, reply: `{}`}, method: "PUT", body: "bin", wantErr: true},
		{name: "connection failure", proxy: &stubProxy{err: errors.New("dial tcp: connection refused")}, method: "PUT", body: "bin", wantErr: true},
		{name: "connection failure, JSON", proxy: &stubProxy{err: errors.New("dial tcp: connection refused")}, method: "POST", ct: "application/json", body: "{}", wantErr: true},
		{name: "malformed envelope", proxy: &stubProxy{reply: `{"status":`}, method: "POST", ct: "text/plain", body: "hi", wantErr: true},
	}
}

func TestRoundTripContract(t *testing.T) {
	t.Parallel()
	for _, tc := range contractCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := newTestTransport(tc.proxy)
			if tc.tr != nil {
				tc.tr(tr)
			}
			var r io.Reader = strings.NewReader(tc.body)
			if tc.unknown {
				r = io.MultiReader(r)
			}
			cb := &countingBody{r: r}
			req, _ := http.NewRequest(tc.method, "https://api.github.com/repos/o/r?x=1&x=2", nil)
			req.Body = cb
			req.ContentLength = int64(len(tc.body))
			if tc.unknown {
				req.ContentLength = -1
			}
			req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(tc.body)), nil }
			req.Header.Set("Accept", "application/json")
			req.Header.Set("Authorization", "Bearer caller")
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			req = req.WithContext(WithCallInfo(context.Background(), &CallInfo{}))
			before := snap(req)

			resp, err := tr.RoundTrip(req)
			if tc.wantErr {
				if err == nil || resp != nil {
					t.Fatalf("want an error and no response, got %v, %v", resp, err)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if got := cb.closes.Load(); got != 1 {
				t.Errorf("request body closed %d times, want exactly 1", got)
			}
			after := snap(req)
			if !reflect.DeepEqual(before, after) {
				t.Errorf("request modified:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

func TestResponseForEveryUpstreamStatus(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 204, 304, 404, 429, 500} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			tr := newTestTransport(&stubProxy{reply: fmt.Sprintf(`{"status":%d,"headers":{},"data":null}`, status)})
			req, _ := http.NewRequest("GET", "https://api.github.com/x", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil || resp.StatusCode != status {
				t.Fatalf("resp %v, err %v", resp, err)
			}
			resp.Body.Close()
		})
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	p := &stubProxy{reply: okReply}
	tr := newTestTransport(p) // shared; its configuration is built lazily by the first callers
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := WithConnectedAccount(context.Background(), fmt.Sprintf("ca_%d", i))
			body := fmt.Sprintf(`{"n":%d}`, i)
			req, _ := http.NewRequestWithContext(ctx, "POST", "https://api.github.com/x", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := tr.RoundTrip(req)
			if err != nil {
				errs <- err
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(b) != `{"ok":true}` {
				errs <- fmt.Errorf("body %q", b)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p.calls != 64 {
		t.Fatalf("%d proxy calls", p.calls)
	}
	seen := map[string]bool{}
	for _, b := range p.bodies {
		seen[string(b)] = true
		if !bytes.Contains(b, []byte(`"connected_account_id":"ca_`)) {
			t.Fatalf("envelope %s", b)
		}
	}
	if len(seen) != 64 {
		t.Fatalf("%d distinct envelopes, want 64", len(seen))
	}
}
