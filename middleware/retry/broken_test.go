package retry_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/retry"
)

func noWait(context.Context, time.Duration) error { return nil }

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// closeCount is a response body that counts its Close calls.
type closeCount struct {
	io.Reader
	n int
}

func (c *closeCount) Close() error { c.n++; return nil }

// A next RoundTripper that breaks the contract, answering neither a
// response nor an error, or both, gets ErrNilResponse or its error alone:
// no panic, and no response that was already closed.
func TestBrokenNext(t *testing.T) {
	t.Parallel()
	retryable := io.ErrUnexpectedEOF
	if !composiohttp.IsRetryable(retryable) {
		t.Fatalf("%v is not retryable", retryable)
	}
	tests := []struct {
		name    string
		respErr error // returned with a response; nil: (nil, nil)
		opts    []retry.Option
		wantErr error
	}{
		{name: "nil nil", wantErr: retry.ErrNilResponse},
		{name: "nil nil, one attempt", opts: []retry.Option{retry.WithMaxAttempts(1)}, wantErr: retry.ErrNilResponse},
		{name: "response and retryable error", respErr: retryable, wantErr: retryable},
		{name: "response and other error", respErr: io.ErrShortWrite, wantErr: io.ErrShortWrite},
		{name: "response and error, one attempt", respErr: io.ErrShortWrite, opts: []retry.Option{retry.WithMaxAttempts(1)}, wantErr: io.ErrShortWrite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var bodies []*closeCount
			next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				if tt.respErr == nil {
					return nil, nil
				}
				b := &closeCount{Reader: strings.NewReader("x")}
				bodies = append(bodies, b)
				return &http.Response{StatusCode: 200, Body: b, Request: r}, tt.respErr
			})
			opts := append(tt.opts, retry.WithSleep(noWait))
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/", nil)
			resp, err := retry.New(next, opts...).RoundTrip(req)
			if resp != nil || !errors.Is(err, tt.wantErr) {
				t.Fatalf("got %v, %v; want no response and %v", resp, err, tt.wantErr)
			}
			for i, b := range bodies {
				if b.n != 1 {
					t.Errorf("response %d closed %d times, want 1", i+1, b.n)
				}
			}
		})
	}
}
