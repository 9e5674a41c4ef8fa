package schemes_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// githubTokenServer is a GitHub App token endpoint: it checks the app JWT
// against the test key and clock and hands out numbered installation
// tokens valid for one hour. gate, when set, holds every exchange until it
// is closed.
type githubTokenServer struct {
	*httptest.Server
	clock     *clock
	exchanges atomic.Int32
	gate      chan struct{}
	status    int // reply status; 0 → 201
	// expiresAt, when set, gives the reply's expires_at (nil: none);
	// default: an hour after now.
	expiresAt func(now time.Time) any
	mu        sync.Mutex
	problems  []string
}

func newGitHubTokenServer(t *testing.T, clk *clock) *githubTokenServer {
	s := &githubTokenServer{clock: clk}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		if s.gate != nil {
			<-s.gate
		}
		n := s.exchanges.Add(1)
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		var claims jwt.RegisteredClaims
		_, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &testKey().PublicKey, nil },
			jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(clk.Now), jwt.WithIssuedAt())
		now := clk.Now()
		switch {
		case err != nil:
			s.problem("jwt: %v", err)
		case claims.Issuer != "12345":
			s.problem("iss = %q", claims.Issuer)
		case !claims.IssuedAt.Time.Equal(now.Add(-60 * time.Second)):
			s.problem("iat = %v, want now-60s", claims.IssuedAt.Time)
		case !claims.ExpiresAt.Time.Equal(now.Add(9 * time.Minute)):
			s.problem("exp = %v, want now+9m", claims.ExpiresAt.Time)
		case r.PathValue("id") != "678":
			s.problem("installation id %q", r.PathValue("id"))
		}
		if s.status != 0 {
			w.WriteHeader(s.status)
			fmt.Fprint(w, `{"message":"Bad credentials"}`)
			return
		}
		reply := map[string]any{"token": fmt.Sprintf("ghs_%d", n), "expires_at": now.Add(time.Hour).Format(time.RFC3339)}
		if s.expiresAt != nil {
			if reply["expires_at"] = s.expiresAt(now); reply["expires_at"] == nil {
				delete(reply, "expires_at")
			}
		}
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(reply)
	})
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, p := range s.problems {
			t.Error(p)
		}
	})
	return s
}

func (s *githubTokenServer) problem(f string, a ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.problems = append(s.problems, fmt.Sprintf(f, a...))
}

func githubAppConn(api, key string) *credentials.Connection {
	return &credentials.Connection{AuthScheme: credentials.ServiceAccount, ToolkitSlug: "github",
		Val: credentials.Val{ApplicationID: "12345", InstallationID: "678", PrivateKey: key, BaseURL: api}}
}

func authOf(t *testing.T, a schemes.Adapter, c *credentials.Connection) (string, error) {
	t.Helper()
	req := mustRequest(t, "GET", "https://api.github.com/user")
	if err := a.Apply(context.Background(), c, req); err != nil {
		return "", err
	}
	return req.Header.Get("Authorization"), nil
}

func TestGitHubAppExpiryAndRefresh(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newGitHubTokenServer(t, clk)
	a := &schemes.GitHubApp{HTTPClient: srv.Client(), Now: clk.Now}
	steps := []struct {
		advance   time.Duration
		want      string
		exchanges int32
	}{
		{0, "Bearer ghs_1", 1},
		{30 * time.Minute, "Bearer ghs_1", 1}, // cached
		{28 * time.Minute, "Bearer ghs_1", 1}, // 2m before expiry: still cached
		{90 * time.Second, "Bearer ghs_2", 2}, // within a minute of expiry: refreshed
		{10 * time.Minute, "Bearer ghs_2", 2}, // new token cached
		{2 * time.Hour, "Bearer ghs_3", 3},    // long expired
	}
	for i, st := range steps {
		clk.Advance(st.advance)
		got, err := authOf(t, a, githubAppConn(srv.URL, pkcs1PEM()))
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got != st.want || srv.exchanges.Load() != st.exchanges {
			t.Errorf("step %d: Authorization %q after %d exchanges, want %q after %d", i, got, srv.exchanges.Load(), st.want, st.exchanges)
		}
	}
}

