//go:build unix

// Package redistest starts a private redis-server for a test, one that
// the test may kill or freeze (SIGSTOP) to see how a client copes. Only
// tests import it.
package redistest

import (
	"bytes"
	"context"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a redis-server process owned by one test.
type Server struct {
	// Addr is host:port of the server, on loopback.
	Addr string

	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex
	frozen bool
}

// Start starts a redis-server on a free loopback port, waits until it
// answers PING, and kills it when the test ends. It skips the test when
// redis-server is not on PATH (.ci/run installs it).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redistest: no redis-server on PATH; install redis-server to run this test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	dir := t.TempDir()
	log := &readyWriter{ready: make(chan struct{})}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
	cmd.Dir = dir
	cmd.Stdout = log
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatalf("redistest: start redis-server: %v", err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), cmd: cmd, done: make(chan struct{})}
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(s.done) }()
	t.Cleanup(s.Kill)
	select {
	case <-log.ready:
	case <-s.done:
		t.Fatalf("redistest: redis-server exited before it was ready: %v\n%s", waitErr, log.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("redistest: redis-server not ready after 10s:\n%s", log.String())
	}
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redistest: redis-server does not answer PING: %v", err)
	}
	return s
}

// Kill kills the server and waits until it has exited: its port then
// refuses connections.
func (s *Server) Kill() {
	s.Continue() // a frozen process does not die of SIGKILL until continued on every OS
	s.cmd.Process.Kill()
	<-s.done
}

// Freeze stops the server with SIGSTOP: connections still open (the
// kernel completes the handshake) but nothing answers. Start's cleanup
// continues it.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err == nil {
		s.frozen = true
	}
}

// Continue resumes a frozen server (SIGCONT).
func (s *Server) Continue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen {
		s.cmd.Process.Signal(syscall.SIGCONT)
		s.frozen = false
	}
}

// readyWriter collects redis-server's log and signals the line saying it
// accepts connections.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	once  sync.Once
	ready chan struct{}
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), []byte("Ready to accept connections")) {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func (w *readyWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// Client returns a go-redis client of s with go-redis's default options
// (what a user who sets none gets: dial retries, a 3s ReadTimeout, socket
// reads that ignore context deadlines), closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	t.Cleanup(func() { c.Close() })
	return c
}
