package composiohttp

import (
	"bytes"
	"context"
	"io"
	"net/http"
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
