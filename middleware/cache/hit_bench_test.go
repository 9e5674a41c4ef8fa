package cache_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware/cache"
)

// BenchmarkHit measures the cache alone on a hit: next is an in-process
// upstream that is called once, then every call is answered from the
// store. "authorized" is a request with its own Authorization header
// (WithAuthorizedRequests) to a response that varies on it.
func BenchmarkHit(b *testing.B) {
	for _, bc := range []struct {
		name string
		auth string
		opts []cache.Option
	}{
		{name: "plain"},
		{name: "authorized", auth: "Bearer secret", opts: []cache.Option{cache.WithAuthorizedRequests()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := &stub{h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("Vary", "Accept, Authorization")
				io.WriteString(w, `{"login":"octocat","id":1,"name":"The Octocat"}`)
			}}
			rt := cache.New(s, append(bc.opts, cache.WithDefaultIdentity("bench"))...)
			req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/user", nil)
			req.Header.Set("Accept", "application/json")
			if bc.auth != "" {
				req.Header.Set("Authorization", bc.auth)
			}
			b.ReportAllocs()
			done := benchcpu.Start(b)
			for b.Loop() {
				resp, err := rt.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			done()
			if s.calls.Load() != 1 {
				b.Fatalf("upstream called %d times, want 1", s.calls.Load())
			}
		})
	}
}
