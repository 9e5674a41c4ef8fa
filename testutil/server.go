package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp/internal/ctxsleep"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// Defaults of the fake.
const (
	// DefaultBinaryTTL is the lifetime of a signed binary_data URL.
	DefaultBinaryTTL = 10 * time.Minute
	// DefaultUpstreamTimeout is how long the fake waits for an upstream
	// before answering 504.
	DefaultUpstreamTimeout = 30 * time.Second
	// DefaultAccountBaseURL is the nominal base URL of an account that has
	// a Handler, no BaseURL and no toolkit base URL (see Account.BaseURL).
	DefaultAccountBaseURL = "https://api.example.com"
	// MaxEnvelope is the largest proxy request body the fake reads by
	// default (the real service's 250 MB limit); larger ones get a 413.
	// See WithMaxEnvelope.
	MaxEnvelope = 250 << 20
	// DefaultMaxUpstreamReply is the largest upstream reply body the fake
	// reads by default: composiohttp.DefaultMaxResponseSize (64 MiB), the
	// most a Transport reads of a proxy reply (a reply near it may still
	// make an envelope the Transport refuses: text grows when quoted as a
	// JSON string). A longer reply is a 502 BadGateway. See
	// WithMaxUpstreamReply.
	DefaultMaxUpstreamReply = composiohttp.DefaultMaxResponseSize
)

