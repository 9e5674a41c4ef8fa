package benchcpu

import (
	"runtime"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestCPUTime: where the process's CPU time can be read, it is read and it
// grows while the process computes.
func TestCPUTime(t *testing.T) {
	start, ok := cpuTime()
	switch runtime.GOOS {
	case "plan9", "js", "wasip1":
		if ok {
			t.Fatalf("cpuTime readable on %s", runtime.GOOS)
		}
		return
	}
	if !ok {
		t.Fatalf("cpuTime not readable on %s", runtime.GOOS)
	}
	x := uint64(1)
	for i := 0; ; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		if i%(1<<16) != 0 {
			continue
		}
		now, ok := cpuTime()
		if !ok || now < start {
			t.Fatalf("cpuTime went from %v to %v (ok %v)", start, now, ok)
		}
		if now > start {
			break
		}
	}
	_ = x
}

// TestInterleave: each function is called n times in all, in blocks, and
// the one that burns more CPU per call is reported as costing more.
func TestInterleave(t *testing.T) {
	var na, nb int
	spin := func(k int) {
		x := uint64(1)
		for range k {
			x = x*6364136223846793005 + 1442695040888963407
		}
		sink = x
	}
	a := func() { na++; spin(1 << 10) }
	b := func() { nb++; spin(1 << 16) }
	aNs, bNs, ratio, ok := Interleave(250, 64, a, b)
	switch runtime.GOOS {
	case "plan9", "js", "wasip1":
		if ok {
			t.Fatalf("Interleave reports CPU time on %s", runtime.GOOS)
		}
		return
	}
	if !ok || na != 250 || nb != 250 {
		t.Fatalf("ok %v, calls %d and %d; want 250 each", ok, na, nb)
	}
	if !(bNs > aNs) || !(ratio > 1) {
		t.Errorf("64x the work measured %.0f ns/call against %.0f, median ratio %.2f", bNs, aNs, ratio)
	}
}

var sink uint64
