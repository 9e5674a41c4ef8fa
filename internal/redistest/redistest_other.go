//go:build !unix

package redistest

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process owned by one test. Off Unix there is
// none: the process control the tests need (SIGSTOP, SIGCONT) is Unix's.
type Server struct {
	// Addr is host:port of the server, on loopback.
	Addr string
}

// Start skips the test: off Unix, redistest cannot freeze a server, so the
// tests that need one run on Unix only (CI runs them on Linux).
func Start(t testing.TB) *Server {
	t.Helper()
	t.Skip("redistest: a private redis-server that can be frozen needs Unix")
	return nil
}

// Kill, Freeze and Continue are never reached off Unix (Start skips).
func (s *Server) Kill()     {}
func (s *Server) Freeze()   {}
func (s *Server) Continue() {}

// Client is never reached off Unix (Start skips).
func (s *Server) Client(testing.TB) *redis.Client { return nil }
