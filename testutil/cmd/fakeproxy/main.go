// Command fakeproxy serves the testutil fake of Composio's proxy on an
// address, so that clients in any language can be tested against it:
//
//	go run ./testutil/cmd/fakeproxy -addr 127.0.0.1:8080 -accounts accounts.json
//
// It prints the base URL (and the API key, when it generated it) as lines
// a shell can evaluate, serves until SIGINT or SIGTERM, then shuts down
// gracefully.
//
// # API keys
//
// Developers run fakeproxy on shared hosts and in CI, where its stdout may
// be a public log and its environment may hold a real Composio key. So:
//
//   - By default it generates its own project key, "ak_test_" and 16
//     random hex digits, and prints it (COMPOSIO_API_KEY=...). It never
//     reads COMPOSIO_API_KEY, or any other variable, on its own.
//   - -api-key KEY accepts KEY instead; -api-key-env NAME reads the key
//     from the environment variable NAME, and is the better choice on a
//     shared machine, where other users can read command lines. Naming an
//     unset or empty variable, or giving both flags, is an error.
//   - -user-api-key and -user-api-key-env do the same for a user key
//     (uak_...), accepted in x-user-api-key. There is none by default.
//   - A key fakeproxy did not generate is never printed: a comment line
//     gives where it came from and a fingerprint (the first 8 hex digits of
//     its SHA-256) to tell keys apart.
//   - A request with a missing or wrong key is answered 401 before its
//     body is read, and is not recorded.
//
// # Limits
//
// Every limit is a flag; the defaults:
//
//	-read-header-timeout 10s      time to send a request's headers
//	-read-timeout 1m              time to send a whole request, body included
//	-write-timeout 2m             from the end of the headers to the end of the reply (must exceed -upstream-timeout)
//	-idle-timeout 2m              an idle keep-alive connection is closed after this
//	-max-header-bytes 1048576     request line and headers (1 MiB)
//	-max-conns 64                 connections served at once; more wait to be accepted
//	-max-body 262144000           the largest request body read, a binary_body.url's file too (250 MiB, the real service's limit); larger: 413
//	-upstream-timeout 30s         an upstream slower than this: 504
//	-max-upstream-reply 67108864  the largest upstream reply body read (64 MiB, what composiohttp's Transport reads); larger: 502
//	-binary-ttl 10m               lifetime of the signed binary_data URLs
//	-binary-store 536870912       binary bodies kept at once (512 MiB), the oldest dropped first
//
// Request bodies, and the file a binary_body.url names (fetched whole
// before the upstream is called), are read into buffers that grow as
// bytes arrive, never to the Content-Length a request or a file server
// declares: a request declaring 250 MB that sends one byte costs a small
// buffer, and a request without a valid key costs none. The bodies
// clients holding the key can make fakeproxy hold at once are in the
// order of -max-conns × -max-body (about 16 GiB with the defaults; twice
// that at worst, a binary_body.url's file being read up to -max-body
// too): lower -max-body on a small machine.
//
// fakeproxy keeps no request log: testutil.Server records the requests,
// upstream calls, downloads and listings it sees for a test's assertions
// (bounded by testutil.WithRequestLog), but fakeproxy has no endpoint to
// read them, so it sets both bounds to 0 and forgets each request once
// answered. The binary bodies it serves (binary_data) are kept within
// -binary-store, the oldest dropped first (their URLs then answer 404),
// and never longer than an hour after their URL expires. An upstream's
// reply is read whole, up to -max-upstream-reply, before it is answered,
// so each connection can make fakeproxy hold up to that much more.
// Point accounts only at upstreams you trust.
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
// -strip-falsy drops false, 0, "", {} and [] members from JSON bodies
// before forwarding them, as the real proxy does (Composio issue #3324).
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
	"crypto/sha256"
	"encoding/hex"
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

	"golang.org/x/net/netutil"

	"github.com/composiohttp/composiohttp/internal/httpserve"
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

// Defaults of the command's limits (see the package doc).
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = time.Minute
	defaultWriteTimeout      = 2 * time.Minute
	defaultIdleTimeout       = 2 * time.Minute
	defaultMaxHeaderBytes    = http.DefaultMaxHeaderBytes // 1 MiB
	defaultMaxConns          = 64
)

