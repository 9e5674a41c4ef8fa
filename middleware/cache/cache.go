package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/composiohttp/composiohttp/internal/httpbody"
	"github.com/composiohttp/composiohttp/internal/readahead"

	"github.com/gregjones/httpcache"

	"github.com/composiohttp/composiohttp"
)

// XFromCache is the header httpcache sets to "1" on responses served from
// the cache.
const XFromCache = httpcache.XFromCache

// DefaultIdentity is a tenant name for WithDefaultIdentity, for a program
// whose requests without a selected account all act for one tenant. It is
// not used unless given.
const DefaultIdentity = "default"

// Option configures New and Middleware.
type Option func(*config)

type config struct {
	store           Store
	defaultIdentity string
	authorized      bool
	onError         func(error)
	maxEntry        int64
}

// DefaultMaxEntryBytes is the largest response body cached when
// WithMaxEntryBytes is not given.
const DefaultMaxEntryBytes = 1 << 20

// WithMaxEntryBytes sets the largest response body that is cached
// (default DefaultMaxEntryBytes; n <= 0 means the default).
func WithMaxEntryBytes(n int64) Option { return func(c *config) { c.maxEntry = n } }

// WithStore sets where responses are kept. Default: a new
// NewMemoryStore(DefaultMaxBytes) per New call (so per wrapped
// RoundTripper).
func WithStore(s Store) Option { return func(c *config) { c.store = s } }

// WithDefaultIdentity sets the tenant for requests whose context selects no
// account (composiohttp.Identity returns ""), i.e. requests acting as the
// Transport's own ConnectedAccountID, Connection, SessionID or UserID. Default: derived from
// the *composiohttp.Transport found by unwrapping next ("account:<id>",
// the connection's digest, "session:<id>" or "user:<id>"); without one,
// such requests are not cached.
// Each Transport sharing one store (e.g. Redis) must have its own.
func WithDefaultIdentity(id string) Option { return func(c *config) { c.defaultIdentity = id } }

// WithAuthorizedRequests makes requests that carry their own Authorization
// header cacheable, keyed additionally by a digest of that header. Default:
// such requests bypass the cache.
func WithAuthorizedRequests() Option { return func(c *config) { c.authorized = true } }

// WithErrorHandler sets a function that receives every store error (the
// request itself never fails because of one). Default: errors are dropped.
// It may be called concurrently, and after RoundTrip returned (entries are
// stored when the body has been read to the end).
func WithErrorHandler(f func(error)) Option { return func(c *config) { c.onError = f } }

// Middleware returns a function that wraps a RoundTripper with New(next,
// opts...), for use with a middleware chain.
func Middleware(opts ...Option) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper { return New(next, opts...) }
}

// New returns a *Transport, an http.RoundTripper that serves GET and HEAD requests from a cache
// when HTTP caching rules allow, revalidates stale entries through next,
// and invalidates a URL's entries after a successful unsafe request (POST,
// PUT, PATCH, DELETE) to it. Requests with a body, a Range header,
// validators of their own (If-None-Match, If-Modified-Since, If-Match,
// If-Unmodified-Since, If-Range), or (by default) an Authorization header
// pass through untouched. next nil means
// http.DefaultTransport; nil options are skipped.
func New(next http.RoundTripper, opts ...Option) *Transport {
	if next == nil {
		next = http.DefaultTransport
	}
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	if c.store == nil {
		c.store = NewMemoryStore(DefaultMaxBytes)
	}
	if c.defaultIdentity == "" {
		c.defaultIdentity = composiohttp.TransportIdentity(next)
	}
	if c.onError == nil {
		c.onError = func(error) {}
	}
	if c.maxEntry <= 0 {
		c.maxEntry = DefaultMaxEntryBytes
	}
	return &Transport{next: next, cfg: c}
}

// Transport is the caching http.RoundTripper that New returns. Its
// configuration is set by New's options; the zero value is not usable.
type Transport struct {
	next http.RoundTripper
	cfg  config
}

// Unwrap returns the RoundTripper the cache wraps.
func (t *Transport) Unwrap() http.RoundTripper { return t.next }

