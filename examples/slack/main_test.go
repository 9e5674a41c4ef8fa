package main

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"go.uber.org/goleak"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/testutil"
	"github.com/composiohttp/composiohttp/testutil/fakeslack"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRun(t *testing.T) {
	var out strings.Builder
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	want := "ca_acme: posted to Acme #general at 1700000000.000100\n" +
		"ca_globex: posted to Globex #general at 1700000000.000100\n" +
		"Acme #general: U0BOT \"Deploy finished\"\n"
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestPlaceholder: slack-go sends its token in the form body. With
// sdktoken the placeholder never reaches Slack and each tenant's call
// lands in its own workspace; without it, the placeholder travels next to
// the real token and Slack (here the fake, strict) refuses the call.
func TestPlaceholder(t *testing.T) {
	t.Parallel()
	srv := testutil.NewServer(t)
	acme, globex := fakeslack.New("Acme", "xoxb-acme"), fakeslack.New("Globex", "xoxb-globex")
	srv.AddAccount(acme.Account("ca_acme"))
	srv.AddAccount(globex.Account("ca_globex"))
	ctx := context.Background()

	api := newSlack(srv.Transport())
	for _, c := range []struct{ account, text string }{{"ca_acme", "for Acme"}, {"ca_globex", "for Globex"}, {"ca_acme", "again"}} {
		if _, _, err := announce(ctx, api, c.account, c.text); err != nil {
			t.Fatal(err)
		}
	}
	if got := acme.Messages("general"); len(got) != 2 || got[0].Text != "for Acme" || got[1].Text != "again" {
		t.Errorf("Acme got %+v", got)
	}
	if got := globex.Messages("general"); len(got) != 1 || got[0].Text != "for Globex" {
		t.Errorf("Globex got %+v", got)
	}
	calls := srv.Calls("POST", "https://slack.com/api/")
	if len(calls) != 6 {
		t.Fatalf("%d upstream calls, want 6", len(calls))
	}
	for _, c := range calls {
		if strings.Contains(string(c.Body), "token=") || strings.Contains(string(c.Body), "composio") {
			t.Errorf("%s sent %q upstream", c.URL, c.Body)
		}
	}
	last, _ := srv.LastCall("POST", "https://slack.com/api/chat.postMessage")
	if !strings.Contains(string(last.Body), "text=again") || last.Account != "ca_acme" {
		t.Errorf("last chat.postMessage: %+v", last)
	}

	// Without sdktoken: the placeholder goes upstream in the form body.
	bare := slack.New("composio", slack.OptionHTTPClient(&http.Client{Transport: srv.Transport()}))
	_, err := bare.AuthTestContext(composiohttp.WithConnectedAccount(ctx, "ca_acme"))
	if err == nil || err.Error() != "invalid_auth" {
		t.Fatalf("without sdktoken: err = %v, want invalid_auth", err)
	}
	if last, _ := srv.LastCall("POST", "https://slack.com/api/auth.test"); !strings.Contains(string(last.Body), "token=composio") {
		t.Errorf("auth.test body %q", last.Body)
	}
}