// options are the command's flags.
type options struct {
	addr            string
	accounts        string
	apiKey          string
	apiKeyEnv       string
	userAPIKey      string
	userAPIKeyEnv   string
	binaryTTL       time.Duration
	binaryStore     int64
	upstreamTimeout time.Duration
	orgLimit        int
	orgWindow       time.Duration
	stripFalsy      bool

	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
	maxHeaderBytes    int
	maxConns          int
	maxBody           int64
	maxUpstreamReply  int64
}

// newFlagSet defines the command's flags, stored in o.
func newFlagSet(o *options) *flag.FlagSet {
	fs := flag.NewFlagSet("fakeproxy", flag.ContinueOnError)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on")
	fs.StringVar(&o.accounts, "accounts", "", "JSON file with the connected accounts (an array)")
	fs.StringVar(&o.apiKey, "api-key", "", "project API key to accept in x-api-key, never printed (other users of the machine can read command lines: prefer -api-key-env); default: a random ak_test_ key, printed")
	fs.StringVar(&o.apiKeyEnv, "api-key-env", "", "name of an environment variable holding the project API key to accept, never printed (the environment is read only when named here, never by default)")
	fs.StringVar(&o.userAPIKey, "user-api-key", "", "user API key (uak_...) to accept in x-user-api-key, never printed; default: none")
	fs.StringVar(&o.userAPIKeyEnv, "user-api-key-env", "", "name of an environment variable holding the user API key to accept, never printed")
	fs.DurationVar(&o.binaryTTL, "binary-ttl", testutil.DefaultBinaryTTL, "lifetime of signed binary_data URLs")
	fs.Int64Var(&o.binaryStore, "binary-store", testutil.DefaultBinaryStore, "the most bytes of binary bodies kept at once behind signed URLs; the oldest are dropped first")
	fs.DurationVar(&o.upstreamTimeout, "upstream-timeout", testutil.DefaultUpstreamTimeout, "how long to wait for an upstream before answering 504")
	fs.IntVar(&o.orgLimit, "org-limit", 0, "enforce an organisation rate limit of this many requests per -org-window (429 with Retry-After beyond it); 0: report the default limit in the X-RateLimit headers, never enforce it")
	fs.DurationVar(&o.orgWindow, "org-window", testutil.DefaultOrgWindow, "the fixed window of -org-limit")
	fs.BoolVar(&o.stripFalsy, "strip-falsy", false, "drop false, 0, \"\", {} and [] members from JSON bodies before forwarding, as the real proxy does (Composio issue #3324)")
	fs.DurationVar(&o.readHeaderTimeout, "read-header-timeout", defaultReadHeaderTimeout, "the most time a client has to send a request's headers")
	fs.DurationVar(&o.readTimeout, "read-timeout", defaultReadTimeout, "the most time a client has to send a whole request, body included")
	fs.DurationVar(&o.writeTimeout, "write-timeout", defaultWriteTimeout, "the most time from the end of a request's headers to the end of its reply; must exceed -upstream-timeout")
	fs.DurationVar(&o.idleTimeout, "idle-timeout", defaultIdleTimeout, "how long an idle keep-alive connection is kept open")
	fs.IntVar(&o.maxHeaderBytes, "max-header-bytes", defaultMaxHeaderBytes, "the most bytes of request line and headers a request may send")
	fs.IntVar(&o.maxConns, "max-conns", defaultMaxConns, "the most connections served at once; more wait to be accepted")
	fs.Int64Var(&o.maxBody, "max-body", testutil.MaxEnvelope, "the largest request body read, a binary_body.url's file too (413 beyond it); at most -max-conns times this much (twice, with such files) is held at once")
	fs.Int64Var(&o.maxUpstreamReply, "max-upstream-reply", testutil.DefaultMaxUpstreamReply, "the largest upstream reply body read (502 BadGateway beyond it)")
	return fs
}

