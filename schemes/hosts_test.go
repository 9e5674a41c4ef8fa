package schemes_test

import (
	"errors"
	"net/url"
	"slices"
	"testing"

	"github.com/composiohttp/composiohttp/schemes"
)

func TestToolkitForURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url        string
		want       string
		candidates []string // for an error
	}{
		{"https://api.github.com/repos/o/r/issues", "github", nil},
		{"https://API.GitHub.com./user", "github", nil},
		{"http://api.github.com:8443/user", "github", nil},
		{"https://www.googleapis.com/calendar/v3/calendars/primary", "googlecalendar", nil},
		{"https://www.googleapis.com/drive/v3/files", "googledrive", nil},
		{"https://www.googleapis.com/youtube/v3/videos", "youtube", nil},
		{"https://www.googleapis.com/calendar/v30", "", []string{}}, // not under /calendar/v3
		{"https://acme.zendesk.com/api/v2/tickets", "zendesk", nil},
		{"https://acme.atlassian.net/rest/api/3/issue", "jira", nil},
		{"https://acme.atlassian.net/wiki/rest/api/content", "confluence", nil},
		{"https://us6.api.mailchimp.com/3.0/lists", "mailchimp", nil},
		{"https://a.b.zendesk.com/api", "", []string{}}, // one label only
		{"https://zendesk.com/api", "", []string{}},
		{"https://discord.com/api/users/@me", "", []string{"discord", "discordbot"}},
		{"https://unknown.example.com/x", "", []string{}},
		{"/relative/path", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got, err := schemes.ToolkitForURL(u)
			if tt.candidates == nil {
				if err != nil || got != tt.want {
					t.Fatalf("ToolkitForURL = %q, %v; want %q", got, err, tt.want)
				}
				return
			}
			var he *schemes.HostToolkitError
			if !errors.As(err, &he) || !errors.Is(err, schemes.ErrNoToolkitForHost) {
				t.Fatalf("err = %v, want a *HostToolkitError", err)
			}
			if !slices.Equal(he.Candidates, tt.candidates) && !(len(he.Candidates) == 0 && len(tt.candidates) == 0) {
				t.Errorf("Candidates = %q, want %q", he.Candidates, tt.candidates)
			}
			if u.Host != "" && he.Host == "" {
				t.Errorf("error %q does not name the host", err)
			}
		})
	}
}

func TestToolkitForURLAfterRegister(t *testing.T) {
	t.Parallel()
	reg := schemes.NewToolkitRegistry(schemes.Toolkit{Slug: "acme", BaseURL: "https://api.acme.io/v1"})
	u, _ := url.Parse("https://api.acme.io/v1/things")
	if got, err := reg.ToolkitForURL(u); err != nil || got != "acme" {
		t.Fatalf("got %q, %v", got, err)
	}
	// A more specific entry registered later is seen: the index is rebuilt.
	reg.Register(schemes.Toolkit{Slug: "acmethings", BaseURL: "https://api.acme.io/v1/things"})
	if got, err := reg.ToolkitForURL(u); err != nil || got != "acmethings" {
		t.Fatalf("after Register: got %q, %v", got, err)
	}
}

// BenchmarkToolkitForURL: deriving a user's toolkit from the host costs
// this per call.
func BenchmarkToolkitForURL(b *testing.B) {
	u, _ := url.Parse("https://api.github.com/repos/o/r/issues")
	b.ReportAllocs()
	for b.Loop() {
		if tk, err := schemes.ToolkitForURL(u); err != nil || tk != "github" {
			b.Fatal(tk, err)
		}
	}
}
