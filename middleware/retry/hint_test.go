package retry

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
)

// hinted answers with status and headers once, then 200.
type hinted struct {
	status int
	header http.Header
	err    error
	calls  int
}

func (h *hinted) RoundTrip(*http.Request) (*http.Response, error) {
	h.calls++
	if h.calls > 1 {
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}, nil
	}
	if h.err != nil {
		return nil, h.err
	}
	return &http.Response{StatusCode: h.status, Header: h.header, Body: http.NoBody}, nil
}

// TestRetryHints: x-should-retry (true|false) decides before the status
// rules, and retry-after-ms wins over Retry-After, as in Composio's
// generated clients; for the proxy's own errors (Error.ShouldRetry,
// Error.RetryAfter) and for upstream responses alike.
func TestRetryHints(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name      string
		next      *hinted
		wantCalls int
		wantWaits []time.Duration
	}{
		{"upstream 503, x-should-retry false", &hinted{status: 503, header: hdr("X-Should-Retry", "false")}, 1, nil},
		{"upstream 409, x-should-retry true", &hinted{status: 409, header: hdr("X-Should-Retry", "true", "Retry-After-Ms", "250")}, 2, []time.Duration{250 * time.Millisecond}},
		{"upstream 429, retry-after-ms over Retry-After", &hinted{status: 429, header: hdr("Retry-After-Ms", "1500.5", "Retry-After", "9")}, 2, []time.Duration{1500*time.Millisecond + 500*time.Microsecond}},
		{"upstream 503, other x-should-retry value ignored", &hinted{status: 503, header: hdr("X-Should-Retry", "maybe", "Retry-After", "2")}, 2, []time.Duration{2 * time.Second}},
		{"proxy 502, ShouldRetry false", &hinted{err: &composiohttp.Error{StatusCode: 502, ShouldRetry: &no}}, 1, nil},
		{"proxy 409, ShouldRetry true", &hinted{err: &composiohttp.Error{StatusCode: 409, ShouldRetry: &yes, RetryAfter: time.Second}}, 2, []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := newClock()
			rt := New(tt.next, constant(time.Minute), WithClock(c.now), WithSleep(c.sleep))
			req, _ := http.NewRequest("GET", "https://api.example.com/x", nil)
			rt.RoundTrip(req)
			if tt.next.calls != tt.wantCalls || !slices.Equal(c.waits(), tt.wantWaits) {
				t.Errorf("%d calls, waits %v; want %d, %v", tt.next.calls, c.waits(), tt.wantCalls, tt.wantWaits)
			}
		})
	}
	// x-should-retry never makes a non-idempotent request replayable.
	next := &hinted{status: 503, header: hdr("X-Should-Retry", "true")}
	req, _ := http.NewRequest("POST", "https://api.example.com/x", nil)
	New(next, WithSleep(newClock().sleep)).RoundTrip(req)
	if next.calls != 1 {
		t.Errorf("POST sent %d times", next.calls)
	}
}
