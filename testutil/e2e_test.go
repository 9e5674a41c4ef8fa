package testutil_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// End-to-end tests: the real Transport against the fake.

func githubClient(t *testing.T, h http.Handler, opts ...testutil.Option) (*testutil.Server, *http.Client) {
	t.Helper()
	s := github(t, h, opts...)
	tr := s.Transport()
	tr.ConnectedAccountID = "ca_github"
	return s, &http.Client{Transport: tr}
}

func TestTransportEndToEnd(t *testing.T) {
	t.Parallel()
	png := "\x89PNG\r\n\x1a\n" + strings.Repeat("\x00\x01", 5000)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("X-Ratelimit-Remaining", "4999")
		io.WriteString(w, `{"login":"octocat","auth":"`+r.Header.Get("Authorization")+`","q":"`+r.URL.RawQuery+`"}`)
	})
	mux.HandleFunc("POST /repos/o/r/issues", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write(b)
	})
	mux.HandleFunc("GET /avatar.png", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		io.WriteString(w, png)
	})
	mux.HandleFunc("GET /readme", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "# hello")
	})
	mux.HandleFunc("PUT /upload", func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, r.Header.Get("Content-Type")+" "+strconv.FormatInt(n, 10))
	})
	s, client := githubClient(t, mux)

	tests := []struct {
		name, method, url, ct string
		body                  []byte
		wantStatus            int
		wantBody              string
		wantHeader            map[string]string
	}{
		{name: "GET JSON", method: "GET", url: "https://api.github.com/user?a=1&a=2", wantStatus: 200,
			wantBody:   `{"login":"octocat","auth":"Bearer gho_secret","q":"a=1&a=2"}`,
			wantHeader: map[string]string{"X-Ratelimit-Remaining": "4999", "Content-Type": "application/json; charset=utf-8"}},
		{name: "POST JSON byte-exact", method: "POST", url: "https://api.github.com/repos/o/r/issues", ct: "application/json",
			body: []byte(`{"title":"t","draft":false,"n":0}`), wantStatus: 201, wantBody: `{"title":"t","draft":false,"n":0}`},
		{name: "binary download", method: "GET", url: "https://api.github.com/avatar.png", wantStatus: 200, wantBody: png,
			wantHeader: map[string]string{"Content-Type": "image/png"}},
		{name: "text", method: "GET", url: "https://api.github.com/readme", wantStatus: 200, wantBody: "# hello"},
		{name: "binary upload", method: "PUT", url: "https://api.github.com/upload", ct: "application/pdf",
			body: bytes.Repeat([]byte{0, 0xff}, 1000), wantStatus: 200, wantBody: "application/pdf 2000"},
		{name: "upstream 404 is a response", method: "GET", url: "https://api.github.com/nope", wantStatus: 404, wantBody: "404 page not found\n"},
		{name: "sibling subdomain", method: "GET", url: "https://uploads.github.com/readme", wantStatus: 200, wantBody: "# hello"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(tt.method, tt.url, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != tt.wantStatus || string(b) != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", res.StatusCode, b, tt.wantStatus, tt.wantBody)
			}
			for k, v := range tt.wantHeader {
				if res.Header.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, res.Header.Get(k), v)
				}
			}
		})
	}
	t.Cleanup(func() {
		for _, d := range s.Downloads() {
			if d.HadAPIKey {
				t.Errorf("the Transport sent an API key to a signed URL: %+v", d)
			}
		}
		for _, r := range s.Requests() {
			if r.Header.Get("X-Api-Key") != "[REDACTED]" {
				t.Errorf("proxy call without x-api-key: %v", r.Header)
			}
		}
	})
}

func TestTransportProxyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		fault     *testutil.Fault
		account   string
		url       string
		status    int
		slug      string
		retryable bool
		check     func(*testing.T, *composiohttp.Error)
	}{
		{name: "rate limited", fault: &testutil.Fault{Status: 429, RetryAfter: "2", Times: 1}, status: 429, slug: composiohttp.SlugRateLimitExceeded, retryable: true,
			check: func(t *testing.T, e *composiohttp.Error) {
				if e.RetryAfter != 2*time.Second || e.RequestID == "" {
					t.Errorf("RetryAfter %v, RequestID %q", e.RetryAfter, e.RequestID)
				}
			}},
		{name: "upstream timeout", fault: &testutil.Fault{UpstreamTimeout: true}, status: 504, slug: composiohttp.SlugUpstreamTimeout, retryable: true,
			check: func(t *testing.T, e *composiohttp.Error) {
				if !e.Timeout() {
					t.Error("not a timeout")
				}
			}},
		{name: "unknown account", account: "ca_nope", status: 404, slug: composiohttp.SlugConnectedAccountNotFound},
		{name: "origin mismatch", url: "https://evil.example/x", status: 400, slug: composiohttp.SlugOriginMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, client := githubClient(t, echo)
			if tt.fault != nil {
				s.Inject(*tt.fault)
			}
			u := tt.url
			if u == "" {
				u = "https://api.github.com/user"
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if tt.account != "" {
				req = req.WithContext(composiohttp.WithConnectedAccount(req.Context(), tt.account))
			}
			res, err := client.Do(req)
			if err == nil {
				res.Body.Close()
				t.Fatalf("no error, status %d", res.StatusCode)
			}
			var ue *url.Error
			var pe *composiohttp.Error
			if !errors.As(err, &ue) || !errors.As(err, &pe) {
				t.Fatalf("error %T %v", err, err)
			}
			if pe.StatusCode != tt.status || pe.Slug != tt.slug || composiohttp.IsRetryable(err) != tt.retryable {
				t.Errorf("got %d %q retryable %v", pe.StatusCode, pe.Slug, composiohttp.IsRetryable(err))
			}
			if strings.Contains(err.Error(), s.APIKey) || strings.Contains(err.Error(), "gho_secret") {
				t.Errorf("error leaks a secret: %v", err)
			}
			if tt.check != nil {
				tt.check(t, pe)
			}
		})
	}
}

