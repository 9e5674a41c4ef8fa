package retry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
)

// One retry table, composiohttp.RetryableStatus, for the
// proxy's own error statuses and the upstream's statuses alike. Before,
// a proxy 503 was not retried while its 500 was, and an upstream 500 was
// not retried while its 503 was.
func TestOnePolicyForProxyAndUpstream(t *testing.T) {
	t.Parallel()
	want := map[int]bool{408: true, 429: true, 500: true, 502: true, 503: true, 504: true}
	for _, where := range []string{"proxy", "upstream"} {
		for status := 400; status < 600; status++ {
			t.Run(fmt.Sprint(where, status), func(t *testing.T) {
				t.Parallel()
				first := outcome{status: status}
				if where == "proxy" {
					first = outcome{err: &composiohttp.Error{StatusCode: status}}
				}
				s := &stub{outcomes: []outcome{first, {status: 200}}}
				rt := New(s, WithSleep(func(context.Context, time.Duration) error { return nil }), WithMaxAttempts(2))
				req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/x", nil)
				resp, err := rt.RoundTrip(req)
				if resp != nil {
					resp.Body.Close()
				}
				retried := s.calls == 2
				if retried != want[status] {
					t.Errorf("%s %d: retried %v, want %v (err %v)", where, status, retried, want[status], err)
				}
				if retried != composiohttp.RetryableStatus(status) {
					t.Errorf("%s %d: retried %v, RetryableStatus %v", where, status, retried, composiohttp.RetryableStatus(status))
				}
			})
		}
	}
}

// ErrNilRequest is defined once, in the root package.
func TestNilRequestIsTheRootError(t *testing.T) {
	t.Parallel()
	if _, err := New(nil).RoundTrip(nil); !errors.Is(err, composiohttp.ErrNilRequest) {
		t.Errorf("err = %v, want composiohttp.ErrNilRequest", err)
	}
}
