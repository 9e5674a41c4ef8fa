package composiohttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
)

type ctxKey int

const (
	selectionKey ctxKey = iota
	callInfoKey
)

// selection is what WithConnectedAccount, WithConnection, WithUser,
// WithSession and WithToolkit put in a context, with its Identity worked
// out once, there, rather than on every call of every middleware that
// keys by tenant. At most one of account (or conn), user and session
// says who the request acts as; toolkit goes with a user or session.
type selection struct {
	account  string
	conn     *credentials.Connection
	user     string
	session  string
	toolkit  string
	identity string
}

// byAccount reports that the selection names an account id (or nothing).
func (s *selection) byAccount() bool { return s.conn == nil && s.user == "" && s.session == "" }

// WithConnectedAccount returns a context that makes the Transport act as
// the connected account id for requests made with it, overriding the
// Transport's own ConnectedAccountID and Connection and any account or
// connection set earlier in the context.
func WithConnectedAccount(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, selectionKey, &selection{account: id, identity: "account:" + id})
}

// WithConnection returns a context that makes the Transport send conn as
// custom_connection_data for requests made with it, overriding the
// Transport's own ConnectedAccountID and Connection and any account or
// connection set earlier in the context. The connection is not copied; do
// not modify it while requests use it. A nil conn clears an earlier
// selection, so that the Transport's own applies.
func WithConnection(ctx context.Context, conn *credentials.Connection) context.Context {
	sel := &selection{conn: conn}
	if conn != nil {
		sel.identity = connectionIdentity(conn)
	}
	return context.WithValue(ctx, selectionKey, sel)
}

// WithUser returns a context that makes the Transport act as the Composio
// user userID for requests made with it: each request uses the user's
// ACTIVE connected account of the request's toolkit (WithToolkit, or
// derived from the request's URL through Transport.Toolkits), looked up
// with the connected-accounts API and cached (see ResolveOptions). It
// overrides the Transport's own fields and any account, connection or
// session set earlier in the context, and keeps a toolkit set earlier
// with WithToolkit. An empty userID clears an earlier selection, so that
// the Transport's own applies.
func WithUser(ctx context.Context, userID string) context.Context {
	sel := &selection{user: userID, toolkit: toolkitFrom(ctx)}
	sel.identity = sel.computeIdentity()
	return context.WithValue(ctx, selectionKey, sel)
}

// WithSession returns a context that sends requests made with it through
// the proxy of the tool-router session sessionID (POST
// /api/v3.1/tool_router/session/{id}/proxy_execute, API version v3.1
// only), which picks the connected account from the session's user and
// the request's toolkit (WithToolkit, or derived from the URL through
// Transport.Toolkits). It overrides the Transport's own fields and any
// account, connection or user set earlier in the context, and keeps a
// toolkit set earlier with WithToolkit. An empty sessionID clears an
// earlier selection. CreateSession makes a session.
func WithSession(ctx context.Context, sessionID string) context.Context {
	sel := &selection{session: sessionID, toolkit: toolkitFrom(ctx)}
	sel.identity = sel.computeIdentity()
	return context.WithValue(ctx, selectionKey, sel)
}

// WithToolkit returns a context that names the toolkit (Composio's slug,
// e.g. "github") of requests made with it, for a user (WithUser,
// Transport.UserID) or a session (WithSession, Transport.SessionID),
// instead of deriving it from the request's URL. It keeps the rest of the
// selection; a connected account or connection ignores it.
func WithToolkit(ctx context.Context, slug string) context.Context {
	sel := &selection{}
	if prev := selectionFrom(ctx); prev != nil {
		*sel = *prev
	}
	sel.toolkit = slug
	if sel.user != "" || sel.session != "" {
		sel.identity = sel.computeIdentity()
	}
	return context.WithValue(ctx, selectionKey, sel)
}

