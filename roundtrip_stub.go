package composiohttp

import (
	"errors"
	"net/http"
)

// RoundTrip is a placeholder while the real implementation is written.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return nil, errors.New("composiohttp: not implemented yet")
}
