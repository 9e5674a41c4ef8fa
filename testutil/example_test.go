package testutil_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// A test starts the fake with testutil.NewServer(t); examples, which have
// no *testing.T, use NewUnstartedServer, Start and Close.
func Example() {
	s := testutil.NewUnstartedServer()
	s.Start()
	defer s.Close()

	// A simulated GitHub, served in process.
	gh := http.NewServeMux()
	gh.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"login":"octocat","authorization":%q}`, r.Header.Get("Authorization"))
	})
	s.AddAccount(testutil.Account{
		ID:         "ca_github",
		Toolkit:    "github",
		AuthScheme: credentials.OAuth2,
		Val:        credentials.Val{AccessToken: "gho_example"},
		BaseURL:    "https://api.github.com",
		Handler:    gh,
	})

	t := s.Transport()
	t.ConnectedAccountID = "ca_github"
	client := &http.Client{Transport: t}

	res, err := client.Get("https://api.github.com/user")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))

	env := s.Requests()[0].Envelope
	fmt.Println(env.Method, env.Endpoint, env.ConnectedAccountID)
	// Output:
	// 200 {"login":"octocat","authorization":"Bearer gho_example"}
	// GET https://api.github.com/user ca_github
}

func ExampleServer_Inject() {
	s := testutil.NewUnstartedServer()
	s.Start()
	defer s.Close()
	s.AddAccount(testutil.Account{ID: "ca_1", AuthScheme: credentials.NoAuth, Handler: http.NotFoundHandler()})
	s.Inject(testutil.Fault{Status: http.StatusTooManyRequests, RetryAfter: "30", Times: 1})

	t := s.Transport()
	t.ConnectedAccountID = "ca_1"
	client := &http.Client{Transport: t}

	_, err := client.Get("https://api.example.com/items")
	var pe *composiohttp.Error
	if errors.As(err, &pe) {
		fmt.Println(pe.StatusCode, pe.Slug, pe.RetryAfter, composiohttp.IsRetryable(err))
	}

	// The fault applied once; the upstream answers now (its 404 is a
	// response, not an error).
	res, err := client.Get("https://api.example.com/items")
	if err != nil {
		fmt.Println(err)
		return
	}
	res.Body.Close()
	fmt.Println(res.StatusCode)
	// Output:
	// 429 RateLimitExceeded 30s true
	// 404
}

func ExampleServer_Downloads() {
	s := testutil.NewUnstartedServer(testutil.WithBinaryTTL(time.Minute))
	s.Start()
	defer s.Close()
	s.AddAccount(testutil.Account{
		ID:         "ca_drive",
		AuthScheme: credentials.BearerToken,
		Val:        credentials.Val{Token: "tok"},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			io.WriteString(w, "%PDF-1.7 ...")
		}),
	})

	t := s.Transport()
	t.ConnectedAccountID = "ca_drive"
	res, err := (&http.Client{Transport: t}).Get("https://api.example.com/files/1")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.Header.Get("Content-Type"), res.ContentLength, string(body))

	// The PDF came from a signed URL on the fake, fetched without the
	// Composio API key.
	d := s.Downloads()[0]
	fmt.Println(d.Status, d.HadAPIKey)
	// Output:
	// application/pdf 12 %PDF-1.7 ...
	// 200 false
}

// An account without a base URL reaches its toolkit's API, and its
// credentials arrive as the toolkit expects: Google APIs take an API key
// in the "key" query parameter.
func ExampleServer_AddUpstream_toolkit() {
	s := testutil.NewUnstartedServer()
	s.Start()
	defer s.Close()
	s.AddUpstream("https://gmail.googleapis.com", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s%s", r.Method, r.Host, r.URL)
	}))
	s.AddAccount(testutil.Account{
		ID:         "ca_gmail",
		Toolkit:    "gmail",
		AuthScheme: credentials.APIKey,
		Val:        credentials.Val{APIKey: "AIza-example"},
	})

	t := s.Transport()
	t.ConnectedAccountID = "ca_gmail"
	req, _ := http.NewRequest("GET", "/gmail/v1/users/me/labels", nil) // relative: the toolkit's base URL
	res, err := t.RoundTrip(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output:
	// GET gmail.googleapis.com/gmail/v1/users/me/labels?key=AIza-example
}

// A custom applier can handle a scheme of its own and leave the others to
// the schemes registry.
func ExampleWithCredentialApplier() {
	s := testutil.NewUnstartedServer(testutil.WithCredentialApplier(func(ctx context.Context, c *credentials.Connection, r *http.Request) error {
		if c.AuthScheme == "ACME_TOKEN" {
			r.Header.Set("X-Acme-Token", c.Val.Token)
			return nil
		}
		return testutil.ApplyCredentials(ctx, c, r)
	}))
	s.Start()
	defer s.Close()
	show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%q %q", r.Header.Get("X-Acme-Token"), r.Header.Get("Authorization"))
	})
	s.AddAccount(testutil.Account{ID: "ca_acme", AuthScheme: "ACME_TOKEN", Val: credentials.Val{Token: "acme-1"}, Handler: show})
	s.AddAccount(testutil.Account{ID: "ca_gh", Toolkit: "github", AuthScheme: credentials.OAuth2, Val: credentials.Val{AccessToken: "gho_1"}, Handler: show})
	s.AddAccount(testutil.Account{ID: "ca_broken", Toolkit: "github", AuthScheme: credentials.OAuth2, Handler: show})

	for _, id := range []string{"ca_acme", "ca_gh", "ca_broken"} {
		t := s.Transport()
		t.ConnectedAccountID = id
		req, _ := http.NewRequest("GET", "/user", nil)
		res, err := t.RoundTrip(req)
		if err != nil {
			var pe *composiohttp.Error
			errors.As(err, &pe)
			fmt.Println(pe.StatusCode, pe.Slug, pe.Message)
			continue
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(string(body))
	}
	// Output:
	// "acme-1" ""
	// "" "Bearer gho_1"
	// 422 InvalidConnectionData The OAUTH2 connection is missing the required field "access_token"
}
