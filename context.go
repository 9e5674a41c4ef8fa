package composiohttp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

	"github.com/composiohttp/composiohttp/credentials"
)

type ctxKey int

const (
	accountKey ctxKey = iota
	connectionKey
	callInfoKey
)

// WithConnectedAccount returns a context that makes the Transport act as
// the connected account id for requests made with it, overriding the
// Transport's own ConnectedAccountID and Connection.
func WithConnectedAccount(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, accountKey, id)
}

// WithConnection returns a context that makes the Transport send conn as
// custom_connection_data for requests made with it, overriding the
// Transport's own ConnectedAccountID and Connection. The connection is not
// copied; do not modify it while requests use it.
func WithConnection(ctx context.Context, conn *credentials.Connection) context.Context {
	return context.WithValue(ctx, connectionKey, conn)
}

// ConnectedAccountFromContext returns the account id set by
// WithConnectedAccount.
func ConnectedAccountFromContext(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(accountKey).(string)
	return id, ok
}

// ConnectionFromContext returns the connection set by WithConnection.
func ConnectionFromContext(ctx context.Context) (*credentials.Connection, bool) {
	c, ok := ctx.Value(connectionKey).(*credentials.Connection)
	return c, ok && c != nil
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
// or connection applies.
func Identity(ctx context.Context) string {
	if c, ok := ConnectionFromContext(ctx); ok {
		b, err := credentials.MarshalWire(c)
		if err != nil {
			return "connection:invalid"
		}
		sum := sha256.Sum256(b)
		return "connection:" + hex.EncodeToString(sum[:16])
	}
	if id, ok := ConnectedAccountFromContext(ctx); ok {
		return "account:" + id
	}
	return ""
}
