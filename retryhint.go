package composiohttp

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RetryAfterHeader reads the wait a reply asks for, as Composio's generated
// clients do (composio-base-py, src/composio_client/_base_client.py,
// _parse_retry_after_header): retry-after-ms (milliseconds, possibly
// fractional) first, else Retry-After (see ParseRetryAfter). Capped at 24
// hours; 0 when neither is present and valid.
func RetryAfterHeader(h http.Header, now time.Time) time.Duration {
	if v := strings.TrimSpace(h.Get("Retry-After-Ms")); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return min(time.Duration(ms*float64(time.Millisecond)), 24*time.Hour)
		}
	}
	return ParseRetryAfter(h.Get("Retry-After"), now)
}

// ShouldRetryHeader reads x-should-retry, the server's explicit word on
// retrying that Composio's generated clients obey before any status rule
// (_base_client.py, _should_retry): "true" or "false" give retry and
// ok = true; anything else ok = false.
func ShouldRetryHeader(h http.Header) (retry, ok bool) {
	switch h.Get("X-Should-Retry") {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}
