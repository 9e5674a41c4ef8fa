package composiohttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"

	"github.com/composiohttp/composiohttp/internal/httpbody"
)

// memBody is a response body held in memory: data, which aliases the
// proxy's reply as read into buf, a buffer from replyPool. Close hands buf
// back to the pool, so that a later call reads its reply into memory the
// CPU has just used instead of fresh memory (one allocation, and a
// kilobyte or more of cache misses, fewer per call). mu keeps Read,
// WriteTo and Close apart, so that no byte of buf is read once it can
// belong to another call: after Close, Read and WriteTo fail as a net/http
// body's do (http.ErrBodyReadAfterClose), and a WriteTo that is handing
// the bytes to a Writer when Close comes keeps buf out of the pool until
// its Write returns (Close does not wait for it).
type memBody struct {
	mu      sync.Mutex
	data    []byte
	off     int
	buf     *[]byte // returned to replyPool once closed and not being written; nil if not pooled
	closed  bool
	writing int // WriteTo calls inside Write
}

func (b *memBody) reset(data []byte, buf *[]byte) { b.data, b.buf = data, buf }

func (b *memBody) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	if b.off >= len(b.data) {
		return 0, io.EOF
	}
	n := copy(p, b.data[b.off:])
	b.off += n
	return n, nil
}

// WriteTo writes the rest of the body to w in one Write (as
// bytes.Reader's WriteTo does), so that io.Copy needs no buffer.
func (b *memBody) WriteTo(w io.Writer) (int64, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return 0, http.ErrBodyReadAfterClose
	}
	rest := b.data[b.off:]
	b.writing++
	b.mu.Unlock()
	var n int
	var err error
	if len(rest) > 0 {
		n, err = w.Write(rest)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.writing--
	if n > len(rest) || n < 0 {
		n = 0
		if err == nil {
			err = errors.New("composiohttp: invalid Write result")
		}
	}
	b.off += n
	if n < len(rest) && err == nil {
		err = io.ErrShortWrite
	}
	b.release()
	return int64(n), err
}

func (b *memBody) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.release()
	return nil
}

// release hands buf back to the pool once the body is closed and no
// WriteTo is using it; b.mu is held.
func (b *memBody) release() {
	if b.closed && b.writing == 0 && b.buf != nil {
		b.data = nil
		putReplyBuf(b.buf)
		b.buf = nil
	}
}

// replyPool holds buffers for proxy replies (*[]byte). Only buffers of at
// most maxPooledReply bytes go back, so that one large reply does not stay
// in memory.
var replyPool sync.Pool

const maxPooledReply = 64 << 10

func getReplyBuf() *[]byte {
	if p, ok := replyPool.Get().(*[]byte); ok {
		return p
	}
	return new([]byte)
}

// putReplyBuf hands a reply buffer back cleared, up to its capacity: the
// next call reads its reply straight into the spare capacity (appendBody
// hands it to Base's body as p), which must not find this call's reply
// there, another tenant's data (nor bytes beyond len that a Read used as
// scratch).
func putReplyBuf(p *[]byte) {
	if cap(*p) <= maxPooledReply {
		*p = (*p)[:0]
		clear((*p)[:cap(*p)])
		replyPool.Put(p)
	}
}

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
		// 4 KiB, not the middleware's httpbody.ReuseLimit: the call fails
		// now and nothing follows on this connection soon, so a long error
		// page is not worth reading.
		httpbody.DrainClose(resp.Body, 4<<10)
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
