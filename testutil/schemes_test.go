package testutil_test

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil"
)

// roundTrip sends req through a composiohttp.Transport pointed at s, as
// the connected account id (or as the connection in req's context), and
// returns what the echo upstream saw, or the Transport's error.
func roundTrip(t *testing.T, s *testutil.Server, account string, req *http.Request) (echoed, error) {
	t.Helper()
	tr := s.Transport()
	tr.ConnectedAccountID = account
	res, err := tr.RoundTrip(req)
	if err != nil {
		return echoed{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	var e echoed
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("upstream reply %d is not an echo: %v\n%s", res.StatusCode, err, b)
	}
	return e, nil
}

func newReq(t *testing.T, method, target string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// proxyError asserts that err is a *composiohttp.Error with status and slug
// and that neither it nor its text holds "SECRET", the marker of every
// secret value in these tests.
func proxyError(t *testing.T, err error, status int, slug string) *composiohttp.Error {
	t.Helper()
	var pe *composiohttp.Error
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *composiohttp.Error", err)
	}
	if pe.StatusCode != status || pe.Slug != slug || pe.Code != 10000+status || pe.RequestID == "" {
		t.Fatalf("got %d %s (code %d, request id %q), want %d %s: %v", pe.StatusCode, pe.Slug, pe.Code, pe.RequestID, status, slug, err)
	}
	if text := fmt.Sprintf("%v %+v %#v", err, pe, pe); strings.Contains(text, "SECRET") {
		t.Errorf("error shows a secret: %s", text)
	}
	return pe
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestSchemeHeaders checks, for every scheme the fake applies without a
// token endpoint, exactly what the upstream receives: Authorization, the
// toolkit's API key header or query parameter, and nothing else.
func TestSchemeHeaders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		toolkit string
		scheme  credentials.Scheme
		val     credentials.Val
		auth    string    // Authorization the upstream sees ("" = none)
		header  [2]string // another header it must see, if set
		url     string    // path and query it sees for "/x?q=1"
		host    string
	}{
		{"oauth2", "github", credentials.OAuth2, credentials.Val{AccessToken: "gho_1"},
			"Bearer gho_1", [2]string{}, "/x?q=1", "api.github.com"},
		{"oauth2 token_type bearer", "github", credentials.OAuth2, credentials.Val{AccessToken: "gho_1", TokenType: "bearer"},
			"Bearer gho_1", [2]string{}, "/x?q=1", "api.github.com"},
		{"oauth2 token_type MAC", "github", credentials.OAuth2, credentials.Val{AccessToken: "m1", TokenType: "MAC"},
			"MAC m1", [2]string{}, "/x?q=1", "api.github.com"},
		{"dcr_oauth", "notion", credentials.DCROAuth, credentials.Val{AccessToken: "ntn_1", ClientID: "cid"},
			"Bearer ntn_1", [2]string{}, "/x?q=1", "api.notion.com"},
		{"s2s_oauth2", "hubspot", credentials.S2SOAuth2, credentials.Val{AccessToken: "hs_1"},
			"Bearer hs_1", [2]string{}, "/x?q=1", "api.hubapi.com"},
		{"bearer_token token", "", credentials.BearerToken, credentials.Val{Token: "t4", BearerToken: "unused"},
			"Bearer t4", [2]string{}, "/x?q=1", "api.example.com"},
		{"bearer_token fallback", "", credentials.BearerToken, credentials.Val{BearerToken: "t5"},
			"Bearer t5", [2]string{}, "/x?q=1", "api.example.com"},
		{"basic username password", "", credentials.Basic, credentials.Val{Username: "u", Password: "p"},
			"Basic " + b64("u:p"), [2]string{}, "/x?q=1", "api.example.com"},
		{"basic basic_encoded", "", credentials.Basic, credentials.Val{BasicEncoded: "dTpw"},
			"Basic dTpw", [2]string{}, "/x?q=1", "api.example.com"},
		{"basic_with_jwt", "", credentials.BasicWithJWT, credentials.Val{Username: "u", Password: "p"},
			"Basic " + b64("u:p"), [2]string{}, "/x?q=1", "api.example.com"},
		{"no_auth", "github", credentials.NoAuth, credentials.Val{},
			"", [2]string{}, "/x?q=1", "api.github.com"},
		// API_KEY goes where the toolkit wants it.
		{"api_key default placement", "openai", credentials.APIKey, credentials.Val{APIKey: "sk-1"},
			"Bearer sk-1", [2]string{}, "/x?q=1", "api.openai.com"},
		{"api_key generic_api_key", "perplexityai", credentials.APIKey, credentials.Val{GenericAPIKey: "pplx-1"},
			"Bearer pplx-1", [2]string{}, "/x?q=1", "api.perplexity.ai"},
		{"api_key header without prefix", "linear", credentials.APIKey, credentials.Val{APIKey: "lin_api_1"},
			"lin_api_1", [2]string{}, "/x?q=1", "api.linear.app"},
		{"api_key header with prefix", "discordbot", credentials.APIKey, credentials.Val{APIKey: "bot1"},
			"Bot bot1", [2]string{}, "/api/x?q=1", "discord.com"},
		{"api_key own header", "gitlab", credentials.APIKey, credentials.Val{APIKey: "glpat-1"},
			"", [2]string{"Private-Token", "glpat-1"}, "/api/v4/x?q=1", "gitlab.com"},
		{"api_key own header, templated base URL", "shopify", credentials.APIKey, credentials.Val{APIKey: "shpat_1", Shop: "acme"},
			"", [2]string{"X-Shopify-Access-Token", "shpat_1"}, "/x?q=1", "acme.myshopify.com"},
		{"api_key query parameter", "gmail", credentials.APIKey, credentials.Val{APIKey: "AIza1"},
			"", [2]string{}, "/x?q=1&key=AIza1", "gmail.googleapis.com"},
		{"api_key two query parameters", "trello", credentials.APIKey, credentials.Val{APIKey: "tk", Token: "tt"},
			"", [2]string{}, "/x?q=1&key=tk&token=tt", "api.trello.com"},
		{"api_key basic with username", "jira", credentials.APIKey, credentials.Val{APIKey: "atl1", Username: "me@acme.test", Subdomain: "acme"},
			"Basic " + b64("me@acme.test:atl1"), [2]string{}, "/x?q=1", "acme.atlassian.net"},
		{"api_key basic with fixed user", "mailchimp", credentials.APIKey, credentials.Val{APIKey: "mc1", DC: "us6"},
			"Basic " + b64("anystring:mc1"), [2]string{}, "/3.0/x?q=1", "us6.api.mailchimp.com"},
		{"api_key bearer_token", "openai", credentials.APIKey, credentials.Val{BearerToken: "b1"},
			"Bearer b1", [2]string{}, "/x?q=1", "api.openai.com"},
		{"api_key basic_encoded", "openai", credentials.APIKey, credentials.Val{BasicEncoded: "dTpw"},
			"Basic dTpw", [2]string{}, "/x?q=1", "api.openai.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			s.AddAccount(testutil.Account{ID: "ca", Toolkit: tt.toolkit, AuthScheme: tt.scheme, Val: tt.val, Handler: echo})
			e, err := roundTrip(t, s, "ca", newReq(t, "GET", "/x?q=1"))
			if err != nil {
				t.Fatal(err)
			}
			h := http.Header(e.Header)
			if got := h.Values("Authorization"); strings.Join(got, "|") != tt.auth {
				t.Errorf("Authorization = %q, want %q", got, tt.auth)
			}
			if tt.header[0] != "" && h.Get(tt.header[0]) != tt.header[1] {
				t.Errorf("%s = %q, want %q", tt.header[0], h.Get(tt.header[0]), tt.header[1])
			}
			if e.URL != tt.url || e.Host != tt.host {
				t.Errorf("upstream got %s%s, want %s%s", e.Host, e.URL, tt.host, tt.url)
			}
		})
	}
}

