// Package benchcpu reports a benchmark's CPU time per operation, for the
// middleware benchmarks: on a shared, busy machine the wall time mostly
// measures the neighbours.
package benchcpu

import (
	"net/http"
	"testing"
)

// Start begins measuring; call the returned function after the benchmark
// loop to report the process's CPU time per operation as "cpu-ns/op". On a
// system where the process's CPU time cannot be read (not Unix or
// Windows), no such metric is reported.
func Start(b *testing.B) func() {
	start, ok := cpuTime()
	return func() {
		end, ok2 := cpuTime()
		if ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// RoundTrips runs one sub-benchmark per named RoundTripper, each sending a
// GET of url in a loop and closing the response, with allocations and CPU
// time per operation reported.
func RoundTrips(b *testing.B, url string, rts []Named) {
	for _, rt := range rts {
		b.Run(rt.Name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			b.ReportAllocs()
			done := Start(b)
			for b.Loop() {
				resp, err := rt.RT.RoundTrip(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
			}
			done()
		})
	}
}

// Named is a RoundTripper with a sub-benchmark name.
type Named struct {
	Name string
	RT   http.RoundTripper
}
