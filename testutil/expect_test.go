package testutil_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// offline is an upstream transport that never reaches the network.
var offline = roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errors.New("offline") })

// routed returns a fake with a GitHub account that has no Handler (its
// upstream is https://api.github.com, unreachable here) and a client for it.
func routed(t *testing.T) (*testutil.Server, *http.Client) {
	t.Helper()
	s := testutil.NewServer(t, testutil.WithUpstreamTransport(offline))
	s.AddAccount(testutil.Account{ID: "ca_gh", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_routed"}})
	tr := s.Transport()
	tr.ConnectedAccountID = "ca_gh"
	return s, &http.Client{Transport: tr}
}

func do(t *testing.T, c *http.Client, method, url, body string) (int, string, http.Header) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(context.Background(), method, url, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		var pe *composiohttp.Error
		if errors.As(err, &pe) {
			return -pe.StatusCode, pe.Slug, nil
		}
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestOn(t *testing.T) {
	t.Parallel()
	s, c := routed(t)
	repo := s.On("GET", "https://api.github.com/repos/{owner}/{repo}").RespondJSON(200, map[string]any{"full_name": "octocat/hello"})
	s.On("GET", "https://api.github.com/users/{user}").RespondWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "user "+r.PathValue("user")+" "+r.Header.Get("Authorization"))
	}))
	s.On("GET", "https://api.github.com/search/issues?q=a").Respond(200, "A")
	s.On("GET", "https://api.github.com/search/issues?q=b").Respond(200, "B")
	s.On("POST", "/repos/{owner}/{repo}/issues").Respond(201, `{"number":7}`).Header("Content-Type", "application/json").Header("X-RateLimit-Remaining", "4999")
	s.On("GET", "https://api.github.com/rate_limit").Respond(500, "old")
	s.On("GET", "https://api.github.com/rate_limit").Respond(200, "new")
	s.On("", "https://api.github.com/any/{rest...}").Respond(204, "")
	s.On("GET", "https://api.github.com:8443/port").Respond(200, "port")

	tests := []struct {
		name, method, url, body string
		status                  int
		want                    string // body, or the proxy error's slug for a negative status
		header                  [2]string
	}{
		{"JSON", "GET", "https://api.github.com/repos/octocat/hello", "", 200, `{"full_name":"octocat/hello"}`, [2]string{"Content-Type", "application/json"}},
		{"HEAD matches GET", "HEAD", "https://api.github.com/repos/octocat/hello", "", 200, "", [2]string{}},
		{"path values, credentials applied", "GET", "https://api.github.com/users/octocat", "", 200, "user octocat Bearer gho_routed", [2]string{}},
		{"query a", "GET", "https://api.github.com/search/issues?per_page=5&q=a", "", 200, "A", [2]string{}},
		{"query b", "GET", "https://api.github.com/search/issues?q=b", "", 200, "B", [2]string{}},
		{"query unmatched", "GET", "https://api.github.com/search/issues?q=c", "", -502, composiohttp.SlugBadGateway, [2]string{}},
		{"path pattern, headers", "POST", "https://api.github.com/repos/o/r/issues", `{"title":"t"}`, 201, `{"number":7}`, [2]string{"X-Ratelimit-Remaining", "4999"}},
		{"newest route wins", "GET", "https://api.github.com/rate_limit", "", 200, "new", [2]string{}},
		{"any method", "DELETE", "https://api.github.com/any/thing/deep", "", 204, "", [2]string{}},
		{"method mismatch falls through", "POST", "https://api.github.com/repos/octocat/hello", `{}`, -502, composiohttp.SlugBadGateway, [2]string{}},
		{"segment count mismatch", "GET", "https://api.github.com/repos/octocat", "", -502, composiohttp.SlugBadGateway, [2]string{}},
		{"port mismatch", "GET", "https://api.github.com/port", "", -502, composiohttp.SlugBadGateway, [2]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := do(t, c, tt.method, tt.url, tt.body)
			if status != tt.status || body != tt.want {
				t.Errorf("got %d %q, want %d %q", status, body, tt.status, tt.want)
			}
			if k := tt.header[0]; k != "" && h.Get(k) != tt.header[1] {
				t.Errorf("%s = %q, want %q", k, h.Get(k), tt.header[1])
			}
		})
	}
	if n := repo.Calls(); n != 2 {
		t.Errorf("repo route answered %d calls, want 2 (GET and HEAD)", n)
	}
}

func TestOnBeatsAccountHandler(t *testing.T) {
	t.Parallel()
	s := github(t, echo)
	s.On("GET", "/user").Respond(200, "from the route")
	tr := s.Transport()
	tr.ConnectedAccountID = "ca_github"
	c := &http.Client{Transport: tr}
	if _, body, _ := do(t, c, "GET", "https://api.github.com/user", ""); body != `from the route` {
		t.Errorf("body %q", body)
	}
	if _, body, _ := do(t, c, "GET", "https://api.github.com/other", ""); !strings.Contains(body, `"/other"`) {
		t.Errorf("unrouted call did not reach the account's handler: %q", body)
	}
}

