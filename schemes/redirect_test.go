package schemes_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// TestTokenRequestNoCrossOriginRedirect: a token endpoint that answers
// 307 to another origin must not get the refresh token, client secret,
// app JWT or assertion re-sent there (issue 8.3).
func TestTokenRequestNoCrossOriginRedirect(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		adapter func(tokenURL string, c *http.Client) schemes.Adapter
		conn    func(tokenURL string) *credentials.Connection
	}{
		{"oauth2 refresh",
			func(u string, c *http.Client) schemes.Adapter { return &schemes.OAuth2{TokenURL: u, HTTPClient: c} },
			func(string) *credentials.Connection {
				return &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
					AccessToken: "old", RefreshToken: "rt_1", ClientID: "cid", ClientSecret: "cs_1", ExpiresAt: "1"}}
			}},
		{"github app",
			func(u string, c *http.Client) schemes.Adapter { return &schemes.GitHubApp{BaseURL: u, HTTPClient: c} },
			func(string) *credentials.Connection {
				return &credentials.Connection{AuthScheme: credentials.ServiceAccount, Val: credentials.Val{
					ApplicationID: "1", InstallationID: "2", PrivateKey: pkcs1PEM()}}
			}},
		{"google service account",
			func(_ string, c *http.Client) schemes.Adapter { return &schemes.GoogleServiceAccount{HTTPClient: c} },
			func(u string) *credentials.Connection { return googleConn(u, "") }},
	} {
		for _, custom := range []bool{false, true} {
			name := tt.name
			if custom {
				name += " with CheckRedirect"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				var evilHits atomic.Int32
				evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					evilHits.Add(1)
					w.WriteHeader(http.StatusOK)
				}))
				defer evil.Close()
				tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, evil.URL+r.URL.Path, http.StatusTemporaryRedirect)
				}))
				defer tokenSrv.Close()
				// A transport of its own: CloseIdleConnections on a client
				// without one closes http.DefaultTransport's, failing the
				// parallel subtests' dials ("CloseIdleConnections called").
				client := &http.Client{Transport: &http.Transport{}}
				if custom {
					client.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
				}
				req, _ := http.NewRequest("GET", "https://example.com/", nil)
				err := tt.adapter(tokenSrv.URL, client).Apply(t.Context(), tt.conn(tokenSrv.URL), req)
				if !errors.Is(err, schemes.ErrTokenRedirect) {
					t.Errorf("err = %v, want ErrTokenRedirect", err)
				}
				if n := evilHits.Load(); n != 0 {
					t.Errorf("the other origin received %d requests", n)
				}
				client.CloseIdleConnections()
			})
		}
	}
}

// TestTokenRequestSameOriginRedirect: a redirect within the token
// endpoint's origin is still followed.
func TestTokenRequestSameOriginRedirect(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/token" {
			http.Redirect(w, r, "/token", http.StatusTemporaryRedirect)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"new","token_type":"Bearer","expires_in":3600}`))
	}))
	defer srv.Close()
	a := &schemes.OAuth2{TokenURL: srv.URL + "/old", HTTPClient: srv.Client()}
	req, _ := http.NewRequest("GET", "https://example.com/", nil)
	err := a.Apply(t.Context(), &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
		AccessToken: "old", RefreshToken: "rt", ClientID: "cid", ClientSecret: "cs", ExpiresAt: "1"}}, req)
	if err != nil || req.Header.Get("Authorization") != "Bearer new" {
		t.Errorf("Apply: %v, Authorization %q", err, req.Header.Get("Authorization"))
	}
}