func TestGitHubAppOneExchangeForManyCallers(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newGitHubTokenServer(t, clk)
	srv.gate = make(chan struct{})
	a := &schemes.GitHubApp{HTTPClient: srv.Client(), Now: clk.Now}
	conn := githubAppConn(srv.URL, pkcs8PEM())
	const n = 50
	var wg, started sync.WaitGroup
	results := make([]string, n)
	errs := make([]error, n)
	started.Add(n)
	for i := range n {
		wg.Go(func() {
			started.Done()
			results[i], errs[i] = authOf(t, a, conn)
		})
	}
	started.Wait()
	close(srv.gate)
	wg.Wait()
	for i := range n {
		if errs[i] != nil || results[i] != "Bearer ghs_1" {
			t.Fatalf("caller %d: %q, %v", i, results[i], errs[i])
		}
	}
	if got := srv.exchanges.Load(); got != 1 {
		t.Errorf("%d exchanges for %d callers, want 1", got, n)
	}
}

func TestGitHubAppKeyForms(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newGitHubTokenServer(t, clk)
	for name, key := range map[string]string{
		"pkcs1":           pkcs1PEM(),
		"pkcs8":           pkcs8PEM(),
		"escaped newline": strings.ReplaceAll(pkcs1PEM(), "\n", `\n`),
	} {
		t.Run(name, func(t *testing.T) {
			a := &schemes.GitHubApp{HTTPClient: srv.Client(), Now: clk.Now}
			if got, err := authOf(t, a, githubAppConn(srv.URL, key)); err != nil || !strings.HasPrefix(got, "Bearer ghs_") {
				t.Errorf("got %q, %v", got, err)
			}
		})
	}
}

func TestGitHubAppRejected(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newGitHubTokenServer(t, clk)
	srv.status = http.StatusUnauthorized
	a := &schemes.GitHubApp{HTTPClient: srv.Client(), Now: clk.Now}
	_, err := authOf(t, a, githubAppConn(srv.URL, pkcs1PEM()))
	var te *schemes.TokenError
	if !errors.As(err, &te) || te.StatusCode != 401 || te.Code != "Bad credentials" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("error shows the key: %v", err)
	}
	// A failure is not cached: the next call tries again.
	srv.status = 0
	if got, err := authOf(t, a, githubAppConn(srv.URL, pkcs1PEM())); err != nil || got != "Bearer ghs_2" {
		t.Errorf("after recovery: %q, %v", got, err)
	}
}

func TestGitHubAppCallerCancel(t *testing.T) {
	t.Parallel()
	clk := newClock()
	srv := newGitHubTokenServer(t, clk)
	srv.gate = make(chan struct{})
	a := &schemes.GitHubApp{HTTPClient: srv.Client(), Now: clk.Now}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		req := mustRequest(t, "GET", "https://api.github.com/user")
		errc <- a.Apply(ctx, githubAppConn(srv.URL, pkcs1PEM()), req)
	}()
	cancel() // while the exchange is held at the gate (or before it starts)
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	close(srv.gate) // the detached exchange completes and is cached
	if got, err := authOf(t, a, githubAppConn(srv.URL, pkcs1PEM())); err != nil || got != "Bearer ghs_1" {
		t.Errorf("got %q, %v", got, err)
	}
}

