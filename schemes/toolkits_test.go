package schemes_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"regexp"
	"testing"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

func TestResolveBaseURL(t *testing.T) {
	t.Parallel()
	custom := schemes.NewToolkitRegistry(schemes.Toolkit{Slug: "Acme", BaseURL: "https://{tenant}.acme.io/api"})
	tests := []struct {
		name    string
		tks     *schemes.ToolkitRegistry
		slug    string
		val     credentials.Val
		want    string
		wantErr error
		field   string
	}{
		{"github", nil, "github", credentials.Val{}, "https://api.github.com", nil, ""},
		{"slug case-insensitive", nil, "GitHub", credentials.Val{}, "https://api.github.com", nil, ""},
		{"base_url wins", nil, "github", credentials.Val{BaseURL: "https://ghe.example.com/api/v3/"}, "https://ghe.example.com/api/v3", nil, ""},
		{"base_url without toolkit", nil, "", credentials.Val{BaseURL: "https://x.example"}, "https://x.example", nil, ""},
		{"zendesk", nil, "zendesk", credentials.Val{Subdomain: "acme"}, "https://acme.zendesk.com", nil, ""},
		{"jira", nil, "jira", credentials.Val{Subdomain: "acme"}, "https://acme.atlassian.net", nil, ""},
		{"confluence", nil, "confluence", credentials.Val{Subdomain: "acme"}, "https://acme.atlassian.net/wiki", nil, ""},
		{"shopify", nil, "shopify", credentials.Val{Shop: "store1"}, "https://store1.myshopify.com", nil, ""},
		{"salesforce whole URL", nil, "salesforce", credentials.Val{InstanceEndpoint: "https://acme.my.salesforce.com/"}, "https://acme.my.salesforce.com", nil, ""},
		{"mailchimp dc", nil, "mailchimp", credentials.Val{DC: "us6"}, "https://us6.api.mailchimp.com/3.0", nil, ""},
		{"extra field", custom, "acme", credentials.Val{Extra: map[string]json.RawMessage{"tenant": json.RawMessage(`"t1"`)}}, "https://t1.acme.io/api", nil, ""},
		{"missing subdomain", nil, "zendesk", credentials.Val{}, "", schemes.ErrMissingField, "subdomain"},
		{"missing extra", custom, "acme", credentials.Val{}, "", schemes.ErrMissingField, "tenant"},
		{"host injection", nil, "zendesk", credentials.Val{Subdomain: "evil.com/x?"}, "", nil, ""},
		{"userinfo injection", nil, "shopify", credentials.Val{Shop: "a@evil.com"}, "", nil, ""},
		{"instance not a URL", nil, "salesforce", credentials.Val{InstanceEndpoint: "acme.my.salesforce.com"}, "", nil, ""},
		{"base_url not http", nil, "github", credentials.Val{BaseURL: "file:///etc/passwd"}, "", nil, ""},
		{"unknown toolkit", nil, "nosuch", credentials.Val{}, "", schemes.ErrUnknownToolkit, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := &credentials.Connection{AuthScheme: credentials.NoAuth, ToolkitSlug: tt.slug, Val: tt.val}
			var got string
			var err error
			if tt.tks == nil {
				got, err = schemes.ResolveBaseURL(c)
			} else {
				got, err = tt.tks.ResolveBaseURL(c)
			}
			if tt.want != "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("got %q, want an error", got)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err %v is not %v", err, tt.wantErr)
			}
			var mf *schemes.MissingFieldError
			if tt.field != "" && (!errors.As(err, &mf) || mf.Field != tt.field || mf.Toolkit == "") {
				t.Errorf("err %v: want field %q with toolkit", err, tt.field)
			}
		})
	}
}

// TestBuiltinToolkits checks every built-in entry: at least 20, a slug as
// Composio spells them (lower case, no separators), and a base URL that
// resolves to an absolute https URL once its placeholders are filled.
func TestBuiltinToolkits(t *testing.T) {
	t.Parallel()
	slugs := schemes.DefaultToolkits.Slugs()
	if len(slugs) < 20 {
		t.Fatalf("%d built-in toolkits, want ≥ 20", len(slugs))
	}
	for _, must := range []string{"github", "slack", "gmail", "googlecalendar", "googledrive", "notion", "linear",
		"hubspot", "jira", "confluence", "zendesk", "shopify", "salesforce", "stripe", "airtable", "asana",
		"trello", "discord", "twitter", "perplexityai", "openai", "sendgrid", "mailchimp"} {
		if _, ok := schemes.DefaultToolkits.Lookup(must); !ok {
			t.Errorf("no built-in toolkit %q", must)
		}
	}
	slugRE := regexp.MustCompile(`^[a-z0-9]+$`)
	placeholder := regexp.MustCompile(`\{([^}]+)\}`)
	for _, s := range slugs {
		tk, _ := schemes.DefaultToolkits.Lookup(s)
		if !slugRE.MatchString(tk.Slug) {
			t.Errorf("slug %q", tk.Slug)
		}
		var v credentials.Val
		for _, m := range placeholder.FindAllStringSubmatch(tk.BaseURL, -1) {
			if tk.BaseURL == m[0] {
				v.Set(m[1], "https://instance.example.com")
			} else {
				v.Set(m[1], "acme")
			}
		}
		got, err := schemes.ResolveBaseURL(&credentials.Connection{ToolkitSlug: s, Val: v})
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if u, err := url.Parse(got); err != nil || u.Scheme != "https" || u.Host == "" {
			t.Errorf("%s: base URL %q", s, got)
		}
	}
}
