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