func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req == nil {
		return nil, composiohttp.ErrNilRequest
	}
	if t.next == nil { // built by hand: nothing to call
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("cache: %w", composiohttp.ErrZeroTransport)
	}
	if req.URL == nil {
		return t.next.RoundTrip(req) // let the next layer report the bad request
	}
	auth := req.Header.Get("Authorization")
	ctx := req.Context()
	info := composiohttp.CallInfoFromContext(ctx)
	if info != nil {
		info.CacheResult = "bypass"
	}
	reqCC := parseCacheControl(req.Header.Values("Cache-Control"))
	switch route := t.route(req, auth); {
	case route != cached && reqCC.onlyIfCached:
		// Nothing stored may answer it: 504, next never called
		// (RFC 9111 §5.2.1.7).
		return gatewayTimeout(req), nil
	case route == passBy:
		return t.next.RoundTrip(req)
	case route == invalidate:
		return t.unsafe(req)
	}
	if info != nil {
		info.CacheResult = "miss"
	}
	v := t.view(ctx, auth)
	hreq := prepare(req, v, auth, reqCC)
	n := &network{next: t.next, max: t.cfg.maxEntry, orig: req, prepared: hreq, reqCC: reqCC, view: v}
	hc := &httpcache.Transport{
		Transport:           n,
		Cache:               v,
		MarkCachedResponses: true,
	}
	resp, err := hc.RoundTrip(hreq)
	resp, err = n.finish(v, resp, err)
	if err == nil && resp.Header.Get(XFromCache) != "" {
		if info != nil {
			info.CacheHit, info.CacheResult = true, "hit"
			if info.ConnectedAccountID == "" {
				info.ConnectedAccountID, _ = composiohttp.ConnectedAccountFromContext(ctx)
			}
		}
	}
	return resp, err
}

// The ways RoundTrip handles a request (see route).
const (
	cached     = iota // through httpcache and the store
	passBy            // to next, the store untouched
	invalidate        // an unsafe method: to next, then the URL's entries dropped
)

// route says how RoundTrip handles req, whose Authorization header is auth.
func (t *Transport) route(req *http.Request, auth string) int {
	switch {
	case t.cfg.defaultIdentity == "" && composiohttp.Identity(req.Context()) == "":
		return passBy // unknown tenant: fail closed
	case req.Method == http.MethodPost || req.Method == http.MethodPut ||
		req.Method == http.MethodPatch || req.Method == http.MethodDelete:
		return invalidate
	case req.Method != http.MethodGet && req.Method != http.MethodHead, // "" too: keep it simple
		req.Body != nil && req.Body != http.NoBody,
		req.Header.Get("Range") != "",
		conditional(req.Header),
		auth != "" && !t.cfg.authorized:
		return passBy
	}
	return cached
}

// gatewayTimeout is the answer to a request with only-if-cached that no
// stored response may answer without contacting the upstream: 504
// Gateway Timeout (RFC 9111 §5.2.1.7), with an empty body. req's body,
// if any, is closed (next never sees req).
func gatewayTimeout(req *http.Request) *http.Response {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{
		Status:     "504 Gateway Timeout",
		StatusCode: http.StatusGatewayTimeout,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Date":           {time.Now().UTC().Format(http.TimeFormat)},
			"Content-Length": {"0"},
		},
		Body:    http.NoBody,
		Request: req,
	}
}

// prepare returns the request httpcache sees: req itself, or a copy whose
// Cache-Control is the one line httpcache reads right (see
// normalCacheControl) and whose credential headers (credentialHeader:
// Authorization, when it is part of the key, Proxy-Authorization, Cookie,
// X-Api-Key, Private-Token, ...) hold digests of their values, so that httpcache, which stores
// the values of the request headers a response varies on, never stores
// a credential. network gives next the caller's request, never this
// copy. A request with max-stale gets a copy too, whose Cache-Control
// v.Get may change (see view.maxStale). only-if-cached is removed from
// the copy's Cache-Control: httpcache would serve any stored response to
// it, stale or not; without it, httpcache judges freshness as for any
// request, and network answers the call it makes, whenever the stored
// response is not fresh enough, with a 504 (see network.RoundTrip).
func prepare(req *http.Request, v *view, auth string, cc cacheControl) *http.Request {
	drop := ""
	if cc.onlyIfCached {
		drop = "only-if-cached"
	}
	line, ccChanged := normalCacheControl(req.Header.Values("Cache-Control"), drop)
	credentials := v.auth != "" || hasCredentialHeader(req.Header)
	if !ccChanged && !credentials && !cc.maxStale {
		return req
	}
	r := req.WithContext(req.Context()) // a shallow copy
	r.Header = make(http.Header, len(req.Header)+1)
	for k, vs := range req.Header { // values are replaced below, never changed in place
		r.Header[k] = vs
	}
	switch {
	case ccChanged && line == "":
		delete(r.Header, "Cache-Control")
	case ccChanged:
		r.Header["Cache-Control"] = []string{line}
	}
	if credentials {
		for name, vs := range req.Header {
			if len(vs) > 0 && credentialHeader(name) && (name != "Authorization" || v.auth != "") {
				r.Header[name] = []string{credentialDigest(v.identity, name, vs)}
			}
		}
	}
	if cc.maxStale {
		v.maxStale = r.Header
	}
	return r
}

