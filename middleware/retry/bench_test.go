package retry

import (
	"net/http"
	"strings"
	"testing"
)

// okStub answers every call with the same in-memory 200 response, so that
// the benchmarks measure only what the middleware adds.
type okStub struct{ resp *http.Response }

func (s okStub) RoundTrip(*http.Request) (*http.Response, error) { return s.resp, nil }

func newOKStub() okStub {
	return okStub{resp: &http.Response{StatusCode: 200, Header: http.Header{}, Body: http.NoBody}}
}

// BenchmarkStub is the baseline: the stub alone.
func BenchmarkStub(b *testing.B) { bench(b, newOKStub()) }

// BenchmarkRetry is a call that succeeds at once through retry.
func BenchmarkRetry(b *testing.B) { bench(b, New(newOKStub())) }

func bench(b *testing.B, rt http.RoundTripper) {
	req, _ := http.NewRequest("GET", "https://api.example.com/repos/o/r", nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRetryPUTBody is a replayable PUT with a body that succeeds at
// once: no GetBody call, no copy of the request.
func BenchmarkRetryPUTBody(b *testing.B) {
	rt := New(newOKStub())
	req, _ := http.NewRequest("PUT", "https://api.example.com/repos/o/r", strings.NewReader("{}"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rt.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}