func TestCalls(t *testing.T) {
	t.Parallel()
	s, c := routed(t)
	s.On("", "https://api.github.com/").Respond(200, "{}")
	do(t, c, "GET", "https://api.github.com/repos/o/r/issues?state=open", "")
	do(t, c, "POST", "https://api.github.com/repos/o/r/issues", `{"title":"one"}`)
	do(t, c, "POST", "https://api.github.com/repos/o/r/issues", `{"title":"two"}`)
	do(t, c, "GET", "https://api.github.com/user", "")

	counts := []struct {
		method, pattern string
		want            int
	}{
		{"", "/", 4},
		{"", "", 4},
		{"GET", "/", 2},
		{"POST", "https://api.github.com/repos/{owner}/{repo}/issues", 2},
		{"GET", "https://api.github.com/repos/{owner}/{repo}/issues", 1},
		{"GET", "https://api.github.com/repos/{owner}/{repo}/issues?state=open", 1},
		{"GET", "https://api.github.com/repos/{owner}/{repo}/issues?state=closed", 0},
		{"GET", "http://api.github.com/user", 0},
		{"GET", "https://uploads.github.com/user", 0},
		{"GET", "/user", 1},
		{"PUT", "/", 0},
	}
	for _, tt := range counts {
		if got := s.CallCount(tt.method, tt.pattern); got != tt.want {
			t.Errorf("CallCount(%q, %q) = %d, want %d", tt.method, tt.pattern, got, tt.want)
		}
	}
	last, ok := s.LastCall("POST", "/repos/{owner}/{repo}/issues")
	if !ok || string(last.Body) != `{"title":"two"}` || last.Account != "ca_gh" || last.Status != 200 ||
		last.URL != "https://api.github.com/repos/o/r/issues" || last.Header.Get("Content-Type") != "application/json" {
		t.Errorf("LastCall = %+v, %v", last, ok)
	}
	if got := last.Header.Get("Authorization"); got != "[REDACTED]" {
		t.Errorf("Authorization recorded as %q", got)
	}
	if _, ok := s.LastCall("DELETE", "/"); ok {
		t.Error("LastCall found a DELETE")
	}
	s.Reset()
	if n := s.CallCount("", "/"); n != 0 {
		t.Errorf("%d calls after Reset", n)
	}
	if _, body, _ := do(t, c, "GET", "https://api.github.com/user", ""); body != "{}" {
		t.Errorf("route lost by Reset: %q", body)
	}
}

func TestCallsHideCredentials(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	s.AddAccount(testutil.Account{ID: "ca", Toolkit: "gmail", AuthScheme: credentials.APIKey,
		Val: credentials.Val{GenericAPIKey: "AIzaSecretKey123"}, Handler: testutil.NewEcho()})
	tr := s.Transport()
	tr.ConnectedAccountID = "ca"
	do(t, &http.Client{Transport: tr}, "GET", "https://gmail.googleapis.com/gmail/v1/users/me/labels?x=1", "")
	c, ok := s.LastCall("GET", "https://gmail.googleapis.com/gmail/v1/users/me/labels")
	if !ok || strings.Contains(c.URL, "AIzaSecretKey123") || !strings.Contains(c.URL, "x=1") {
		t.Errorf("call URL %q", c.URL)
	}
}

func TestOnInvalidPattern(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	for _, p := range []string{"https://api.github.com/{a", "repos/x", "https:///x", "/a/{x}/{x}"} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "testutil: On(") {
					t.Errorf("On(%q): recover() = %v", p, r)
				}
			}()
			s.On("GET", p)
		}()
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	s := testutil.NewServer(t)
	e := testutil.NewEcho()
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "tok_secret"}, Handler: e})
	tr := s.Transport()
	tr.ConnectedAccountID = "ca"
	c := &http.Client{Transport: tr}
	tests := []struct{ name, ct, body string }{
		{"JSON", "application/json", `{"b": [1, false], "a": ""}`},
		{"form", "application/x-www-form-urlencoded", "a=1&b=%20"},
		{"binary", "application/octet-stream", "\x00\x01\xff"},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest("PUT", "https://api.example.com/things/1?api_key=qk", strings.NewReader(tt.body))
		req.Header.Set("Content-Type", tt.ct)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(got) != tt.body || res.Header.Get("Content-Type") != tt.ct || res.Header.Get("X-Echo-Method") != "PUT" {
			t.Errorf("%s: echoed %q %q %q", tt.name, got, res.Header.Get("Content-Type"), res.Header.Get("X-Echo-Method"))
		}
		last, _ := e.Last()
		if string(last.Body) != tt.body || last.Method != "PUT" || last.Host != "api.example.com" ||
			last.Path != "/things/1?api_key=[REDACTED]" || last.Header.Get("Authorization") != "[REDACTED]" {
			t.Errorf("%s: recorded %+v", tt.name, last)
		}
	}
	if n := len(e.Requests()); n != len(tests) {
		t.Errorf("%d requests recorded", n)
	}
}
