package composiohttp_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

// startTenantFake starts the fake with alice's and bob's GitHub accounts
// (by user id) and alice's Slack account.
func startTenantFake() *testutil.Server {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	for _, a := range []struct{ id, user, toolkit string }{
		{"ca_alice_gh", "alice", "github"}, {"ca_bob_gh", "bob", "github"}, {"ca_alice_slack", "alice", "slack"},
	} {
		srv.AddAccount(testutil.Account{ID: a.id, UserID: a.user, Toolkit: a.toolkit, AuthScheme: credentials.OAuth2,
			Val: credentials.Val{AccessToken: "token-of-" + a.id}, Handler: upstream})
	}
	return srv
}

func show(client *http.Client, ctx context.Context, url string) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := client.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
}

// A service that knows its users by id lets the Transport find each
// user's connected account for the toolkit of the URL called (here from
// the host, through the Transport's Toolkits).
func ExampleWithUser() {
	srv := startTenantFake()
	defer srv.Close()
	tr := srv.Transport() // in production: &composiohttp.Transport{Toolkits: schemes.DefaultToolkits}
	client := &http.Client{Transport: tr}

	for _, user := range []string{"alice", "bob"} {
		info := &composiohttp.CallInfo{}
		ctx := composiohttp.WithCallInfo(composiohttp.WithUser(context.Background(), user), info)
		show(client, ctx, "https://api.github.com/user")
		fmt.Println(user, "as", info.ConnectedAccountID, "cache hit:", info.ResolverCacheHit)
	}
	show(client, composiohttp.WithUser(context.Background(), "alice"), "https://slack.com/api/auth.test")

	// bob has no Slack account: no call is made, and nobody else's is used.
	_, err := client.Get("https://slack.com/api/auth.test")
	fmt.Println(errors.Is(err, composiohttp.ErrNoAuthContext))
	req, _ := http.NewRequestWithContext(composiohttp.WithUser(context.Background(), "bob"), http.MethodGet, "https://slack.com/api/auth.test", nil)
	_, err = client.Do(req)
	fmt.Println(errors.Is(err, composiohttp.ErrNoConnectedAccount))
	fmt.Println(composiohttp.Identity(composiohttp.WithToolkit(composiohttp.WithUser(context.Background(), "bob"), "slack")))
	// Output:
	// {"path":"/user","auth":"Bearer token-of-ca_alice_gh"}
	// alice as ca_alice_gh cache hit: false
	// {"path":"/user","auth":"Bearer token-of-ca_bob_gh"}
	// bob as ca_bob_gh cache hit: false
	// {"path":"/api/auth.test","auth":"Bearer token-of-ca_alice_slack"}
	// true
	// true
	// user:bob/toolkit:slack
}

// An agent working in a tool-router session sends its calls through the
// session's proxy, which picks the user's account for the toolkit.
func ExampleTransport_CreateSession() {
	srv := startTenantFake()
	defer srv.Close()
	tr := srv.Transport()
	ctx := context.Background()

	session, err := tr.CreateSession(ctx, "alice", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	client := &http.Client{Transport: tr}
	show(client, composiohttp.WithSession(ctx, session), "https://api.github.com/user")
	show(client, composiohttp.WithToolkit(composiohttp.WithSession(ctx, session), "slack"), "https://slack.com/api/auth.test")
	// Output:
	// {"path":"/user","auth":"Bearer token-of-ca_alice_gh"}
	// {"path":"/api/auth.test","auth":"Bearer token-of-ca_alice_slack"}
}
