package recorded

import (
	"archive/zip"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/google/go-github/v75/github"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// -fake re-records the cassette through testutil's fake proxy and
// simulatedGitHub instead of replaying it: how the committed cassette was
// made.
var recordFake = flag.Bool("fake", false, "re-record testdata/hello_world.yaml through the fake proxy")

// TestSummarize runs go-github code against the committed cassette:
// offline, with no key. COMPOSIO_RECORD=1 (with COMPOSIO_API_KEY and
// COMPOSIO_GITHUB_ACCOUNT, a connected GitHub account) records it again
// against the real service; COMPOSIO_RECORD=live runs it live.
func TestSummarize(t *testing.T) {
	var opts []vcr.Option
	if *recordFake {
		fake := testutil.NewServer(t)
		fake.AddAccount(testutil.Account{ID: "ca_github", Toolkit: "github", AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "gho_simulated"}, Handler: simulatedGitHub()})
		opts = append(opts, vcr.WithMode(vcr.ModeRecordOnly), vcr.WithRealTransport(fake.Transport().Base))
		t.Setenv("COMPOSIO_API_KEY", fake.APIKey)
		t.Setenv("COMPOSIO_BASE_URL", fake.URL)
	}
	rec := vcr.Start(t, "testdata/hello_world", opts...)
	tr := rec.Transport()
	tr.ConnectedAccountID = cmp.Or(os.Getenv("COMPOSIO_GITHUB_ACCOUNT"), "ca_github")
	gh := github.NewClient(&http.Client{Transport: tr})

	s, err := Summarize(context.Background(), gh, "octocat", "Hello-World", 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.FullName != "octocat/Hello-World" || s.DefaultBranch != "master" || len(s.Issues) != 3 || s.ArchiveFiles < 1 {
		t.Errorf("summary = %+v", s)
	}
	t.Logf("%s (%s): %d archive entries; latest issues %q", s.FullName, s.DefaultBranch, s.ArchiveFiles, s.Issues)
}

// simulatedGitHub answers the calls of Summarize as api.github.com and
// codeload.github.com do (shapes from GitHub's REST documentation).
func simulatedGitHub() http.Handler {
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("GET api.github.com/repos/octocat/Hello-World", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"id": 1296269, "name": "Hello-World", "full_name": "octocat/Hello-World",
			"owner": map[string]any{"login": "octocat", "id": 583231}, "private": false, "default_branch": "master"})
	})
	mux.HandleFunc("GET api.github.com/repos/octocat/Hello-World/issues", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("state") != "all" || r.URL.Query().Get("per_page") != "3" {
			http.Error(w, `{"message":"unexpected query"}`, http.StatusBadRequest)
			return
		}
		writeJSON(w, []map[string]any{
			{"number": 3470, "title": "Update README", "state": "open"},
			{"number": 3469, "title": "Hello from the fake", "state": "closed"},
			{"number": 3468, "title": "Add a greeting", "state": "open"},
		})
	})
	mux.HandleFunc("GET api.github.com/repos/octocat/Hello-World/zipball/master", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "https://codeload.github.com/octocat/Hello-World/legacy.zip/refs/heads/master")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("GET codeload.github.com/octocat/Hello-World/legacy.zip/refs/heads/master", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		w.Write(zipball())
	})
	return mux
}

// zipball is a one-file archive, byte for byte the same every time.
func zipball() []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, _ := zw.CreateHeader(&zip.FileHeader{Name: "octocat-Hello-World-7fd1a60/README", Method: zip.Store,
		Modified: time.Date(2012, 3, 6, 23, 6, 50, 0, time.UTC)})
	f.Write([]byte("Hello World!\n"))
	zw.Close()
	return b.Bytes()
}
