package schemes_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// recordingBase answers 200 and keeps the last request it was given.
type recordingBase struct{ got *http.Request }

func (b *recordingBase) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		r.Body.Close()
	}
	b.got = r
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: r}, nil
}

// credentialHeaders are the headers the test connections put credentials in.
var credentialHeaders = []string{"Authorization", "X-Shopify-Access-Token"}

// TestCredentialSite: direct mode sends credentials only within the
// connection's site under the full public suffix list (private domains
// such as atlassian.net, myshopify.com, herokuapp.com and
// azurewebsites.net included) and on the same port, plus the hosts the
// toolkit registry declares for the toolkit.
func TestCredentialSite(t *testing.T) {
	t.Parallel()
	basic := func(slug, base string) *credentials.Connection {
		return &credentials.Connection{AuthScheme: credentials.Basic, ToolkitSlug: slug,
			Val: credentials.Val{Username: "u", Password: "p", BaseURL: base}}
	}
	bearer := func(slug, base string) *credentials.Connection {
		return &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: slug,
			Val: credentials.Val{Token: "tok", BaseURL: base}}
	}
	shop := &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "shopify",
		Val: credentials.Val{AccessToken: "shpat", Shop: "acme"}}
	shopKey := &credentials.Connection{AuthScheme: credentials.APIKey, ToolkitSlug: "shopify",
		Val: credentials.Val{APIKey: "shpat", Shop: "acme"}}
	google := func(slug string) *credentials.Connection {
		return &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: slug, Val: credentials.Val{AccessToken: "ya29"}}
	}
	for _, tt := range []struct {
		name string
		conn *credentials.Connection
		url  string
		want bool
	}{
		{"jira same tenant", basic("jira", "https://acme.atlassian.net"), "https://acme.atlassian.net/rest/api/3/myself", true},
		{"jira other tenant", basic("jira", "https://acme.atlassian.net"), "https://evil.atlassian.net/rest/api/3/myself", false},
		{"zendesk other tenant", &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "zendesk",
			Val: credentials.Val{Token: "t", Subdomain: "acme"}}, "https://evil.zendesk.com/api/v2/users/me", false},
		{"zendesk same tenant", &credentials.Connection{AuthScheme: credentials.BearerToken, ToolkitSlug: "zendesk",
			Val: credentials.Val{Token: "t", Subdomain: "acme"}}, "https://acme.zendesk.com/api/v2/users/me", true},
		{"jira by subdomain, other tenant", &credentials.Connection{AuthScheme: credentials.Basic, ToolkitSlug: "jira",
			Val: credentials.Val{Username: "u", Password: "p", Subdomain: "acme"}}, "https://evil.atlassian.net/", false},
		{"shopify oauth other shop", shop, "https://evil.myshopify.com/admin/api/2024-01/shop.json", false},
		{"shopify oauth same shop", shop, "https://acme.myshopify.com/admin/api/2024-01/shop.json", true},
		{"shopify key other shop", shopKey, "https://evil.myshopify.com/admin/api/2024-01/shop.json", false},
		// A base URL on a tenant domain of a registered toolkit
		// (jira's {subdomain}.atlassian.net), without the toolkit named.
		{"atlassian base_url without toolkit, other tenant", bearer("", "https://acme.atlassian.net"), "https://evil.atlassian.net/x", false},
		{"atlassian base_url without toolkit, same tenant", bearer("", "https://acme.atlassian.net"), "https://acme.atlassian.net/x", true},
		{"zendesk base_url without toolkit, other tenant", bearer("", "https://acme.zendesk.com"), "https://evil.zendesk.com/x", false},
		{"heroku other app", bearer("", "https://acme.herokuapp.com"), "https://evil.herokuapp.com/x", false},
		{"azure other app", bearer("", "https://acme.azurewebsites.net"), "https://evil.azurewebsites.net/x", false},
		{"same host other port", bearer("", "https://api.example.com"), "https://api.example.com:8443/x", false},
		{"same host explicit default port", bearer("", "https://api.example.com"), "https://api.example.com:443/x", true},
		{"base on a port, same port", bearer("", "http://127.0.0.1:8080"), "http://127.0.0.1:8080/x", true},
		{"base on a port, other port", bearer("", "http://127.0.0.1:8080"), "http://127.0.0.1:9090/x", false},
		{"other scheme", bearer("", "https://api.example.com"), "http://api.example.com/x", false},
		{"sibling host of an ordinary domain", bearer("github", "https://api.github.com"), "https://uploads.github.com/x", true},
		{"google toolkit, other googleapis host", google("gmail"), "https://www.googleapis.com/upload/gmail/v1/users/me/messages", true},
		{"google toolkit, its own host", google("googledrive"), "https://www.googleapis.com/drive/v3/files", true},
		{"google toolkit, other googleapis host 2", google("googledrive"), "https://storage.googleapis.com/b/o", true},
		{"google toolkit, http", google("googledrive"), "http://www.googleapis.com/drive/v3/files", false},
		{"google toolkit, other port", google("googledrive"), "https://www.googleapis.com:8443/drive/v3/files", false},
		{"googleapis without a toolkit declaring it", bearer("", "https://gmail.googleapis.com"), "https://www.googleapis.com/x", false},
		{"google toolkit, other domain", google("gmail"), "https://evil.example.com/x", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			base := &recordingBase{}
			tr := &schemes.Transport{Connection: tt.conn, Base: base}
			req, _ := http.NewRequest("GET", tt.url, nil)
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got := false
			for _, h := range credentialHeaders {
				got = got || base.got.Header.Get(h) != ""
			}
			got = got || base.got.URL.Query().Get("key") != ""
			if got != tt.want {
				t.Errorf("credentials sent to %s: %v, want %v (headers %v)", tt.url, got, tt.want, base.got.Header)
			}
		})
	}
}

// TestSiteRulesDiffer: the proxy's OriginMismatch rule
// (SameRegistrableDomain: scheme and ICANN eTLD+1, ports ignored) and
// direct mode's credential rule (SameCredentialSite: scheme, eTLD+1 under
// the full list, port) are two functions, and differ where documented.
func TestSiteRulesDiffer(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b              string
		proxy, credential bool
	}{
		{"https://acme.herokuapp.com", "https://evil.herokuapp.com", true, false},
		{"https://acme.myshopify.com", "https://evil.myshopify.com", true, false},
		// atlassian.net is not on the public suffix list: the jira and
		// confluence toolkits make the tenant's host the site (see
		// TestCredentialSite).
		{"https://acme.atlassian.net", "https://evil.atlassian.net", true, true},
		{"https://gmail.googleapis.com", "https://www.googleapis.com", true, false},
		{"https://api.example.com", "https://api.example.com:8443", true, false},
		{"https://api.github.com", "https://uploads.github.com", true, true},
		{"https://api.github.com", "http://api.github.com", false, false},
		{"https://a.example.com", "https://a.example.org", false, false},
	} {
		a, _ := url.Parse(tt.a)
		b, _ := url.Parse(tt.b)
		if got := schemes.SameRegistrableDomain(a, b); got != tt.proxy {
			t.Errorf("SameRegistrableDomain(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.proxy)
		}
		if got := schemes.SameCredentialSite(a, b); got != tt.credential {
			t.Errorf("SameCredentialSite(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.credential)
		}
	}
}
