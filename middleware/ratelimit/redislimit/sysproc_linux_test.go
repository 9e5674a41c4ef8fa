package redislimit

import (
	"os/exec"
	"syscall"
)

func init() {
	// The test redis-server dies with the test binary, even if it
	// panics before TestMain stops the server.
	setProcAttr = func(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
}
