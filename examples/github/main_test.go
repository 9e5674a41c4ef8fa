package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-github/v75/github"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakegithub"
)

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := "authenticated as octocat\ncreated issue #3 (201 Created)\n#1 Found a bug [open]\n#2 Add dark mode [open]\n#3 Created through Composio [open]\nmissing repository: 404 Not Found\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestGoGitHubThroughTheFake checks what go-github sends: headers and
// query parameters arrive in the envelope, the JSON body byte for byte,
// and upstream errors come back as go-github's own error type.
func TestGoGitHubThroughTheFake(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	srv.AddAccount(fakegithub.Account("ca_gh", "gho_x"))
	tr := srv.Transport()
	tr.ConnectedAccountID = "ca_gh"
	gh := github.NewClient(&http.Client{Transport: tr})
	ctx := context.Background()

	if _, _, err := gh.Issues.ListByRepo(ctx, "octocat", "hello-world", &github.IssueListByRepoOptions{State: "open", ListOptions: github.ListOptions{PerPage: 1}}); err != nil {
		t.Fatal(err)
	}
	env := srv.Requests()[0].Envelope
	if env.Endpoint != "https://api.github.com/repos/octocat/hello-world/issues" || env.Method != "GET" {
		t.Fatalf("endpoint %s %s", env.Method, env.Endpoint)
	}
	got := map[string]string{}
	for _, p := range env.Parameters {
		got[p.Type+":"+p.Name] = p.Value
	}
	for k, v := range map[string]string{"query:state": "open", "query:per_page": "1", "header:X-Github-Api-Version": "2022-11-28", "header:User-Agent": "go-github/v75.0.0"} {
		if got[k] != v {
			t.Errorf("parameter %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}

	_, _, err := gh.Issues.Create(ctx, "octocat", "hello-world", &github.IssueRequest{})
	var ghErr *github.ErrorResponse
	if !errors.As(err, &ghErr) || ghErr.Response.StatusCode != 422 {
		t.Fatalf("err = %v, want a 422 *github.ErrorResponse", err)
	}
	var proxyErr *composiohttp.Error
	if errors.As(err, &proxyErr) {
		t.Fatal("an upstream 422 must not be a proxy error")
	}

	srv.Inject(testutil.Fault{Status: 429, RetryAfter: "5", Times: 1})
	_, _, err = gh.Users.Get(ctx, "")
	if !errors.As(err, &proxyErr) || proxyErr.StatusCode != 429 || composiohttp.CodeOf(err) != composiohttp.CodeRateLimited || !composiohttp.IsRetryable(err) {
		t.Fatalf("err = %v, want a retryable, rate-limited *composiohttp.Error through go-github", err)
	}
}
