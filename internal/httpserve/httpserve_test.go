package httpserve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener hands out the server ends of net.Pipe connections: in
// memory, so that the tests run in a synctest bubble on its fake clock.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
	err    error // Accept's error when set (a listener that fails)
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	if l.err != nil {
		return nil, l.err
	}
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error   { l.once.Do(func() { close(l.closed) }); return nil }
func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "pipe" }

// get sends GET / on a new connection and returns a channel that gets the
// reply's status (0 when it failed), and the client's end to close.
func (l *pipeListener) get(t *testing.T) (<-chan int, net.Conn) {
	client, server := net.Pipe()
	l.conns <- server
	status := make(chan int, 1)
	go func() {
		io.WriteString(client, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(client), nil)
		if err != nil {
			status <- 0
			return
		}
		resp.Body.Close()
		status <- resp.StatusCode
	}()
	return status, client
}

func TestServe(t *testing.T) {
	t.Parallel()
	const grace = 5 * time.Second
	for _, tc := range []struct {
		name string
		// hold is how long the request in flight when ctx ends takes; 0:
		// no request.
		hold    time.Duration
		wantErr error
	}{
		{"no request in flight", 0, nil},
		{"a request that ends within grace", grace / 2, nil},
		// conformance -echo ignored Shutdown's error before; now both
		// commands report it (fakeproxy's behaviour).
		{"a request that outlasts grace", 2 * grace, context.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				started := make(chan struct{})
				srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					close(started)
					time.Sleep(tc.hold) // the fake clock of the bubble
					w.WriteHeader(http.StatusNoContent)
				})}
				ln := newPipeListener()
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan error, 1)
				go func() { done <- Serve(ctx, srv, ln, grace) }()
				var status <-chan int
				var client net.Conn
				if tc.hold > 0 {
					status, client = ln.get(t)
					<-started
				}
				cancel()
				if err := <-done; !errors.Is(err, tc.wantErr) {
					t.Fatalf("Serve = %v, want %v", err, tc.wantErr)
				}
				if tc.hold > 0 {
					if got := <-status; got != http.StatusNoContent {
						t.Errorf("request in flight: status %d, want 204", got)
					}
					client.Close()
				}
				srv.Close()
			})
		})
	}
}

func TestServeFails(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		broken := errors.New("accept failed")
		ln := newPipeListener()
		ln.err = broken
		err := Serve(t.Context(), &http.Server{}, ln, time.Second)
		if !errors.Is(err, broken) {
			t.Fatalf("Serve = %v, want the listener's error", err)
		}
	})
}
