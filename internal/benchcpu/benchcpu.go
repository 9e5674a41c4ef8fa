// Package benchcpu reports a benchmark's CPU time per operation, for the
// middleware benchmarks: on a shared, busy machine the wall time mostly
// measures the neighbours.
package benchcpu

import (
	"net/http"
	"syscall"
	"testing"
	"time"
)

// Start begins measuring; call the returned function after the benchmark
// loop to report the process's CPU time per operation as "cpu-ns/op".
func Start(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
