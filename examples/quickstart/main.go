// Command quickstart shows composiohttp end to end: a GET, a POST with a
// JSON body and a binary download, each an ordinary net/http call carried
// through Composio's proxy.
//
// With COMPOSIO_API_KEY and COMPOSIO_CONNECTED_ACCOUNT_ID set it calls the
// real service, as that account (a GitHub account: it reads
// https://api.github.com/user, or QUICKSTART_URL). Otherwise it starts the
// built-in fake proxy (testutil) with a small simulated GitHub, so it runs
// anywhere with no account and no network:
//
//	go run ./examples/quickstart
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"

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
	if os.Getenv("COMPOSIO_API_KEY") != "" && os.Getenv("COMPOSIO_CONNECTED_ACCOUNT_ID") != "" {
		return runLive(ctx, out)
	}
	return runFake(ctx, out)
}

// runLive makes one GET through the real proxy.
func runLive(ctx context.Context, out io.Writer) error {
	client := composiohttp.NewClient(&composiohttp.Transport{
		ConnectedAccountID: os.Getenv("COMPOSIO_CONNECTED_ACCOUNT_ID"),
	})
	target := os.Getenv("QUICKSTART_URL")
	if target == "" {
		target = "https://api.github.com/user"
	}
	fmt.Fprintln(out, "calling", target, "through Composio's proxy")
	return get(ctx, out, client, target)
}

// runFake starts the fake proxy with a simulated GitHub account.
func runFake(ctx context.Context, out io.Writer) error {
	srv := testutil.NewUnstartedServer()
	srv.Start()
	defer srv.Close()
	srv.AddAccount(fakegithub.Account("ca_quickstart", "gho_simulated"))
	fmt.Fprintln(out, "no COMPOSIO_API_KEY: using the built-in fake proxy at", srv.URL)

	// The client an application builds; only the fake's URL and key differ
	// from production.
	client := composiohttp.NewClient(&composiohttp.Transport{
		APIKey:             srv.APIKey,
		BaseURL:            srv.URL,
		ConnectedAccountID: "ca_quickstart",
	})

	if err := get(ctx, out, client, "https://api.github.com/user"); err != nil {
		return err
	}

	body := strings.NewReader(`{"title":"Hello from composiohttp","body":"sent through the proxy"}`)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://api.github.com/repos/octocat/hello-world/issues", body)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := show(out, client, req); err != nil {
		return err
	}

	req, err = http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/repos/octocat/hello-world/zipball", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	zip, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "GET %s -> %s, %s, %d bytes (streamed from a signed URL), zip magic ok: %v\n",
		req.URL.Path, resp.Status, resp.Header.Get("Content-Type"), len(zip), bytes.HasPrefix(zip, []byte("PK")))
	return nil
}

func get(ctx context.Context, out io.Writer, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	return show(out, client, req)
}

func show(out io.Writer, client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s -> %s %s", req.Method, req.URL.Path, resp.Status, b)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		fmt.Fprintln(out)
	}
	return nil
}
