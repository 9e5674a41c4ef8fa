package composiohttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/composiohttp/composiohttp/credentials"
)

type ctxKey int

const (
	selectionKey ctxKey = iota
	callInfoKey
)

// selection is what WithConnectedAccount and WithConnection put in a
// context, with its Identity worked out once, there, rather than on every
// call of every middleware that keys by tenant.
type selection struct {
	account  string
	conn     *credentials.Connection
	identity string
}

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
// WithConnectedAccount, unless a later WithConnection replaced it.
func ConnectedAccountFromContext(ctx context.Context) (string, bool) {
	if sel := selectionFrom(ctx); sel != nil && sel.conn == nil && sel.identity != "" {
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
	// ConnectedAccountID and Toolkit: the Transport (Toolkit only when a
	// connection is sent).
	ConnectedAccountID string
	Toolkit            string
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
// and "" when the context selects nothing and the Transport's own account
// or connection applies. It is computed when the context is made, so
// calling it costs nothing.
func Identity(ctx context.Context) string {
	if sel := selectionFrom(ctx); sel != nil {
		return sel.identity
	}
	return ""
}
