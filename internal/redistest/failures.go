package redistest

// Failure is one way a test breaks its Server.
type Failure struct {
	Name  string
	Break func(*Server)
}

// Failures are the ways the deadline tests break Redis: killed
// (connections refused at once) and frozen (SIGSTOP: connections accepted
// by the kernel, then no answer).
var Failures = []Failure{
	{"killed", (*Server).Kill},
	{"frozen", (*Server).Freeze},
}
