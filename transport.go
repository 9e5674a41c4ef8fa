package composiohttp

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/httpheader"
)

// Defaults.
const (
	// DefaultBaseURL is used when Transport.BaseURL and COMPOSIO_BASE_URL
	// are empty.
	DefaultBaseURL = "https://backend.composio.dev"
	// DefaultAPIVersion is the proxy API version used when
	// Transport.APIVersion is empty. "v3" is the other accepted value.
	DefaultAPIVersion = "v3.1"
	// MaxInlineBody is the largest non-JSON body sent inline as
	// binary_body.base64 (the proxy's 4 MB limit, counted before
	// encoding). Larger bodies go through Transport.Upload.
	MaxInlineBody = 4 << 20
	// MaxRequestSize is the proxy's limit on a whole request; a JSON body
	// larger than this fails with ErrBodyTooLarge.
	MaxRequestSize = 250 << 20
	// DefaultMaxResponseSize bounds a proxy reply read into memory when
	// Transport.MaxResponseSize is 0. Binary bodies are streamed from their
	// signed URL and do not count.
	DefaultMaxResponseSize = 64 << 20
	// maxErrorBody bounds how much of a proxy error reply is read.
	maxErrorBody = 64 << 10
)

// UploadFunc stores a body too large to send inline and returns a URL the
// proxy can fetch it from (sent as binary_body.url). size is the body's
// length (the request's ContentLength), or -1 if unknown. ctx is the
// request's context; the Transport never calls the UploadFunc once it is
// done (the call fails with the context's error, wrapped).
//
// The contract, which the Transport checks before anything is sent to the
// proxy (a breach is an [*UploadError], matching [ErrUpload]):
//   - Read body to its end (io.EOF), or return an error. The Transport
//     counts the bytes read: returning without error before the end of
//     the body (fewer than size bytes, or, size unknown, a body not read
//     to io.EOF) fails the call instead of sending a truncated upload.
//     Reading exactly size bytes is enough; the Transport then checks
//     itself that the body ends there.
//   - body yields at most size bytes when size is known, and a body
//     shorter or longer than size is an error from Read (matching
//     [ErrBadRequest], as on the inline path), which fails the call
//     whatever the UploadFunc returns.
//   - Return an absolute http or https URL with a host; anything else
//     ("", a relative path, file:, ftp:, javascript:, ...) fails the call.
//     The error never shows the URL (a presigned URL carries its
//     signature in its query).
//   - Do not use body after returning: the Transport closes the caller's
//     body once the UploadFunc has returned.
//
// body is the Transport's reader over the request body (it counts what is
// read), with Read only: the caller's body's other methods (io.Seeker,
// io.WriterTo, *os.File) are not reachable through it.
//
// An error the UploadFunc returns fails the call as an *UploadError whose
// Err it is (errors.Is and errors.As reach it).
type UploadFunc func(ctx context.Context, body io.Reader, size int64, contentType string) (url string, err error)

