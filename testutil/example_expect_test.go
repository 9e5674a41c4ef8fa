package testutil_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// Upstream replies registered by method and URL pattern need no handler;
// Calls, CallCount and LastCall tell what the upstream was sent.
func ExampleServer_On() {
	s := testutil.NewUnstartedServer()
	s.Start()
	defer s.Close()
	s.AddAccount(testutil.Account{ID: "ca_gh", Toolkit: "github", AuthScheme: credentials.OAuth2,
		Val: credentials.Val{AccessToken: "gho_example"}})
	s.On("GET", "https://api.github.com/repos/{owner}/{repo}").RespondJSON(200, map[string]any{"full_name": "octocat/hello-world"})
	s.On("POST", "https://api.github.com/repos/{owner}/{repo}/issues").RespondWith(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"number":1,"repo":%q}`, r.PathValue("repo"))
	}))

	tr := s.Transport()
	tr.ConnectedAccountID = "ca_gh"
	client := &http.Client{Transport: tr}
	res, _ := client.Get("https://api.github.com/repos/octocat/hello-world")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(b))
	res, _ = client.Post("https://api.github.com/repos/octocat/hello-world/issues", "application/json", strings.NewReader(`{"title":"Bug"}`))
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, string(b))

	fmt.Println(s.CallCount("GET", "https://api.github.com/repos/{owner}/{repo}"))
	last, _ := s.LastCall("POST", "/repos/{owner}/{repo}/issues")
	fmt.Println(last.Method, last.URL, string(last.Body), last.Header.Get("Authorization"))
	// Output:
	// 200 {"full_name":"octocat/hello-world"}
	// 201 {"number":1,"repo":"hello-world"}
	// 1
	// POST https://api.github.com/repos/octocat/hello-world/issues {"title":"Bug"} [REDACTED]
}

// Echo answers each request with its own body and records it.
func ExampleEcho() {
	s := testutil.NewUnstartedServer(testutil.WithStripFalsyJSON()) // the real proxy's defect, opt-in
	s.Start()
	defer s.Close()
	echo := testutil.NewEcho()
	s.AddAccount(testutil.Account{ID: "ca", AuthScheme: credentials.NoAuth, Handler: echo})
	tr := s.Transport()
	tr.ConnectedAccountID = "ca"
	client := &http.Client{Transport: tr}

	for _, asBinary := range []bool{false, true} {
		tr.JSONAsBinary = asBinary
		res, _ := client.Post("https://api.example.com/settings", "application/json", strings.NewReader(`{"enabled":false,"name":"x"}`))
		res.Body.Close()
		last, _ := echo.Last()
		fmt.Printf("JSONAsBinary=%v: upstream got %s\n", asBinary, last.Body)
	}
	// Output:
	// JSONAsBinary=false: upstream got {"name":"x"}
	// JSONAsBinary=true: upstream got {"enabled":false,"name":"x"}
}
