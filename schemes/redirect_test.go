package schemes_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// TestTokenRequestNoCrossOriginRedirect: a token endpoint that answers
// 307 to another origin must not get the refresh token, client secret,
// app JWT or assertion re-sent there.
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

// TestTokenExchangeRedirectOffOrigin: no token exchange
// follows a redirect off its origin, to another host (on another port or
// the same one) or to another port of the same host, whatever the status
// and whether or not the caller's http.Client has a CheckRedirect of its
// own. The other server receives nothing, the error is a *TokenError
// matching ErrTokenRedirect, and it quotes no secret.
func TestTokenExchangeRedirectOffOrigin(t *testing.T) {
	t.Parallel()
	secrets := []string{"rt_1", "cs_1", "PRIVATE KEY", "assertion", "eyJ"} // eyJ: any JWT
	schemesUnder := []struct {
		name    string
		scheme  string
		adapter func(tokenURL string, c *http.Client) schemes.Adapter
		conn    func(tokenURL string) *credentials.Connection
	}{
		{"oauth2 refresh", "OAUTH2",
			func(u string, c *http.Client) schemes.Adapter { return &schemes.OAuth2{TokenURL: u, HTTPClient: c} },
			func(string) *credentials.Connection {
				return &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
					AccessToken: "old", RefreshToken: "rt_1", ClientID: "cid", ClientSecret: "cs_1", ExpiresAt: "1"}}
			}},
		{"github app", "SERVICE_ACCOUNT",
			func(u string, c *http.Client) schemes.Adapter { return &schemes.GitHubApp{BaseURL: u, HTTPClient: c} },
			func(string) *credentials.Connection {
				return &credentials.Connection{AuthScheme: credentials.ServiceAccount, Val: credentials.Val{
					ApplicationID: "1", InstallationID: "2", PrivateKey: pkcs1PEM()}}
			}},
		{"google service account", "GOOGLE_SERVICE_ACCOUNT",
			func(_ string, c *http.Client) schemes.Adapter { return &schemes.GoogleServiceAccount{HTTPClient: c} },
			func(u string) *credentials.Connection { return googleConn(u+"/token", "") }},
	}
	targets := []struct {
		name string
		// location is where the token endpoint (on tokenAddr) redirects,
		// with other the other server's address.
		location func(tokenAddr, other string) string
	}{
		{"another port of the same host", func(_, other string) string { return "http://" + other }},
		{"another host", func(_, other string) string {
			_, port, _ := net.SplitHostPort(other)
			return "http://other.test:" + port
		}},
		{"another host on the same port", func(tokenAddr, _ string) string {
			_, port, _ := net.SplitHostPort(tokenAddr)
			return "http://other.test:" + port
		}},
	}
	for _, sc := range schemesUnder {
		for _, tg := range targets {
			for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
				for _, custom := range []bool{false, true} {
					name := fmt.Sprintf("%s/%s/%d/CheckRedirect=%t", sc.name, tg.name, status, custom)
					t.Run(name, func(t *testing.T) {
						t.Parallel()
						var otherHits atomic.Int32
						other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							otherHits.Add(1)
							w.Header().Set("Content-Type", "application/json")
							w.Write([]byte(`{"access_token":"stolen","token":"stolen","expires_in":3600}`))
						}))
						defer other.Close()
						var tokenAddr string
						tokenSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
							http.Redirect(w, r, tg.location(tokenAddr, other.Listener.Addr().String())+r.URL.Path, status)
						}))
						defer tokenSrv.Close()
						tokenAddr = tokenSrv.Listener.Addr().String()
						// other.test resolves to the other server, whatever port
						// is asked for.
						tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
							if host, _, _ := net.SplitHostPort(addr); host == "other.test" {
								addr = other.Listener.Addr().String()
							}
							return (&net.Dialer{}).DialContext(ctx, network, addr)
						}}
						defer tr.CloseIdleConnections()
						client := &http.Client{Transport: tr}
						if custom {
							client.CheckRedirect = func(*http.Request, []*http.Request) error { return nil }
						}
						req, _ := http.NewRequest("GET", "https://example.com/", nil)
						err := sc.adapter(tokenSrv.URL, client).Apply(t.Context(), sc.conn(tokenSrv.URL), req)
						var te *schemes.TokenError
						if !errors.Is(err, schemes.ErrTokenRedirect) || !errors.As(err, &te) || te.Scheme != sc.scheme {
							t.Errorf("err = %v, want a %s *TokenError matching ErrTokenRedirect", err, sc.scheme)
						}
						if n := otherHits.Load(); n != 0 {
							t.Errorf("the other origin received %d requests", n)
						}
						if got := req.Header.Get("Authorization"); got != "" {
							t.Errorf("Authorization %q set", got)
						}
						if err != nil {
							for _, s := range secrets {
								if strings.Contains(err.Error(), s) {
									t.Errorf("error quotes %q: %v", s, err)
								}
							}
						}
					})
				}
			}
		}
	}
}