// Transport is an http.RoundTripper that sends each request through
// Composio's proxy endpoint, POST {BaseURL}/api/{APIVersion}/tools/execute/proxy,
// authenticated as a connected account, and turns the proxy's reply back
// into an ordinary *http.Response.
//
// The zero value reads its configuration from the environment. A Transport
// is safe for concurrent use; do not change its fields after first use.
type Transport struct {
	// APIKey is the Composio API key. Project keys (ak_...) are sent as
	// x-api-key, user keys (uak_...) as x-user-api-key. Default:
	// $COMPOSIO_API_KEY.
	APIKey string
	// BaseURL is the Composio API origin. Default: $COMPOSIO_BASE_URL,
	// else DefaultBaseURL.
	BaseURL string
	// APIVersion is "v3.1" (default) or "v3".
	APIVersion string
	// ConnectedAccountID is the account requests act as, unless the
	// request context says otherwise (WithConnectedAccount,
	// WithConnection).
	ConnectedAccountID string
	// Connection, if set, is sent as custom_connection_data instead of a
	// connected account id (unless the context says otherwise).
	Connection *credentials.Connection
	// SessionID, if set (and neither ConnectedAccountID nor Connection
	// is), sends requests through this tool-router session's proxy, as
	// WithSession does. API version v3.1 only.
	SessionID string
	// UserID, if set (and none of ConnectedAccountID, Connection and
	// SessionID is), makes requests act as this Composio user's connected
	// account for the request's toolkit, as WithUser does: for
	// single-tenant programs.
	UserID string
	// Toolkits derives the toolkit of a user's or session's request from
	// its URL when the context names none (WithToolkit), e.g.
	// schemes.DefaultToolkits. Default: nil, and such requests need
	// WithToolkit.
	Toolkits ToolkitLookup
	// Resolve tunes how a user's connected account is found and cached.
	// The zero value uses the defaults documented on ResolveOptions.
	Resolve ResolveOptions
	// Header holds extra headers sent to the proxy (not to the upstream)
	// with every call, added to those of $COMPOSIO_CUSTOM_HEADERS (one
	// "Name: value" a line).
	Header http.Header
	// JSONAsBinary sends JSON bodies as binary_body instead of body, so
	// that the proxy forwards them byte for byte (it is known to drop
	// falsy JSON fields such as false, 0 and {}).
	JSONAsBinary bool
	// Upload receives bodies over MaxInlineBody and returns a URL for
	// binary_body.url; see UploadFunc for its contract, which the
	// Transport checks (*UploadError). Nil (the default): such requests
	// fail with ErrBodyTooLarge before anything is sent.
	Upload UploadFunc
	// MaxResponseSize bounds the proxy reply read into memory (binary
	// bodies excepted: they stream). 0 means DefaultMaxResponseSize. A
	// larger reply fails with an *EnvelopeError.
	MaxResponseSize int64
	// Base carries the proxy calls, the binary downloads and off-site
	// redirects. Nil: DefaultBase(), one clone of http.DefaultTransport
	// shared by all Transports, tuned for one host (100 or more idle
	// connections per host instead of 2; HTTP/2 attempted).
	Base http.RoundTripper
	// AllowDownload, if set, may veto a binary_data.url before it is
	// fetched, by returning an error (the call then fails with a
	// *DownloadError wrapping it). It is called after the default
	// policy, which it cannot loosen: https only unless BaseURL is http;
	// never a link-local, multicast, unspecified or cloud metadata
	// address; loopback only when BaseURL is loopback. Default: nil, the
	// policy alone.
	AllowDownload func(*url.URL) error
	// ProxyOffSiteRedirects sends a redirect to another site through the
	// proxy like any request (the proxy then usually refuses it with
	// OriginMismatch). Default false: a GET or HEAD redirected to another
	// site (scheme, port and registrable domain by the whole public
	// suffix list) than the request it started from is sent directly
	// through Base, with no Composio key and no account credentials,
	// https only unless that request was http, and within the download
	// policy (see AllowDownload). A redirect is one the http.Client
	// follows (req.Response set) or a new request for a Location the
	// Transport returned in the last 10 minutes (followed by hand, as
	// go-github's DownloadReleaseAsset does).
	ProxyOffSiteRedirects bool

	redirects redirectMemory

	once sync.Once
	cfg  config
}

// config is what the Transport derives from its fields and the
// environment, once.
type config struct {
	err      error
	apiBase  url.URL // BaseURL, without a trailing slash
	version  string  // "v3.1" or "v3"
	proxyURL url.URL
	header   http.Header // sent to the proxy with every call
	base     http.RoundTripper
	maxResp  int64
	resolver *resolver // user + toolkit → account (resolve.go)
	// tmpl is the proxy request calls start from; shareTmpl: its URL and
	// Header may be shared by the calls (Base is the default).
	tmpl      *http.Request
	shareTmpl bool
}

func (t *Transport) config() *config {
	t.once.Do(func() { t.cfg = t.buildConfig() })
	return &t.cfg
}