// googleTokenServer is a Google OAuth 2 token endpoint for the JWT bearer
// grant, numbering its tokens.
func googleTokenServer(t *testing.T, expiresIn int, gate chan struct{}) (*httptest.Server, *atomic.Int32, *atomic.Value) {
	var n atomic.Int32
	var scope atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if gate != nil {
			<-gate
		}
		if r.FormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, 400)
			return
		}
		claims := jwt.MapClaims{}
		if _, err := jwt.ParseWithClaims(r.FormValue("assertion"), claims, func(*jwt.Token) (any, error) {
			return &testKey().PublicKey, nil
		}); err != nil || claims["iss"] != "sa@proj.iam.gserviceaccount.com" {
			http.Error(w, `{"error":"invalid_grant"}`, 400)
			return
		}
		scope.Store(claims["scope"])
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"ya29.%d","expires_in":%d,"token_type":"Bearer"}`, n.Add(1), expiresIn)
	}))
	t.Cleanup(srv.Close)
	return srv, &n, &scope
}

func googleConn(tokenURI, scope string) *credentials.Connection {
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "sa@proj.iam.gserviceaccount.com",
		"private_key": pkcs8PEM(), "private_key_id": "kid1", "token_uri": tokenURI,
	})
	return &credentials.Connection{AuthScheme: credentials.GoogleServiceAccount, ToolkitSlug: "googledrive",
		Val: credentials.Val{CredentialsJSON: string(b), Scope: scope}}
}

func TestGoogleServiceAccount(t *testing.T) {
	t.Parallel()
	gate := make(chan struct{})
	srv, n, scope := googleTokenServer(t, 3600, gate)
	a := &schemes.GoogleServiceAccount{HTTPClient: srv.Client()}
	conn := googleConn(srv.URL, "https://www.googleapis.com/auth/drive.readonly, https://www.googleapis.com/auth/drive.file")
	const callers = 50
	var wg, started sync.WaitGroup
	got := make([]string, callers)
	started.Add(callers)
	for i := range callers {
		wg.Go(func() {
			started.Done()
			got[i], _ = authOf(t, a, conn)
		})
	}
	started.Wait()
	close(gate)
	wg.Wait()
	for i, g := range got {
		if g != "Bearer ya29.1" {
			t.Fatalf("caller %d: %q", i, g)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d exchanges for %d callers, want 1", n.Load(), callers)
	}
	if s := scope.Load(); s != "https://www.googleapis.com/auth/drive.readonly https://www.googleapis.com/auth/drive.file" {
		t.Errorf("scope claim %q", s)
	}
}

func TestGoogleServiceAccountExpiry(t *testing.T) {
	t.Parallel()
	// Tokens that live 5s are already inside x/oauth2's 10s expiry
	// margin, so every call needs a new one: refresh on expiry without
	// waiting for time to pass.
	srv, n, scope := googleTokenServer(t, 5, nil)
	a := &schemes.GoogleServiceAccount{HTTPClient: srv.Client(), Scopes: []string{"s1"}}
	conn := googleConn(srv.URL, "")
	for i := 1; i <= 3; i++ {
		if got, err := authOf(t, a, conn); err != nil || got != fmt.Sprintf("Bearer ya29.%d", i) {
			t.Fatalf("call %d: %q, %v", i, got, err)
		}
	}
	if n.Load() != 3 || scope.Load() != "s1" {
		t.Errorf("exchanges %d, scope %q", n.Load(), scope.Load())
	}
}

func TestGoogleServiceAccountTokenURLOverride(t *testing.T) {
	t.Parallel()
	srv, _, scope := googleTokenServer(t, 3600, nil)
	a := &schemes.GoogleServiceAccount{HTTPClient: srv.Client(), TokenURL: srv.URL}
	if got, err := authOf(t, a, googleConn("https://oauth2.invalid/token", "")); err != nil || got != "Bearer ya29.1" {
		t.Fatalf("%q, %v", got, err)
	}
	if scope.Load() != schemes.DefaultGoogleScopes[0] {
		t.Errorf("scope %q", scope.Load())
	}
}

func TestOAuth2Refresh(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	gate := make(chan struct{})
	var bad atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		w.Header().Set("Content-Type", "application/json")
		user, pass, _ := r.BasicAuth()
		if bad.Load() || r.FormValue("grant_type") != "refresh_token" || r.FormValue("refresh_token") != "rt-1" ||
			(user != "cid" || pass != "csecret") && (r.FormValue("client_id") != "cid" || r.FormValue("client_secret") != "csecret") {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant","error_description":"refresh token rt-1 revoked"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"new-%d","token_type":"bearer","expires_in":3600,"refresh_token":"rt-2"}`, n.Add(1))
	}))
	t.Cleanup(srv.Close)
	clk := newClock()
	conn := &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{
		AccessToken: "old", RefreshToken: "rt-1", ClientID: "cid", ClientSecret: "csecret",
		ExpiresAt: clk.Now().Add(-time.Minute).Format(time.RFC3339)}}
	a := &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client(), Now: clk.Now}

	const callers = 50
	var wg, started sync.WaitGroup
	got := make([]string, callers)
	started.Add(callers)
	for i := range callers {
		wg.Go(func() {
			started.Done()
			got[i], _ = authOf(t, a, conn)
		})
	}
	started.Wait() // all callers running while the refresh is held
	close(gate)
	wg.Wait()
	for i, g := range got {
		if g != "Bearer new-1" {
			t.Fatalf("caller %d: %q", i, g)
		}
	}
	if n.Load() != 1 {
		t.Errorf("%d refreshes for %d callers, want 1", n.Load(), callers)
	}

	// Unix-seconds expires_at in the future: no refresh.
	fresh := *conn
	fresh.Val.ExpiresAt = fmt.Sprint(clk.Now().Add(time.Hour).Unix())
	if g, _ := authOf(t, a, &fresh); g != "Bearer old" {
		t.Errorf("fresh token: %q", g)
	}

	// A refused refresh is a *TokenError naming the code, not the body.
	bad.Store(true)
	other := *conn
	other.Val.ClientSecret = "csecret-2"
	_, err := authOf(t, a, &other)
	var te *schemes.TokenError
	if !errors.As(err, &te) || te.StatusCode != 400 || te.Code != "invalid_grant" {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "rt-1") || strings.Contains(err.Error(), "csecret") {
		t.Errorf("error shows a secret: %v", err)
	}
}

