package schemes_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// fakeTokenEndpoint answers every token request (OAuth 2 refresh, GitHub
// App installation token, Google JWT bearer grant) with a new numbered
// token valid for an hour, in a reply each of the three adapters reads,
// and counts them. It is in memory: no listener, so it runs inside a
// synctest bubble.
type fakeTokenEndpoint struct{ exchanges atomic.Int32 }

func (f *fakeTokenEndpoint) client() *http.Client {
	return &http.Client{Transport: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		if r.Body != nil {
			r.Body.Close()
		}
		n := f.exchanges.Add(1)
		tok := fmt.Sprintf("tok-%d", n)
		b, _ := json.Marshal(map[string]any{
			"access_token": tok, "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt",
			"token": tok, "expires_at": time.Now().Add(time.Hour).Format(time.RFC3339),
		})
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(string(b))), Request: r}, nil
	})}
}

// TestUnauthorizedNoExchangeStorm: an upstream that answers 401 to every
// request (a revoked app, a token it will never accept) costs one
// invalidation and one new exchange, not an exchange per call: a token
// obtained after an invalidation and refused again within
// DefaultInvalidateCooldown is kept, and the 401 returned as it is;
// once the cooldown has passed, the next 401 drops it again (one more
// exchange). Each adapter runs with the default cooldown and with one set
// in its InvalidateCooldown field; a negative one turns it off. The clock
// is synctest's: time.Sleep only moves it, nothing waits.
func TestUnauthorizedNoExchangeStorm(t *testing.T) {
	t.Parallel()
	key, google := pkcs1PEM(), googleConn("https://oauth2.example.com/token", "")
	cases := []struct {
		name    string
		conn    *credentials.Connection
		adapter func(hc *http.Client, cooldown time.Duration) schemes.Adapter
	}{
		{"OAuth2", &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{
			AccessToken: "stale", RefreshToken: "rt", ClientID: "cid", ClientSecret: "cs", ExpiresAt: "1"}},
			func(hc *http.Client, cd time.Duration) schemes.Adapter {
				return &schemes.OAuth2{TokenURL: "https://auth.example.com/token", HTTPClient: hc, InvalidateCooldown: cd}
			}},
		{"GitHubApp", githubAppConn("https://api.github.com", key),
			func(hc *http.Client, cd time.Duration) schemes.Adapter {
				return &schemes.GitHubApp{HTTPClient: hc, InvalidateCooldown: cd}
			}},
		{"GoogleServiceAccount", google,
			func(hc *http.Client, cd time.Duration) schemes.Adapter {
				return &schemes.GoogleServiceAccount{HTTPClient: hc, InvalidateCooldown: cd}
			}},
	}
	for _, tc := range cases {
		for _, set := range []struct {
			field, cooldown time.Duration // InvalidateCooldown, and the cooldown it gives
		}{
			{0, schemes.DefaultInvalidateCooldown},
			{5 * time.Second, 5 * time.Second},
			{-1, 0},
		} {
			t.Run(fmt.Sprintf("%s/InvalidateCooldown=%v", tc.name, set.field), func(t *testing.T) {
				t.Parallel()
				cooldown := set.cooldown
				synctest.Test(t, func(t *testing.T) {
					var tokens fakeTokenEndpoint
					reg := schemes.NewRegistry()
					reg.Register(tc.conn.AuthScheme, tc.adapter(tokens.client(), set.field))
					var refused atomic.Int32
					tr := &schemes.Transport{Connection: tc.conn, Registry: reg,
						Base: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
							if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer tok-") {
								t.Errorf("upstream saw Authorization %q", r.Header.Get("Authorization"))
							}
							refused.Add(1)
							return &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{},
								Body: io.NopCloser(strings.NewReader(`{"message":"Bad credentials"}`)), Request: r}, nil
						})}
					url := "https://api.github.com/user"
					if tc.conn.AuthScheme == credentials.GoogleServiceAccount {
						url = "https://www.googleapis.com/drive/v3/files"
					}
					call := func() {
						resp, err := tr.RoundTrip(mustRequest(t, "GET", url))
						if err != nil {
							t.Errorf("RoundTrip: %v", err)
							return
						}
						resp.Body.Close()
						if resp.StatusCode != http.StatusUnauthorized {
							t.Errorf("status %d, want the upstream's 401", resp.StatusCode)
						}
					}
					check := func(phase string, want int32) {
						t.Helper()
						if n := tokens.exchanges.Load(); n != want {
							t.Errorf("%s: %d token exchanges, want %d", phase, n, want)
						}
					}

					const calls = 50
					if cooldown == 0 { // every 401 drops the token it refused
						for range calls {
							call()
						}
						check("50 calls without a cooldown", calls)
						return
					}
					for range calls {
						call()
					}
					// The first 401 drops the token (it may have been revoked
					// since it was cached); its replacement, refused as well,
					// stays.
					check("50 calls within the cooldown", 2)

					var wg sync.WaitGroup
					for range calls {
						wg.Go(call)
					}
					wg.Wait()
					check("50 concurrent calls within the cooldown", 2)

					time.Sleep(cooldown - time.Nanosecond)
					call()
					check("just before the cooldown ends", 2)

					time.Sleep(time.Nanosecond)
					for range calls {
						call()
					}
					check("50 calls after the cooldown", 3)
					if n := refused.Load(); n != 3*calls+1 {
						t.Errorf("upstream answered %d requests, want %d", n, 3*calls+1)
					}
				})
			})
		}
	}
}
