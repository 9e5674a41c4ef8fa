package httpbody

import (
	"errors"
	"strings"
	"testing"
)

type body struct {
	r      *strings.Reader
	closed bool
}

func (b *body) Read(p []byte) (int, error) { return b.r.Read(p) }
func (b *body) Close() error               { b.closed = true; return nil }

func TestDrainClose(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		size     int
		limit    int64
		wantLeft int
	}{
		{"empty", 0, 4 << 10, 0},
		{"under the limit", 100, 4 << 10, 0},
		{"exactly the limit", 4 << 10, 4 << 10, 0},
		{"over the limit: the rest is left", 4<<10 + 7, 4 << 10, 7},
		{"reuse limit", ReuseLimit + 1, ReuseLimit, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := &body{r: strings.NewReader(strings.Repeat("x", tc.size))}
			DrainClose(b, tc.limit)
			if !b.closed {
				t.Error("body not closed")
			}
			if got := b.r.Len(); got != tc.wantLeft {
				t.Errorf("%d bytes left unread, want %d", got, tc.wantLeft)
			}
		})
	}
}

type failing struct{ closed bool }

func (f *failing) Read([]byte) (int, error) { return 0, errors.New("broken") }
func (f *failing) Close() error             { f.closed = true; return errors.New("close failed") }

func TestDrainCloseFailingBody(t *testing.T) {
	t.Parallel()
	f := &failing{}
	DrainClose(f, ReuseLimit)
	if !f.closed {
		t.Error("a body whose read fails is still closed")
	}
	DrainClose(nil, ReuseLimit) // no panic
}
