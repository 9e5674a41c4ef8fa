package testutil

import "net/http"

// DefaultOutageCalls is how many failing calls InjectOutage scripts when
// given 0: as many as open a middleware/breaker breaker with its default
// settings (5 consecutive failures).
const DefaultOutageCalls = 5

// InjectOutage scripts the "open the breaker" scenario: the next calls
// (calls ≤ 0: DefaultOutageCalls) get a proxy 503 ServiceUnavailable, in
// a row, as during an outage of the proxy. A circuit breaker that counts
// proxy 5xx opens after them; the calls after them succeed again, so that
// the breaker's half-open probe can close it.
func (s *Server) InjectOutage(calls int) {
	if calls <= 0 {
		calls = DefaultOutageCalls
	}
	s.Inject(Fault{Status: http.StatusServiceUnavailable, Times: calls})
}