func (t *Transport) buildConfig() config {
	c := config{base: t.Base, maxResp: t.MaxResponseSize, resolver: newResolver(t.Resolve)}
	if c.base == nil {
		c.base = defaultBase()
	}
	if c.maxResp <= 0 {
		c.maxResp = DefaultMaxResponseSize
	}
	key := cmp.Or(t.APIKey, os.Getenv("COMPOSIO_API_KEY"))
	if key == "" {
		c.err = ErrNoAPIKey
		return c
	}
	base := cmp.Or(t.BaseURL, os.Getenv("COMPOSIO_BASE_URL"), DefaultBaseURL)
	u, ok := httpurl.Parse(strings.TrimRight(base, "/"))
	if !ok {
		c.err = fmt.Errorf("%w: base URL is not an http(s) URL", ErrBadRequest)
		return c
	}
	version := cmp.Or(t.APIVersion, DefaultAPIVersion)
	if version != "v3.1" && version != "v3" {
		c.err = fmt.Errorf("%w: API version %q is not v3.1 or v3", ErrBadRequest, version)
		return c
	}
	// Trailing slashes go from the path itself, not from the string,
	// which may end in BaseURL's own query ("https://host/base/?gw=1").
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	c.apiBase, c.version = *u, version
	u.Path += "/api/" + version + "/tools/execute/proxy"
	c.proxyURL = *u

	c.header = make(http.Header)
	if env := os.Getenv("COMPOSIO_CUSTOM_HEADERS"); env != "" {
		if err := parseHeaderLines(env, c.header); err != nil {
			c.err = err
			return c
		}
	}
	for k, vs := range t.Header {
		k = http.CanonicalHeaderKey(k)
		c.header[k] = append(c.header[k], vs...)
	}
	// The key goes only where its kind says: a user key never travels as
	// x-api-key, whatever the custom headers say.
	delete(c.header, "X-Api-Key")
	delete(c.header, "X-User-Api-Key")
	if strings.HasPrefix(key, "uak_") {
		c.header.Set("X-User-Api-Key", key)
	} else {
		c.header.Set("X-Api-Key", key)
	}
	c.header.Set("Content-Type", "application/json")
	c.header.Set("Accept", "application/json")
	if c.header.Get("User-Agent") == "" {
		c.header.Set("User-Agent", "composiohttp")
	}
	// The proxy request every call starts from (proxyRequest copies it
	// with the call's context). Its URL and Header are shared by the
	// calls only with the default Base, a net/http Transport, which never
	// modifies a request.
	u2 := c.proxyURL
	c.tmpl = &http.Request{
		Method:     http.MethodPost,
		URL:        &u2,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header:     c.header,
		Host:       c.proxyURL.Host,
	}
	_, c.shareTmpl = c.base.(*http.Transport)
	c.shareTmpl = c.shareTmpl && t.Base == nil
	return c
}

// parseHeaderLines parses COMPOSIO_CUSTOM_HEADERS: one "Name: value" a
// line; blank lines and lines starting with # are ignored. The error names
// the line, never its value.
func parseHeaderLines(s string, h http.Header) error {
	sc := bufio.NewScanner(strings.NewReader(s))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(text, ":")
		name = strings.TrimSpace(name)
		if !ok || !httpheader.ValidName(name) || !httpheader.ValidValue(value) {
			return fmt.Errorf("%w: COMPOSIO_CUSTOM_HEADERS line %d is not \"Name: value\"", ErrBadRequest, line)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
	}
	return nil
}

// NewClient returns an *http.Client whose Transport is t (a zero Transport,
// configured from the environment, if t is nil).
func NewClient(t *Transport) *http.Client {
	if t == nil {
		t = &Transport{}
	}
	return &http.Client{Transport: t}
}