// parseFlags parses args and checks the values against each other.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := newFlagSet(o)
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case o.orgLimit < 0 || o.orgWindow < time.Second:
		return nil, fmt.Errorf("-org-limit must be ≥ 0 and -org-window ≥ 1s")
	case o.readHeaderTimeout <= 0 || o.readTimeout <= 0 || o.idleTimeout <= 0:
		return nil, fmt.Errorf("-read-header-timeout, -read-timeout and -idle-timeout must be > 0")
	case o.writeTimeout <= o.upstreamTimeout:
		return nil, fmt.Errorf("-write-timeout (%s) must exceed -upstream-timeout (%s), or replies are cut", o.writeTimeout, o.upstreamTimeout)
	case o.maxHeaderBytes <= 0 || o.maxConns <= 0 || o.maxBody <= 0 || o.binaryStore <= 0 || o.maxUpstreamReply <= 0:
		return nil, fmt.Errorf("-max-header-bytes, -max-conns, -max-body, -max-upstream-reply and -binary-store must be > 0")
	case o.apiKey != "" && o.apiKeyEnv != "":
		return nil, errors.New("-api-key and -api-key-env both name the project key: give one")
	case o.userAPIKey != "" && o.userAPIKeyEnv != "":
		return nil, errors.New("-user-api-key and -user-api-key-env both name the user key: give one")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return o, nil
}

// readKeys replaces -api-key-env and -user-api-key-env by the values of
// the variables they name; an unset or empty variable is an error.
func readKeys(o *options, getenv func(string) string) error {
	for _, k := range []struct {
		flag, name string
		dst        *string
	}{{"-api-key-env", o.apiKeyEnv, &o.apiKey}, {"-user-api-key-env", o.userAPIKeyEnv, &o.userAPIKey}} {
		if k.name == "" {
			continue
		}
		if *k.dst = getenv(k.name); *k.dst == "" {
			return fmt.Errorf("%s: environment variable %s is unset or empty", k.flag, k.name)
		}
	}
	return nil
}

// fingerprint names a key without showing it: the first 8 hex digits of
// its SHA-256.
func fingerprint(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:4])
}

// keySource says where a key the command did not generate came from.
func keySource(env string) string {
	if env != "" {
		return "from $" + env
	}
	return "from the command line"
}

// newHTTPServer is the http.Server of the command, with its limits.
func newHTTPServer(o *options, h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.readHeaderTimeout,
		ReadTimeout:       o.readTimeout,
		WriteTimeout:      o.writeTimeout,
		IdleTimeout:       o.idleTimeout,
		MaxHeaderBytes:    o.maxHeaderBytes,
	}
}

// limitListener caps the connections ln hands out at n at once: the next
// is accepted when one closes.
func limitListener(ln net.Listener, n int) net.Listener { return netutil.LimitListener(ln, n) }

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
		testutil.WithBinaryStore(o.binaryStore),
		testutil.WithUpstreamTimeout(o.upstreamTimeout),
		testutil.WithRequestLog(0, 0), // nothing reads it: keep none
	}
	if o.maxUpstreamReply > 0 {
		opts = append(opts, testutil.WithMaxUpstreamReply(o.maxUpstreamReply))
	}
	if o.maxBody > 0 {
		opts = append(opts, testutil.WithMaxEnvelope(o.maxBody))
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
	if err := readKeys(o, os.Getenv); err != nil {
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
	srv := newHTTPServer(o, s)

	// Only a key the command generated is printed: a key given to it may
	// be a real one, and stdout may be a CI log.
	fmt.Fprintf(stdout, "# fakeproxy: Composio proxy fake with %d account(s); Ctrl-C to stop\n", n)
	fmt.Fprintf(stdout, "COMPOSIO_BASE_URL=%s\n", s.URL)
	pyKey := "<your key>"
	if o.apiKey == "" {
		fmt.Fprintf(stdout, "COMPOSIO_API_KEY=%s\n", s.APIKey)
		pyKey = s.APIKey
	} else {
		fmt.Fprintf(stdout, "# COMPOSIO_API_KEY: the key %s (fingerprint %s), not printed\n", keySource(o.apiKeyEnv), fingerprint(s.APIKey))
	}
	if s.UserAPIKey != "" {
		fmt.Fprintf(stdout, "# COMPOSIO_USER_API_KEY: the key %s (fingerprint %s), not printed\n", keySource(o.userAPIKeyEnv), fingerprint(s.UserAPIKey))
	}
	fmt.Fprintf(stdout, "# Python SDK (ignores COMPOSIO_BASE_URL): Composio(api_key=%q, base_url=%q)\n", pyKey, s.URL)

	return httpserve.Serve(ctx, srv, limitListener(ln, o.maxConns), 10*time.Second)
}
