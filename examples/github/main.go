// Command github hands a composiohttp client to google/go-github, unchanged:
// the SDK builds ordinary requests to https://api.github.com and the
// Transport carries them through Composio's proxy as a connected account.
// It lists and creates issues against the built-in fake proxy:
//
//	go run ./examples/github
//
// Against the real service, drop the fake and build the client with
// composiohttp.NewClient(&composiohttp.Transport{ConnectedAccountID: "ca_..."})
// and COMPOSIO_API_KEY set.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/google/go-github/v75/github"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakegithub"
)

func main() {
	log.SetFlags(0)
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, out io.Writer) error {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(fakegithub.Account("ca_github", "gho_simulated"))

	gh := github.NewClient(composiohttp.NewClient(&composiohttp.Transport{
		APIKey:             srv.APIKey,
		BaseURL:            srv.URL,
		ConnectedAccountID: "ca_github",
	}))

	user, _, err := gh.Users.Get(ctx, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "authenticated as %s\n", user.GetLogin())

	created, resp, err := gh.Issues.Create(ctx, "octocat", "hello-world", &github.IssueRequest{
		Title: github.Ptr("Created through Composio"),
		Body:  github.Ptr("go-github, unchanged, over composiohttp"),
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "created issue #%d (%s)\n", created.GetNumber(), resp.Status)

	issues, _, err := gh.Issues.ListByRepo(ctx, "octocat", "hello-world", &github.IssueListByRepoOptions{
		ListOptions: github.ListOptions{PerPage: 10},
	})
	if err != nil {
		return err
	}
	for _, is := range issues {
		fmt.Fprintf(out, "#%d %s [%s]\n", is.GetNumber(), is.GetTitle(), is.GetState())
	}

	// An upstream error is an ordinary *github.ErrorResponse, not a proxy error.
	_, _, err = gh.Repositories.Get(ctx, "octocat", "missing")
	var ghErr *github.ErrorResponse
	if errors.As(err, &ghErr) {
		fmt.Fprintf(out, "missing repository: %d %s\n", ghErr.Response.StatusCode, ghErr.Message)
	}
	return nil
}
