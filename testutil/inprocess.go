package testutil

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/composiohttp/composiohttp"
)

// InProcess returns an http.RoundTripper that serves every request with the
// fake itself, in process, without a network connection: the request's
// host is ignored. It is meant for tests inside a testing/synctest bubble,
// where waiting on a socket would keep the bubble's clock from advancing:
//
//	synctest.Test(t, func(t *testing.T) {
//		s := testutil.NewUnstartedServer()
//		s.URL = "http://composio.test" // only names the signed binary URLs
//		tr := s.InProcessTransport()
//		// ... time.Sleep and every timer now run on the bubble's clock
//	})
//
// A Fault with Drop makes RoundTrip fail with io.ErrUnexpectedEOF, as a
// dropped connection does. The caller's request body is always closed.
func (s *Server) InProcess() http.RoundTripper { return inProcess{s} }

// InProcessTransport returns a new composiohttp.Transport that reaches the
// fake through InProcess, with its API key and no connected account set.
func (s *Server) InProcessTransport() *composiohttp.Transport {
	return &composiohttp.Transport{BaseURL: s.URL, APIKey: s.APIKey, Base: s.InProcess()}
}

type inProcess struct{ s *Server }

func (p inProcess) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	if req == nil {
		return nil, composiohttp.ErrNilRequest
	}
	if req.Body != nil {
		defer req.Body.Close()
	}
	if req.URL == nil {
		return nil, errors.New("testutil: InProcess: nil URL")
	}
	r := req.Clone(req.Context())
	r.RequestURI = req.URL.RequestURI()
	r.RemoteAddr = "192.0.2.2:1234"
	if r.Host == "" {
		r.Host = req.URL.Host
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				resp, err = nil, fmt.Errorf("testutil: InProcess: connection dropped: %w", io.ErrUnexpectedEOF)
				return
			}
			panic(v)
		}
	}()
	p.s.ServeHTTP(rec, r)
	if err := req.Context().Err(); err != nil {
		return nil, err
	}
	resp = rec.Result()
	resp.Request = req
	return resp, nil
}
