// Command conformance runs one list of scenarios against Composio's proxy
// (or any base URL speaking its API) and against testutil's fake, and
// prints every field that differs, side by side. It is how to check that
// the fake, and so the tests built on it, still behave like the service:
//
//	go run ./testutil/cmd/conformance -echo :8081      # on a host the proxy can reach
//	go run ./testutil/cmd/conformance \
//	    -api-key ak_... -account ca_... -target https://echo.example.com/conformance \
//	    [-allow-writes] [-inactive-account ca_...] > report.txt
//
// The scenarios (run with -list to see them) cover the six methods, query
// and header parameters with repeated values, JSON bodies byte for byte
// with falsy fields, binary uploads (base64 and by URL) and downloads,
// text replies, repeated response headers, upstream 4xx/5xx inside a
// 200, OriginMismatch, MissingAuthContext, unknown and inactive accounts,
// an invalid key, the rate-limit headers, the connected-accounts listing
// and the tool-router session proxy; and the cases where the service's
// behaviour is not documented and the fake takes the stricter reading
// (fidelity.go: an envelope sent as text/plain, a number as a parameter
// value, Host and hop-by-hop header parameters, an empty
// binary_body.base64, a non-JSON reply labelled JSON), so that a run
// against the service settles them.
//
// It is safe on a real account. Every call goes to -target (or, for
// OriginMismatch, to a .invalid host the proxy refuses), through the
// account given, which must be one whose base URL is on the target's
// domain (for example a NO_AUTH or API_KEY connection with base_url). By
// default only GET and HEAD are sent upstream; the scenarios that send
// anything else (POST, PUT, PATCH, DELETE, bodies, uploads, creating a
// tool-router session) are skipped, and reported as skipped, unless
// -allow-writes is given. The target is best the echo this command serves
// with -echo (it reports the method, query, X-Conf-* headers and body it
// received, and can answer text, binary, any status and repeated
// headers); any harmless endpoint works, and its replies are compared as
// they come.
//
// The other side is an in-process fake (testutil) configured like the
// service: the same account id (NO_AUTH, base URL the target's origin),
// the inactive account if given, reaching the same target; or, with
// -fake-url and -fake-key, a fake already running (such as fakeproxy).
//
// The report names both sides, lists each scenario's differences as a
// table (scenario, field, service, fake), the scenarios skipped and why,
// and a summary. It holds no secret: the API keys never appear (they are
// replaced if they would), nor do signed URLs (only their form), and
// echoed headers are limited to X-Conf-*. Attach it to a bug report. The
// exit status is 0 when nothing differs, 1 when something does, 2 for a
// usage error.
//
// When a difference is real, the fix is a change to the fake, or an
// opt-in quirk of the fake with the scenario that shows it: with
// -strip-falsy-json the in-process fake drops falsy JSON fields as
// Composio issue #3324 reports (testutil.WithStripFalsyJSON), so a run
// shows whether the service still does.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/composiohttp/composiohttp/internal/httpserve"
	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/testutil"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(2)
	case n > 0:
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	baseURL, apiKey, account string
	target                   string
	inactive                 string
	allowWrites              bool
	stripFalsy               bool
	fakeURL, fakeKey         string
	sessionUser, sessionKit  string
	echo                     string
	list, full, verbose      bool
	timeout                  time.Duration
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("conformance", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.baseURL, "base-url", cmp.Or(os.Getenv("COMPOSIO_BASE_URL"), composiohttp.DefaultBaseURL), "base URL of the service (default $COMPOSIO_BASE_URL, else Composio's)")
	fs.StringVar(&o.apiKey, "api-key", os.Getenv("COMPOSIO_API_KEY"), "API key of the service (default $COMPOSIO_API_KEY)")
	fs.StringVar(&o.account, "account", "", "connected account id whose base URL is on the target's domain (required)")
	fs.StringVar(&o.target, "target", "", "URL of the harmless upstream the scenarios call, e.g. the -echo server (required)")
	fs.StringVar(&o.inactive, "inactive-account", "", "a connected account id that is not ACTIVE (else that scenario is skipped)")
	fs.BoolVar(&o.allowWrites, "allow-writes", false, "also run the scenarios that send POST, PUT, PATCH, DELETE, bodies or uploads upstream, or create a session")
	fs.BoolVar(&o.stripFalsy, "strip-falsy-json", false, "give the in-process fake the quirk of Composio issue #3324 (testutil.WithStripFalsyJSON): falsy JSON fields dropped from bodies")
	fs.StringVar(&o.fakeURL, "fake-url", "", "compare against this running fake (e.g. fakeproxy) instead of an in-process one")
	fs.StringVar(&o.fakeKey, "fake-key", "", "API key of -fake-url")
	fs.StringVar(&o.sessionUser, "session-user", "conformance_user", "user id of -account: the session scenario creates a tool-router session for it (with -allow-writes)")
	fs.StringVar(&o.sessionKit, "session-toolkit", "conformance", "toolkit slug of -account, named by the session scenario's proxy_execute")
	fs.StringVar(&o.echo, "echo", "", "serve the echo upstream on this address and do nothing else")
	fs.BoolVar(&o.list, "list", false, "list the scenarios and exit")
	fs.BoolVar(&o.full, "full", false, "do not shorten long values in the table")
	fs.BoolVar(&o.verbose, "v", false, "also print every field observed, per scenario")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "time limit of each scenario on each side")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.echo != "" || o.list {
		return o, nil
	}
	switch {
	case o.apiKey == "":
		return nil, errors.New("-api-key (or COMPOSIO_API_KEY) is required")
	case o.account == "":
		return nil, errors.New("-account is required")
	case o.target == "":
		return nil, errors.New("-target is required")
	case (o.fakeURL == "") != (o.fakeKey == ""):
		return nil, errors.New("-fake-url and -fake-key go together")
	}
	if _, ok := httpurl.Parse(o.target); !ok {
		return nil, errors.New("-target must be an absolute http(s) URL")
	}
	return o, nil
}

