package otelproxy_test

import (
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp/middleware/otelproxy"
)

// A nil Option is skipped, as in retry and ratelimit.
func TestNilOption(t *testing.T) {
	t.Parallel()
	sr, tp := recorder()
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/", nil)
	if _, err := do(t, otelproxy.New(&stub{status: 200}, nil, otelproxy.WithTracerProvider(tp), nil), req); err != nil {
		t.Fatal(err)
	}
	if n := len(sr.Ended()); n != 1 {
		t.Errorf("%d spans, want 1", n)
	}
}