// Account is a connected account known to the fake.
type Account struct {
	// ID is the connected account id, e.g. "ca_github".
	ID string `json:"id"`
	// Toolkit is the toolkit slug, e.g. "github".
	Toolkit string `json:"toolkit,omitempty"`
	// AuthScheme is the account's auth scheme, e.g. credentials.OAuth2.
	AuthScheme credentials.Scheme `json:"auth_scheme"`
	// Val holds the credentials, applied to every forwarded request.
	Val credentials.Val `json:"val"`
	// Status is "" or "ACTIVE" for a usable account; any other value
	// (EXPIRED, INACTIVE, FAILED, INITIATED, ...) makes calls fail with 422.
	Status string `json:"status,omitempty"`
	// BaseURL is the upstream origin (with an optional base path) that
	// relative endpoints resolve against and absolute endpoints must share
	// a registrable domain with. Default: Val.BaseURL, else the base URL of
	// the toolkit registered under Toolkit (see WithToolkits), its
	// placeholders filled from Val ("https://{subdomain}.zendesk.com"),
	// else, when Handler is set, DefaultAccountBaseURL.
	BaseURL string `json:"base_url,omitempty"`
	// Handler, if set, serves the account's upstream in process; BaseURL
	// is then only the nominal origin, checked against absolute endpoints
	// as for any account.
	Handler http.Handler `json:"-"`
	// UserID is the Composio user id the account belongs to, by which the
	// connected-accounts listing filters and sessions choose. Default: none.
	UserID string `json:"user_id,omitempty"`
	// Alias and WordID are the account's human-readable alias and its word
	// id ("coup_hurricane_dal_analytical"), as listed. Default: none.
	Alias  string `json:"alias,omitempty"`
	WordID string `json:"word_id,omitempty"`
	// AuthConfigID is the auth config the account was connected through.
	// Default: "ac_" + Toolkit.
	AuthConfigID string `json:"auth_config_id,omitempty"`
	// CreatedAt and UpdatedAt are when the account was connected and last
	// changed; the most recently connected account is a session's default.
	// Default: the fake's clock when AddAccount is called (accounts added
	// at the same instant count as connected in the order added).
	CreatedAt time.Time `json:"created_at,omitzero"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// Fault is a scripted misbehaviour of the proxy, set with Server.Inject.
// It applies to calls that pass the API key check and envelope validation.
// Latency is waited first; then the first of Drop, Malformed,
// UpstreamTimeout and Status that is set decides the reply. A Fault with
// only Latency delays an otherwise normal call.
type Fault struct {
	// Status is the HTTP status of a proxy error reply (e.g. 429, 500,
	// 502, 504), in the real error shape.
	Status int
	// Slug and Message of the error. Defaults: the slug of the status in
	// the README's error table (400 composiohttp.SlugValidationError, 401
	// SlugInvalidAPIKey, 413 SlugPayloadTooLarge, 429
	// SlugRateLimitExceeded, 500 SlugInternalServerError, 501
	// SlugAuthSchemeNotSupported, 502 SlugBadGateway, 503
	// SlugServiceUnavailable, 504 SlugUpstreamTimeout; else the status
	// text without spaces: 404 "NotFound", 405 "MethodNotAllowed") and
	// the status text.
	Slug    string
	Message string
	// RetryAfter is sent as the Retry-After header (seconds or an HTTP
	// date), if set.
	RetryAfter string
	// Latency delays the reply; the wait ends early if the caller goes
	// away. See WithSleep.
	Latency time.Duration
	// Malformed replies 200 with a body that is not a valid envelope.
	Malformed bool
	// Drop closes the connection without a reply.
	Drop bool
	// UpstreamTimeout replies 504 with slug UpstreamTimeout.
	UpstreamTimeout bool
	// Times is how many calls the fault applies to; <= 0 means every call.
	Times int
	// Account limits the fault to calls for this connected account id;
	// "" matches any call.
	Account string
}

// Recorded is one request the fake received on a proxy path with a valid
// API key. A request with a missing or wrong key is answered 401 before
// its body is read, and is not recorded.
type Recorded struct {
	// Envelope is the decoded envelope (zero if it did not decode).
	Envelope composiohttp.ProxyRequest
	// Body is the raw request body; nil when it was not read (a request
	// refused by the org limit, a method other than POST) or not read
	// whole (over the envelope limit, or the caller went away).
	Body []byte
	// Header holds the request headers, with the values of X-Api-Key,
	// X-User-Api-Key, Authorization and Cookie replaced by "[REDACTED]".
	Header http.Header
	// Method and Path of the proxy request.
	Method string
	Path   string
	// Time is when it arrived, by the fake's clock.
	Time time.Time
	// Status is the HTTP status the fake answered (0 if the connection
	// was dropped or the caller went away).
	Status int
	// RequestID is the request id of the reply.
	RequestID string
}

// Download is one request for a binary_data URL.
type Download struct {
	// ID is the blob id from the URL path.
	ID string
	// Header holds the request headers, redacted as in Recorded.
	Header http.Header
	// HadAPIKey reports that the request carried X-Api-Key,
	// X-User-Api-Key or Authorization, which a client must never send to
	// a signed URL.
	HadAPIKey bool
	// Time is when it arrived, by the fake's clock.
	Time time.Time
	// Status is the HTTP status answered.
	Status int
}

// Option configures a Server.
type Option func(*config)

type config struct {
	apiKey           string
	userAPIKey       string
	now              func() time.Time
	sleep            func(context.Context, time.Duration) error
	binaryTTL        time.Duration
	upstreamTimeout  time.Duration
	upstreamRT       http.RoundTripper
	applier          CredentialApplier
	toolkits         *schemes.ToolkitRegistry
	orgLimit         int
	orgWindow        time.Duration
	orgEnforced      bool
	stripFalsy       bool // WithStripFalsyJSON
	logLimits        logLimits
	maxEnvelope      int64
	maxUpstreamReply int64 // WithMaxUpstreamReply
	binaryStore      int64 // WithBinaryStore
}

// WithAPIKey sets the project API key the fake accepts in x-api-key.
// Default: "ak_test_" followed by random hex.
func WithAPIKey(key string) Option { return func(c *config) { c.apiKey = key } }

// WithUserAPIKey sets a user API key (uak_...) the fake also accepts, in
// x-user-api-key. Default: none.
func WithUserAPIKey(key string) Option { return func(c *config) { c.userAPIKey = key } }

// WithMaxEnvelope sets the largest request body the fake reads on its
// proxy and session endpoints, and the largest file it fetches for a
// binary_body.url; a larger one is answered 413 PayloadTooLarge. A fake served to many clients (fakeproxy's -max-body)
// lowers it to bound what each connection can make it hold. n ≤ 0 leaves
// the default, MaxEnvelope (the real service's 250 MB).
func WithMaxEnvelope(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxEnvelope = n
		}
	}
}

// WithMaxUpstreamReply sets the largest upstream reply body the fake
// reads, from an in-process handler or over HTTP. A reply that declares or
// sends more is answered 502 BadGateway (message "The upstream API's reply
// is larger than the proxy's limit of n bytes"), having cost the fake at
// most about n bytes: the handler's further writes fail, an HTTP reply is
// read no further. A fake served to many clients (fakeproxy's
// -max-upstream-reply) may lower it. n ≤ 0 leaves the default,
// DefaultMaxUpstreamReply.
func WithMaxUpstreamReply(n int64) Option {
	return func(c *config) {
		if n > 0 {
			c.maxUpstreamReply = n
		}
	}
}

// WithClock sets the clock used for signed URL expiry and recording times.
// Default: time.Now.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithSleep sets how Fault.Latency is waited. sleep must return early with
// ctx's error when ctx is done. Default: a timer.
func WithSleep(sleep func(ctx context.Context, d time.Duration) error) Option {
	return func(c *config) { c.sleep = sleep }
}

// WithBinaryTTL sets the lifetime of signed binary_data URLs. Default:
// DefaultBinaryTTL.
func WithBinaryTTL(d time.Duration) Option { return func(c *config) { c.binaryTTL = d } }

// WithUpstreamTimeout sets how long the fake waits for an upstream before
// answering 504. Default: DefaultUpstreamTimeout.
func WithUpstreamTimeout(d time.Duration) Option {
	return func(c *config) { c.upstreamTimeout = d }
}

// WithUpstreamTransport sets the RoundTripper for upstreams reached over
// HTTP (accounts without a Handler, binary_body.url fetches), e.g. the
// Client().Transport of an httptest TLS server. Default: a clone of
// http.DefaultTransport, closed with the Server.
func WithUpstreamTransport(rt http.RoundTripper) Option {
	return func(c *config) { c.upstreamRT = rt }
}

// CredentialApplier puts a connection's credentials on the request the
// fake forwards upstream. r is the fake's own request, which it may change
// freely; ctx ends with the upstream timeout. An error matching
// credentials.ErrUnknownScheme (schemes.ErrUnknownScheme is the same) makes the call
// fail with 501 AuthSchemeNotSupported, any other error with 422
// InvalidConnectionData; the error text goes in the reply's errors[], so it
// must not hold a secret.
type CredentialApplier func(ctx context.Context, conn *credentials.Connection, r *http.Request) error

// WithCredentialApplier sets how an account's credentials are put on the
// forwarded request, e.g. a function that handles one scheme itself and
// calls ApplyCredentials for the others. Default: ApplyCredentials.
func WithCredentialApplier(f CredentialApplier) Option {
	return func(c *config) { c.applier = f }
}

// WithSchemes makes the fake apply credentials with the adapters of reg:
// the same as WithCredentialApplier(SchemesApplier(reg)). Use it for
// SERVICE_ACCOUNT and GOOGLE_SERVICE_ACCOUNT, whose adapters exchange
// credentials at a token endpoint:
//
//	reg := schemes.Default.Clone()
//	reg.Register(credentials.ServiceAccount, &schemes.GitHubApp{BaseURL: tokenSrv.URL, HTTPClient: tokenSrv.Client()})
//	s := testutil.NewServer(t, testutil.WithSchemes(reg))
//
// Default: schemes.Default.
func WithSchemes(reg *schemes.Registry) Option {
	return func(c *config) { c.applier = SchemesApplier(reg) }
}

// WithToolkits sets the toolkit registry that gives accounts and
// custom_connection_data without a base URL their upstream origin.
// Default: schemes.DefaultToolkits. (Where API_KEY adapters place a key is
// decided by the adapter's own registry: schemes.APIKey.Toolkits.)
func WithToolkits(reg *schemes.ToolkitRegistry) Option {
	return func(c *config) { c.toolkits = reg }
}

// Server is a fake Composio proxy. It is an http.Handler; NewServer serves
// it on a loopback port. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of the fake, e.g. http://127.0.0.1:port, to use
	// as Transport.BaseURL or COMPOSIO_BASE_URL. NewServer sets it; with
	// NewUnstartedServer and your own http.Server, set it before serving: signed
	// binary_data URLs are built from it.
	URL string
	// APIKey is the project key the fake accepts in x-api-key.
	APIKey string
	// UserAPIKey is the user key accepted in x-user-api-key, if any.
	UserAPIKey string

	cfg        config
	ts         *httptest.Server
	clientRT   http.RoundTripper
	upstream   *http.Client // upstream calls: no redirects
	fetcher    *http.Client // binary_body.url: follows redirects
	ownRT      *http.Transport
	signKey    []byte
	reqSeq     atomic.Uint64
	wg         sync.WaitGroup
	closeOnce  sync.Once
	mu         sync.Mutex
	accounts   map[string]Account
	upstreams  map[string]http.Handler
	faults     []*faultState
	records    boundedLog[*Recorded] // reqlog.go
	downloads  boundedLog[Download]
	blobs      map[string]*blob
	blobSeq    uint64
	blobOrder  []string // ids in the order stored (binary.go)
	blobBytes  int64    // bytes of the stored blobs
	lastPruned time.Time
	org        orgCounter
	exp        expectations // On, Calls (expect.go)
	tenants    tenantState  // accounts.go, sessions.go
}

type faultState struct {
	f    Fault
	left int // < 0: forever
}

// NewUnstartedServer returns a fake that is not started: call Start, or serve it with
// any http.Server (set URL first), and call Close when done. Most tests
// want NewServer.
func NewUnstartedServer(opts ...Option) *Server {
	cfg := config{
		now:              time.Now,
		sleep:            ctxsleep.Sleep,
		binaryTTL:        DefaultBinaryTTL,
		upstreamTimeout:  DefaultUpstreamTimeout,
		orgLimit:         DefaultOrgLimit,
		orgWindow:        DefaultOrgWindow,
		logLimits:        logLimits{entries: DefaultLogEntries, bytes: DefaultLogBytes},
		maxEnvelope:      MaxEnvelope,
		maxUpstreamReply: DefaultMaxUpstreamReply,
		binaryStore:      DefaultBinaryStore,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.applier == nil {
		cfg.applier = ApplyCredentials
	}
	if cfg.toolkits == nil {
		cfg.toolkits = schemes.DefaultToolkits
	}
	if cfg.apiKey == "" {
		cfg.apiKey = "ak_test_" + randomHex(8)
	}
	s := &Server{
		APIKey:     cfg.apiKey,
		UserAPIKey: cfg.userAPIKey,
		cfg:        cfg,
		signKey:    []byte(randomHex(16)),
		accounts:   make(map[string]Account),
		upstreams:  make(map[string]http.Handler),
		blobs:      make(map[string]*blob),
	}
	s.records.limits = cfg.logLimits
	s.downloads.limits = cfg.logLimits
	s.tenants.listings.limits = cfg.logLimits
	s.exp.calls.limits = cfg.logLimits
	rt := cfg.upstreamRT
	if rt == nil {
		s.ownRT = http.DefaultTransport.(*http.Transport).Clone()
		rt = s.ownRT
	}
	s.upstream = &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.fetcher = &http.Client{Transport: rt}
	return s
}

// NewServer starts a fake on a loopback port with httptest and closes it
// when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := NewUnstartedServer(opts...)
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

// Start serves a fake made by NewUnstartedServer on a loopback port with httptest, like
// httptest.Server.Start, and sets URL. Call Close when done. It panics if
// the fake is already started.
func (s *Server) Start() {
	if s.ts != nil {
		panic("testutil: Server already started")
	}
	s.ts = httptest.NewServer(s)
	s.URL = s.ts.URL
	s.clientRT = s.ts.Client().Transport
}

// Close shuts the fake down: the httptest server if NewServer started it,
// then waits for in-process upstream handlers still running and closes
// idle upstream connections. It is safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		if s.ts != nil {
			s.ts.Close()
		}
		s.wg.Wait()
		if s.ownRT != nil {
			s.ownRT.CloseIdleConnections()
		}
	})
}

// Transport returns a new composiohttp.Transport pointed at the fake, with
// its API key, its toolkit registry as Toolkits (so that a user's request
// to https://api.github.com is a github request) and no connected account
// set.
func (s *Server) Transport() *composiohttp.Transport {
	return &composiohttp.Transport{BaseURL: s.URL, APIKey: s.APIKey, Base: s.clientRT, Toolkits: s.cfg.toolkits}
}

// Client returns an *http.Client whose Transport is s.Transport().
func (s *Server) Client() *http.Client { return &http.Client{Transport: s.Transport()} }

// AddAccount adds a connected account, replacing one with the same ID. It
// panics if a.ID is empty. The account is checked when a call uses it, so
// that tests can add broken accounts: an auth scheme without an adapter is
// a 501, a required credential field missing a 422.
func (s *Server) AddAccount(a Account) {
	if a.ID == "" {
		panic("testutil: AddAccount: empty account ID")
	}
	a.Val = a.Val.Clone()
	s.mu.Lock()
	s.noteAccount(&a)
	s.accounts[a.ID] = a
	s.mu.Unlock()
}

// AddUpstream serves the upstream origin ("https://api.example.com") in
// process with h, for requests that are not served by an account's own
// Handler: custom_connection_data calls and binary_body.url fetches.
func (s *Server) AddUpstream(origin string, h http.Handler) {
	s.mu.Lock()
	s.upstreams[normOrigin(origin)] = h
	s.mu.Unlock()
}

// Inject adds a fault. Faults are matched in the order injected; one call
// triggers at most one fault.
func (s *Server) Inject(f Fault) {
	left := f.Times
	if left <= 0 {
		left = -1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultState{f: f, left: left})
	s.mu.Unlock()
}

// Requests returns copies of the proxy requests received, in order: the
// latest ones, within the bounds of WithRequestLog (see Dropped).
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, s.records.len())
	for i, r := range s.records.all() {
		c := *r
		c.Header = r.Header.Clone()
		c.Body = slices.Clone(r.Body)
		c.Envelope.Body = slices.Clone(r.Envelope.Body)
		c.Envelope.Parameters = slices.Clone(r.Envelope.Parameters)
		out[i] = c
	}
	return out
}

// Downloads returns copies of the binary_data URL requests received, in
// order: the latest ones, within the bounds of WithRequestLog.
func (s *Server) Downloads() []Download {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.downloads.all())
	for i := range out {
		out[i].Header = out[i].Header.Clone()
	}
	return out
}

// Reset forgets recorded requests, upstream calls, account listings and
// downloads (as ResetRecorded does), pending faults, stored binary bodies
// and the org limit's count; accounts, sessions, upstreams and routes (On)
// stay.
func (s *Server) Reset() {
	s.ResetRecorded()
	s.mu.Lock()
	s.org = orgCounter{}
	s.faults = nil
	s.blobs = make(map[string]*blob)
	s.blobOrder, s.blobBytes = nil, 0
	s.mu.Unlock()
}

func (s *Server) takeFault(account string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, fs := range s.faults {
		if fs.f.Account != "" && fs.f.Account != account {
			continue
		}
		if fs.left > 0 {
			fs.left--
			if fs.left == 0 {
				s.faults = slices.Delete(s.faults, i, i+1)
			}
		}
		return fs.f, true
	}
	return Fault{}, false
}

func (s *Server) account(id string) (Account, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	return a, ok
}

func (s *Server) upstreamHandler(origin string) http.Handler {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.upstreams) == 0 {
		return nil
	}
	return s.upstreams[normOrigin(origin)]
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
