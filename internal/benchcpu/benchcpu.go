// Package benchcpu reports a benchmark's CPU time per operation, for the
// middleware benchmarks: on a shared, busy machine the wall time mostly
// measures the neighbours.
package benchcpu

import (
	"net/http"
	"testing"
	"time"
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

// Interleave measures the process CPU time per call of two functions
// doing the same work two ways: it runs them in alternating blocks of
// block calls (ABBA order, so that drift in the machine's load falls on
// both alike) until each has made n calls, and returns each one's CPU time
// per call in nanoseconds. ok is false where the process's CPU time cannot
// be read. Whatever else the process runs meanwhile counts too, so the
// work should not leave goroutines running between calls.
func Interleave(n, block int, a, b func()) (aNs, bNs float64, ok bool) {
	if n <= 0 || block <= 0 {
		return 0, 0, false
	}
	var ta, tb time.Duration
	run := func(f func(), k int, total *time.Duration) bool {
		start, ok1 := cpuTime()
		for range k {
			f()
		}
		end, ok2 := cpuTime()
		*total += end - start
		return ok1 && ok2
	}
	ok = true
	for done, round := 0, 0; done < n; round++ {
		k := min(block, n-done)
		if round%2 == 0 {
			ok = run(a, k, &ta) && run(b, k, &tb) && ok
		} else {
			ok = run(b, k, &tb) && run(a, k, &ta) && ok
		}
		done += k
	}
	return float64(ta) / float64(n), float64(tb) / float64(n), ok
}
