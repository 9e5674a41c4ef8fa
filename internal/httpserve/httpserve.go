// Package httpserve holds the one serve-until-cancelled loop of the
// module's commands (testutil/cmd/fakeproxy, conformance -echo).
// examples/multitenant keeps its own copy on purpose: an example imports
// only what a reader's program can, and internal packages are not that.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// Serve serves srv on ln until ctx ends, then shuts srv down gracefully,
// waiting up to grace for the requests in flight. It returns Serve's error
// when serving fails first, Shutdown's when the requests in flight outlast
// grace (context.DeadlineExceeded), and nil after a clean shutdown. The
// caller may announce ln's address before calling it: ln already accepts
// connections, which wait until Serve takes them.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
