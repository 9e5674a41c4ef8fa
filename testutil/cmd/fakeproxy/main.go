// Command fakeproxy serves the testutil fake of Composio's proxy on an
// address, so that clients in any language can be tested against it:
//
//	go run ./testutil/cmd/fakeproxy -addr 127.0.0.1:8080 -accounts accounts.json [-api-key ak_...]
//
// It prints the base URL and the API key it accepts, as lines a shell can
// evaluate, serves until SIGINT or SIGTERM, then shuts down gracefully.
//
// accounts.json is a JSON array of connected accounts whose upstreams are
// reached over HTTP (see testdata/accounts.json):
//
//	[{"id": "ca_github", "user_id": "alice", "toolkit": "github", "auth_scheme": "OAUTH2",
//	  "val": {"access_token": "gho_..."}, "status": "ACTIVE"},
//	 {"id": "ca_local", "user_id": "alice", "toolkit": "local", "auth_scheme": "BEARER_TOKEN",
//	  "val": {"token": "..."}, "base_url": "http://127.0.0.1:9000/api"}]
//
// status is optional ("" or ACTIVE works; EXPIRED, INACTIVE, ... make calls
// fail with 422). user_id is the Composio user the account belongs to, by
// which the connected-accounts listing filters and sessions choose;
// alias, word_id, auth_config_id, created_at and updated_at (RFC 3339)
// are optional too (see testutil.Account). base_url is optional for a toolkit the schemes package
// knows (github is https://api.github.com, jira
// https://{subdomain}.atlassian.net with subdomain taken from val) and
// required otherwise. Credentials reach the upstream as the schemes
// adapters produce them; SERVICE_ACCOUNT and GOOGLE_SERVICE_ACCOUNT
// exchange them at the real token endpoints.
//
// Point Composio's own SDKs at the fake by passing its URL and key to the
// client's constructor. Do not rely on COMPOSIO_BASE_URL: the Python SDK
// (composio 1.0.0-rc2) ignores it and calls the real service unless
// base_url= is passed, and passing the URL explicitly works in every SDK
// version:
//
//	# Python
//	from composio import Composio
//	c = Composio(api_key="ak_test_local", base_url="http://127.0.0.1:8080")
//	print(c.tools.proxy(endpoint="/user", method="GET", connected_account_id="ca_github"))
//
//	// TypeScript
//	import { Composio } from '@composio/core';
//	const c = new Composio({ apiKey: 'ak_test_local', baseURL: 'http://127.0.0.1:8080' });
//	console.log(await c.tools.proxyExecute({ endpoint: '/user', method: 'GET', connectedAccountId: 'ca_github' }));
//
// composiohttp's own Transport does read COMPOSIO_BASE_URL and
// COMPOSIO_API_KEY.
//
// Every reply carries Composio's rate-limit headers (X-RateLimit,
// X-RateLimit-Remaining, X-RateLimit-Window-Size); -org-limit 60
// -org-window 1m makes the fake answer 429 with Retry-After past 60
// requests a minute, as the real service does at its plan's limit.
//
// Served: the proxy endpoints (/api/v3/tools/execute/proxy and
// /api/v3.1/tools/execute/proxy), the connected-accounts listing
// (GET /api/v3.1/connected_accounts and /api/v3/connected_accounts),
// tool-router sessions (POST /api/v3.1/tool_router/session and its
// /proxy_execute) and the signed binary URLs; any other Composio API path
// answers 404 in the real error shape.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "fakeproxy:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	addr            string
	accounts        string
	apiKey          string
	userAPIKey      string
	binaryTTL       time.Duration
	upstreamTimeout time.Duration
	orgLimit        int
	orgWindow       time.Duration
	stripFalsy      bool
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("fakeproxy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.accounts, "accounts", "", "JSON file with the connected accounts (an array)")
	fs.StringVar(&o.apiKey, "api-key", os.Getenv("COMPOSIO_API_KEY"), "project API key to accept in x-api-key (default $COMPOSIO_API_KEY, else random)")
	fs.StringVar(&o.userAPIKey, "user-api-key", "", "user API key (uak_...) to accept in x-user-api-key")
	fs.DurationVar(&o.binaryTTL, "binary-ttl", testutil.DefaultBinaryTTL, "lifetime of signed binary_data URLs")
	fs.DurationVar(&o.upstreamTimeout, "upstream-timeout", testutil.DefaultUpstreamTimeout, "how long to wait for an upstream before answering 504")
	fs.IntVar(&o.orgLimit, "org-limit", 0, "enforce an organisation rate limit of this many requests per -org-window (429 with Retry-After beyond it); 0: report the default limit in the X-RateLimit headers, never enforce it")
	fs.DurationVar(&o.orgWindow, "org-window", testutil.DefaultOrgWindow, "the fixed window of -org-limit")
	fs.BoolVar(&o.stripFalsy, "strip-falsy", false, "drop false, 0, \"\", {} and [] members from JSON bodies before forwarding, as the real proxy does (Composio issue #3324)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.orgLimit < 0 || o.orgWindow < time.Second {
		return nil, fmt.Errorf("-org-limit must be ≥ 0 and -org-window ≥ 1s")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// newServer builds the fake from the options, accounts loaded.
func newServer(o *options) (*testutil.Server, int, error) {
	var accounts []testutil.Account
	if o.accounts != "" {
		f, err := os.Open(o.accounts)
		if err != nil {
			return nil, 0, err
		}
		defer f.Close()
		if accounts, err = loadAccounts(f); err != nil {
			return nil, 0, fmt.Errorf("%s: %w", o.accounts, err)
		}
	}
	opts := []testutil.Option{
		testutil.WithBinaryTTL(o.binaryTTL),
		testutil.WithUpstreamTimeout(o.upstreamTimeout),
	}
	if o.orgLimit > 0 {
		opts = append(opts, testutil.WithOrgLimit(o.orgLimit, o.orgWindow))
	}
	if o.stripFalsy {
		opts = append(opts, testutil.WithStripFalsyJSON())
	}
	if o.apiKey != "" {
		opts = append(opts, testutil.WithAPIKey(o.apiKey))
	}
	if o.userAPIKey != "" {
		opts = append(opts, testutil.WithUserAPIKey(o.userAPIKey))
	}
	s := testutil.NewUnstartedServer(opts...)
	for _, a := range accounts {
		s.AddAccount(a)
	}
	return s, len(accounts), nil
}

// loadAccounts reads a JSON array of accounts, strictly: unknown fields,
// a missing or repeated id, a missing scheme, a base_url that is not an
// absolute http(s) URL, and no base_url for a toolkit whose base URL the
// schemes package cannot resolve are errors.
func loadAccounts(r io.Reader) ([]testutil.Account, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var accounts []testutil.Account
	if err := dec.Decode(&accounts); err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	if dec.More() {
		return nil, errors.New("accounts: data after the JSON array")
	}
	seen := make(map[string]bool, len(accounts))
	for i, a := range accounts {
		switch {
		case a.ID == "":
			return nil, fmt.Errorf("accounts[%d]: id is required", i)
		case seen[a.ID]:
			return nil, fmt.Errorf("accounts[%d]: id %q repeated", i, a.ID)
		case a.AuthScheme == "":
			return nil, fmt.Errorf("accounts[%d] (%s): auth_scheme is required", i, a.ID)
		}
		seen[a.ID] = true
		if a.BaseURL == "" {
			conn := &credentials.Connection{AuthScheme: a.AuthScheme, ToolkitSlug: a.Toolkit, Val: a.Val}
			if _, err := schemes.ResolveBaseURL(conn); err != nil {
				return nil, fmt.Errorf("accounts[%d] (%s): base_url is required: %s", i, a.ID, strings.TrimPrefix(err.Error(), "schemes: "))
			}
			continue
		}
		if _, ok := httpurl.Parse(a.BaseURL); !ok {
			return nil, fmt.Errorf("accounts[%d] (%s): base_url must be an absolute http(s) URL", i, a.ID)
		}
	}
	return accounts, nil
}

// run serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	s, n, err := newServer(o)
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	s.URL = "http://" + ln.Addr().String()
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	fmt.Fprintf(stdout, "# fakeproxy: Composio proxy fake with %d account(s); Ctrl-C to stop\n", n)
	fmt.Fprintf(stdout, "COMPOSIO_BASE_URL=%s\nCOMPOSIO_API_KEY=%s\n", s.URL, s.APIKey)
	if s.UserAPIKey != "" {
		fmt.Fprintf(stdout, "COMPOSIO_USER_API_KEY=%s\n", s.UserAPIKey)
	}
	fmt.Fprintf(stdout, "# Python SDK (ignores COMPOSIO_BASE_URL): Composio(api_key=%q, base_url=%q)\n", s.APIKey, s.URL)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
