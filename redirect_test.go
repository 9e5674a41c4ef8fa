package composiohttp_test

import (
	"context"
	"crypto/x509"
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

	"github.com/google/go-github/v75/github"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// Hosts of the off-site download servers: a pre-signed URL on GitHub's
// asset storage and a Drive download host. Base dials them to one
// httptest TLS server.
const (
	assetHost = "objects.githubusercontent.com"
	driveHost = "doc-0s-docs.googleusercontent.com"
)

// offSite is a fake asset store on another site than the API: it serves
// any path and records the headers it got.
type offSite struct {
	mu      sync.Mutex
	headers []http.Header
	srv     *httptest.Server
}

func (o *offSite) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.headers = append(o.headers, r.Header.Clone())
	o.mu.Unlock()
	if r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "unsigned", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	io.WriteString(w, "asset bytes from "+r.Host)
}

func (o *offSite) seen() []http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]http.Header(nil), o.headers...)
}

// upstreamAPI is the fake GitHub and Drive behind the fake proxy: it checks
// the account's token and redirects downloads off site.
func upstreamAPI(token string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/repos/octocat/hello-world/releases/assets/1":
			http.Redirect(w, r, "https://"+assetHost+"/github-production-release-asset/1?X-Amz-Signature=sig1", http.StatusFound)
		case r.URL.Path == "/drive/v3/files/F1":
			http.Redirect(w, r, "https://"+driveHost+"/docs/securesc/F1?X-Amz-Signature=sig2", http.StatusFound)
		case r.URL.Path == "/to-http":
			http.Redirect(w, r, "http://"+assetHost+"/a?X-Amz-Signature=sig3", http.StatusFound)
		case r.URL.Path == "/to-metadata":
			http.Redirect(w, r, "https://169.254.169.254/latest/meta-data/?X-Amz-Signature=sig4", http.StatusFound)
		case r.URL.Path == "/post-307":
			http.Redirect(w, r, "https://"+assetHost+"/upload?X-Amz-Signature=sig5", http.StatusTemporaryRedirect)
		case r.URL.Path == "/same-site":
			http.Redirect(w, r, "https://uploads.github.com/same-site-target", http.StatusFound)
		case r.URL.Path == "/same-site-target":
			io.WriteString(w, "same site, through the proxy, as "+r.Header.Get("Authorization")[:len("Bearer")])
		default:
			http.NotFound(w, r)
		}
	})
}

// redirectSetup starts the fake proxy with a GitHub and a Drive account and
// the off-site store, and returns a Transport whose Base reaches both.
func redirectSetup(t *testing.T) (*composiohttp.Transport, *offSite) {
	t.Helper()
	store := &offSite{}
	store.srv = httptest.NewTLSServer(store)
	t.Cleanup(store.srv.Close)
	srv := testutil.NewServer(t)
	srv.AddAccount(testutil.Account{ID: "ca_gh", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_secret"}, BaseURL: "https://api.github.com", Handler: upstreamAPI("gho_secret")})
	srv.AddAccount(testutil.Account{ID: "ca_drive", Toolkit: "googledrive", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "ya29_secret"}, BaseURL: "https://www.googleapis.com", Handler: upstreamAPI("ya29_secret")})

	roots := x509.NewCertPool()
	roots.AddCert(store.srv.Certificate())
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.TLSClientConfig.RootCAs = roots
	base.TLSClientConfig.ServerName = "example.com" // httptest's certificate
	var d net.Dialer
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if host, _, _ := net.SplitHostPort(addr); host == assetHost || host == driveHost || host == "169.254.169.254" {
			addr = store.srv.Listener.Addr().String()
		}
		return d.DialContext(ctx, network, addr)
	}
	t.Cleanup(base.CloseIdleConnections)
	tr := srv.Transport()
	tr.Base = base
	tr.ConnectedAccountID = "ca_gh"
	return tr, store
}

