package vcr_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// Record a call through the fake proxy, stop the fake, and replay the
// call offline. A test would use vcr.Start(t, "testdata/name") and let
// COMPOSIO_RECORD choose the mode.
func Example() {
	dir, _ := os.MkdirTemp("", "vcr")
	defer os.RemoveAll(dir)
	name := filepath.Join(dir, "user")

	get := func(tr http.RoundTripper) string {
		resp, err := (&http.Client{Transport: tr}).Get("https://api.github.com/user")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprint(resp.StatusCode, " ", string(b))
	}

	// Record.
	fake := testutil.NewUnstartedServer()
	fake.Start()
	fake.AddAccount(testutil.Account{
		ID: "ca_github", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"login":"octocat"}`)
		}),
	})
	rec, _ := vcr.New(name, vcr.WithMode(vcr.ModeRecordOnly), vcr.WithRealTransport(fake.Transport().Base))
	tr := fake.Transport()
	tr.Base, tr.ConnectedAccountID = rec, "ca_github"
	fmt.Println("recorded:", get(tr))
	rec.Stop()
	fake.Close()

	// The cassette holds no API key.
	file, _ := os.ReadFile(name + ".yaml")
	fmt.Println("key in cassette:", strings.Contains(string(file), fake.APIKey))

	// Replay, with the fake gone.
	replay, _ := vcr.New(name, vcr.WithMode(vcr.ModeReplayOnly))
	defer replay.Stop()
	rtr := replay.Transport()
	rtr.ConnectedAccountID = "ca_github"
	fmt.Println("replayed:", get(rtr))

	// A request the cassette does not have.
	_, err := (&http.Client{Transport: rtr}).Get("https://api.github.com/users/octocat")
	fmt.Println(strings.Contains(err.Error(), `endpoint: recorded "https://api.github.com/user", request has "https://api.github.com/users/octocat"`))
	// Output:
	// recorded: 200 {"login":"octocat"}
	// key in cassette: false
	// replayed: 200 {"login":"octocat"}
	// true
}
