package schemes_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

func TestAdapters(t *testing.T) {
	t.Parallel()
	type val = credentials.Val
	tests := []struct {
		name      string
		scheme    credentials.Scheme
		toolkit   string
		val       val
		url       string
		header    string // header name checked
		want      string // its exact value ("" = absent)
		wantQuery string // exact RawQuery after Apply
	}{
		{"oauth2 default type", credentials.OAuth2, "github", val{AccessToken: "gho_1"}, "", "Authorization", "Bearer gho_1", ""},
		{"oauth2 lower bearer", credentials.OAuth2, "slack", val{AccessToken: "xoxb", TokenType: "bearer"}, "", "Authorization", "Bearer xoxb", ""},
		{"oauth2 other type kept", credentials.OAuth2, "x", val{AccessToken: "t", TokenType: "MAC"}, "", "Authorization", "MAC t", ""},
		{"oauth2 not expired, no refresh", credentials.OAuth2, "github", val{AccessToken: "a", RefreshToken: "r", ExpiresAt: "2999-01-01T00:00:00Z"}, "", "Authorization", "Bearer a", ""},
		{"oauth2 expired, no token URL", credentials.OAuth2, "unknown", val{AccessToken: "a", RefreshToken: "r", ExpiresAt: "2000-01-01T00:00:00Z"}, "", "Authorization", "Bearer a", ""},
		{"dcr oauth", credentials.DCROAuth, "notion", val{AccessToken: "d", ClientID: "c"}, "", "Authorization", "Bearer d", ""},
		{"s2s oauth2", credentials.S2SOAuth2, "zoom", val{AccessToken: "s", TokenType: "Bearer"}, "", "Authorization", "Bearer s", ""},
		{"bearer token", credentials.BearerToken, "x", val{Token: "tok"}, "", "Authorization", "Bearer tok", ""},
		{"bearer falls back to bearer_token", credentials.BearerToken, "x", val{BearerToken: "bt"}, "", "Authorization", "Bearer bt", ""},
		{"basic user password", credentials.Basic, "x", val{Username: "Aladdin", Password: "open sesame"}, "", "Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", ""},
		{"basic empty password", credentials.Basic, "x", val{Username: "key"}, "", "Authorization", "Basic a2V5Og==", ""},
		{"basic encoded wins", credentials.Basic, "x", val{BasicEncoded: "ZW5j", Username: "u"}, "", "Authorization", "Basic ZW5j", ""},
		{"basic with jwt", credentials.BasicWithJWT, "x", val{Username: "Aladdin", Password: "open sesame"}, "", "Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", ""},
		{"no auth", credentials.NoAuth, "x", val{}, "", "Authorization", "", ""},
		{"api key default placement", credentials.APIKey, "openai", val{APIKey: "sk-1"}, "", "Authorization", "Bearer sk-1", ""},
		{"api key unknown toolkit", credentials.APIKey, "nosuchtoolkit", val{APIKey: "k"}, "", "Authorization", "Bearer k", ""},
		{"generic api key", credentials.APIKey, "perplexityai", val{GenericAPIKey: "pplx"}, "", "Authorization", "Bearer pplx", ""},
		{"linear bare key", credentials.APIKey, "linear", val{APIKey: "lin_api_1"}, "", "Authorization", "lin_api_1", ""},
		{"shopify header", credentials.APIKey, "shopify", val{APIKey: "shpat", Shop: "s"}, "", "X-Shopify-Access-Token", "shpat", ""},
		{"gitlab header", credentials.APIKey, "gitlab", val{APIKey: "glpat"}, "", "Private-Token", "glpat", ""},
		{"discord bot", credentials.APIKey, "discordbot", val{APIKey: "b"}, "", "Authorization", "Bot b", ""},
		{"google query key keeps query", credentials.APIKey, "googlecalendar", val{APIKey: "AIza"}, "https://www.googleapis.com/calendar/v3/x?b=2&a=1", "Authorization", "", "b=2&a=1&key=AIza"},
		{"query key replaces caller's", credentials.APIKey, "gmail", val{APIKey: "new"}, "https://gmail.googleapis.com/x?key=old&z=1", "", "", "z=1&key=new"},
		{"trello key and token", credentials.APIKey, "trello", val{APIKey: "k1", Token: "t1"}, "", "Authorization", "", "key=k1&token=t1"},
		{"mailchimp basic anystring", credentials.APIKey, "mailchimp", val{APIKey: "abc-us6", DC: "us6"}, "", "Authorization", "Basic YW55c3RyaW5nOmFiYy11czY=", ""},
		{"jira basic email token", credentials.APIKey, "jira", val{APIKey: "tok", Username: "me@x.io"}, "", "Authorization", "Basic bWVAeC5pbzp0b2s=", ""},
		{"api key bearer_token field", credentials.APIKey, "crowdin", val{BearerToken: "bt"}, "", "Authorization", "Bearer bt", ""},
		{"api key basic_encoded field", credentials.APIKey, "x", val{BasicEncoded: "Zm9v"}, "", "Authorization", "Basic Zm9v", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u := tt.url
			if u == "" {
				u = "https://api.example.com/v1/x"
			}
			req := mustRequest(t, "GET", u)
			c := &credentials.Connection{AuthScheme: tt.scheme, ToolkitSlug: tt.toolkit, Val: tt.val}
			if err := schemes.Default.Apply(context.Background(), c, req); err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if tt.header != "" {
				if got := req.Header.Get(tt.header); got != tt.want {
					t.Errorf("%s = %q, want %q", tt.header, got, tt.want)
				}
			}
			if tt.wantQuery != "" || tt.url == "" {
				if got := req.URL.RawQuery; got != tt.wantQuery {
					t.Errorf("query = %q, want %q", got, tt.wantQuery)
				}
			}
		})
	}
}