func toolkitFrom(ctx context.Context) string {
	if sel := selectionFrom(ctx); sel != nil {
		return sel.toolkit
	}
	return ""
}

// computeIdentity names a user or session selection ("" for none).
func (s *selection) computeIdentity() string {
	var id string
	switch {
	case s.user != "":
		id = "user:" + url.QueryEscape(s.user)
	case s.session != "":
		id = "session:" + url.QueryEscape(s.session)
	default:
		return ""
	}
	if s.toolkit != "" {
		id += "/toolkit:" + url.QueryEscape(strings.ToLower(s.toolkit))
	}
	return id
}

// UserFromContext returns the user id set by WithUser, unless a later
// selection replaced it.
func UserFromContext(ctx context.Context) (string, bool) {
	if sel := selectionFrom(ctx); sel != nil && sel.user != "" {
		return sel.user, true
	}
	return "", false
}

// SessionFromContext returns the session id set by WithSession, unless a
// later selection replaced it.
func SessionFromContext(ctx context.Context) (string, bool) {
	if sel := selectionFrom(ctx); sel != nil && sel.session != "" {
		return sel.session, true
	}
	return "", false
}

// ToolkitFromContext returns the toolkit slug set by WithToolkit.
func ToolkitFromContext(ctx context.Context) (string, bool) {
	if tk := toolkitFrom(ctx); tk != "" {
		return tk, true
	}
	return "", false
}

func connectionIdentity(c *credentials.Connection) string {
	b, err := credentials.MarshalWire(c)
	if err != nil {
		return "connection:invalid"
	}
	sum := sha256.Sum256(b)
	return "connection:" + hex.EncodeToString(sum[:16])
}

func selectionFrom(ctx context.Context) *selection {
	sel, _ := ctx.Value(selectionKey).(*selection)
	return sel
}

// ConnectedAccountFromContext returns the account id set by
// WithConnectedAccount, unless a later WithConnection, WithUser or
// WithSession replaced it.
func ConnectedAccountFromContext(ctx context.Context) (string, bool) {
	if sel := selectionFrom(ctx); sel != nil && sel.byAccount() && sel.identity != "" {
		return sel.account, true
	}
	return "", false
}

// ConnectionFromContext returns the connection set by WithConnection,
// unless a later WithConnectedAccount replaced it.
func ConnectionFromContext(ctx context.Context) (*credentials.Connection, bool) {
	if sel := selectionFrom(ctx); sel != nil && sel.conn != nil {
		return sel.conn, true
	}
	return nil, false
}

// CallInfo collects what the Transport and the middleware learn about one
// call, for observers such as tracing and logging. An observer puts a
// *CallInfo in the request context with WithCallInfo before calling down
// the chain and reads it once RoundTrip returns. Fields are written by the
// layer named in their comment; a nil *CallInfo is never written.
type CallInfo struct {
	// ConnectedAccountID is the account the call actually used: given, or
	// looked up for a user (Transport). Empty for a connection or a
	// session, whose proxy picks the account itself.
	ConnectedAccountID string
	// Toolkit is the toolkit of a connection, or of a user's or session's
	// call (given with WithToolkit or derived from the URL) (Transport).
	Toolkit string
	// UserID and SessionID: the user or tool-router session the call
	// acted for, when selected that way (Transport).
	UserID    string
	SessionID string
	// Resolved reports that ConnectedAccountID was looked up for UserID
	// and Toolkit rather than given (Transport).
	Resolved bool
	// ResolverCacheHit reports that the lookup was answered from the
	// Transport's cache, with no call to the connected-accounts API
	// (Transport).
	ResolverCacheHit bool
	// ResolverLookups counts the connected-accounts lookups this call
	// waited for: 0 on a cache hit, 1 on a miss, 2 when the proxy said the
	// cached account was gone or not active and it was looked up again
	// (Transport). Callers that joined another's lookup count it too.
	ResolverLookups int
	// RequestID is the proxy's request id, when it gave one (Transport).
	RequestID string
	// UpstreamStatus is the upstream's status, 0 when the proxy failed
	// (Transport).
	UpstreamStatus int
	// ProxyStatus is the HTTP status of the proxy's own reply (Transport).
	ProxyStatus int
	// Retries counts the retries made (middleware/retry).
	Retries int
	// CacheHit reports a response served from cache (middleware/cache).
	CacheHit bool
	// CacheResult is what middleware/cache did with the call: "hit",
	// "miss" (looked up, not found or stale) or "bypass" (not cacheable:
	// a write, a body, a Range, no tenant); "" without a cache layer.
	CacheResult string
	// BodySentAsBinary reports that a request body labelled JSON went
	// as binary_body, byte for byte: it was not a whole JSON document
	// (a chunk of a resumable upload, text labelled JSON), or
	// Transport.JSONAsBinary asked for it (Transport).
	BodySentAsBinary bool
	// SentDirect reports an off-site redirect sent directly through
	// Base, not through the proxy, with no Composio key or credentials
	// (Transport; see Transport.ProxyOffSiteRedirects). The other
	// Transport fields are then zero.
	SentDirect bool
}

