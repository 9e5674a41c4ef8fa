// Package recorded shows go-github code tested against a committed
// cassette of real proxy exchanges (see recorded_test.go): the test
// replays offline by default, and the same test records against the real
// service with one environment variable:
//
//	go test ./examples/recorded                     # replays testdata/hello_world.yaml
//	COMPOSIO_RECORD=1 COMPOSIO_API_KEY=ak_... COMPOSIO_GITHUB_ACCOUNT=ca_... go test ./examples/recorded
//
// The committed cassette was recorded through testutil's fake proxy and a
// simulated GitHub (TestCassetteIsReproducible re-records it that way and
// compares); recording against the real service rewrites it with GitHub's
// own replies.
package recorded

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/google/go-github/v75/github"
)

// Summary is what Summarize reports about a repository.
type Summary struct {
	FullName      string
	DefaultBranch string
	Issues        []string // "#n title", the latest first
	ArchiveFiles  int      // entries in the zipball of the default branch
}

// Summarize reads a repository, its latest issues (open and closed) and
// the zipball of its default branch with go-github: ordinary go-github
// code, unaware of Composio.
func Summarize(ctx context.Context, gh *github.Client, owner, repo string, issues int) (*Summary, error) {
	r, _, err := gh.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return nil, err
	}
	s := &Summary{FullName: r.GetFullName(), DefaultBranch: r.GetDefaultBranch()}
	list, _, err := gh.Issues.ListByRepo(ctx, owner, repo, &github.IssueListByRepoOptions{
		State: "all", ListOptions: github.ListOptions{PerPage: issues},
	})
	if err != nil {
		return nil, err
	}
	for _, is := range list {
		s.Issues = append(s.Issues, fmt.Sprintf("#%d %s", is.GetNumber(), is.GetTitle()))
	}
	link, _, err := gh.Repositories.GetArchiveLink(ctx, owner, repo, github.Zipball,
		&github.RepositoryContentGetOptions{Ref: s.DefaultBranch}, 0)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, link.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := gh.Client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("zipball: %s", resp.Status)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		return nil, fmt.Errorf("zipball: %w", err)
	}
	s.ArchiveFiles = len(zr.File)
	return s, nil
}
