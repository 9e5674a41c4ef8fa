package composiohttp

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/url"
	"time"
)

// callAPI makes one call to Composio's own API (not the proxy):
// CreateSession and the connected-accounts listing share its rules, so
// that they cannot drift apart.
//
//   - The request goes to BaseURL + path through Base, with the headers
//     every call to Composio carries (the API key in the header its kind
//     says, Header, COMPOSIO_CUSTOM_HEADERS); Content-Type only with a body.
//   - query is added after BaseURL's own query, which is kept byte for
//     byte, as the proxy call keeps it.
//   - Any 2xx is success, as in Composio's generated client
//     (composio-base-py src/composio_client/_base_client.py raises only on
//     4xx and 5xx, for every endpoint, whatever 2xx it answers): its
//     body is returned, at most maxReply bytes (more is ErrBodyTooLarge).
//   - Any other status is an *Error parsed from the reply (read up to
//     maxErrorBody), without the secrets the call sent that it echoes.
//   - A failure of Base is a *ProxyUnreachableError (its text scrubbed of
//     the API key and BaseURL's secrets), unless the caller's context
//     ended: then it is Base's error (errors.Is finds the context's),
//     shown with the same secrets scrubbed.
func (c *config) callAPI(ctx context.Context, method, path string, query url.Values, body []byte, maxReply int64) ([]byte, error) {
	u := c.apiBase
	u.Path += path
	u.RawPath = ""
	if len(query) > 0 {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += query.Encode()
	}
	h := maps.Clone(c.header)
	req := &http.Request{
		Method: method, URL: &u, Header: h, Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
	}
	if body != nil {
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	} else {
		delete(h, "Content-Type")
	}
	resp, err := c.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, proxyUnreachable(ctx, c, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		perr := parseProxyError(resp.StatusCode, resp.Header, raw, time.Now())
		scrubEchoes(perr, c, nil)
		return nil, perr
	}
	return readBody(resp.Body, resp.ContentLength, maxReply)
}