// oauth1Upstream verifies an RFC 5849 HMAC-SHA1 signature with its own
// implementation of section 3.4.1 and answers 200 with the OAuth
// parameters, or 401 with what is wrong.
func oauth1Upstream(consumerSecret, tokenSecret string) http.Handler {
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(format string, args ...any) {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":%q}`, fmt.Sprintf(format, args...))
		}
		h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "OAuth ")
		if !ok {
			fail("no OAuth authorization: %q", r.Header.Get("Authorization"))
			return
		}
		oauth := map[string]string{}
		var pairs [][2]string
		for _, kv := range strings.Split(h, ", ") {
			k, v, _ := strings.Cut(kv, "=")
			v, err := url.PathUnescape(strings.Trim(v, `"`))
			if err != nil {
				fail("bad parameter %q", kv)
				return
			}
			oauth[k] = v
			if k != "oauth_signature" && k != "realm" {
				pairs = append(pairs, [2]string{k, v})
			}
		}
		query, _ := url.ParseQuery(r.URL.RawQuery)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
			form, _ := url.ParseQuery(string(body))
			for k, vs := range form {
				query[k] = append(query[k], vs...)
			}
		}
		for k, vs := range query {
			for _, v := range vs {
				pairs = append(pairs, [2]string{k, v})
			}
		}
		for i := range pairs {
			pairs[i] = [2]string{enc(pairs[i][0]), enc(pairs[i][1])}
		}
		slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0]+"="+a[1], b[0]+"="+b[1]) })
		norm := make([]string, len(pairs))
		for i, p := range pairs {
			norm[i] = p[0] + "=" + p[1]
		}
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		base := r.Method + "&" + enc(scheme+"://"+strings.ToLower(r.Host)+r.URL.EscapedPath()) + "&" + enc(strings.Join(norm, "&"))
		mac := hmac.New(sha1.New, []byte(enc(consumerSecret)+"&"+enc(tokenSecret)))
		mac.Write([]byte(base))
		got, _ := base64.StdEncoding.DecodeString(oauth["oauth_signature"])
		if !hmac.Equal(got, mac.Sum(nil)) {
			fail("signature does not verify over %q", base)
			return
		}
		delete(oauth, "oauth_signature")
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(oauth)
	})
}

