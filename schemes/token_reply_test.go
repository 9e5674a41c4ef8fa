package schemes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// handlerTransport serves requests with a handler, in memory (no sockets:
// usable inside a synctest bubble).
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	if r.Body != nil {
		r.Body.Close()
	}
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// googleReplies is a Google token endpoint, in memory, answering each
// exchange with reply(n), n counting from 1.
func googleReplies(reply func(n int32) string) (*http.Client, *atomic.Int32) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" || r.FormValue("assertion") == "" {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, reply(n.Add(1)))
	})
	return &http.Client{Transport: handlerTransport{h}}, &n
}

// TestGoogleTokenReplyWithoutAccessToken: a 200 reply with no
// access token is a *TokenError, never "Authorization: Bearer ".
func TestGoogleTokenReplyWithoutAccessToken(t *testing.T) {
	t.Parallel()
	for _, reply := range []string{
		`{"token_type":"Bearer","expires_in":3600}`,
		`{"access_token":"","token_type":"Bearer","expires_in":3600}`,
		`{}`,
	} {
		t.Run(reply, func(t *testing.T) {
			t.Parallel()
			client, n := googleReplies(func(int32) string { return reply })
			a := &schemes.GoogleServiceAccount{HTTPClient: client}
			req := mustRequest(t, "GET", "https://www.googleapis.com/drive/v3/files")
			err := a.Apply(context.Background(), googleConn("https://oauth2.googleapis.com/token", ""), req)
			var te *schemes.TokenError
			if !errors.As(err, &te) || te.Scheme != "GOOGLE_SERVICE_ACCOUNT" {
				t.Fatalf("err = %v, want a GOOGLE_SERVICE_ACCOUNT *TokenError", err)
			}
			if h, ok := req.Header["Authorization"]; ok {
				t.Errorf("Authorization %q set", h)
			}
			if strings.Contains(err.Error(), "PRIVATE KEY") {
				t.Errorf("error quotes the key: %v", err)
			}
			// Not cached: the next call exchanges again.
			a.Apply(context.Background(), googleConn("https://oauth2.googleapis.com/token", ""), req)
			if n.Load() != 2 {
				t.Errorf("%d exchanges for two calls, want 2", n.Load())
			}
		})
	}
}

// TestGoogleTokenDefaultLifetime: a reply whose expires_in is
// missing, zero or negative gives a token that lives DefaultTokenLifetime
// (replaced credentials.DefaultExpirySkew before it ends), not forever.
func TestGoogleTokenDefaultLifetime(t *testing.T) {
	t.Parallel()
	for _, expiresIn := range []string{"", `,"expires_in":0`, `,"expires_in":-1`, `,"expires_in":-3600`} {
		t.Run("expires_in"+cmpOr(expiresIn, " missing"), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				client, n := googleReplies(func(n int32) string {
					return fmt.Sprintf(`{"access_token":"ya29.%d","token_type":"Bearer"%s}`, n, expiresIn)
				})
				a := &schemes.GoogleServiceAccount{HTTPClient: client}
				conn := googleConn("https://oauth2.googleapis.com/token", "")
				steps := []struct {
					wait      time.Duration
					want      string
					exchanges int32
				}{
					{0, "Bearer ya29.1", 1},
					{schemes.DefaultTokenLifetime - credentials.DefaultExpirySkew - time.Second, "Bearer ya29.1", 1},
					{2 * time.Second, "Bearer ya29.2", 2}, // within the skew of the default lifetime
					{time.Minute, "Bearer ya29.2", 2},
				}
				for i, st := range steps {
					time.Sleep(st.wait) // synctest's clock
					got, err := authOf(t, a, conn)
					if err != nil || got != st.want || n.Load() != st.exchanges {
						t.Errorf("step %d: %q, %v after %d exchanges; want %q after %d", i, got, err, n.Load(), st.want, st.exchanges)
					}
				}
			})
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// rejectingUpstream answers 401 to requests carrying a token in revoked,
// 200 to others, and records the Authorization headers it saw.
type rejectingUpstream struct {
	revoked map[string]bool
	seen    []string
}

func (u *rejectingUpstream) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	h := r.Header.Get("Authorization")
	u.seen = append(u.seen, h)
	status := http.StatusOK
	if u.revoked[strings.TrimPrefix(h, "Bearer ")] {
		status = http.StatusUnauthorized
	}
	return &http.Response{StatusCode: status, Status: http.StatusText(status), Header: http.Header{},
		Body: http.NoBody, Request: r, ProtoMajor: 1, ProtoMinor: 1}, nil
}

