package testutil

import (
	"math"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestReadCappedLimits: readCapped reads a reply whole when it is within
// the limit, at every limit WithMaxUpstreamReply and WithMaxEnvelope
// accept, up to math.MaxInt64 (one past it overflowed: the reply was read
// as empty), and refuses one past the limit.
func TestReadCappedLimits(t *testing.T) {
	t.Parallel()
	const reply = "hello"
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(reply)) }))
	defer up.Close()
	for _, tc := range []struct {
		limit    int64
		wantBody string
		wantErr  error
	}{
		{math.MaxInt64, reply, nil},
		{math.MaxInt64 - 1, reply, nil},
		{int64(len(reply)), reply, nil},
		{int64(len(reply)) - 1, "", errUpstreamTooLarge},
	} {
		req, _ := http.NewRequest(http.MethodGet, up.URL, nil)
		res, err := readCapped(up.Client(), req, tc.limit)
		if err != tc.wantErr || (err == nil && string(res.body) != tc.wantBody) {
			t.Errorf("limit %d: %v, %v; want %q, %v", tc.limit, res, err, tc.wantBody, tc.wantErr)
		}
	}
}
