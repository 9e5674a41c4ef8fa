package breaker_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/breaker"
)

// Transports acting for different accounts through their own
// ConnectedAccountID, sharing one Group and keyed by account, each have a
// breaker of their own: one account's failures never open another's.
func TestTransportsShareGroupByAccount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		wrap func(http.RoundTripper) http.RoundTripper
	}{
		{"direct", func(rt http.RoundTripper) http.RoundTripper { return rt }},
		{"under another middleware", func(rt http.RoundTripper) http.RoundTripper { return unwrapper{rt} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The proxy fails every call with a 500.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"error":{"message":"down","status":500}}`))
			}))
			defer srv.Close()
			group := breaker.NewLocal(breaker.Settings{})
			client := func(account string) *http.Client {
				tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: srv.URL, ConnectedAccountID: account, Base: srv.Client().Transport}
				return &http.Client{Transport: breaker.New(tt.wrap(tr), breaker.WithKey(breaker.KeyByAccount), breaker.WithGroup(group))}
			}
			one, two := client("ca_1"), client("ca_2")
			call := func(c *http.Client) error {
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "https://api.github.com/user", nil)
				resp, err := c.Do(req)
				if err == nil {
					resp.Body.Close()
				}
				return err
			}
			for range breaker.DefaultConsecutiveFailures + 1 {
				_ = call(one)
			}
			if err := call(one); !errors.Is(err, breaker.ErrOpen) {
				t.Fatalf("ca_1 after %d failures: %v, want its breaker open", breaker.DefaultConsecutiveFailures+1, err)
			}
			err := call(two)
			if errors.Is(err, breaker.ErrOpen) {
				t.Fatalf("ca_2 refused by ca_1's breaker: %v", err)
			}
			var pe *composiohttp.Error
			if !errors.As(err, &pe) || pe.StatusCode != 500 {
				t.Fatalf("ca_2: %v, want the proxy's own 500", err)
			}
		})
	}
}

type unwrapper struct{ next http.RoundTripper }

func (u unwrapper) RoundTrip(r *http.Request) (*http.Response, error) { return u.next.RoundTrip(r) }
func (u unwrapper) Unwrap() http.RoundTripper                         { return u.next }