func TestOAuth1Signature(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, method, target, body string
	}{
		{"GET with query", "GET", "https://api.x.com/1.1/statuses/home_timeline.json?count=5&since_id=1", ""},
		{"POST with form body", "POST", "https://api.x.com/1.1/statuses/update.json?include_entities=true",
			"status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"},
		{"relative endpoint", "GET", "/2/users/me?user.fields=id", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			s.AddAccount(testutil.Account{ID: "ca_x", Toolkit: "twitter", AuthScheme: credentials.OAuth1, Handler: oauth1Upstream("cs_SECRET", "ts_SECRET"),
				Val: credentials.Val{ConsumerKey: "ck", ClientSecret: "cs_SECRET", OAuthToken: "370773112-tok", OAuthTokenSecret: "ts_SECRET"}})
			req, err := http.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			tr := s.Transport()
			tr.ConnectedAccountID = "ca_x"
			res, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("upstream: %d %s", res.StatusCode, b)
			}
			var oauth map[string]string
			if err := json.Unmarshal(b, &oauth); err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"oauth_consumer_key": "ck", "oauth_token": "370773112-tok",
				"oauth_signature_method": "HMAC-SHA1", "oauth_version": "1.0"}
			for k, v := range want {
				if oauth[k] != v {
					t.Errorf("%s = %q, want %q", k, oauth[k], v)
				}
			}
			if len(oauth["oauth_nonce"]) < 16 {
				t.Errorf("oauth_nonce %q too short", oauth["oauth_nonce"])
			}
			if ts, err := strconv.ParseInt(oauth["oauth_timestamp"], 10, 64); err != nil || time.Since(time.Unix(ts, 0)).Abs() > time.Hour {
				t.Errorf("oauth_timestamp %q", oauth["oauth_timestamp"])
			}
		})
	}
}

var rsaKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// tokenEndpoints serves GitHub's installation token endpoint and Google's
// OAuth 2 token endpoint, checking the signed JWTs, and counts exchanges.
type tokenEndpoints struct {
	srv                   *httptest.Server
	github, google, oauth atomic.Int32
}