// TestTokenDroppedOn401: when the upstream answers 401 to a
// request carrying an exchanged token, the direct Transport has the
// adapter drop it, so the next request exchanges again instead of sending
// the rejected token until it would have expired.
func TestTokenDroppedOn401(t *testing.T) {
	t.Parallel()
	googleClient, googleExchanges := googleReplies(func(n int32) string {
		return fmt.Sprintf(`{"access_token":"ya29.%d","token_type":"Bearer","expires_in":3600}`, n)
	})
	clk := newClock()
	gh := newGitHubTokenServer(t, clk)
	var refreshes atomic.Int32
	oauth2Client := &http.Client{Transport: handlerTransport{http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "rt" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"at_%d","token_type":"Bearer","expires_in":3600}`, refreshes.Add(1))
	})}}
	tests := []struct {
		name      string
		scheme    credentials.Scheme
		adapter   schemes.Adapter
		conn      *credentials.Connection
		url       string
		first     string // the token revoked upstream
		second    string
		exchanges func() int32
	}{
		{"google service account", credentials.GoogleServiceAccount, &schemes.GoogleServiceAccount{HTTPClient: googleClient},
			googleConn("https://oauth2.googleapis.com/token", ""), "https://www.googleapis.com/drive/v3/files",
			"ya29.1", "ya29.2", googleExchanges.Load},
		{"github app", credentials.ServiceAccount, &schemes.GitHubApp{HTTPClient: gh.Client(), Now: clk.Now},
			githubAppConn(gh.URL, pkcs1PEM()), gh.URL + "/user",
			"ghs_1", "ghs_2", gh.exchanges.Load},
		{"oauth2 refreshed token", credentials.OAuth2, &schemes.OAuth2{TokenURL: "https://auth.example.com/token", HTTPClient: oauth2Client, Now: clk.Now},
			&credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "expired", RefreshToken: "rt",
				ClientID: "cid", ClientSecret: "cs", ExpiresAt: "1", BaseURL: "https://api.example.com"}},
			"https://api.example.com/v1/me", "at_1", "at_2", refreshes.Load},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := schemes.NewRegistry()
			reg.Register(tt.scheme, tt.adapter)
			up := &rejectingUpstream{revoked: map[string]bool{tt.first: true}}
			tr := &schemes.Transport{Connection: tt.conn, Registry: reg, Base: up}
			wantStatus := []int{http.StatusUnauthorized, http.StatusOK, http.StatusOK}
			for i, want := range wantStatus {
				resp, err := tr.RoundTrip(mustRequest(t, "GET", tt.url))
				if err != nil {
					t.Fatalf("call %d: %v", i, err)
				}
				resp.Body.Close()
				if resp.StatusCode != want {
					t.Errorf("call %d: status %d, want %d", i, resp.StatusCode, want)
				}
			}
			wantSeen := []string{"Bearer " + tt.first, "Bearer " + tt.second, "Bearer " + tt.second}
			if fmt.Sprint(up.seen) != fmt.Sprint(wantSeen) {
				t.Errorf("upstream saw %q, want %q", up.seen, wantSeen)
			}
			if n := tt.exchanges(); n != 2 {
				t.Errorf("%d exchanges, want 2", n)
			}
		})
	}
}

// TestGitHubAppUnusableExpiry: an installation token whose
// expires_at is missing, past or within a minute of now by this host's
// clock is taken to live DefaultTokenLifetime: one exchange, not one per
// call.
func TestGitHubAppUnusableExpiry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		expiresAt func(now time.Time) any
	}{
		{"missing", func(time.Time) any { return nil }},
		{"an hour ago", func(now time.Time) any { return now.Add(-time.Hour).Format(time.RFC3339) }},
		{"now", func(now time.Time) any { return now.Format(time.RFC3339) }},
		{"in 30 seconds", func(now time.Time) any { return now.Add(30 * time.Second).Format(time.RFC3339) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := newClock()
			srv := newGitHubTokenServer(t, clk)
			srv.expiresAt = tt.expiresAt
			a := &schemes.GitHubApp{HTTPClient: srv.Client(), Now: clk.Now}
			conn := githubAppConn(srv.URL, pkcs1PEM())
			steps := []struct {
				advance   time.Duration
				want      string
				exchanges int32
			}{
				{0, "Bearer ghs_1", 1},
				{0, "Bearer ghs_1", 1},
				{schemes.DefaultTokenLifetime - 2*time.Minute, "Bearer ghs_1", 1},
				{90 * time.Second, "Bearer ghs_2", 2}, // within a minute of the default lifetime's end
			}
			for i, st := range steps {
				clk.Advance(st.advance)
				got, err := authOf(t, a, conn)
				if err != nil || got != st.want || srv.exchanges.Load() != st.exchanges {
					t.Errorf("step %d: %q, %v after %d exchanges; want %q after %d", i, got, err, srv.exchanges.Load(), st.want, st.exchanges)
				}
			}
		})
	}
}

// TestNilResponseFromBase: a Base that breaks the RoundTripper contract
// with no response and no error, after the adapter applied its
// credentials, does not panic the direct Transport (which looks for a 401
// to drop the token): http.Client reports the broken Base as an error.
func TestNilResponseFromBase(t *testing.T) {
	t.Parallel()
	reg := schemes.NewRegistry()
	reg.Register(credentials.OAuth2, &schemes.OAuth2{})
	conn := &credentials.Connection{AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "at_live", BaseURL: "https://api.example.com"}}
	var applied atomic.Bool
	base := roundTripperFunc(func(r *http.Request) (*http.Response, error) {
		applied.Store(r.Header.Get("Authorization") == "Bearer at_live")
		return nil, nil
	})
	tr := &schemes.Transport{Connection: conn, Registry: reg, Base: base}
	resp, err := (&http.Client{Transport: tr}).Get("https://api.example.com/v1/me")
	if err == nil {
		resp.Body.Close()
		t.Fatal("no error for a Base that returned no response")
	}
	if !applied.Load() {
		t.Error("the adapter's credentials were not applied: the case is not exercised")
	}
}
