package testutil

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Composio's organisation rate limit, as the fake reports and (with
// WithOrgLimit) enforces it. The header names, the "600s" form of the
// window size, the Retry-After on 429 and the flat 429 body
// {"message": "Rate limit exceeded. Limit: 100000 requests per 10 minutes"}
// follow https://docs.composio.dev/reference/rate-limits.
const (
	// HeaderRateLimit is the number of requests the organisation may make
	// in a window.
	HeaderRateLimit = "X-RateLimit"
	// HeaderRateLimitRemaining is how many of them are left in the
	// current window.
	HeaderRateLimitRemaining = "X-RateLimit-Remaining"
	// HeaderRateLimitWindowSize is the window's length, in seconds with
	// an "s" suffix ("600s").
	HeaderRateLimitWindowSize = "X-RateLimit-Window-Size"

	// DefaultOrgLimit and DefaultOrgWindow are the limit the fake reports
	// when WithOrgLimit is not used (Composio's Starter plan: 20,000
	// requests per 10 minutes). They are reported, not enforced.
	DefaultOrgLimit  = 20000
	DefaultOrgWindow = 10 * time.Minute
)

// WithOrgLimit makes the fake enforce an organisation rate limit of limit
// requests per fixed window (windows start at multiples of window since
// the Unix epoch, by the fake's clock, see WithClock). Every request to an
// API path with a valid API key counts, whatever its reply; once limit
// requests have been counted in a window, the others get a 429 with
// Retry-After (whole seconds until the window ends, at least 1) and the
// flat body {"message": "Rate limit exceeded. Limit: <n> requests per
// <window>"}, before anything else is checked. limit ≤ 0 or window ≤ 0
// leaves the default: DefaultOrgLimit per DefaultOrgWindow, reported but
// never enforced.
//
// Every reply of an API path (not the signed binary URLs) carries
// X-RateLimit, X-RateLimit-Remaining and X-RateLimit-Window-Size.
func WithOrgLimit(limit int, window time.Duration) Option {
	return func(c *config) {
		if limit > 0 && window > 0 {
			c.orgLimit, c.orgWindow, c.orgEnforced = limit, window, true
		}
	}
}

// orgCounter is the fake's fixed-window counter. Guarded by Server.mu.
type orgCounter struct {
	window time.Time // start of the current window
	count  int       // requests counted in it
}

// orgLimit counts r (when its API key is valid), sets the rate-limit
// headers on w, and answers a 429 when the org limit is exceeded; it
// reports whether it answered.
func (s *Server) orgLimit(w http.ResponseWriter, r *http.Request) bool {
	limit, size := s.cfg.orgLimit, s.cfg.orgWindow
	now := s.cfg.now()
	start := now.Truncate(size)
	counts := s.checkAPIKey(r) == nil
	s.mu.Lock()
	if !s.org.window.Equal(start) {
		s.org.window, s.org.count = start, 0
	}
	if counts {
		s.org.count++
	}
	n := s.org.count
	s.mu.Unlock()

	h := w.Header()
	h.Set(HeaderRateLimit, strconv.Itoa(limit))
	h.Set(HeaderRateLimitRemaining, strconv.Itoa(max(limit-n, 0)))
	h.Set(HeaderRateLimitWindowSize, strconv.FormatInt(int64(size/time.Second), 10)+"s")
	if !counts || !s.cfg.orgEnforced || n <= limit {
		return false
	}
	retry := start.Add(size).Sub(now)
	secs := int64((retry + time.Second - 1) / time.Second)
	h.Set(headerRetryAfter, strconv.FormatInt(max(secs, 1), 10))
	h.Set(headerContentType, contentTypeJSON)
	w.WriteHeader(http.StatusTooManyRequests)
	fmt.Fprintf(w, `{"message":"Rate limit exceeded. Limit: %d requests per %s"}`, limit, humanWindow(size))
	return true
}

// ExhaustOrgLimit uses up what is left of the current window of the org
// limit, so that the next API requests get a 429 until the window ends:
// the "exhaust the org limit" scenario. Without WithOrgLimit only the
// reported X-RateLimit-Remaining drops to 0.
func (s *Server) ExhaustOrgLimit() {
	start := s.cfg.now().Truncate(s.cfg.orgWindow)
	s.mu.Lock()
	s.org.window, s.org.count = start, s.cfg.orgLimit
	s.mu.Unlock()
}

// humanWindow writes a window as Composio's message does: "10 minutes",
// "1 minute", "30 seconds", "1 hour".
func humanWindow(d time.Duration) string {
	unit, n := "second", int64(d/time.Second)
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		unit, n = "hour", int64(d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		unit, n = "minute", int64(d/time.Minute)
	}
	if n == 1 {
		return "1 " + unit
	}
	return strconv.FormatInt(n, 10) + " " + unit + "s"
}

// isAPIPath reports whether p is a Composio API path (counted by the org
// limit), as opposed to a signed binary URL.
func isAPIPath(p string) bool { return !strings.HasPrefix(p, binaryPathPrefix) }