func newTokenEndpoints(t *testing.T) *tokenEndpoints {
	te := &tokenEndpoints{}
	pub := func(*jwt.Token) (any, error) { return &rsaKey().PublicKey, nil }
	mux := http.NewServeMux()
	mux.HandleFunc("POST /app/installations/{id}/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		te.github.Add(1)
		var claims jwt.RegisteredClaims
		_, err := jwt.ParseWithClaims(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), &claims, pub,
			jwt.WithValidMethods([]string{"RS256"}))
		if err != nil || claims.Issuer != "123" || r.PathValue("id") != "456" {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"message":"Bad credentials"}`)
			return
		}
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"token":"ghs_installation","expires_at":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339))
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		te.google.Add(1)
		claims := jwt.MapClaims{}
		_, err := jwt.ParseWithClaims(r.PostFormValue("assertion"), claims, pub, jwt.WithValidMethods([]string{"RS256"}))
		if err != nil || r.PostFormValue("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
			claims["iss"] != "sa@proj.iam.gserviceaccount.com" || claims["scope"] != "https://www.googleapis.com/auth/drive" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"access_token":"ya29.service","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		te.oauth.Add(1)
		w.Header().Set("Content-Type", "application/json")
		id, secret, _ := r.BasicAuth()
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != "rt_SECRET" ||
			id+r.PostFormValue("client_id") != "cid" || secret+r.PostFormValue("client_secret") != "cs_SECRET" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		io.WriteString(w, `{"access_token":"fresh","token_type":"bearer","expires_in":3600}`)
	})
	te.srv = httptest.NewServer(mux)
	t.Cleanup(te.srv.Close)
	return te
}

// registry returns schemes.Default with the service-account adapters
// pointed at te.
func (te *tokenEndpoints) registry() *schemes.Registry {
	reg := schemes.Default.Clone()
	reg.Register(credentials.ServiceAccount, &schemes.GitHubApp{BaseURL: te.srv.URL, HTTPClient: te.srv.Client()})
	reg.Register(credentials.GoogleServiceAccount, &schemes.GoogleServiceAccount{HTTPClient: te.srv.Client()})
	oauth2 := &schemes.OAuth2{TokenURL: te.srv.URL + "/oauth/token", HTTPClient: te.srv.Client()}
	for _, sc := range []credentials.Scheme{credentials.OAuth2, credentials.DCROAuth, credentials.S2SOAuth2} {
		reg.Register(sc, oauth2)
	}
	return reg
}

func (te *tokenEndpoints) googleKeyFile() string {
	der, err := x509.MarshalPKCS8PrivateKey(rsaKey())
	if err != nil {
		panic(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "client_email": "sa@proj.iam.gserviceaccount.com", "private_key_id": "k1",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"token_uri":   te.srv.URL + "/token",
	})
	return string(b)
}

func githubAppKey() string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey())}))
}

// TestServiceAccounts runs the schemes that exchange credentials at a token
// endpoint (and an expired OAUTH2 token's refresh) against httptest
// endpoints configured with WithSchemes.
func TestServiceAccounts(t *testing.T) {
	t.Parallel()
	te := newTokenEndpoints(t)
	s := testutil.NewServer(t, testutil.WithSchemes(te.registry()))
	s.AddAccount(testutil.Account{ID: "ca_app", Toolkit: "github", AuthScheme: credentials.ServiceAccount, Handler: echo,
		Val: credentials.Val{ApplicationID: "123", InstallationID: "456", PrivateKey: githubAppKey()}})
	s.AddAccount(testutil.Account{ID: "ca_app_bad", Toolkit: "github", AuthScheme: credentials.ServiceAccount, Handler: echo,
		Val: credentials.Val{ApplicationID: "123", InstallationID: "999", PrivateKey: githubAppKey()}})
	s.AddAccount(testutil.Account{ID: "ca_sa", Toolkit: "googledrive", AuthScheme: credentials.GoogleServiceAccount, Handler: echo,
		Val: credentials.Val{CredentialsJSON: te.googleKeyFile(), Scope: "https://www.googleapis.com/auth/drive"}})

	s.AddAccount(testutil.Account{ID: "ca_expired", Toolkit: "github", AuthScheme: credentials.OAuth2, Handler: echo,
		Val: credentials.Val{AccessToken: "stale_SECRET", ExpiresAt: "2001-01-01T00:00:00Z", RefreshToken: "rt_SECRET", ClientID: "cid", ClientSecret: "cs_SECRET"}})

	for _, tc := range []struct{ account, target, auth string }{
		{"ca_app", "/repos/o/r", "Bearer ghs_installation"},
		{"ca_sa", "/files", "Bearer ya29.service"},
		{"ca_expired", "/user", "Bearer fresh"},
	} {
		for range 3 {
			e, err := roundTrip(t, s, tc.account, newReq(t, "GET", tc.target))
			if err != nil {
				t.Fatal(err)
			}
			if got := http.Header(e.Header).Get("Authorization"); got != tc.auth {
				t.Errorf("%s: Authorization = %q, want %q", tc.account, got, tc.auth)
			}
		}
	}
	if g, o, r := te.github.Load(), te.google.Load(), te.oauth.Load(); g != 1 || o != 1 || r != 1 {
		t.Errorf("token exchanges: GitHub %d, Google %d, OAuth 2 refresh %d; want 1 each (tokens cached until expiry)", g, o, r)
	}

	// A rejected exchange is a 422 that shows neither the key nor the JWT.
	_, err := roundTrip(t, s, "ca_app_bad", newReq(t, "GET", "/repos/o/r"))
	proxyError(t, err, 422, composiohttp.SlugInvalidConnectionData)
	if text := err.Error(); !strings.Contains(text, "401") || strings.Contains(text, "PRIVATE KEY") || strings.Contains(text, "eyJ") {
		t.Errorf("error %q: want the token endpoint's status, no key, no JWT", text)
	}
}

// TestResolveBaseURL checks that endpoints resolve against the toolkit
// registry when an account or connection has no base URL.
func TestResolveBaseURL(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t, testutil.WithToolkits(func() *schemes.ToolkitRegistry {
		reg := schemes.NewToolkitRegistry(schemes.Toolkit{Slug: "acme", BaseURL: "https://api.acme.test/v2"})
		for _, slug := range []string{"github", "zendesk", "slack"} {
			tk, _ := schemes.DefaultToolkits.Lookup(slug)
			reg.Register(tk)
		}
		return reg
	}()))
	for _, origin := range []string{"https://api.github.com", "https://uploads.github.com", "https://acme.zendesk.com",
		"https://slack.com", "https://api.acme.test", "https://api.linear.app"} {
		s.AddUpstream(origin, echo)
	}
	tok := credentials.Val{AccessToken: "tok"}
	s.AddAccount(testutil.Account{ID: "gh", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: tok})
	s.AddAccount(testutil.Account{ID: "gh_handler", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: tok, Handler: echo})
	s.AddAccount(testutil.Account{ID: "unknown_handler", Toolkit: "nope", AuthScheme: credentials.OAuth2, Val: tok, Handler: echo})
	s.AddAccount(testutil.Account{ID: "unknown", Toolkit: "nope", AuthScheme: credentials.OAuth2, Val: tok})
	s.AddAccount(testutil.Account{ID: "zd", Toolkit: "zendesk", AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "tok", Subdomain: "acme"}})
	s.AddAccount(testutil.Account{ID: "zd_no_subdomain", Toolkit: "zendesk", AuthScheme: credentials.OAuth2, Val: tok})
	s.AddAccount(testutil.Account{ID: "slack", Toolkit: "slack", AuthScheme: credentials.OAuth2, Val: tok})
	s.AddAccount(testutil.Account{ID: "acme", Toolkit: "acme", AuthScheme: credentials.OAuth2, Val: tok})
	s.AddAccount(testutil.Account{ID: "explicit", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: tok, BaseURL: "https://api.linear.app"})
	s.AddAccount(testutil.Account{ID: "val_base_url", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "tok", BaseURL: "https://api.linear.app/graphql"}})

	tests := []struct {
		name, account, target string
		conn                  *credentials.Connection
		want                  string // host and path the upstream sees
		status                int
		slug, detail          string
	}{
		{name: "toolkit base URL", account: "gh", target: "/user", want: "api.github.com/user"},
		{name: "absolute on the toolkit's domain", account: "gh", target: "https://uploads.github.com/x", want: "uploads.github.com/x"},
		{name: "absolute on another domain", account: "gh", target: "https://evil.test/x", status: 400, slug: composiohttp.SlugOriginMismatch},
		{name: "handler: toolkit base URL is the nominal origin", account: "gh_handler", target: "/user", want: "api.github.com/user"},
		{name: "handler: origin checked against the toolkit", account: "gh_handler", target: "https://api.example.com/user", status: 400, slug: composiohttp.SlugOriginMismatch},
		{name: "handler: unknown toolkit", account: "unknown_handler", target: "/user", want: "api.example.com/user"},
		{name: "handler: unknown toolkit, absolute on the default base URL's domain", account: "unknown_handler", target: "https://uploads.example.com/user", want: "uploads.example.com/user"},
		{name: "handler: unknown toolkit, absolute on another domain", account: "unknown_handler", target: "https://api.github.com/user", status: 400, slug: composiohttp.SlugOriginMismatch},
		{name: "no handler, unknown toolkit", account: "unknown", target: "/user", status: 502, slug: composiohttp.SlugBadGateway},
		{name: "template filled from val", account: "zd", target: "/api/v2/tickets", want: "acme.zendesk.com/api/v2/tickets"},
		{name: "template field missing", account: "zd_no_subdomain", target: "/api/v2/tickets", status: 422, slug: composiohttp.SlugInvalidConnectionData, detail: "val.subdomain"},
		{name: "base path kept", account: "slack", target: "/chat.postMessage", want: "slack.com/api/chat.postMessage"},
		{name: "WithToolkits registry", account: "acme", target: "/things", want: "api.acme.test/v2/things"},
		{name: "explicit BaseURL wins", account: "explicit", target: "/graphql", want: "api.linear.app/graphql"},
		{name: "explicit BaseURL checks origin", account: "explicit", target: "https://api.github.com/user", status: 400, slug: composiohttp.SlugOriginMismatch},
		{name: "val.base_url wins", account: "val_base_url", target: "/x", want: "api.linear.app/graphql/x"},
		{name: "connection: toolkit base URL", target: "/user", want: "api.github.com/user",
			conn: &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: tok}},
		{name: "connection: template", target: "/api/v2/users", want: "acme.zendesk.com/api/v2/users",
			conn: &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "zendesk", Val: credentials.Val{AccessToken: "tok", Subdomain: "acme"}}},
		{name: "connection: template field missing", target: "/x", status: 400, slug: composiohttp.SlugValidationError, detail: "custom_connection_data.val.subdomain",
			conn: &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "zendesk", Val: tok}},
		{name: "connection: unknown toolkit", target: "/x", status: 400, slug: composiohttp.SlugValidationError, detail: "custom_connection_data.val.base_url",
			conn: &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "nope", Val: tok}},
		{name: "connection: origin checked against the toolkit", target: "https://evil.test/x", status: 400, slug: composiohttp.SlugOriginMismatch,
			conn: &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: tok}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := newReq(t, "GET", tt.target)
			if tt.conn != nil {
				req = req.WithContext(composiohttp.WithConnection(context.Background(), tt.conn))
			}
			e, err := roundTrip(t, s, tt.account, req)
			if tt.status != 0 {
				pe := proxyError(t, err, tt.status, tt.slug)
				if tt.detail != "" && !strings.Contains(strings.Join(pe.Errors, "\n"), tt.detail) {
					t.Errorf("errors %q do not mention %s", pe.Errors, tt.detail)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := e.Host + e.URL; got != tt.want {
				t.Errorf("upstream got %s, want %s", got, tt.want)
			}
			if got := http.Header(e.Header).Get("Authorization"); got != "Bearer tok" {
				t.Errorf("Authorization = %q", got)
			}
		})
	}
}

// TestUnknownScheme: a scheme without an adapter is a 501 in the real
// error shape, for accounts and custom_connection_data alike.
func TestUnknownScheme(t *testing.T) {
	t.Parallel()
	noOAuth1 := schemes.Default.Clone()
	noOAuth1.Register(credentials.OAuth1, nil)
	tests := []struct {
		name   string
		opts   []testutil.Option
		scheme credentials.Scheme
	}{
		{"not a Composio scheme", nil, "SAML"},
		{"empty scheme", nil, ""},
		{"removed from the registry", []testutil.Option{testutil.WithSchemes(noOAuth1)}, credentials.OAuth1},
		{"custom applier reports the credentials error", []testutil.Option{testutil.WithCredentialApplier(
			func(_ context.Context, c *credentials.Connection, _ *http.Request) error { return c.Validate() })}, "SAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t, tt.opts...)
			val := credentials.Val{AccessToken: "at_SECRET", OAuthToken: "ot_SECRET", OAuthTokenSecret: "ots_SECRET"}
			s.AddAccount(testutil.Account{ID: "ca", AuthScheme: tt.scheme, Val: val, Handler: echo})
			_, err := roundTrip(t, s, "ca", newReq(t, "GET", "/x"))
			pe := proxyError(t, err, 501, composiohttp.SlugAuthSchemeNotSupported)
			if !strings.Contains(pe.Message, strconv.Quote(string(tt.scheme))) {
				t.Errorf("message %q does not name the scheme", pe.Message)
			}
			// The same through custom_connection_data, which the Transport
			// would refuse to send: post it raw.
			wire := credentials.Connection{AuthScheme: tt.scheme, Val: val}
			wire.Val.BaseURL = "https://api.example.com"
			conn, err := credentials.MarshalWire(&wire)
			if err != nil || !strings.Contains(string(conn), "ot_SECRET") {
				t.Fatalf("wire encoding %s: %v", conn, err)
			}
			r := call(t, s, `{"endpoint":"/x","method":"GET","custom_connection_data":`+string(conn)+`}`)
			if tt.scheme == "" {
				checkError(t, r, 400, composiohttp.SlugValidationError, "custom_connection_data.authScheme")
			} else {
				checkError(t, r, 501, composiohttp.SlugAuthSchemeNotSupported, "")
			}
			if strings.Contains(string(r.body), "SECRET") {
				t.Errorf("error body shows a secret: %s", r.body)
			}
		})
	}
}

// TestMissingField: an account whose scheme's required fields are missing
// is a 422 naming the scheme and the field, never a value.
func TestMissingField(t *testing.T) {
	t.Parallel()
	tests := []struct {
		scheme credentials.Scheme
		val    credentials.Val
		field  string
	}{
		{credentials.OAuth2, credentials.Val{RefreshToken: "rt_SECRET", ClientSecret: "cs_SECRET"}, "access_token"},
		{credentials.S2SOAuth2, credentials.Val{ClientSecret: "cs_SECRET"}, "access_token"},
		{credentials.DCROAuth, credentials.Val{AccessToken: "at_SECRET"}, "client_id"},
		{credentials.APIKey, credentials.Val{Password: "pw_SECRET"}, "api_key"},
		{credentials.Basic, credentials.Val{Password: "pw_SECRET"}, "username"},
		{credentials.BasicWithJWT, credentials.Val{Username: "u", BasicEncoded: "be_SECRET"}, "password"},
		{credentials.BearerToken, credentials.Val{AccessToken: "at_SECRET"}, "token"},
		{credentials.OAuth1, credentials.Val{OAuthToken: "ot_SECRET", ConsumerKey: "ck"}, "oauth_token_secret"},
		// Required by the adapter, not by Validate: no consumer key anywhere.
		{credentials.OAuth1, credentials.Val{OAuthToken: "ot_SECRET", OAuthTokenSecret: "ots_SECRET"}, "consumer_key"},
		{credentials.ServiceAccount, credentials.Val{ApplicationID: "1", InstallationID: "2", ClientSecret: "cs_SECRET"}, "private_key"},
		{credentials.GoogleServiceAccount, credentials.Val{AccessToken: "at_SECRET"}, "credentials_json"},
	}
	for _, tt := range tests {
		t.Run(string(tt.scheme)+" "+tt.field, func(t *testing.T) {
			t.Parallel()
			s := testutil.NewServer(t)
			s.AddAccount(testutil.Account{ID: "ca", Toolkit: "github", AuthScheme: tt.scheme, Val: tt.val, Handler: echo})
			_, err := roundTrip(t, s, "ca", newReq(t, "GET", "/user"))
			pe := proxyError(t, err, 422, composiohttp.SlugInvalidConnectionData)
			if !strings.Contains(pe.Message, string(tt.scheme)) || !strings.Contains(pe.Message, strconv.Quote(tt.field)) {
				t.Errorf("message %q does not name %s and %q", pe.Message, tt.scheme, tt.field)
			}
			if len(pe.Errors) != 1 || !strings.HasPrefix(pe.Errors[0], "val."+tt.field+": ") {
				t.Errorf("errors %q, want one about val.%s", pe.Errors, tt.field)
			}
			r := call(t, s, map[string]any{"connected_account_id": "ca", "endpoint": "/user", "method": "GET"})
			checkError(t, r, 422, composiohttp.SlugInvalidConnectionData, "val."+tt.field)
			if strings.Contains(string(r.body), "SECRET") {
				t.Errorf("error body shows a secret: %s", r.body)
			}
			if len(s.Requests()) != 2 {
				t.Errorf("recorded %d calls", len(s.Requests()))
			}
		})
	}
}

// TestApplierErrorsHideSecrets: errors an adapter reports for bad (not
// missing) credentials reach the reply without the credentials.
func TestApplierErrorsHideSecrets(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	badPEM := "-----BEGIN RSA PRIVATE KEY-----\nSECRET\n-----END RSA PRIVATE KEY-----"
	s.AddAccount(testutil.Account{ID: "app", Toolkit: "github", AuthScheme: credentials.ServiceAccount, Handler: echo,
		Val: credentials.Val{ApplicationID: "1", InstallationID: "2", PrivateKey: badPEM}})
	s.AddAccount(testutil.Account{ID: "google", Toolkit: "gmail", AuthScheme: credentials.GoogleServiceAccount, Handler: echo,
		Val: credentials.Val{CredentialsJSON: `{"type":"service_account","client_email":"a@b.c","private_key":"SECRET`}})
	for _, id := range []string{"app", "google"} {
		_, err := roundTrip(t, s, id, newReq(t, "GET", "/x"))
		proxyError(t, err, 422, composiohttp.SlugInvalidConnectionData)
		r := call(t, s, map[string]any{"connected_account_id": id, "endpoint": "/x", "method": "GET"})
		checkError(t, r, 422, composiohttp.SlugInvalidConnectionData, "")
		if strings.Contains(string(r.body), "SECRET") {
			t.Errorf("%s: error body shows a secret: %s", id, r.body)
		}
	}
}

// TestCustomApplier: WithCredentialApplier replaces the registry; wrapping
// ApplyCredentials keeps the built-in schemes and adds one.
func TestCustomApplier(t *testing.T) {
	t.Parallel()
	const hmacScheme credentials.Scheme = "ACME_HMAC"
	s := testutil.NewServer(t, testutil.WithCredentialApplier(func(ctx context.Context, c *credentials.Connection, r *http.Request) error {
		r.Header.Set("X-Applied-By", "test")
		if c.AuthScheme == hmacScheme {
			mac := hmac.New(sha1.New, []byte(c.Val.APIKey))
			mac.Write([]byte(r.Method + " " + r.URL.Path))
			r.Header.Set("X-Acme-Signature", fmt.Sprintf("%x", mac.Sum(nil)))
			return nil
		}
		return testutil.ApplyCredentials(ctx, c, r)
	}))
	s.AddAccount(testutil.Account{ID: "acme", AuthScheme: hmacScheme, Val: credentials.Val{APIKey: "k"}, Handler: echo})
	s.AddAccount(testutil.Account{ID: "gh", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "gho_1"}, Handler: echo})
	s.AddAccount(testutil.Account{ID: "broken", Toolkit: "github", AuthScheme: credentials.OAuth2, Handler: echo})

	mac := hmac.New(sha1.New, []byte("k"))
	mac.Write([]byte("GET /orders"))
	for _, tc := range []struct{ account, header, want string }{
		{"acme", "X-Acme-Signature", fmt.Sprintf("%x", mac.Sum(nil))},
		{"gh", "Authorization", "Bearer gho_1"},
	} {
		e, err := roundTrip(t, s, tc.account, newReq(t, "GET", "/orders"))
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header(e.Header)
		if h.Get(tc.header) != tc.want || h.Get("X-Applied-By") != "test" {
			t.Errorf("%s: upstream headers %v", tc.account, h)
		}
	}
	_, err := roundTrip(t, s, "broken", newReq(t, "GET", "/orders"))
	proxyError(t, err, 422, composiohttp.SlugInvalidConnectionData)
}