// hooks lets tests alter the in-process fake.
type hooks struct {
	wrapFake func(http.Handler) http.Handler
}

// run executes the command and returns the number of differences.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, h *hooks) (int, error) {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return 0, err
	}
	if o.list {
		for _, sc := range scenarios() {
			w := ""
			if sc.write {
				w = " (write)"
			}
			fmt.Fprintf(stdout, "%-32s %s%s\n", sc.name, sc.doc, w)
		}
		return 0, nil
	}
	if o.echo != "" {
		return 0, serveEcho(ctx, o.echo, stdout)
	}
	target, _ := url.Parse(o.target)
	target.RawQuery, target.Fragment = "", ""
	cfg := &config{target: target, allowWrites: o.allowWrites, inactive: o.inactive,
		sessionUser: o.sessionUser, sessionKit: o.sessionKit}

	serviceRT := http.DefaultTransport.(*http.Transport).Clone()
	defer serviceRT.CloseIdleConnections()
	service := &side{name: "service", baseURL: o.baseURL, apiKey: o.apiKey, account: o.account, rt: serviceRT}
	fake, stopFake, err := fakeSide(o, target, h)
	if err != nil {
		return 0, err
	}
	defer stopFake()

	results := runAll(ctx, cfg, o.timeout, service, fake)
	rep := &report{service: service, fake: fake, cfg: cfg, results: results, full: o.full, verbose: o.verbose,
		secrets: []string{o.apiKey, fake.apiKey}}
	return rep.write(stdout), nil
}

// fakeSide is the fake to compare with: the one at -fake-url, or an
// in-process testutil fake mirroring the service's accounts.
func fakeSide(o *options, target *url.URL, h *hooks) (*side, func(), error) {
	if o.fakeURL != "" {
		rt := http.DefaultTransport.(*http.Transport).Clone()
		return &side{name: "fake", baseURL: o.fakeURL, apiKey: o.fakeKey, account: o.account, rt: rt}, rt.CloseIdleConnections, nil
	}
	var fopts []testutil.Option
	if o.stripFalsy {
		fopts = append(fopts, testutil.WithStripFalsyJSON())
	}
	srv := testutil.NewUnstartedServer(fopts...)
	origin := target.Scheme + "://" + target.Host
	srv.AddAccount(testutil.Account{ID: o.account, AuthScheme: credentials.NoAuth, BaseURL: origin,
		UserID: o.sessionUser, Toolkit: o.sessionKit})
	if o.inactive != "" {
		srv.AddAccount(testutil.Account{ID: o.inactive, AuthScheme: credentials.NoAuth, BaseURL: origin, Status: "INACTIVE"})
	}
	var handler http.Handler = srv
	if h != nil && h.wrapFake != nil {
		handler = h.wrapFake(srv)
	}
	ts := httptest.NewServer(handler)
	srv.URL = ts.URL
	stop := func() {
		ts.Close()
		srv.Close()
	}
	return &side{name: "fake", baseURL: ts.URL, apiKey: srv.APIKey, account: o.account, rt: ts.Client().Transport}, stop, nil
}

// result is one scenario on both sides.
type result struct {
	sc       scenario
	skipped  string
	a, b     *obs
	diffs    [][3]string // field, service, fake
	compared int         // fields compared
}

func runAll(ctx context.Context, cfg *config, timeout time.Duration, a, b *side) []result {
	var out []result
	for _, sc := range scenarios() {
		r := result{sc: sc}
		if sc.skip != nil {
			r.skipped = sc.skip(cfg)
		}
		if r.skipped == "" {
			oa := runOne(ctx, timeout, sc, cfg, a)
			ob := runOne(ctx, timeout, sc, cfg, b)
			switch {
			case oa.absent != "":
				r.skipped = a.name + ": " + oa.absent
			case ob.absent != "":
				r.skipped = b.name + ": " + ob.absent
			default:
				r.a, r.b = oa, ob
				r.diffs, r.compared = compare(oa, ob)
			}
		}
		out = append(out, r)
	}
	return out
}