// noCredentials fails if an off-site request carried the Composio key or
// an account token.
func noCredentials(t *testing.T, seen []http.Header) {
	t.Helper()
	if len(seen) == 0 {
		t.Fatal("the off-site store was not reached")
	}
	for _, h := range seen {
		for k, vs := range h {
			for _, v := range vs {
				if strings.Contains(v, "secret") || strings.Contains(v, "ak_") || strings.EqualFold(k, "X-Api-Key") || strings.EqualFold(k, "Authorization") {
					t.Errorf("off-site request carried %s: %s", k, v)
				}
			}
		}
	}
}

// go-github's DownloadReleaseAsset gets a 302 from
// api.github.com to a pre-signed URL on objects.githubusercontent.com and
// fetches it with the followRedirectsClient given, here the same client:
// the Transport sends it directly through Base, with no Composio key and
// no account credentials, instead of through the proxy (400
// OriginMismatch).
func TestOffSiteRedirectGoGitHubReleaseAsset(t *testing.T) {
	t.Parallel()
	tr, store := redirectSetup(t)
	client := &http.Client{Transport: tr}
	gh := github.NewClient(client)
	rc, redirectURL, err := gh.Repositories.DownloadReleaseAsset(context.Background(), "octocat", "hello-world", 1, client)
	if err != nil {
		t.Fatalf("DownloadReleaseAsset: %v", err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil || string(b) != "asset bytes from "+assetHost || redirectURL != "" {
		t.Fatalf("asset %q, %v, redirect %q", b, err, redirectURL)
	}
	noCredentials(t, store.seen())
}

// A download redirect in the style of Drive's alt=media (or Slack's
// files), followed by the http.Client itself (req.Response != nil).
func TestOffSiteRedirectFollowedByClient(t *testing.T) {
	t.Parallel()
	tr, store := redirectSetup(t)
	// Fields of the layers above stay as they set them.
	info := composiohttp.CallInfo{Retries: 2, CacheResult: "miss"}
	ctx := composiohttp.WithCallInfo(composiohttp.WithConnectedAccount(context.Background(), "ca_drive"), &info)
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://www.googleapis.com/drive/v3/files/F1?alt=media", nil)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "asset bytes from "+driveHost {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	if !info.SentDirect || info.Retries != 2 || info.CacheResult != "miss" || info.ConnectedAccountID != "" {
		t.Errorf("CallInfo after the off-site hop = %+v; want SentDirect, the other layers' fields kept, the Transport's zero", info)
	}
	// The next call through the proxy with the same CallInfo is not direct.
	req2, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://www.googleapis.com/drive/v3/about", nil)
	if resp, err := tr.RoundTrip(req2); err == nil {
		resp.Body.Close()
	}
	if info.SentDirect {
		t.Error("CallInfo.SentDirect still true for a call through the proxy")
	}
	noCredentials(t, store.seen())
}

// What is not sent directly: other methods, a downgrade to http, internal
// addresses, and every off-site redirect when ProxyOffSiteRedirects is set
// (the proxy then refuses it); a same-site redirect stays on the proxy,
// with the account's credentials.
func TestOffSiteRedirectRules(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name     string
		method   string
		path     string
		viaProxy bool
		wantErr  error
		wantCode composiohttp.Code
		wantBody string
	}{
		{"POST 307 off site is refused", http.MethodPost, "/post-307", false, composiohttp.ErrRedirectNotAllowed, composiohttp.CodeInvalidRequest, ""},
		{"https to http off site is refused", http.MethodGet, "/to-http", false, composiohttp.ErrRedirectNotAllowed, composiohttp.CodeInvalidRequest, ""},
		{"metadata address is refused", http.MethodGet, "/to-metadata", false, composiohttp.ErrRedirectNotAllowed, composiohttp.CodeInvalidRequest, ""},
		{"turned off: through the proxy, which refuses", http.MethodGet, "/repos/octocat/hello-world/releases/assets/1", true, nil, composiohttp.CodeOriginMismatch, ""},
		{"same site stays on the proxy", http.MethodGet, "/same-site", false, nil, 0, "same site, through the proxy, as Bearer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			tr, store := redirectSetup(t)
			tr.ProxyOffSiteRedirects = c.viaProxy
			var body io.Reader
			if c.method == http.MethodPost {
				body = strings.NewReader(`{"a":1}`)
			}
			req, _ := http.NewRequest(c.method, "https://api.github.com"+c.path, body)
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if c.wantBody != "" {
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if string(b) != c.wantBody {
					t.Fatalf("body %q, want %q", b, c.wantBody)
				}
				return
			}
			if err == nil {
				resp.Body.Close()
				t.Fatalf("status %d, want an error", resp.StatusCode)
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("err = %v, want %v", err, c.wantErr)
			}
			if got := composiohttp.CodeOf(err); got != c.wantCode {
				t.Errorf("CodeOf = %v, want %v (err %v)", got, c.wantCode, err)
			}
			// net/http's *url.Error quotes the URL; the Transport's own
			// error names the host only.
			var ue *url.Error
			if errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "sig") {
				t.Errorf("error shows the signed query: %v", ue.Err)
			}
			if n := len(store.seen()); n != 0 {
				t.Errorf("the off-site store was reached %d times", n)
			}
		})
	}
}

