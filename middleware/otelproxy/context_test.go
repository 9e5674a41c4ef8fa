package otelproxy_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

// TestCallContextDelegates: the context the layers below see (the
// middleware's own context node for the call) behaves as the caller's:
// the same deadline, Done channel, error and cause; the caller's values,
// its CallInfo included; a context derived from it below is cancelled
// with the caller's; and the caller's request keeps its context.
func TestCallContextDelegates(t *testing.T) {
	t.Parallel()
	type key struct{}
	cause := errors.New("the caller gave up")
	deadline := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name     string
		cancel   bool // the caller cancels while the layer below runs
		withInfo bool // the caller put a CallInfo of its own in the context
	}{
		{name: "live"},
		{name: "live, caller's CallInfo", withInfo: true},
		{name: "cancelled below", cancel: true},
		{name: "cancelled below, caller's CallInfo", cancel: true, withInfo: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, stop := context.WithDeadline(context.WithValue(context.Background(), key{}, "v"), deadline)
			defer stop()
			ctx, cancel := context.WithCancelCause(ctx)
			defer cancel(nil)
			var info *composiohttp.CallInfo
			if tc.withInfo {
				info = &composiohttp.CallInfo{}
				ctx = composiohttp.WithCallInfo(ctx, info)
			}
			var below context.Context
			var derivedErr error
			next := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				below = r.Context()
				derived, stopDerived := context.WithCancel(below)
				defer stopDerived()
				if tc.cancel {
					cancel(cause)
					<-below.Done()   // closed by cancel above; the test times out if not
					<-derived.Done() // a derived context follows
					derivedErr = derived.Err()
				}
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader("ok")), Request: r}, nil
			})
			_, tp := recorder()
			rt := otelproxy.New(next, otelproxy.WithTracerProvider(tp))
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.example.com/x", nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			if req.Context() != ctx {
				t.Error("the caller's request got another context")
			}
			if below == nil {
				t.Fatal("next was not called")
			}
			if d, ok := below.Deadline(); !ok || !d.Equal(deadline) {
				t.Errorf("Deadline() = %v, %v; want %v, true", d, ok, deadline)
			}
			if below.Done() != ctx.Done() {
				t.Error("Done() is not the caller's channel")
			}
			if got := below.Value(key{}); got != "v" {
				t.Errorf("Value(caller's key) = %v, want v", got)
			}
			got := composiohttp.CallInfoFromContext(below)
			switch {
			case got == nil:
				t.Error("no CallInfo below")
			case tc.withInfo && got != info:
				t.Error("the CallInfo below is not the caller's")
			}
			if tc.cancel {
				if !errors.Is(below.Err(), context.Canceled) || context.Cause(below) != cause {
					t.Errorf("Err() = %v, Cause = %v; want context.Canceled and the caller's cause", below.Err(), context.Cause(below))
				}
				if !errors.Is(derivedErr, context.Canceled) {
					t.Errorf("a context derived below: Err() = %v, want context.Canceled", derivedErr)
				}
			} else if below.Err() != nil || context.Cause(below) != nil {
				t.Errorf("Err() = %v, Cause = %v on a live context", below.Err(), context.Cause(below))
			}
		})
	}
}
