// Command slack hands a composiohttp client to slack-go/slack, an SDK that
// insists on a token, in a multi-tenant service: one client serves every
// workspace, and each request names its connected account in its context.
//
// slack-go wants a token and puts it in the form body of most Web API
// calls ("token=..."). Give it sdktoken.Placeholder ("composio") and wrap
// the Transport in sdktoken.New, which removes the placeholder before the
// request leaves the client; Composio's proxy adds the account's real
// token (Authorization: Bearer xoxb-...). Without sdktoken the placeholder
// would travel to Slack next to the real token (see main_test.go: the fake
// Slack answers invalid_auth, as Slack may).
//
// It runs against the built-in fake proxy with two fake workspaces:
//
//	go run ./examples/slack
//
// Against the real service, drop the fake and build the Transport with
// COMPOSIO_API_KEY set and your users' Slack connected account ids.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"

	"github.com/slack-go/slack"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/sdktoken"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakeslack"
)

func main() {
	log.SetFlags(0)
	if err := run(context.Background(), os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// newSlack returns the Slack client of the service: one for every tenant.
func newSlack(tr *composiohttp.Transport) *slack.Client {
	client := &http.Client{Transport: sdktoken.New(tr)}
	return slack.New(sdktoken.Placeholder, slack.OptionHTTPClient(client))
}

// announce posts text to #general of the workspace of account.
func announce(ctx context.Context, api *slack.Client, account, text string) (team, ts string, err error) {
	ctx = composiohttp.WithConnectedAccount(ctx, account)
	auth, err := api.AuthTestContext(ctx)
	if err != nil {
		return "", "", fmt.Errorf("%s: auth.test: %w", account, err)
	}
	_, ts, err = api.PostMessageContext(ctx, "#general", slack.MsgOptionText(text, false))
	if err != nil {
		return "", "", fmt.Errorf("%s: chat.postMessage: %w", account, err)
	}
	return auth.Team, ts, nil
}

func run(ctx context.Context, out io.Writer) error {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	acme, globex := fakeslack.New("Acme", "xoxb-acme-simulated"), fakeslack.New("Globex", "xoxb-globex-simulated")
	srv.AddAccount(acme.Account("ca_acme"))
	srv.AddAccount(globex.Account("ca_globex"))

	api := newSlack(&composiohttp.Transport{APIKey: srv.APIKey, BaseURL: srv.URL})
	for _, account := range []string{"ca_acme", "ca_globex"} {
		team, ts, err := announce(ctx, api, account, "Deploy finished")
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s: posted to %s #general at %s\n", account, team, ts)
	}

	hist, err := api.GetConversationHistoryContext(composiohttp.WithConnectedAccount(ctx, "ca_acme"),
		&slack.GetConversationHistoryParameters{ChannelID: "C0GENERAL"})
	if err != nil {
		return err
	}
	for _, m := range hist.Messages {
		fmt.Fprintf(out, "Acme #general: %s %q\n", m.User, m.Text)
	}
	return nil
}