func TestTransportBrokenReplies(t *testing.T) {
	t.Parallel()
	t.Run("malformed", func(t *testing.T) {
		t.Parallel()
		s, client := githubClient(t, echo)
		s.Inject(testutil.Fault{Malformed: true, Times: 1})
		_, err := client.Get("https://api.github.com/user")
		if !errors.Is(err, composiohttp.ErrMalformedEnvelope) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("dropped", func(t *testing.T) {
		t.Parallel()
		s, client := githubClient(t, echo)
		s.Inject(testutil.Fault{Drop: true, Times: 1})
		_, err := client.Post("https://api.github.com/x", "application/json", strings.NewReader(`{}`))
		if err == nil || !composiohttp.IsRetryable(err) {
			t.Errorf("got %v, want a retryable connection error", err)
		}
	})
	t.Run("expired binary URL", func(t *testing.T) {
		t.Parallel()
		clock := newClock()
		_, client := githubClient(t, canned(200, "application/zip", "PK\x03\x04"), testutil.WithClock(clock.Now))
		res, err := client.Get("https://api.github.com/archive.zip")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		clock.Advance(testutil.DefaultBinaryTTL)
		if _, err := io.ReadAll(res.Body); !errors.Is(err, composiohttp.ErrBinaryBody) {
			t.Errorf("read after expiry: %v", err)
		}
	})
}

func TestTransportOptions(t *testing.T) {
	t.Parallel()
	t.Run("v3 and user key", func(t *testing.T) {
		t.Parallel()
		s := github(t, echo, testutil.WithUserAPIKey("uak_me"))
		tr := s.Transport()
		tr.APIVersion, tr.APIKey, tr.ConnectedAccountID = "v3", s.UserAPIKey, "ca_github"
		res, err := (&http.Client{Transport: tr}).Get("https://api.github.com/user")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		r := s.Requests()[0]
		if r.Path != "/api/v3/tools/execute/proxy" || r.Header.Get("X-User-Api-Key") != "[REDACTED]" || r.Header.Get("X-Api-Key") != "" {
			t.Errorf("recorded %s %v", r.Path, r.Header)
		}
	})
	t.Run("connection from context", func(t *testing.T) {
		t.Parallel()
		s := testutil.NewServer(t)
		s.AddUpstream("https://api.linear.app", echo)
		conn := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "linear",
			Val: credentials.Val{Token: "lin_tok", BaseURL: "https://api.linear.app"}}
		ctx := composiohttp.WithConnection(context.Background(), conn)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.linear.app/graphql", strings.NewReader(`{"query":"{viewer{id}}"}`))
		req.Header.Set("Content-Type", "application/json")
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(b), `"Authorization":["Bearer lin_tok"]`) || !strings.Contains(string(b), `{\"query\":\"{viewer{id}}\"}`) {
			t.Errorf("upstream saw %s", b)
		}
		if c := s.Requests()[0].Envelope.CustomConnectionData; c == nil || c.Val.Token != "lin_tok" {
			t.Errorf("recorded connection %v", c)
		}
	})
	t.Run("large upload through Server.Upload", func(t *testing.T) {
		t.Parallel()
		var got int64
		s, _ := githubClient(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got, _ = io.Copy(io.Discard, r.Body)
		}))
		tr := s.Transport()
		tr.ConnectedAccountID, tr.Upload = "ca_github", s.Upload
		body := bytes.Repeat([]byte("z"), composiohttp.MaxInlineBody+1)
		req, _ := http.NewRequest(http.MethodPut, "https://api.github.com/big", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		res, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if got != int64(len(body)) {
			t.Errorf("upstream got %d bytes", got)
		}
		if bb := s.Requests()[0].Envelope.BinaryBody; bb == nil || !strings.HasPrefix(bb.URL, s.URL) {
			t.Errorf("binary_body %+v", bb)
		}
	})
}
