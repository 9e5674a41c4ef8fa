package composiohttp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestContextEndedErrorScrubbed: when the caller's context ends during a
// call to Composio (the proxy, the accounts listing, CreateSession), Base's
// error is returned (errors.Is finds the context's error and Base's own
// chain), but its text never shows the secrets the call sent: BaseURL's
// secret query values and password (a *url.Error quotes the URL), the API
// key. It showed them before the fix, as the error of a call whose context
// had not ended did not.
func TestContextEndedErrorScrubbed(t *testing.T) {
	t.Parallel()
	const (
		apiKey   = "ak_SECRET_api_key_ctx"
		queryTok = "SECRET_base_query_token"
		password = "SECRET_base_password"
	)
	for _, call := range []struct {
		name string
		// chain: Base's error is kept (the listing runs in a shared
		// lookup, and its caller returns its context's error alone).
		chain bool
		do    func(ctx context.Context, tr *Transport) error
	}{
		{"proxy", true, func(ctx context.Context, tr *Transport) error {
			tr.ConnectedAccountID = "ca_1"
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}},
		{"listing", false, func(ctx context.Context, tr *Transport) error {
			req, _ := http.NewRequestWithContext(WithToolkit(WithUser(ctx, "u_1"), "github"), http.MethodGet, "https://api.github.com/user", nil)
			resp, err := tr.RoundTrip(req)
			if resp != nil {
				resp.Body.Close()
			}
			return err
		}},
		{"CreateSession", true, func(ctx context.Context, tr *Transport) error {
			_, err := tr.CreateSession(ctx, "u_1", nil)
			return err
		}},
	} {
		t.Run(call.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if r.Body != nil {
					io.Copy(io.Discard, r.Body)
					r.Body.Close()
				}
				cancel() // the caller gives up while the call is under way
				return nil, &url.Error{Op: r.Method, URL: r.URL.String() + " key=" + r.Header.Get("X-Api-Key"), Err: r.Context().Err()}
			})
			tr := &Transport{APIKey: apiKey, BaseURL: "https://user:" + password + "@proxy.test/?a=1;token=" + queryTok, Base: base}
			err := call.do(ctx, tr)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want the context's error", err)
			}
			if call.chain && !errors.As(err, new(*url.Error)) {
				t.Errorf("err = %v: Base's *url.Error lost", err)
			}
			var sb strings.Builder
			slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "err", err)
			j, _ := json.Marshal(err)
			for _, shown := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err),
				fmt.Sprintf("%s", err), fmt.Sprintf("%q", err), sb.String(), string(j)} {
				for _, secret := range []string{apiKey, queryTok, password} {
					if strings.Contains(shown, secret) {
						t.Errorf("%q shown: %s", secret, shown)
					}
				}
			}
		})
	}
}
