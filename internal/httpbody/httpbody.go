// Package httpbody holds the one way a response body that nobody reads is
// let go of: drained a bounded amount, so that its connection can be
// reused, and closed (the root Transport's failed downloads, retry's
// discarded attempts, the responses the cache drops).
package httpbody

import "io"

// ReuseLimit is how much of a dropped body the middleware drain (64 KiB)
// before their next call, which then reuses the connection: reading a
// little more is cheaper than a new TLS handshake.
const ReuseLimit = 64 << 10

// DrainClose reads at most limit bytes of body and discards them, so that
// the connection can be reused when the body ends within the limit, then
// closes body. Errors are ignored: the body is not wanted. A nil body is
// nothing to do.
func DrainClose(body io.ReadCloser, limit int64) {
	if body == nil {
		return
	}
	_, _ = io.CopyN(io.Discard, body, limit)
	body.Close()
}
