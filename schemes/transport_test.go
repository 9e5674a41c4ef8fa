package schemes_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/google/go-github/v75/github"
)

// TestDirectGoGitHub drives go-github through the direct Transport against
// an httptest GitHub Enterprise server and checks the Authorization header
// the server saw, for a token connection and for a GitHub App connection
// whose installation token comes from the same server.
func TestDirectGoGitHub(t *testing.T) {
	t.Parallel()
	clk := newClock()
	tokens := newGitHubTokenServer(t, clk)
	var mu sync.Mutex
	var seen []string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v3/user" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"login":"octocat","id":1}`)
	}))
	t.Cleanup(api.Close)

	tests := []struct {
		name string
		tr   *schemes.Transport
		want string
	}{
		{"oauth2", &schemes.Transport{Base: api.Client().Transport, Connection: &credentials.Connection{
			AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{AccessToken: "gho_abc", TokenType: "bearer", BaseURL: api.URL + "/api/v3"}}},
			"Bearer gho_abc"},
		{"github app", &schemes.Transport{Base: api.Client().Transport,
			Registry: func() *schemes.Registry {
				r := schemes.Default.Clone()
				r.Register(credentials.ServiceAccount, &schemes.GitHubApp{BaseURL: tokens.URL, HTTPClient: tokens.Client(), Now: clk.Now})
				return r
			}(),
			// The API's own origin: credentials go to no other port.
			Source: credentials.StaticSource(githubAppConn(api.URL+"/api/v3", pkcs1PEM()))},
			"Bearer ghs_1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, err := github.NewClient(&http.Client{Transport: tt.tr}).WithEnterpriseURLs(api.URL, api.URL)
			if err != nil {
				t.Fatal(err)
			}
			user, _, err := client.Users.Get(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			if user.GetLogin() != "octocat" {
				t.Errorf("login %q", user.GetLogin())
			}
			mu.Lock()
			got := seen[len(seen)-1]
			mu.Unlock()
			if got != tt.want {
				t.Errorf("server saw Authorization %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTransportRelativeURL(t *testing.T) {
	t.Parallel()
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.RequestURI() + " " + r.Header.Get("Authorization")
	}))
	t.Cleanup(srv.Close)
	tks := schemes.NewToolkitRegistry(schemes.Toolkit{Slug: "asana", BaseURL: srv.URL + "/api/1.0"})
	for _, tt := range []struct{ url, want string }{
		{"/users/me?opt_pretty=true", "/api/1.0/users/me?opt_pretty=true Bearer pat"},
		{"users/me", "/api/1.0/users/me Bearer pat"},
		{"/a%2Fb", "/api/1.0/a%2Fb Bearer pat"},
	} {
		tr := &schemes.Transport{Toolkits: tks, Base: srv.Client().Transport, Connection: &credentials.Connection{
			AuthScheme: credentials.BearerToken, ToolkitSlug: "asana", Val: credentials.Val{Token: "pat"}}}
		req := mustRequest(t, "GET", tt.url)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got != tt.want {
			t.Errorf("%s: server saw %q, want %q", tt.url, got, tt.want)
		}
		if req.URL.Host != "" || req.Header.Get("Authorization") != "" {
			t.Errorf("caller's request modified: %v %v", req.URL, req.Header)
		}
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestTransportContract: the caller's request is never modified, its body
// is closed exactly once on every path (as composiohttp's
// TestRoundTripContract checks for the proxy Transport), any upstream
// status comes back as a response.
func TestTransportContract(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusTeapot)
		fmt.Fprintf(w, "got %s", b)
	}))
	t.Cleanup(srv.Close)
	ok := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "x", Val: credentials.Val{Token: "t", BaseURL: srv.URL}}
	failing := schemes.NewRegistry()
	failing.Register(credentials.BearerToken, schemes.AdapterFunc(func(context.Context, *credentials.Connection, *http.Request) error {
		return errors.New("schemes: boom")
	}))
	// replacing reads and replaces the body, as OAuth1 does for forms,
	// closing the original as Adapter requires; then it fails or not.
	replacing := func(fail bool, replaced chan<- *trackedBody) *schemes.Registry {
		r := schemes.NewRegistry()
		r.Register(credentials.BearerToken, schemes.AdapterFunc(func(_ context.Context, _ *credentials.Connection, req *http.Request) error {
			b, _ := io.ReadAll(req.Body)
			req.Body.Close()
			nb := newBody(string(b))
			replaced <- nb
			req.Body = nb
			if fail {
				return errors.New("schemes: boom after replacing")
			}
			req.Header.Set("Authorization", "Bearer t")
			return nil
		}))
		return r
	}
	replacedOK, replacedFail := make(chan *trackedBody, 1), make(chan *trackedBody, 1)
	tests := []struct {
		name     string
		tr       *schemes.Transport
		url      string
		wantErr  error
		replaced chan *trackedBody // the adapter's replacement body
	}{
		{"success 418", &schemes.Transport{Connection: ok}, srv.URL + "/p", nil, nil},
		{"success 418, body replaced", &schemes.Transport{Connection: ok, Registry: replacing(false, replacedOK)}, srv.URL + "/p", nil, replacedOK},
		{"success 418, off site (no adapter)", &schemes.Transport{Connection: ok, Registry: failing}, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/p", nil, nil},
		{"no connection", &schemes.Transport{}, srv.URL, nil, nil},
		{"source error", &schemes.Transport{Source: credentials.SourceFunc(func(context.Context) (*credentials.Connection, error) {
			return nil, errors.New("credentials: rotated away")
		})}, srv.URL, nil, nil},
		{"invalid connection", &schemes.Transport{Connection: &credentials.Connection{AuthScheme: credentials.BearerToken}}, srv.URL, credentials.ErrMissingField, nil},
		{"unknown scheme", &schemes.Transport{Connection: &credentials.Connection{AuthScheme: "SAML"}, Registry: schemes.NewRegistry()}, srv.URL, schemes.ErrUnknownScheme, nil},
		{"unknown toolkit", &schemes.Transport{Connection: &credentials.Connection{AuthScheme: credentials.NoAuth, ToolkitSlug: "nosuch"}}, "/relative", schemes.ErrUnknownToolkit, nil},
		{"adapter error", &schemes.Transport{Connection: ok, Registry: failing}, srv.URL, nil, nil},
		{"adapter error after replacing the body", &schemes.Transport{Connection: ok, Registry: replacing(true, replacedFail)}, srv.URL, nil, replacedFail},
		{"base error", &schemes.Transport{Connection: ok, Base: roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			r.Body.Close()
			return nil, errors.New("dial tcp: connection refused")
		})}, srv.URL, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.tr.Base == nil {
				tt.tr.Base = srv.Client().Transport
			}
			body := newBody("payload")
			req, err := http.NewRequest("POST", tt.url, body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("X-Caller", "1")
			before := req.URL.String()
			resp, err := tt.tr.RoundTrip(req)
			if strings.HasPrefix(tt.name, "success 418") {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				wantAuth := "Bearer t"
				if strings.Contains(tt.name, "off site") {
					wantAuth = ""
				}
				if resp.StatusCode != http.StatusTeapot || string(b) != "got payload" || resp.Header.Get("X-Auth") != wantAuth {
					t.Errorf("response %d %q %q", resp.StatusCode, b, resp.Header.Get("X-Auth"))
				}
			} else {
				if err == nil {
					resp.Body.Close()
					t.Fatal("no error")
				}
				if resp != nil {
					t.Error("response with error")
				}
				if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
					t.Errorf("err %v is not %v", err, tt.wantErr)
				}
			}
			if n := body.Closes(); n != 1 {
				t.Errorf("request body closed %d times, want exactly 1", n)
			}
			if tt.replaced != nil {
				if nb := <-tt.replaced; nb.Closes() != 1 {
					t.Errorf("replacement body closed %d times, want exactly 1", nb.Closes())
				}
			}
			if req.URL.String() != before || req.Header.Get("Authorization") != "" || len(req.Header) != 1 {
				t.Errorf("caller's request modified: %s %v", req.URL, req.Header)
			}
		})
	}
}

