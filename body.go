package composiohttp

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
)

// memBody is a response body held in memory.
type memBody struct{ bytes.Reader }

func (*memBody) Close() error { return nil }

// binaryBody streams a binary_data body from its signed URL, fetched on the
// first Read. It sends no Composio credentials there. A refused URL (e.g.
// expired) or a body shorter or longer than the declared size is a
// *BinaryError from Read, never a silently truncated body.
type binaryBody struct {
	ctx  context.Context
	base http.RoundTripper
	url  string
	size int64 // declared size, -1 if none

	mu     sync.Mutex // guards rc, closed and err across Read and Close
	rc     io.ReadCloser
	closed bool
	err    error
	n      int64 // bytes read so far
}

func (b *binaryBody) open() (io.ReadCloser, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errBodyClosed
	}
	if b.err != nil {
		return nil, b.err
	}
	if b.rc != nil {
		return b.rc, nil
	}
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.url, nil)
	if err != nil {
		b.err = &BinaryError{Err: err}
		return nil, b.err
	}
	resp, err := b.base.RoundTrip(req)
	if err != nil {
		b.err = &BinaryError{Err: err}
		return nil, b.err
	}
	if resp.StatusCode != http.StatusOK {
		drainClose(resp.Body)
		b.err = &BinaryError{StatusCode: resp.StatusCode}
		return nil, b.err
	}
	if b.size >= 0 && resp.ContentLength >= 0 && resp.ContentLength != b.size {
		resp.Body.Close()
		b.err = &BinaryError{Expected: b.size, Got: resp.ContentLength}
		return nil, b.err
	}
	b.rc = resp.Body
	return b.rc, nil
}

var errBodyClosed = &BinaryError{Err: http.ErrBodyReadAfterClose}

func (b *binaryBody) Read(p []byte) (int, error) {
	rc, err := b.open()
	if err != nil {
		return 0, err
	}
	if b.size >= 0 && int64(len(p)) > b.size-b.n+1 {
		p = p[:b.size-b.n+1] // read at most one byte past the end, to detect it
	}
	n, err := rc.Read(p)
	b.n += int64(n)
	switch {
	case b.size >= 0 && b.n > b.size:
		return n - int(b.n-b.size), b.fail(&BinaryError{Expected: b.size, Got: b.n})
	case err == io.EOF && b.size >= 0 && b.n < b.size:
		return n, b.fail(&BinaryError{Expected: b.size, Got: b.n, Err: io.ErrUnexpectedEOF})
	case err != nil && err != io.EOF:
		return n, b.fail(&BinaryError{Err: err})
	}
	return n, err
}

func (b *binaryBody) fail(err error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
	return b.err
}

func (b *binaryBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	if b.rc != nil {
		return b.rc.Close()
	}
	return nil
}

// drainClose reads a little of body, so that the connection can be
// reused, and closes it.
func drainClose(body io.ReadCloser) {
	io.Copy(io.Discard, io.LimitReader(body, 4<<10))
	body.Close()
}

// errBodyLength: a body shorter or longer than its declared length.
var errBodyLength = fmt.Errorf("%w: request body length differs from its ContentLength", ErrBadRequest)

// readBody reads r whole: n bytes when n > 0, else up to max. More than
// max is ErrBodyTooLarge.
func readBody(r io.Reader, n, max int64) ([]byte, error) {
	return appendBody(nil, r, n, max)
}

// initialReadCap bounds what appendBody allocates for a declared length
// before any byte has arrived: a hostile or broken peer declaring 60 MiB
// and sending nothing costs this much, not 60 MiB.
const initialReadCap = 64 << 10

// appendBody appends all of r to dst: n bytes when n > 0 (fewer or more
// is an error), else up to max. More than max is ErrBodyTooLarge. The
// buffer grows as bytes arrive (doubling), never by more than the bytes
// still expected, so that a declared length costs memory only once it is
// really sent.
func appendBody(dst []byte, r io.Reader, n, max int64) ([]byte, error) {
	if n > max {
		return dst, fmt.Errorf("%w: %d bytes, limit %d", ErrBodyTooLarge, n, max)
	}
	start := len(dst)
	if n > 0 {
		want := start + int(n)
		dst = slices.Grow(dst, min(int(n), initialReadCap))
		for len(dst) < want {
			if len(dst) == cap(dst) {
				dst = slices.Grow(dst, min(want-len(dst), len(dst)-start))
			}
			m, err := r.Read(dst[len(dst):min(cap(dst), want)])
			dst = dst[:len(dst)+m]
			if err == io.EOF && len(dst) < want {
				err = io.ErrUnexpectedEOF
			}
			if err != nil && (err != io.EOF || len(dst) < want) {
				return dst[:start], fmt.Errorf("composiohttp: reading body: %w", err)
			}
		}
		var one [1]byte
		if m, _ := r.Read(one[:]); m > 0 {
			return dst[:start], errBodyLength
		}
		return dst, nil
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+m]
		if int64(len(dst)-start) > max {
			return dst[:start], fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, max)
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst[:start], fmt.Errorf("composiohttp: reading body: %w", err)
		}
	}
}
