package breaker_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/composiohttp/composiohttp/internal/benchcpu"
	"github.com/composiohttp/composiohttp/middleware/breaker"
)

// okStub answers every call with the same in-memory 200 response, so that
// the benchmark measures only what the breaker adds.
type okStub struct{ resp *http.Response }

func (s okStub) RoundTrip(*http.Request) (*http.Response, error) { return s.resp, nil }

// BenchmarkBreakerClosed: the stub alone, then through a closed breaker,
// in the same run. Target: the difference ≤ 1 µs and ≤ 3 allocs per call.
func BenchmarkBreakerClosed(b *testing.B) {
	stub := okStub{resp: &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}}
	benchcpu.RoundTrips(b, "https://api.github.com/user", []benchcpu.Named{
		{Name: "stub", RT: stub},
		{Name: "breaker", RT: breaker.New(stub)},
		{Name: "breaker-by-account", RT: breaker.New(stub, breaker.WithKey(breaker.KeyByAccount))},
	})
}

// BenchmarkBreakerKeyChurn: every call for a new key, every breaker open
// (each key's one call fails; ReadyToTrip: one failure), with MaxKeys
// 1,000 kept: each call past the first 1,000 makes a breaker and drops the
// least recently used open one. The hostile case of "How many keys" on
// Local; the cost per call must not grow with the keys kept.
func BenchmarkBreakerKeyChurn(b *testing.B) {
	l := breaker.NewLocal(breaker.Settings{MaxKeys: 1000, ReadyToTrip: func(c breaker.Counts) bool { return c.ConsecutiveFailures >= 1 }})
	keys := make([]string, 1<<16)
	for i := range keys {
		keys[i] = "host-" + strconv.Itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	done := benchcpu.Start(b)
	i := 0
	for b.Loop() {
		d, err := l.Allow(ctx, keys[i%len(keys)])
		if err != nil {
			b.Fatal(err)
		}
		d(breaker.Failure)
		i++
	}
	done()
	if l.Len() > 1000 {
		b.Fatalf("%d breakers kept", l.Len())
	}
}