// unsafe sends a request with an unsafe method and, when it succeeds,
// drops the cached GET and HEAD responses for its URL (RFC 7234 §4.4).
func (t *Transport) unsafe(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	v := t.view(ctx, req.Header.Get("Authorization"))
	u := req.URL.String()
	resp, err := sendNext(t.next, req)
	if err == nil && resp.StatusCode < 400 {
		v.Delete(u)
		v.Delete(http.MethodHead + " " + u)
	}
	return resp, err
}

// view returns the cache of one request: the store, under the keys of
// the request's tenant (and of its Authorization header, when
// WithAuthorizedRequests is given).
func (t *Transport) view(ctx context.Context, auth string) *view {
	id := composiohttp.Identity(ctx)
	if id == "" {
		id = t.cfg.defaultIdentity
	}
	if !t.cfg.authorized {
		auth = ""
	}
	return &view{store: t.cfg.store, ctx: ctx, identity: id, auth: auth, onError: t.cfg.onError}
}

// view is the httpcache.Cache of one request: t.store with keys bound to
// the request's tenant, errors swallowed.
type view struct {
	store    Store
	ctx      context.Context
	identity string // the tenant
	auth     string // the Authorization header, when it is part of the key
	onError  func(error)
	// maxStale is the header of the request httpcache sees (prepare's
	// copy) when it has max-stale, which httpcache honours even for a
	// stored response with must-revalidate or proxy-revalidate: Get then
	// removes max-stale from it before httpcache judges freshness, so
	// that such a response, once stale, is revalidated (RFC 9111
	// §5.2.2.2).
	maxStale http.Header
	// keep is set by network when next failed with a 5xx (the
	// upstream's, or the proxy's own error) or was not called (the 504
	// to only-if-cached): Set and Delete then leave the store alone, so
	// that the failure neither replaces nor removes the stored entry
	// httpcache would drop for it (RFC 9111 §4.3.3 lets a cache keep
	// using it).
	keep bool
}

// key is the SHA-256 of the tenant, the Authorization header (when it is
// part of the key) and httpcache's key, each prefixed by its length, so
// that no choice of parts (an account id holding separators, say) can
// produce another tenant's key.
func (v *view) key(k string) string {
	var buf [256]byte // the parts are hashed in one call, from the stack when they fit
	b := append(buf[:0], "composiohttp/cache/v2"...)
	for _, part := range [...]string{v.identity, v.auth, k} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(part)))
		b = append(b, part...)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func (v *view) Get(k string) ([]byte, bool) {
	b, ok, err := v.store.Get(v.ctx, v.key(k))
	if err != nil {
		v.onError(fmt.Errorf("cache: store get: %w", err))
		return nil, false
	}
	if !ok || len(b) == 0 {
		return nil, false
	}
	ok, mustRevalidate := reusable(b)
	if !ok {
		return nil, false
	}
	if mustRevalidate && v.maxStale != nil {
		if cc, _ := normalCacheControl(v.maxStale.Values("Cache-Control"), "max-stale"); cc != "" {
			v.maxStale["Cache-Control"] = []string{cc}
		} else {
			delete(v.maxStale, "Cache-Control")
		}
	}
	return b, true
}

// Set and Delete may run after the caller's context ended (httpcache
// stores once the body is read to the end); they are not cancelled with it.
func (v *view) Set(k string, b []byte) {
	if v.keep {
		return
	}
	if err := v.store.Set(context.WithoutCancel(v.ctx), v.key(k), b); err != nil {
		v.onError(fmt.Errorf("cache: store set: %w", err))
	}
}

func (v *view) Delete(k string) {
	if v.keep {
		return
	}
	if err := v.store.Delete(context.WithoutCancel(v.ctx), v.key(k)); err != nil {
		v.onError(fmt.Errorf("cache: store delete: %w", err))
	}
}