func TestTransportConcurrent(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("Authorization"))
	}))
	t.Cleanup(srv.Close)
	tr := &schemes.Transport{Base: srv.Client().Transport, Toolkits: schemes.NewToolkitRegistry(schemes.Toolkit{Slug: "svc", BaseURL: srv.URL}),
		Connection: &credentials.Connection{AuthScheme: credentials.OAuth1, ToolkitSlug: "svc",
			Val: credentials.Val{ConsumerKey: "ck", OAuthToken: "t", OAuthTokenSecret: "s"}}}
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			resp, err := client.Post(srv.URL+fmt.Sprintf("/x?i=%d", i), "application/x-www-form-urlencoded", strings.NewReader("a=1"))
			if err != nil {
				t.Error(err)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if !strings.HasPrefix(string(b), "OAuth oauth_consumer_key=\"ck\"") {
				t.Errorf("upstream saw %q", b)
			}
		})
	}
	wg.Wait()
}

// TestTransportCredentialsStayOnSite: credentials go only to the
// connection's site (scheme and registrable domain of its base URL), also
// when http.Client follows a redirect; other hosts get the request
// without them.
func TestTransportCredentialsStayOnSite(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]string{} // host → "Authorization ?query"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Host + r.URL.Path {
		case "api.example.com/away":
			http.Redirect(w, r, "http://cdn.other.test/file?x=1", http.StatusFound)
			return
		case "api.example.com/near":
			http.Redirect(w, r, "http://files.example.com/file?x=1", http.StatusFound)
			return
		}
		mu.Lock()
		seen[r.Host] = r.Header.Get("Authorization") + " ?" + r.URL.RawQuery
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	// Every host name dials the one test server, which tells them apart by
	// the Host header.
	base := srv.Client().Transport.(*http.Transport).Clone()
	base.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}
	t.Cleanup(base.CloseIdleConnections)
	bearer := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "x",
		Val: credentials.Val{Token: "tok", BaseURL: "http://api.example.com/v1"}}
	queryKey := &credentials.Connection{AuthScheme: credentials.APIKey, ToolkitSlug: "gmail", // key in ?key=
		Val: credentials.Val{APIKey: "AIzaSECRET", BaseURL: "http://api.example.com"}}
	httpsBase := &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "x",
		Val: credentials.Val{Token: "tok", BaseURL: "https://api.example.com"}}
	tests := []struct {
		name     string
		conn     *credentials.Connection
		url      string
		wantHost string
		want     string
	}{
		{"redirect to other site: no header", bearer, "http://api.example.com/away", "cdn.other.test", " ?x=1"},
		{"redirect to other site: no query key", queryKey, "http://api.example.com/away", "cdn.other.test", " ?x=1"},
		{"redirect within site: header", bearer, "http://api.example.com/near", "files.example.com", "Bearer tok ?x=1"},
		{"redirect within site: query key", queryKey, "http://api.example.com/near", "files.example.com", " ?x=1&key=AIzaSECRET"},
		{"relative URL", bearer, "/p", "api.example.com", "Bearer tok ?"},
		{"other site requested directly", bearer, "http://cdn.other.test/file", "cdn.other.test", " ?"},
		{"http to an https site", httpsBase, "http://api.example.com/file", "api.example.com", " ?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &http.Client{Transport: &schemes.Transport{Base: base, Connection: tt.conn}}
			resp, err := client.Get(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			mu.Lock()
			got, ok := seen[tt.wantHost]
			delete(seen, tt.wantHost)
			mu.Unlock()
			if !ok || got != tt.want {
				t.Errorf("%s saw %q (%t), want %q", tt.wantHost, got, ok, tt.want)
			}
		})
	}
}

func TestSameRegistrableDomain(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"https://gmail.googleapis.com/gmail/v1", "https://www.googleapis.com/upload", true}, // private suffix ignored
		{"https://api.github.com", "https://uploads.github.com:443/x", true},
		{"https://a.example.co.uk", "https://b.example.co.uk", true},
		{"https://example.co.uk", "https://other.co.uk", false},
		{"https://alice.github.io", "https://bob.github.io", true},
		{"https://api.example.com", "http://api.example.com", false},
		{"https://API.Example.com.", "https://api.example.com", true},
		{"http://127.0.0.1:8080", "http://127.0.0.1:9090", true},
		{"http://127.0.0.1", "http://127.0.0.2", false},
		{"http://[::1]:1", "http://[::1]:2", true},
		{"http://localhost", "http://localhost:1", true},
		{"https://api.example.com", "https://example.org", false},
	} {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := schemes.SameRegistrableDomain(a, b); got != tt.want {
			t.Errorf("SameRegistrableDomain(%s, %s) = %t, want %t", tt.a, tt.b, got, tt.want)
		}
	}
	if schemes.SameRegistrableDomain(nil, &url.URL{}) {
		t.Error("SameRegistrableDomain(nil, …) = true")
	}
}
