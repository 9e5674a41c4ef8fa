package ratelimit

import (
	"context"
	"net/http"
	"testing"

	"github.com/composiohttp/composiohttp"
)

// okStub answers every call with the same in-memory 200 response, so that
// the benchmarks measure only what the middleware adds.
type okStub struct{ resp *http.Response }

func (s okStub) RoundTrip(*http.Request) (*http.Response, error) { return s.resp, nil }

func newOKStub() okStub {
	return okStub{resp: &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}}
}

// BenchmarkStub is the baseline: the stub alone.
func BenchmarkStub(b *testing.B) { bench(b, newOKStub(), context.Background()) }

// BenchmarkLocal: a call that needs no wait (a finite limit never reached), for the Transport's own
// account (key "").
func BenchmarkLocal(b *testing.B) {
	bench(b, New(newOKStub(), NewLocal(1e9, 1e9)), context.Background())
}

// BenchmarkLocalAccount: the same for an account chosen in the context
// (key "account:<id>", built per call).
func BenchmarkLocalAccount(b *testing.B) {
	bench(b, New(newOKStub(), NewLocal(1e9, 1e9)), composiohttp.WithConnectedAccount(context.Background(), "ca_1"))
}

// BenchmarkLocalParallel: many goroutines, 1000 accounts.
func BenchmarkLocalParallel(b *testing.B) {
	rt := New(newOKStub(), NewLocal(1e9, 1e9))
	reqs := make([]*http.Request, 1000)
	for i := range reqs {
		ctx := composiohttp.WithConnectedAccount(context.Background(), "ca_"+string(rune('a'+i%26))+string(rune('a'+i/26)))
		reqs[i], _ = http.NewRequestWithContext(ctx, "GET", "https://api.example.com/", nil)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := rt.RoundTrip(reqs[i%len(reqs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func bench(b *testing.B, rt http.RoundTripper, ctx context.Context) {
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/repos/o/r", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}
