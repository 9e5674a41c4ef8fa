package composiohttp_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
)

// TestProxyRetryHints: a proxy error carries retry-after-ms (over
// Retry-After) in RetryAfter and x-should-retry in ShouldRetry.
func TestProxyRetryHints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header map[string]string
		ra     time.Duration
		should string // "", "true", "false"
	}{
		{"none", nil, 0, ""},
		{"Retry-After", map[string]string{"Retry-After": "3"}, 3 * time.Second, ""},
		{"retry-after-ms wins", map[string]string{"Retry-After": "3", "Retry-After-Ms": "120"}, 120 * time.Millisecond, ""},
		{"bad retry-after-ms falls back", map[string]string{"Retry-After": "3", "Retry-After-Ms": "soon"}, 3 * time.Second, ""},
		{"should retry", map[string]string{"X-Should-Retry": "true"}, 0, "true"},
		{"should not retry", map[string]string{"X-Should-Retry": "false"}, 0, "false"},
		{"other value", map[string]string{"X-Should-Retry": "yes"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(503)
				w.Write([]byte(`{"error":{"message":"busy","status":503}}`))
			}))
			defer srv.Close()
			tr := &composiohttp.Transport{BaseURL: srv.URL, APIKey: "ak_x", ConnectedAccountID: "ca_1"}
			defer tr.CloseIdleConnections()
			_, err := (&http.Client{Transport: tr}).Get("https://api.example.com/x")
			var pe *composiohttp.Error
			if !errors.As(err, &pe) {
				t.Fatalf("got %v", err)
			}
			got := ""
			if pe.ShouldRetry != nil {
				got = map[bool]string{true: "true", false: "false"}[*pe.ShouldRetry]
			}
			if pe.RetryAfter != tt.ra || got != tt.should {
				t.Errorf("RetryAfter %v ShouldRetry %q; want %v %q", pe.RetryAfter, got, tt.ra, tt.should)
			}
		})
	}
}