func TestOAuth2RefreshToolkitTokenURL(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/acme/oauth/tokens" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"zd","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(srv.Close)
	tks := schemes.NewToolkitRegistry(schemes.Toolkit{Slug: "acme", BaseURL: srv.URL, TokenURL: srv.URL + "/{subdomain}/oauth/tokens"})
	a := &schemes.OAuth2{Toolkits: tks, HTTPClient: srv.Client()}
	conn := &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "acme", Val: credentials.Val{
		AccessToken: "old", RefreshToken: "r", Subdomain: "acme", ExpiresAt: "1700000000"}}
	if g, err := authOf(t, a, conn); err != nil || g != "Bearer zd" {
		t.Errorf("%q, %v", g, err)
	}
}

// hungTokenServer is a token endpoint that never answers while the test
// runs: every request waits until Cleanup releases it.
func hungTokenServer(t *testing.T) *httptest.Server {
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { <-gate }))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(gate) }) // runs first: handlers return, Close completes
	// The client's own timeout only turns a hang into a failure of this
	// test (a *TokenError) instead of a stuck test binary.
	srv.Client().Timeout = 10 * time.Second
	return srv
}

// TestTokenFetchFollowsCallerContext: with a token endpoint that hangs, a
// caller whose context ends gets its context's error, for every adapter
// that fetches tokens.
func TestTokenFetchFollowsCallerContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		make func(srv *httptest.Server) (schemes.Adapter, *credentials.Connection)
	}{
		{"oauth2 refresh", func(srv *httptest.Server) (schemes.Adapter, *credentials.Connection) {
			clk := newClock()
			return &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client(), Now: clk.Now},
				&credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
					AccessToken: "old", RefreshToken: "rt", ExpiresAt: clk.Now().Add(-time.Hour).Format(time.RFC3339)}}
		}},
		{"google service account", func(srv *httptest.Server) (schemes.Adapter, *credentials.Connection) {
			return &schemes.GoogleServiceAccount{HTTPClient: srv.Client()}, googleConn(srv.URL, "")
		}},
		{"github app", func(srv *httptest.Server) (schemes.Adapter, *credentials.Connection) {
			return &schemes.GitHubApp{HTTPClient: srv.Client()}, githubAppConn(srv.URL, pkcs1PEM())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, conn := tt.make(hungTokenServer(t))
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			req := mustRequest(t, "GET", "https://api.example.com/x")
			err := a.Apply(ctx, conn, req)
			var te *schemes.TokenError
			if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &te) {
				t.Errorf("err = %v, want the caller's context.DeadlineExceeded", err)
			}
			if req.Header.Get("Authorization") != "" {
				t.Errorf("Authorization set: %q", req.Header.Get("Authorization"))
			}
		})
	}
}

