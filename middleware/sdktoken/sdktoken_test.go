package sdktoken_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/sdktoken"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// seen is what the wrapped RoundTripper got.
type seen struct {
	header http.Header
	query  string
	body   string
	clen   int64
}

type recorder struct {
	mu   sync.Mutex
	last seen
	err  error
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var b []byte
	if req.Body != nil {
		b, _ = io.ReadAll(req.Body)
		req.Body.Close()
	}
	r.mu.Lock()
	r.last = seen{req.Header.Clone(), req.URL.RawQuery, string(b), req.ContentLength}
	err := r.err
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &http.Response{StatusCode: 200, Body: http.NoBody, Request: req}, nil
}

// closeCounter counts Close calls on a body.
type closeCounter struct {
	io.Reader
	n atomic.Int32
}

func (c *closeCounter) Close() error { c.n.Add(1); return nil }

const form = "application/x-www-form-urlencoded"

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	big := "token=composio&data=" + strings.Repeat("x", composiohttp.MaxInlineBody)
	tests := []struct {
		name       string
		url        string
		header     map[string][]string
		body       string
		opts       []sdktoken.Option
		wantQuery  string
		wantBody   string
		wantHeader map[string][]string // nil slice: header absent
	}{
		{name: "slack-go form body", url: "https://slack.com/api/chat.postMessage",
			header: map[string][]string{"Content-Type": {form}}, body: "channel=C1&text=hi%20there&token=composio",
			wantBody: "channel=C1&text=hi%20there"},
		{name: "placeholder first", url: "https://slack.com/api/auth.test",
			header: map[string][]string{"Content-Type": {form + "; charset=utf-8"}}, body: "token=composio",
			wantBody: ""},
		{name: "real token kept", url: "https://slack.com/api/auth.test",
			header: map[string][]string{"Content-Type": {form}}, body: "token=xoxb-real&a=1", wantBody: "token=xoxb-real&a=1"},
		{name: "other field with the placeholder kept", url: "https://slack.com/api/chat.postMessage",
			header: map[string][]string{"Content-Type": {form}}, body: "text=composio&token=composio", wantBody: "text=composio"},
		{name: "escaped field name", url: "https://x.test/",
			header: map[string][]string{"Content-Type": {form}}, body: "to%6Ben=composio&b=%zz", wantBody: "b=%zz"},
		{name: "JSON body untouched", url: "https://x.test/",
			header: map[string][]string{"Content-Type": {"application/json"}}, body: `{"token":"composio"}`, wantBody: `{"token":"composio"}`},
		{name: "query", url: "https://slack.com/api/conversations.list?limit=5&token=composio&cursor=a%2Bb",
			wantQuery: "limit=5&cursor=a%2Bb"},
		{name: "query real token", url: "https://x.test/?token=real", wantQuery: "token=real"},
		{name: "bearer header", url: "https://api.stripe.com/v1/balance",
			header:     map[string][]string{"Authorization": {"Bearer composio"}, "Stripe-Version": {"2024-06-20"}},
			wantHeader: map[string][]string{"Authorization": nil, "Stripe-Version": {"2024-06-20"}}},
		{name: "basic header (key as user name)", url: "https://api.stripe.com/v1/balance",
			header:     map[string][]string{"Authorization": {"basic Y29tcG9zaW86"}},
			wantHeader: map[string][]string{"Authorization": nil}},
		{name: "real bearer kept", url: "https://x.test/",
			header:     map[string][]string{"Authorization": {"Bearer sk_live_real"}},
			wantHeader: map[string][]string{"Authorization": {"Bearer sk_live_real"}}},
		{name: "custom header, one of two values", url: "https://x.test/",
			header:     map[string][]string{"X-Api-Token": {"composio", "other"}},
			wantHeader: map[string][]string{"X-Api-Token": {"other"}}},
		{name: "own placeholder and field", url: "https://x.test/?access_token=PLACEHOLDER&token=composio",
			opts:      []sdktoken.Option{sdktoken.WithPlaceholder("PLACEHOLDER"), sdktoken.WithFields("access_token")},
			wantQuery: "token=composio"},
		{name: "form over the inline limit passes unchanged", url: "https://x.test/",
			header: map[string][]string{"Content-Type": {form}}, body: big, wantBody: big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			tr := sdktoken.New(rec, tt.opts...)
			var body *closeCounter
			req, _ := http.NewRequest("POST", tt.url, nil)
			if tt.body != "" {
				body = &closeCounter{Reader: strings.NewReader(tt.body)}
				req.Body, req.ContentLength = body, int64(len(tt.body))
			}
			for k, v := range tt.header {
				req.Header[k] = v
			}
			before := req.Header.Clone()
			beforeURL := req.URL.String()
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			got := rec.last
			if tt.wantQuery != "" || strings.Contains(tt.url, "?") {
				if got.query != tt.wantQuery {
					t.Errorf("query %q, want %q", got.query, tt.wantQuery)
				}
			}
			if got.body != tt.wantBody {
				t.Errorf("body %.80q, want %.80q", got.body, tt.wantBody)
			}
			if tt.body != "" && got.clen != int64(len(tt.wantBody)) {
				t.Errorf("ContentLength %d, want %d", got.clen, len(tt.wantBody))
			}
			for k, want := range tt.wantHeader {
				if g := got.header[k]; strings.Join(g, "|") != strings.Join(want, "|") || (want == nil) != (g == nil) {
					t.Errorf("%s = %q, want %q", k, g, want)
				}
			}
			if req.URL.String() != beforeURL || !equalHeader(req.Header, before) {
				t.Errorf("the caller's request was modified: %s %v", req.URL, req.Header)
			}
			if body != nil && body.n.Load() != 1 {
				t.Errorf("body closed %d times", body.n.Load())
			}
		})
	}
}

func equalHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if strings.Join(v, "\x00") != strings.Join(b[k], "\x00") {
			return false
		}
	}
	return true
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk gone") }

func TestErrorsCloseTheBody(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	t.Run("next fails", func(t *testing.T) {
		t.Parallel()
		tr := sdktoken.New(&recorder{err: boom})
		body := &closeCounter{Reader: strings.NewReader("token=composio")}
		req, _ := http.NewRequest("POST", "https://x.test/", body)
		req.Header.Set("Content-Type", form)
		if _, err := tr.RoundTrip(req); !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		if body.n.Load() != 1 {
			t.Errorf("body closed %d times", body.n.Load())
		}
	})
	t.Run("body read fails", func(t *testing.T) {
		t.Parallel()
		tr := sdktoken.New(&recorder{})
		body := &closeCounter{Reader: failingReader{}}
		req, _ := http.NewRequest("POST", "https://x.test/", body)
		req.Header.Set("Content-Type", form)
		_, err := tr.RoundTrip(req)
		if err == nil || !strings.Contains(err.Error(), "sdktoken: reading the request body: disk gone") {
			t.Fatalf("err = %v", err)
		}
		if body.n.Load() != 1 {
			t.Errorf("body closed %d times", body.n.Load())
		}
	})
	t.Run("nil request", func(t *testing.T) {
		t.Parallel()
		if _, err := sdktoken.New(&recorder{}).RoundTrip(nil); !errors.Is(err, composiohttp.ErrNilRequest) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestUnwrapAndMiddleware(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	rt := sdktoken.Middleware()(rec)
	if u, ok := rt.(interface{ Unwrap() http.RoundTripper }); !ok || u.Unwrap() != rec {
		t.Fatal("Unwrap does not return the wrapped RoundTripper")
	}
}
