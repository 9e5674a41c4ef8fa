// Package benchcpu reports a benchmark's CPU time per operation, for the
// middleware benchmarks: on a shared, busy machine the wall time mostly
// measures the neighbours.
package benchcpu

import (
	"net/http"
	"slices"
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
// both alike) until each has made n calls. It returns:
//
//   - aNs, bNs: each one's CPU time per call in nanoseconds, over all
//     blocks;
//   - ratio: the median over the rounds (one block of each) of b's CPU
//     time over a's. A garbage collection cycle or a burst of load from
//     another process lands in one block and skews that round's ratio;
//     the median ignores such rounds where the totals do not.
//
// ok is false where the process's CPU time cannot be read. Whatever else
// the process runs meanwhile counts too, so the work should not leave
// goroutines running between calls.
func Interleave(n, block int, a, b func()) (aNs, bNs, ratio float64, ok bool) {
	if n <= 0 || block <= 0 {
		return 0, 0, 0, false
	}
	var ta, tb time.Duration
	run := func(f func(), k int) (time.Duration, bool) {
		start, ok1 := cpuTime()
		for range k {
			f()
		}
		end, ok2 := cpuTime()
		return end - start, ok1 && ok2
	}
	ok = true
	var ratios []float64
	for done, round := 0, 0; done < n; round++ {
		k := min(block, n-done)
		var da, db time.Duration
		var oka, okb bool
		if round%2 == 0 {
			da, oka = run(a, k)
			db, okb = run(b, k)
		} else {
			db, okb = run(b, k)
			da, oka = run(a, k)
		}
		ok = ok && oka && okb
		ta, tb = ta+da, tb+db
		if da > 0 {
			ratios = append(ratios, float64(db)/float64(da))
		}
		done += k
	}
	if len(ratios) > 0 {
		slices.Sort(ratios)
		ratio = ratios[len(ratios)/2]
		if len(ratios)%2 == 0 {
			ratio = (ratios[len(ratios)/2-1] + ratio) / 2
		}
	}
	return float64(ta) / float64(n), float64(tb) / float64(n), ratio, ok
}