// WithCallInfo returns a context carrying info for the layers below to fill.
func WithCallInfo(ctx context.Context, info *CallInfo) context.Context {
	return context.WithValue(ctx, callInfoKey, info)
}

// CallInfoFromContext returns the *CallInfo set by WithCallInfo, or nil.
func CallInfoFromContext(ctx context.Context) *CallInfo {
	info, _ := ctx.Value(callInfoKey).(*CallInfo)
	return info
}

// Identity names the tenant a request acts for, for middleware that must
// keep tenants apart (cache keys, rate-limit keys): "account:<id>" for
// WithConnectedAccount, "connection:<digest>" for WithConnection (a SHA-256
// digest of the connection's wire encoding, so no secret leaks into a key),
// "user:<id>" for WithUser and "session:<id>" for WithSession, each
// followed by "/toolkit:<slug>" when WithToolkit names one (ids and slugs
// query-escaped, so no two selections share a name), and "" when the
// context selects nothing and the Transport's own fields apply. It is
// computed when the context is made, so calling it costs nothing.
func Identity(ctx context.Context) string {
	if sel := selectionFrom(ctx); sel != nil {
		return sel.identity
	}
	return ""
}

// TransportIdentity names the tenant that requests whose context selects
// nothing (Identity returns "") act for through rt: the Identity of the
// *Transport found by following Unwrap() http.RoundTripper methods down
// from rt, for its own Connection ("connection:<digest>"),
// ConnectedAccountID ("account:<id>"), SessionID ("session:<id>") or
// UserID ("user:<id>"), in the Transport's order of precedence, so that it
// equals the Identity of a context selecting the same tenant. It returns
// "" when there is no such Transport within 100 unwraps, or it acts for
// nobody. Middleware that keys by tenant calls it once, when built, and
// uses it for requests whose Identity is "" (package cache for its keys,
// package ratelimit for its buckets); the Transport's fields must then
// not change, as its documentation asks.
func TransportIdentity(rt http.RoundTripper) string {
	for range 100 { // a bound, should some Unwrap loop
		switch t := rt.(type) {
		case *Transport:
			if t == nil {
				return ""
			}
			ctx := context.Background()
			switch {
			case t.Connection != nil:
				ctx = WithConnection(ctx, t.Connection)
			case t.ConnectedAccountID != "":
				ctx = WithConnectedAccount(ctx, t.ConnectedAccountID)
			case t.SessionID != "":
				ctx = WithSession(ctx, t.SessionID)
			case t.UserID != "":
				ctx = WithUser(ctx, t.UserID)
			}
			return Identity(ctx)
		case interface{ Unwrap() http.RoundTripper }:
			rt = t.Unwrap()
		default:
			return ""
		}
	}
	return ""
}