// The caller's own secret headers (any name logging redacts:
// credentials.IsSecret) never go with an off-site redirect sent directly,
// as Authorization, Proxy-Authorization and Cookie do not; others do.
func TestOffSiteRedirectDropsCallerSecrets(t *testing.T) {
	t.Parallel()
	tr, store := redirectSetup(t)
	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_drive")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://www.googleapis.com/drive/v3/files/F1?alt=media", nil)
	secret := map[string]string{
		"X-Api-Key": "caller-k1", "Private-Token": "caller-k2", "X-Shopify-Access-Token": "caller-k3",
		"X-Auth-Token": "caller-k4", "Cookie": "s=caller-k5", "X-Goog-Session-Id": "caller-k6",
	}
	for k, v := range secret {
		req.Header.Set(k, v)
	}
	req.Header.Set("X-Request-Id", "r-1")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	seen := store.seen()
	if len(seen) != 1 {
		t.Fatalf("the off-site store saw %d requests, want 1", len(seen))
	}
	for k := range secret {
		if v := seen[0].Get(k); v != "" {
			t.Errorf("off-site request carried the caller's %s: %s", k, v)
		}
	}
	if v := seen[0].Get("X-Request-Id"); v != "r-1" {
		t.Errorf("X-Request-Id = %q, want the caller's", v)
	}
}

// An AllowDownload veto of an off-site redirect that quotes the URL it
// was handed shows none of its signed query in the error.
func TestOffSiteRedirectVetoHidesSignature(t *testing.T) {
	t.Parallel()
	tr, store := redirectSetup(t)
	tr.AllowDownload = func(u *url.URL) error { return fmt.Errorf("not ours: %s (%s)", u, u.RawQuery) }
	ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_drive")
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://www.googleapis.com/drive/v3/files/F1?alt=media", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "X-Amz-Signature=sig2") {
		t.Fatalf("first call: %d, Location %q", resp.StatusCode, loc)
	}
	// The redirect followed by hand, as go-github does.
	next, _ := http.NewRequestWithContext(ctx, http.MethodGet, loc, nil)
	_, err = tr.RoundTrip(next)
	if !errors.Is(err, composiohttp.ErrRedirectNotAllowed) {
		t.Fatalf("err = %v, want ErrRedirectNotAllowed", err)
	}
	if strings.Contains(err.Error(), "sig2") || strings.Contains(fmt.Sprintf("%+v %#v", err, err), "sig2") {
		t.Errorf("the veto's error shows the signature: %v", err)
	}
	if len(store.seen()) != 0 {
		t.Error("the vetoed URL was fetched")
	}
}