// TestOAuth2OnRefresh: OnRefresh sees each refresh once, with the rotated
// refresh token, which the next refresh uses.
func TestOAuth2OnRefresh(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	current := "rt-1" // the only refresh token the provider accepts
	issued := 0
	gate := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-gate
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.FormValue("refresh_token") != current {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		issued++
		current = fmt.Sprintf("rt-%d", issued+1)
		fmt.Fprintf(w, `{"access_token":"at-%d","token_type":"Bearer","expires_in":3600,"refresh_token":%q}`, issued, current)
	}))
	t.Cleanup(srv.Close)
	clk := newClock()
	type ctxKey struct{}
	type call struct{ connRT, newRT, access, ctxVal string }
	var calls []call
	a := &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client(), Now: clk.Now,
		OnRefresh: func(ctx context.Context, c *credentials.Connection, tok *oauth2.Token) {
			v, _ := ctx.Value(ctxKey{}).(string)
			mu.Lock()
			defer mu.Unlock()
			calls = append(calls, call{c.Val.RefreshToken, tok.RefreshToken, tok.AccessToken, v})
		}}
	conn := &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
		AccessToken: "old", RefreshToken: "rt-1", ExpiresAt: clk.Now().Add(-time.Minute).Format(time.RFC3339)}}
	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	apply := func() (string, error) {
		req := mustRequest(t, "GET", "https://api.example.com/x")
		err := a.Apply(ctx, conn, req)
		return req.Header.Get("Authorization"), err
	}

	const callers = 20
	var wg, started sync.WaitGroup
	got := make([]string, callers)
	started.Add(callers)
	for i := range callers {
		wg.Go(func() {
			started.Done()
			got[i], _ = apply()
		})
	}
	started.Wait()
	close(gate)
	wg.Wait()
	for i, g := range got {
		if g != "Bearer at-1" {
			t.Fatalf("caller %d: %q", i, g)
		}
	}
	clk.Advance(2 * time.Hour) // at-1 expired: refreshed with the rotated rt-2
	if g, err := apply(); err != nil || g != "Bearer at-2" {
		t.Fatalf("second refresh: %q, %v", g, err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []call{{"rt-1", "rt-2", "at-1", "caller"}, {"rt-1", "rt-3", "at-2", "caller"}}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("OnRefresh calls %v, want %v", calls, want)
	}
}

// TestOAuth2ExpiresAtForms: expires_at is read by credentials' Val.Expiry
// (RFC 3339, zone-less date-times as UTC, Unix seconds integer or
// decimal, Unix milliseconds) and a token within
// credentials.DefaultExpirySkew of its expiry is refreshed.
func TestOAuth2ExpiresAtForms(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"new","token_type":"Bearer","expires_in":3600}`)
	}))
	t.Cleanup(srv.Close)
	clk := newClock()
	now := clk.Now()
	secs := func(d time.Duration) string { return fmt.Sprint(now.Add(d).Unix()) }
	tests := []struct {
		name, expiresAt string
		refreshed       bool
	}{
		{"past RFC 3339", now.Add(-time.Minute).Format(time.RFC3339), true},
		{"future RFC 3339 with offset", now.Add(time.Hour).In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano), false},
		{"within the skew", now.Add(credentials.DefaultExpirySkew / 2).Format(time.RFC3339), true},
		{"just past the skew", now.Add(credentials.DefaultExpirySkew + time.Second).Format(time.RFC3339), false},
		{"past zone-less", "2025-03-01T11:59:00", true},
		{"future zone-less", "2025-03-01T12:30:00", false},
		{"past Unix seconds", secs(-time.Minute), true},
		{"future Unix seconds", secs(time.Hour), false},
		{"past Unix seconds decimal", secs(-time.Minute) + ".25", true},
		{"future Unix seconds decimal", secs(time.Hour) + ".25", false},
		{"past Unix milliseconds", fmt.Sprint(now.Add(-time.Minute).UnixMilli()), true},
		{"future Unix milliseconds", fmt.Sprint(now.Add(time.Hour).UnixMilli()), false},
		{"empty", "", false},
		{"unreadable", "soon", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := &schemes.OAuth2{TokenURL: srv.URL, HTTPClient: srv.Client(), Now: clk.Now}
			conn := &credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{
				AccessToken: "old", RefreshToken: "rt", ExpiresAt: tt.expiresAt}}
			want := "Bearer old"
			if tt.refreshed {
				want = "Bearer new"
			}
			if got, err := authOf(t, a, conn); err != nil || got != want {
				t.Errorf("expires_at %q: %q, %v; want %q", tt.expiresAt, got, err, want)
			}
		})
	}
}
