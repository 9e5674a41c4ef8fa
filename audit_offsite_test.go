package composiohttp_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// siteRecorder plays Composio's proxy on backend.example.com (its reply
// set by proxyReply) and answers any other host 200, recording the
// headers each host received.
type siteRecorder struct {
	proxyReply string
	mu         sync.Mutex
	headers    map[string][]http.Header
}

func (s *siteRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	s.mu.Lock()
	s.headers[r.URL.Host] = append(s.headers[r.URL.Host], r.Header.Clone())
	s.mu.Unlock()
	body := "file bytes"
	if r.URL.Host == "backend.example.com" {
		body = s.proxyReply
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}, "Content-Length": {""}},
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: -1, Request: r}, nil
}

// TestNoCredentialLeavesForAnotherSite: neither an off-site redirect
// target nor a binary_data URL receives the API key, a Transport.Header
// value, the caller's Authorization or Cookie, or any header carrying a
// connection's secret.
func TestNoCredentialLeavesForAnotherSite(t *testing.T) {
	t.Parallel()
	const key, hdr, tok = "ak_OFFSITE_key_1", "OFFSITE_custom_header_1", "OFFSITE_conn_token_1"
	cases := []struct {
		name, reply, host string
		byHand            bool
	}{
		{"off-site redirect followed by hand", `{"status":302,"data":"","headers":{"Location":"https://objects.cdn-example.net/f?sig=abcd"}}`, "objects.cdn-example.net", true},
		{"off-site redirect", `{"status":302,"data":"","headers":{"Location":"https://objects.cdn-example.net/f?sig=abcd"}}`, "objects.cdn-example.net", false},
		{"binary_data", `{"status":200,"headers":{"Content-Type":"application/pdf"},"binary_data":{"url":"https://files.cdn-example.net/b?X-Amz-Signature=abcd","content_type":"application/pdf","size":10}}`, "files.cdn-example.net", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			rec := &siteRecorder{proxyReply: c.reply, headers: map[string][]http.Header{}}
			tr := &composiohttp.Transport{APIKey: key, BaseURL: "https://backend.example.com",
				Header: http.Header{"X-Auth-Token": {hdr}, "X-Tenant": {hdr}}, Base: rec}
			ctx := composiohttp.WithConnection(context.Background(), &credentials.Connection{AuthScheme: credentials.BearerToken,
				ToolkitSlug: "github", Val: credentials.Val{Token: tok, BaseURL: "https://api.github.com"}})
			req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.github.com/repos/o/r/releases/assets/1", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Cookie", "s="+tok)
			client := &http.Client{Transport: tr}
			if c.byHand { // as go-github follows: a new request for the Location, same headers
				client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if c.byHand {
				next, _ := http.NewRequestWithContext(ctx, "GET", resp.Header.Get("Location"), nil)
				next.Header = req.Header.Clone()
				resp, err = client.Do(next)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			rec.mu.Lock()
			defer rec.mu.Unlock()
			got := rec.headers[c.host]
			if len(got) == 0 {
				t.Fatalf("%s never reached; hosts: %v", c.host, rec.headers)
			}
			for _, h := range got {
				for name, vs := range h {
					for _, v := range vs {
						for _, s := range []string{key, hdr, tok} {
							if strings.Contains(v, s) {
								t.Errorf("%s received %s: %s", c.host, name, v)
							}
						}
					}
				}
			}
		})
	}
}
