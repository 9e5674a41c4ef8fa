package ratelimit

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/internal/benchcpu"
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
	defer benchcpu.Start(b)()
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
	defer benchcpu.Start(b)()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalWait: Local.Wait alone, one key, no wait needed (the hot
// path: the key's bucket exists).
func BenchmarkLocalWait(b *testing.B) {
	l := NewLocal(1e9, 1e9)
	ctx := context.Background()
	b.ReportAllocs()
	defer benchcpu.Start(b)()
	for b.Loop() {
		if err := l.Wait(ctx, "account:ca_1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLocalChurn: every call a key not tracked, twice as many keys
// as MaxKeys (1,000), so that every call adds a bucket and evicts an idle
// one.
func BenchmarkLocalChurn(b *testing.B) {
	l := NewLocal(1e9, 1e9)
	l.MaxKeys = 1000
	keys := make([]string, 2*l.MaxKeys)
	for i := range keys {
		keys[i] = "account:ca_" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	defer benchcpu.Start(b)()
	i := 0
	for b.Loop() {
		if err := l.Wait(ctx, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkLocalOverflow: every call a new key while every tracked key is
// busy (no refill), beyond MaxKeys (1,000): each new key looks at the 16
// least recently used keys, evicts none and is tracked over the bound.
// The Local is renewed every 20,000 keys to bound the benchmark's memory.
func BenchmarkLocalOverflow(b *testing.B) {
	keys := make([]string, 20000)
	for i := range keys {
		keys[i] = "account:ca_" + strconv.Itoa(i)
	}
	newLocal := func() *Local { return &Local{Limit: 0, Burst: 1, MaxKeys: 1000} }
	l := newLocal()
	ctx := context.Background()
	b.ReportAllocs()
	defer benchcpu.Start(b)()
	i := 0
	for b.Loop() {
		if i == len(keys) {
			b.StopTimer()
			l, i = newLocal(), 0
			b.StartTimer()
		}
		if err := l.Wait(ctx, keys[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
