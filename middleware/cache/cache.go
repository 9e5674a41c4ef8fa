// Package cache is HTTP caching middleware for composiohttp: standard
// RFC 7234 caching (Cache-Control, Expires, ETag/If-None-Match and
// Last-Modified/If-Modified-Since revalidation, Vary), done by
// github.com/gregjones/httpcache, with keys kept apart per tenant.
//
// # Tenant safety
//
// httpcache keys entries by URL only. This package runs a fresh, cheap
// httpcache.Transport per request whose Cache is a view of the Store that
// prefixes every key with the request's tenant: composiohttp.Identity of
// the request context, or the default identity when the context selects no
// account (see WithDefaultIdentity). So one connected account is never
// served another's response, including responses marked private (httpcache
// is a private cache and stores them; with per-tenant keys each account has
// its own private cache). Keys are SHA-256 digests of tenant and URL, so no
// URL or secret ever reaches a store.
//
// The default identity is that of the *composiohttp.Transport the cache
// wraps, found by following Unwrap() http.RoundTripper methods down the
// chain (every middleware of this module has one; see package middleware):
// "account:<id>" for its ConnectedAccountID, the digest of its Connection,
// "session:<id>" for its SessionID, "user:<id>" for its UserID (the
// Transport's own order of precedence). When there is no
// WithDefaultIdentity and no such Transport (or one acting for nobody),
// the tenant of a request whose context
// selects no account is unknown, and the request goes to next uncached: the
// cache fails closed rather than share entries between tenants.
//
// Requests that carry their own Authorization header bypass the cache
// entirely unless WithAuthorizedRequests is given; then the header's value
// is part of the key too.
//
// Hits are marked with httpcache's X-From-Cache: 1 header and, when the
// request context carries a *composiohttp.CallInfo, CallInfo.CacheHit.
// A response revalidated with a 304 is a hit: its body comes from the cache.
//
// A GET response body larger than WithMaxEntryBytes (default
// DefaultMaxEntryBytes, 1 MiB) is neither buffered nor stored: it streams
// to the caller as if uncached. A body of known length (Content-Length)
// is judged by it; one of unknown length (chunked, or decompressed by
// net/http) is read ahead, up to the limit, before RoundTrip returns, to
// learn whether it fits; text/event-stream responses are never read
// ahead nor cached. The caller sees the upstream's headers as they came.
//
// A response without a Date header gets one on arrival (RFC 9110 §6.6.1),
// since freshness is computed from it; an X-From-Cache header sent by the
// upstream is removed, so only real hits carry it.
//
// A store that fails degrades to no caching: the request goes to the next
// RoundTripper as if nothing were cached, and the error goes to the
// handler set with WithErrorHandler.
package cache

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

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
// PUT, PATCH, DELETE) to it. Requests with a body, a Range header, or (by
// default) an Authorization header pass through untouched. next nil means
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
	if req.URL == nil {
		return t.next.RoundTrip(req) // let the next layer report the bad request
	}
	auth := req.Header.Get("Authorization")
	ctx := req.Context()
	info := composiohttp.CallInfoFromContext(ctx)
	if info != nil {
		info.CacheResult = "bypass"
	}
	switch {
	case t.cfg.defaultIdentity == "" && composiohttp.Identity(req.Context()) == "":
		return t.next.RoundTrip(req) // unknown tenant: fail closed
	case req.Method == http.MethodPost || req.Method == http.MethodPut ||
		req.Method == http.MethodPatch || req.Method == http.MethodDelete:
		return t.unsafe(req)
	case req.Method != http.MethodGet && req.Method != http.MethodHead, // "" too: keep it simple
		req.Body != nil && req.Body != http.NoBody,
		req.Header.Get("Range") != "",
		auth != "" && !t.cfg.authorized:
		return t.next.RoundTrip(req)
	}
	if info != nil {
		info.CacheResult = "miss"
	}
	n := &network{next: t.next, max: t.cfg.maxEntry}
	hc := &httpcache.Transport{
		Transport:           n,
		Cache:               t.view(ctx, auth),
		MarkCachedResponses: true,
	}
	resp, err := hc.RoundTrip(req)
	n.finish(resp)
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