// RoundTrip sends req through the proxy and returns the upstream's
// response. It returns *Error when the proxy answers with an error, a
// *ProxyUnreachableError when no reply arrives from it (unless the
// request's context ended: then the context's error), and an error
// matching one of the sentinels (ErrUnsupportedMethod, ErrBodyTooLarge,
// ...) for a request it refuses before sending anything; CodeOf sorts them
// all. It never modifies req and always closes req.Body.
//
// A request goes through three stages, one file each: check (here) plans
// the call, proxyRequest (encode.go) builds the envelope, and reply
// (decode.go) turns the proxy's answer into the response.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, ErrNilRequest
	}
	// One owner of the caller's body, as in x/oauth2's Transport: this
	// defer closes it on every path, until the proxy request, whose body
	// closes it, is handed to Base.
	reqBodyClosed := false
	if req.Body != nil {
		defer func() {
			if !reqBodyClosed {
				req.Body.Close()
			}
		}()
	}
	c := t.config()
	info := CallInfoFromContext(req.Context())
	if info != nil { // fresh for each attempt: nothing stale from a retried one
		info.ConnectedAccountID, info.Toolkit, info.UserID, info.SessionID = "", "", "", ""
		info.Resolved, info.ResolverCacheHit, info.ResolverLookups = false, false, 0
		info.RequestID, info.ProxyStatus, info.UpstreamStatus = "", 0, 0
		info.BodySentAsBinary, info.SentDirect = false, false
	}
	call, err := t.check(req, c)
	if err != nil {
		return nil, err
	}
	if origin, ok := t.offSite(req); ok {
		if err := t.checkDirect(req, c, call.method, origin); err != nil {
			return nil, err
		}
		reqBodyClosed = true // Base closes it
		return t.sendDirect(req, c)
	}
	// A user's account is looked up only for a call that goes through the
	// proxy (an off-site redirect's host has no toolkit).
	if err := t.choose(req, c, &call, info); err != nil {
		return nil, err
	}
	preq, err := t.proxyRequest(req, c, &call)
	if err != nil {
		return nil, err
	}
	if info != nil {
		info.ConnectedAccountID = call.account
		info.BodySentAsBinary = call.bodyAsBinary
		if call.conn != nil {
			info.Toolkit = call.conn.ToolkitSlug
		}
	}
	reqBodyClosed = true // preq.Body closes req.Body, and Base closes preq.Body
	presp, err := c.base.RoundTrip(preq)
	if err != nil {
		preq.Body.Close() // Base should have; closing twice is harmless
		return nil, proxyUnreachable(req.Context(), c, err)
	}
	resp, err := t.reply(req, presp, &call, c, info)
	if err != nil && call.resolved && staleAccount(err) {
		resp, err = t.retryStale(req, c, preq, &call, info, err)
	}
	if err == nil {
		t.remember(req, resp)
	}
	return resp, err
}

// call is one request as the Transport plans it: worked out by check
// before anything is read or sent, and handed as one value to each stage
// (encode, decode). It holds the method sent to the proxy and the
// selection the request acts as. A new per-request decision (a user id and
// toolkit, a session, how to treat an off-site redirect) is a field here
// or in selection, not a new parameter of every stage.
type call struct {
	// method is req.Method, "" read as GET; one of the six the proxy takes.
	method string
	// selection is who the request acts as: the context's (WithConnectedAccount,
	// WithConnection, WithUser, WithSession), else the Transport's fields.
	// For a user, choose fills in account (and toolkit); for a session,
	// toolkit.
	selection
	// bodyAsBinary: a body labelled JSON goes as binary_body (not valid
	// JSON, or JSONAsBinary); set by proxyRequest, reported in CallInfo.
	bodyAsBinary bool
	// resolved: account was looked up for user and toolkit (choose).
	resolved bool
}