func TestAdapterErrors(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value"
	tests := []struct {
		name   string
		conn   credentials.Connection
		target error
		field  string
	}{
		{"oauth2 no token", credentials.Connection{AuthScheme: credentials.OAuth2, Val: credentials.Val{RefreshToken: secret}}, schemes.ErrMissingField, "access_token"},
		{"bearer no token", credentials.Connection{AuthScheme: credentials.BearerToken, Val: credentials.Val{Password: secret}}, schemes.ErrMissingField, "token"},
		{"basic no user", credentials.Connection{AuthScheme: credentials.Basic, Val: credentials.Val{Password: secret}}, schemes.ErrMissingField, "username"},
		{"api key none", credentials.Connection{AuthScheme: credentials.APIKey, Val: credentials.Val{Password: secret}}, schemes.ErrMissingField, "api_key"},
		{"trello no token", credentials.Connection{AuthScheme: credentials.APIKey, ToolkitSlug: "trello", Val: credentials.Val{APIKey: secret}}, schemes.ErrMissingField, "token"},
		{"oauth1 no consumer key", credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{OAuthToken: "t", OAuthTokenSecret: secret}}, schemes.ErrMissingField, "consumer_key"},
		{"github app no key", credentials.Connection{AuthScheme: credentials.ServiceAccount, Val: credentials.Val{ApplicationID: "1", InstallationID: "2"}}, schemes.ErrMissingField, "private_key"},
		{"github app bad key", credentials.Connection{AuthScheme: credentials.ServiceAccount, Val: credentials.Val{ApplicationID: "1", InstallationID: "2", PrivateKey: secret}}, nil, ""},
		{"google no json", credentials.Connection{AuthScheme: credentials.GoogleServiceAccount}, schemes.ErrMissingField, "credentials_json"},
		{"google bad json", credentials.Connection{AuthScheme: credentials.GoogleServiceAccount, Val: credentials.Val{CredentialsJSON: `{"private_key":"` + secret}}, nil, ""},
		{"unknown scheme", credentials.Connection{AuthScheme: "SAML", Val: credentials.Val{Password: secret}}, schemes.ErrUnknownScheme, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := mustRequest(t, "GET", "https://api.example.com/")
			err := schemes.Default.Apply(context.Background(), &tt.conn, req)
			if err == nil {
				t.Fatal("Apply succeeded")
			}
			// A missing field or an unknown scheme is the error type of
			// package credentials, defined there once, with its prefix.
			if !strings.HasPrefix(err.Error(), "schemes: ") && !strings.HasPrefix(err.Error(), "credentials: ") {
				t.Errorf("error %q lacks the schemes: or credentials: prefix", err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q shows a secret", err)
			}
			if tt.target != nil && !errors.Is(err, tt.target) {
				t.Errorf("error %v is not %v", err, tt.target)
			}
			if tt.target == schemes.ErrMissingField {
				if !errors.Is(err, credentials.ErrMissingField) {
					t.Errorf("error %v is not credentials.ErrMissingField", err)
				}
				var mf *schemes.MissingFieldError
				if !errors.As(err, &mf) || mf.Field != tt.field {
					t.Errorf("error %v: want field %q", err, tt.field)
				}
			}
			if req.Header.Get("Authorization") != "" {
				t.Errorf("Authorization set on failure")
			}
		})
	}
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	if _, ok := schemes.Default.Lookup(credentials.NoAuth); !ok {
		t.Fatal("Default lacks NO_AUTH")
	}
	for _, s := range credentials.Schemes() {
		if _, ok := schemes.Default.Lookup(s); !ok {
			t.Errorf("Default lacks %s", s)
		}
	}
	r := schemes.Default.Clone()
	r.Register("CUSTOM", schemes.AdapterFunc(func(_ context.Context, c *credentials.Connection, req *http.Request) error {
		req.Header.Set("X-Custom", c.Val.Token)
		return nil
	}))
	r.Register(credentials.NoAuth, nil)
	if _, ok := r.Lookup(credentials.NoAuth); ok {
		t.Error("Register(nil) did not remove")
	}
	if _, ok := schemes.Default.Lookup(credentials.NoAuth); !ok {
		t.Error("Clone shares the map with Default")
	}
	req := mustRequest(t, "GET", "https://x.example/")
	if err := r.Apply(context.Background(), &credentials.Connection{AuthScheme: "CUSTOM", Val: credentials.Val{Token: "v"}}, req); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("X-Custom"); got != "v" {
		t.Errorf("X-Custom = %q", got)
	}
	var zero schemes.Registry
	err := zero.Apply(context.Background(), &credentials.Connection{AuthScheme: credentials.NoAuth}, req)
	var ue *schemes.UnknownSchemeError
	if !errors.As(err, &ue) || ue.Scheme != credentials.NoAuth {
		t.Errorf("zero registry: %v", err)
	}
	if err := zero.Apply(context.Background(), nil, req); err == nil {
		t.Error("nil connection accepted")
	}
}
