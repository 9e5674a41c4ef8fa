package composiohttp

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// TestBaseURLForms: however BaseURL is written (trailing slashes, a query
// of its own), the proxy call goes to <path>/api/v3.1/tools/execute/proxy
// with exactly one slash between them and BaseURL's query kept.
func TestBaseURLForms(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		base, wantPath, wantQuery string
	}{
		{"https://proxy.test", "/api/v3.1/tools/execute/proxy", ""},
		{"https://proxy.test/", "/api/v3.1/tools/execute/proxy", ""},
		{"https://proxy.test/base", "/base/api/v3.1/tools/execute/proxy", ""},
		{"https://proxy.test/base/", "/base/api/v3.1/tools/execute/proxy", ""},
		{"https://proxy.test/base//", "/base/api/v3.1/tools/execute/proxy", ""},
		{"https://proxy.test/base?gw=1", "/base/api/v3.1/tools/execute/proxy", "gw=1"},
		{"https://proxy.test/base/?gw=1", "/base/api/v3.1/tools/execute/proxy", "gw=1"},
		{"https://proxy.test/?gw=1", "/api/v3.1/tools/execute/proxy", "gw=1"},
	} {
		t.Run(c.base, func(t *testing.T) {
			t.Parallel()
			var got *http.Request
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = r
				io.Copy(io.Discard, r.Body)
				r.Body.Close()
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"status":204}`)), Request: r}, nil
			})
			tr := &Transport{APIKey: "ak_x", BaseURL: c.base, ConnectedAccountID: "ca_1", Base: base}
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got.URL.Path != c.wantPath || got.URL.RawQuery != c.wantQuery || got.URL.Host != "proxy.test" {
				t.Fatalf("sent to %s, want path %s, query %q", got.URL, c.wantPath, c.wantQuery)
			}
		})
	}
}
