package schemes_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

func BenchmarkApply(b *testing.B) {
	conns := []struct {
		name string
		conn *credentials.Connection
	}{
		{"oauth2", &credentials.Connection{AuthScheme: credentials.OAuth2, ToolkitSlug: "github", Val: credentials.Val{AccessToken: "gho_abc"}}},
		{"api_key_query", &credentials.Connection{AuthScheme: credentials.APIKey, ToolkitSlug: "gmail", Val: credentials.Val{APIKey: "AIza"}}},
		{"basic", &credentials.Connection{AuthScheme: credentials.Basic, Val: credentials.Val{Username: "u", Password: "p"}}},
		{"oauth1", &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{ConsumerKey: "ck", OAuthToken: "t", OAuthTokenSecret: "s"}}},
	}
	for _, c := range conns {
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", "https://api.example.com/v1/items?limit=10&page=2", nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				r := req.Clone(ctx)
				if err := schemes.Default.Apply(ctx, c.conn, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkResolveBaseURL(b *testing.B) {
	conn := &credentials.Connection{ToolkitSlug: "zendesk", Val: credentials.Val{Subdomain: "acme"}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := schemes.ResolveBaseURL(conn); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSameCredentialSite is the per-request cost of the direct Transport's
// check that credentials go to the connection's site.
func BenchmarkSameCredentialSite(b *testing.B) {
	base, _ := url.Parse("https://api.github.com")
	req, _ := url.Parse("https://uploads.github.com/repos/o/r/releases/1/assets")
	b.ReportAllocs()
	for b.Loop() {
		if !schemes.SameCredentialSite(base, req) {
			b.Fatal("not same site")
		}
	}
}