// network sits between httpcache and next, for one request. It sends
// next the caller's request (with the validators httpcache added), never
// the copy prepare made. It removes X-From-Cache and X-Varied-* from
// responses that really came from the network (so an upstream can neither
// fake a hit nor steer the matching of Vary), adds the Date header a cache
// needs to judge freshness when the upstream sent none (RFC 9110 §6.6.1),
// and hands httpcache a copy of the header of a response it must not
// store (see storable) or too large to cache, with Cache-Control:
// no-store, or of one whose Cache-Control httpcache would misread, with
// that field normalized. It notes a failure of next, which httpcache may
// answer with a stale entry, and keeps the store as it is after a 5xx
// (view.keep). For a request with only-if-cached it never calls next:
// httpcache calls it only when no stored response may answer as it is,
// and gets a 504. finish checks that answer, puts the real header back
// and closes the responses httpcache dropped.
type network struct {
	next     http.RoundTripper
	max      int64
	orig     *http.Request // the caller's request
	prepared *http.Request // the request httpcache was given (orig, or prepare's copy)
	reqCC    cacheControl  // orig's Cache-Control
	view     *view         // the request's cache
	sent     []sent        // every response handed to httpcache

	// failed is set when next failed, with an error (failErr) or a 5xx
	// (failResp); staleOK when a stale entry may answer that failure.
	failed   bool
	staleOK  bool
	failErr  error
	failResp *http.Response
}

// sent is a response handed to httpcache, with its real header when
// network replaced it.
type sent struct {
	resp   *http.Response
	header http.Header
}