func runOne(ctx context.Context, timeout time.Duration, sc scenario, cfg *config, s *side) *obs {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return sc.run(ctx, cfg, s)
}

// compare lists the fields whose values differ, in the order observed
// (those of a first, then those only b has).
func compare(a, b *obs) ([][3]string, int) {
	var diffs [][3]string
	seen := make(map[string]bool)
	for _, k := range append(append([]string(nil), a.keys...), b.keys...) {
		if seen[k] {
			continue
		}
		seen[k] = true
		va, oka := a.vals[k]
		vb, okb := b.vals[k]
		if !oka {
			va = "(no such field)"
		}
		if !okb {
			vb = "(no such field)"
		}
		if va != vb {
			diffs = append(diffs, [3]string{k, va, vb})
		}
	}
	return diffs, len(seen)
}

// report prints the results.
type report struct {
	service, fake *side
	cfg           *config
	results       []result
	full, verbose bool
	secrets       []string
}

var (
	authRE = regexp.MustCompile(`(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}`)
	urlRE  = regexp.MustCompile(`https?://[^\s"'<>\\]+`)
)

// scrub removes anything secret from a value of the report.
func (r *report) scrub(s string) string {
	s = credentials.Scrub(s, r.secrets...)
	s = authRE.ReplaceAllString(s, "$1 "+credentials.Redacted)
	return urlRE.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil {
			return raw
		}
		ru, _ := credentials.RedactURL(u)
		return ru.String()
	})
}

func (r *report) short(s string) string {
	s = r.scrub(s)
	const max = 60
	if !r.full && len(s) > max {
		return s[:max-3] + "..."
	}
	return s
}

// write prints the report and returns the number of differences.
func (r *report) write(w io.Writer) int {
	fmt.Fprintf(w, "composiohttp conformance report\n")
	fmt.Fprintf(w, "service: %s (account %s)\n", r.scrub(r.service.baseURL), r.service.account)
	fmt.Fprintf(w, "fake:    %s\n", r.fakeName())
	fmt.Fprintf(w, "target:  %s; writes allowed: %v\n\n", r.scrub(r.cfg.target.String()), r.cfg.allowWrites)

	var ndiff, nrun, nskip, nfields, ndiffScen int
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tFIELD\tSERVICE\tFAKE")
	for _, res := range r.results {
		if res.skipped != "" {
			nskip++
			continue
		}
		nrun++
		nfields += res.compared
		if len(res.diffs) > 0 {
			ndiffScen++
		}
		for i, d := range res.diffs {
			name := res.sc.name
			if i > 0 {
				name = ""
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, d[0], r.short(d[1]), r.short(d[2]))
			ndiff++
		}
	}
	if ndiff == 0 {
		fmt.Fprintln(tw, "(no differences)\t\t\t")
	}
	tw.Flush()
	if nskip > 0 {
		fmt.Fprintf(w, "\nskipped:\n")
		for _, res := range r.results {
			if res.skipped != "" {
				fmt.Fprintf(w, "  %s: %s\n", res.sc.name, r.scrub(res.skipped))
			}
		}
	}
	if r.verbose {
		r.writeFields(w)
	}
	fmt.Fprintf(w, "\n%d scenarios: %d run, %d skipped; %d fields compared; %d differences in %d scenarios\n",
		len(r.results), nrun, nskip, nfields, ndiff, ndiffScen)
	return ndiff
}

// writeFields prints every field of every scenario run: one value when
// both sides agree, both when they differ.
func (r *report) writeFields(w io.Writer) {
	fmt.Fprintf(w, "\nobserved:\n")
	for _, res := range r.results {
		if res.a == nil {
			continue
		}
		fmt.Fprintf(w, "  %s (%s)\n", res.sc.name, res.sc.doc)
		seen := make(map[string]bool)
		for _, k := range append(append([]string(nil), res.a.keys...), res.b.keys...) {
			if seen[k] {
				continue
			}
			seen[k] = true
			va, vb := res.a.vals[k], res.b.vals[k]
			if va == vb {
				fmt.Fprintf(w, "    %s = %s\n", k, r.scrub(va))
			} else {
				fmt.Fprintf(w, "    %s = %s (service) | %s (fake)\n", k, r.scrub(va), r.scrub(vb))
			}
		}
	}
}

func (r *report) fakeName() string {
	if r.fake.baseURL != "" && !strings.HasPrefix(r.fake.baseURL, "http://127.0.0.1") {
		return r.scrub(r.fake.baseURL)
	}
	return "testutil fake at " + r.fake.baseURL
}

// serveEcho serves the echo upstream until ctx ends.
func serveEcho(ctx context.Context, addr string, stdout io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: echoHandler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "# conformance echo upstream; Ctrl-C to stop\nTARGET=http://%s/conformance\n", ln.Addr())
	return httpserve.Serve(ctx, srv, ln, 5*time.Second)
}