// check validates what can be checked without reading the body, and plans
// the call: its method and the account or connection it acts as.
func (t *Transport) check(req *http.Request, c *config) (call, error) {
	if c.err != nil {
		return call{}, c.err
	}
	if req.URL == nil {
		return call{}, fmt.Errorf("%w: nil URL", ErrBadRequest)
	}
	cl := call{method: req.Method}
	switch cl.method {
	case "":
		cl.method = http.MethodGet
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead:
	default:
		return call{}, fmt.Errorf("%w: %q (the proxy takes GET, POST, PUT, DELETE, PATCH, HEAD)", ErrUnsupportedMethod, cl.method)
	}
	if req.ContentLength > 0 && (cl.method == http.MethodGet || cl.method == http.MethodHead) {
		return call{}, fmt.Errorf("%w (%s with %d bytes)", ErrBodyNotAllowed, cl.method, req.ContentLength)
	}
	if sel := selectionFrom(req.Context()); sel != nil && sel.identity != "" {
		cl.selection = *sel
	} else {
		switch {
		case t.Connection != nil || t.ConnectedAccountID != "":
			cl.account, cl.conn = t.ConnectedAccountID, t.Connection
		case t.SessionID != "":
			cl.session = t.SessionID
		default:
			cl.user = t.UserID
		}
		if sel != nil { // WithToolkit alone
			cl.toolkit = sel.toolkit
		}
	}
	switch {
	case cl.conn != nil:
		if err := cl.conn.Validate(); err != nil {
			return call{}, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
	case cl.session != "":
		if c.version != "v3.1" {
			return call{}, fmt.Errorf("%w: tool-router sessions have a proxy in API version v3.1 only (APIVersion is %s)", ErrBadRequest, c.version)
		}
	case cl.account == "" && cl.user == "":
		return call{}, ErrNoAuthContext
	}
	return cl, nil
}

// choose completes a user's or session's call: its toolkit, and for a
// user the connected account, from the cache or looked up.
func (t *Transport) choose(req *http.Request, c *config, cl *call, info *CallInfo) error {
	if cl.conn != nil || (cl.user == "" && cl.session == "") {
		return nil
	}
	tk, err := t.requestToolkit(req, cl)
	if err != nil {
		return err
	}
	cl.toolkit = tk
	if info != nil {
		info.Toolkit, info.UserID, info.SessionID = tk, cl.user, cl.session
	}
	if cl.session != "" {
		return nil
	}
	a, hit, err := c.resolver.resolve(req.Context(), t, c, resolveKey{cl.user, tk}, false)
	if info != nil {
		info.Resolved, info.ResolverCacheHit = err == nil, hit
		if !hit {
			info.ResolverLookups++
		}
	}
	if err != nil {
		return err
	}
	cl.account, cl.resolved = a.ID, true
	return nil
}

// retryStale handles a proxy error saying that the account looked up for
// the user is gone or not active: the cached resolution is dropped and,
// when the envelope is in memory (preq.GetBody), the user's account is
// looked up again and the call made once more with it. Otherwise perr is
// returned (the next call looks the account up afresh).
func (t *Transport) retryStale(req *http.Request, c *config, preq *http.Request, cl *call, info *CallInfo, perr error) (*http.Response, error) {
	key := resolveKey{cl.user, cl.toolkit}
	c.resolver.evict(key, cl.account)
	if preq.GetBody == nil {
		return nil, perr
	}
	a, _, err := c.resolver.resolve(req.Context(), t, c, key, true)
	if info != nil {
		info.ResolverLookups++
		info.ResolverCacheHit = false
	}
	switch {
	case err != nil:
		return nil, err
	case a.ID == cl.account:
		return nil, perr
	}
	rc, err := preq.GetBody()
	if err != nil {
		return nil, perr
	}
	old, err := io.ReadAll(rc)
	rc.Close()
	oldHead := appendString([]byte(`{"connected_account_id":`), cl.account)
	if err != nil || !bytes.HasPrefix(old, oldHead) {
		return nil, perr
	}
	buf := appendString([]byte(`{"connected_account_id":`), a.ID)
	buf = append(buf, old[len(oldHead):]...)
	cl.account = a.ID
	if info != nil {
		info.ConnectedAccountID = a.ID
		info.RequestID, info.ProxyStatus, info.UpstreamStatus = "", 0, 0
	}
	preq2 := preq.Clone(req.Context())
	setMemBody(preq2, buf, nil)
	presp, err := c.base.RoundTrip(preq2)
	if err != nil {
		preq2.Body.Close()
		return nil, proxyUnreachable(req.Context(), c, err)
	}
	return t.reply(req, presp, cl, c, info)
}

// CloseIdleConnections closes the idle connections of Base, if it can.
func (t *Transport) CloseIdleConnections() {
	type closeIdler interface{ CloseIdleConnections() }
	if ci, ok := t.config().base.(closeIdler); ok {
		ci.CloseIdleConnections()
	}
}