// unsafe sends a request with an unsafe method and, when it succeeds,
// drops the cached GET and HEAD responses for its URL (RFC 7234 §4.4).
func (t *Transport) unsafe(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	v := t.view(ctx, req.Header.Get("Authorization"))
	u := req.URL.String()
	resp, err := t.next.RoundTrip(req)
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
}

// key is the SHA-256 of the tenant, the Authorization header (when it is
// part of the key) and httpcache's key, each prefixed by its length, so
// that no choice of parts (an account id holding separators, say) can
// produce another tenant's key.
func (v *view) key(k string) string {
	h := sha256.New()
	h.Write([]byte("composiohttp/cache/v2"))
	for _, part := range [...]string{v.identity, v.auth, k} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(part)))
		h.Write(n[:])
		h.Write([]byte(part))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (v *view) Get(k string) ([]byte, bool) {
	b, ok, err := v.store.Get(v.ctx, v.key(k))
	if err != nil {
		v.onError(fmt.Errorf("cache: store get: %w", err))
		return nil, false
	}
	return b, ok && len(b) > 0
}

// Set and Delete may run after the caller's context ended (httpcache
// stores once the body is read to the end); they are not cancelled with it.
func (v *view) Set(k string, b []byte) {
	if err := v.store.Set(context.WithoutCancel(v.ctx), v.key(k), b); err != nil {
		v.onError(fmt.Errorf("cache: store set: %w", err))
	}
}

func (v *view) Delete(k string) {
	if err := v.store.Delete(context.WithoutCancel(v.ctx), v.key(k)); err != nil {
		v.onError(fmt.Errorf("cache: store delete: %w", err))
	}
}

// network sits between httpcache and next, for one request: it removes
// X-From-Cache from responses that really came from the network (so an
// upstream cannot fake a hit), adds the Date header a cache needs to judge
// freshness when the upstream sent none (RFC 9110 §6.6.1), and hands
// httpcache a no-store copy of the header of a GET response too large to
// cache, so that httpcache neither buffers nor stores its body. finish
// puts the real header back and closes the responses httpcache dropped.
type network struct {
	next http.RoundTripper
	max  int64
	sent []sent // every response handed to httpcache
}

// sent is a response handed to httpcache, with its real header when
// network replaced it.
type sent struct {
	resp   *http.Response
	header http.Header
}

func (n *network) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := n.next.RoundTrip(req)
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
	if resp.Header.Get("Date") == "" {
		resp.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	}
	if req.Method == http.MethodGet && resp.StatusCode != http.StatusNotModified && !n.fits(req, resp) {
		n.sent[len(n.sent)-1].header = resp.Header
		resp.Header = resp.Header.Clone()
		resp.Header.Set("Cache-Control", "no-store")
	}
	return resp, nil
}

// finish is called with the response httpcache returned: it gives it its
// real header back, if network replaced it, and drains (at most
// drainLimit bytes) and closes every other response network handed over,
// such as a 5xx answered with a stale entry (stale-if-error) or a 304
// answered with the cached body, which httpcache drops unclosed.
func (n *network) finish(resp *http.Response) {
	for _, s := range n.sent {
		switch {
		case s.resp == resp && s.header != nil:
			resp.Header = s.header
		case s.resp != resp && s.resp.Body != nil:
			_, _ = io.CopyN(io.Discard, s.resp.Body, drainLimit)
			s.resp.Body.Close()
		}
	}
}

// drainLimit bounds how much of a dropped response body is read so that
// its connection can be reused.
const drainLimit = 64 << 10

// fits reports whether httpcache may buffer resp's body: it is at most
// n.max bytes long, or httpcache will not store it anyway. A body of
// unknown length is read ahead to find out, and put back in front of the
// rest.
func (n *network) fits(req *http.Request, resp *http.Response) bool {
	switch {
	case resp.ContentLength >= 0:
		return resp.ContentLength <= n.max
	case noStore(req.Header) || noStore(resp.Header) || resp.Body == nil || resp.Body == http.NoBody:
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

// noStore reports whether a Cache-Control header has no-store.
func noStore(h http.Header) bool {
	for _, v := range h.Values("Cache-Control") {
		for d := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(d), "no-store") {
				return true
			}
		}
	}
	return false
}
