package composiohttp_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/retry"
)

// stallingProxy answers every call with a proxy error whose body sends
// its first bytes and then stalls until the request's context ends, as a
// proxy (or the network) that stops mid-reply does; the body then fails
// with the context's error, as net/http's do.
type stallingProxy struct {
	status int
	calls  atomic.Int64
}

func (p *stallingProxy) RoundTrip(r *http.Request) (*http.Response, error) {
	p.calls.Add(1)
	io.Copy(io.Discard, r.Body)
	r.Body.Close()
	return &http.Response{StatusCode: p.status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: &stallingBody{ctx: r.Context(), first: `{"error":{"message":"inter`}, ContentLength: -1, Request: r}, nil
}

type stallingBody struct {
	ctx   context.Context
	first string
}

func (b *stallingBody) Read(p []byte) (int, error) {
	if b.first != "" {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func (b *stallingBody) Close() error { return nil }

// The deadline expiring while a proxy error body is read is
// the context's error (wrapped), not a retryable *Error 500 built from half
// a body, and the retry middleware does not retry it. synctest's fake
// clock makes the deadline pass as soon as everything waits.
func TestDeadlineWhileReadingProxyError(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 429, 502} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				p := &stallingProxy{status: status}
				tr := &composiohttp.Transport{APIKey: "ak_test", BaseURL: "https://proxy.test", ConnectedAccountID: "ca_1", Base: p}
				for _, rt := range []http.RoundTripper{tr, retry.New(tr)} {
					p.calls.Store(0)
					ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/user", nil)
					resp, err := rt.RoundTrip(req)
					cancel()
					if resp != nil {
						resp.Body.Close()
					}
					var pe *composiohttp.Error
					if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &pe) || composiohttp.IsRetryable(err) {
						t.Errorf("%T: err = %v (proxy error %v); want the context's deadline error, not retryable", rt, err, pe)
					}
					if err != nil && !strings.HasPrefix(err.Error(), "composiohttp: ") {
						t.Errorf("%T: err = %q, want the composiohttp: prefix", rt, err)
					}
					if n := p.calls.Load(); n != 1 {
						t.Errorf("%T: %d proxy calls, want 1 (no retry)", rt, n)
					}
				}
			})
		})
	}
}