func (n *network) RoundTrip(req *http.Request) (*http.Response, error) {
	if n.reqCC.onlyIfCached {
		// httpcache found no stored response it may serve as it is
		// (none, a stale one, one of another variant): answer 504
		// without contacting the upstream. It is a failure no stale
		// entry may answer, and it changes nothing in the store.
		resp := gatewayTimeout(n.orig)
		n.failed, n.staleOK, n.failResp, n.view.keep = true, false, resp, true
		n.sent = append(n.sent, sent{resp: resp, header: resp.Header})
		resp.Header = http.Header{"Cache-Control": {"no-store"}}
		return resp, nil
	}
	out := req
	if n.prepared != n.orig {
		out = n.orig
		if req != n.prepared { // httpcache's copy, with validators
			out = n.orig.WithContext(req.Context())
			out.Header = n.orig.Header.Clone()
			for _, k := range [...]string{"If-None-Match", "If-Modified-Since"} {
				if v, ok := req.Header[k]; ok {
					out.Header[k] = v
				}
			}
		}
	}
	resp, err := sendNext(n.next, out)
	if err != nil {
		n.failed, n.staleOK, n.failErr = true, errorAllowsStale(err), err
		if perr, ok := errors.AsType[*composiohttp.Error](err); ok && perr.StatusCode >= 500 {
			n.view.keep = true // the proxy's 5xx changes nothing stored
		}
	}
	if resp == nil {
		return nil, err
	}
	n.sent = append(n.sent, sent{resp: resp})
	if err != nil {
		return resp, err
	}
	if resp.Header == nil {
		resp.Header = make(http.Header)
	}
	resp.Header.Del(XFromCache)
	deleteVaried(resp.Header)
	if resp.Header.Get("Date") == "" {
		resp.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if resp.StatusCode >= 500 {
		// Never stored (storable), and the stored entry stays as it was.
		n.failed, n.staleOK, n.failResp, n.view.keep = true, rfc5861Error(resp.StatusCode), resp, true
	}
	keep, noStore := storable(n.reqCC, resp.StatusCode, resp.Header)
	cc, ccChanged := normalCacheControl(resp.Header.Values("Cache-Control"), "")
	switch {
	case resp.StatusCode == http.StatusNotModified:
		// httpcache copies its header into the stored response it
		// answers with, and never hands the 304 itself to the caller
		// (unless nothing is stored): set it in place.
		if !keep && !noStore {
			resp.Header.Set("Cache-Control", "no-store")
		} else if ccChanged {
			resp.Header["Cache-Control"] = []string{cc}
		}
	case !keep && !noStore || keep && req.Method == http.MethodGet && !n.fits(resp):
		n.replaceHeader(resp)
		resp.Header["Cache-Control"] = []string{"no-store"}
	case ccChanged:
		n.replaceHeader(resp)
		resp.Header["Cache-Control"] = []string{cc}
	}
	return resp, nil
}

// replaceHeader gives the last response sent a copy of its header, and
// keeps the real one for finish.
func (n *network) replaceHeader(resp *http.Response) {
	n.sent[len(n.sent)-1].header = resp.Header
	resp.Header = resp.Header.Clone()
}

// finish is called with what httpcache returned, and returns what the
// caller gets. An answer from a stale entry to a failure of next stands
// only if the failure is one stale-if-error covers and the entry is
// within its stale-if-error window (see errorAllowsStale,
// withinStaleWindow); otherwise the caller gets the failure, and the entry
// is dropped, as httpcache does when it answers with the failure, unless
// the failure is a 5xx or the 504 to only-if-cached (view.keep). The
// response gets its real header back, if network replaced it, without
// X-Varied-* headers, and the caller's request as Request. Every other
// response network handed over, such as a 5xx answered with a stale entry
// or a 304 answered with the cached body, which httpcache drops unclosed,
// is drained (at most httpbody.ReuseLimit bytes) and closed.
func (n *network) finish(v *view, resp *http.Response, err error) (*http.Response, error) {
	if n.failed && err == nil && resp != nil && resp != n.failResp && // a stale entry answered
		!(n.staleOK && withinStaleWindow(resp.Header, n.reqCC, time.Now())) {
		resp.Body.Close()
		v.Delete(n.prepared.URL.String()) // httpcache's key of a GET
		resp, err = n.failResp, n.failErr
	}
	hdr, changed := http.Header(nil), false
	for _, s := range n.sent {
		switch {
		case s.resp == resp && s.header != nil:
			hdr, changed = s.header, true
		case s.resp != resp:
			httpbody.DrainClose(s.resp.Body, httpbody.ReuseLimit)
		}
	}
	if resp == nil {
		return nil, err
	}
	if !changed {
		hdr = resp.Header
	}
	switch {
	case len(n.sent) == 0 && !changed: // a plain hit: resp is the caller's alone
		deleteVaried(hdr)
	case hasVaried(hdr): // httpcache may still store resp.Header when the body ends
		hdr, changed = withoutVaried(hdr), true
	}
	request := resp.Request
	if n.prepared != n.orig && request == n.prepared {
		request = n.orig
	}
	if !changed && request == resp.Request {
		return resp, err
	}
	if len(n.sent) == 0 {
		resp.Header, resp.Request = hdr, request
		return resp, err
	}
	c := *resp // httpcache stores *resp when the body ends: leave it alone
	c.Header, c.Request = hdr, request
	return &c, err
}

// errNilResponse is the error for a next that returned neither a
// response nor an error, which the RoundTripper contract forbids.
var errNilResponse = errors.New("cache: next RoundTripper returned a nil response and a nil error")

// sendNext is next.RoundTrip(req), with a nil response and a nil error
// (a broken next) turned into errNilResponse, for the code that reads
// the response: the cache's own and httpcache's.
func sendNext(next http.RoundTripper, req *http.Request) (*http.Response, error) {
	resp, err := next.RoundTrip(req)
	if resp == nil && err == nil {
		err = errNilResponse
	}
	return resp, err
}

// fits reports whether httpcache may buffer resp's body: it is at most
// n.max bytes long. A body of unknown length is read ahead to find out,
// and put back in front of the rest.
func (n *network) fits(resp *http.Response) bool {
	switch {
	case resp.ContentLength >= 0:
		return resp.ContentLength <= n.max
	case resp.Body == nil || resp.Body == http.NoBody:
		return true
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "text/event-stream" {
		return false
	}
	// Read up to n.max+1 bytes: a small buffer first, then, if the body
	// goes on, one of the full size.
	body := resp.Body
	buf := make([]byte, min(n.max+1, 16<<10))
	k, err := io.ReadFull(body, buf)
	if err == nil && int64(k) <= n.max {
		buf = append(buf, make([]byte, n.max+1-int64(k))...)
		var more int
		more, err = io.ReadFull(body, buf[k:])
		k += more
	}
	// err == nil: over n.max, the rest to come; EOF: all read, it fits.
	resp.Body = readahead.Rejoin(buf[:k], err, body)
	return err == io.EOF || err == io.ErrUnexpectedEOF
}
