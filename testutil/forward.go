package testutil

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/httpheader"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
	"github.com/composiohttp/composiohttp/internal/jsonw"
	"github.com/composiohttp/composiohttp/schemes"
)

// ApplyCredentials is the default CredentialApplier:
// SchemesApplier(schemes.Default). The upstream sees exactly what the
// built-in adapter of each scheme produces (see schemes.Default):
// "Authorization: Bearer <access_token>" for OAUTH2, the toolkit's key
// placement for API_KEY, an HMAC-SHA1 signature for OAUTH1, and so on.
//
// SERVICE_ACCOUNT, GOOGLE_SERVICE_ACCOUNT, and OAUTH2 connections whose
// expires_at has passed and that hold a refresh_token, exchange
// credentials at a token endpoint, which for schemes.Default is the real
// one, over the network. In tests register adapters pointed at an httptest
// server on a clone of schemes.Default and pass it to WithSchemes.
func ApplyCredentials(ctx context.Context, conn *credentials.Connection, r *http.Request) error {
	return applyWith(ctx, schemes.Default, conn, r)
}

// SchemesApplier returns a CredentialApplier that applies a connection with
// the adapter reg holds for its auth scheme (nil reg: schemes.Default).
// Before applying it checks, in order: that reg has an adapter for the
// scheme (else a *credentials.UnknownSchemeError, answered 501), and that the
// connection has the fields its scheme requires (credentials
// Connection.Validate; else a *credentials.MissingFieldError, answered 422
// naming the scheme and the field). Schemes reg knows and the credentials
// package does not are not validated.
func SchemesApplier(reg *schemes.Registry) CredentialApplier {
	if reg == nil {
		reg = schemes.Default
	}
	return func(ctx context.Context, conn *credentials.Connection, r *http.Request) error {
		return applyWith(ctx, reg, conn, r)
	}
}

func applyWith(ctx context.Context, reg *schemes.Registry, conn *credentials.Connection, r *http.Request) error {
	if _, ok := reg.Lookup(conn.AuthScheme); !ok {
		return &credentials.UnknownSchemeError{Scheme: conn.AuthScheme}
	}
	if err := conn.Validate(); errors.Is(err, credentials.ErrMissingField) {
		return err
	}
	return reg.Apply(ctx, conn, r)
}

// credentialError is the reply to a CredentialApplier's error.
func credentialError(conn *credentials.Connection, err error) *proxyError {
	if errors.Is(err, credentials.ErrUnknownScheme) {
		e := newError(http.StatusNotImplemented, composiohttp.SlugAuthSchemeNotSupported,
			fmt.Sprintf("Auth scheme %q is not supported by the proxy", string(conn.AuthScheme)), err.Error())
		e.fix = "Use one of the auth schemes Composio defines: " + strings.Join(schemeNames(), ", ") + "."
		return e
	}
	e := newError(http.StatusUnprocessableEntity, composiohttp.SlugInvalidConnectionData,
		"The connection's credentials cannot be applied", err.Error())
	if field, alts := missingField(err); field != "" {
		e.message = fmt.Sprintf("The %s connection is missing the required field %q", conn.AuthScheme, field)
		detail := fmt.Sprintf("val.%s: required by auth scheme %s", field, conn.AuthScheme)
		for _, a := range alts {
			detail += " (or val." + a + ")"
		}
		e.errs = []string{detail}
	}
	e.fix = "Reconnect the account, or pass complete credentials in custom_connection_data.val."
	return e
}

// missingField names the field a missing-field error reports and its
// alternatives, or "".
func missingField(err error) (string, []string) {
	var mf *credentials.MissingFieldError
	if errors.As(err, &mf) && mf.Toolkit == "" {
		return mf.Field, mf.Alternatives
	}
	return "", nil
}

func schemeNames() []string {
	var names []string
	for _, s := range credentials.Schemes() {
		names = append(names, string(s))
	}
	return names
}

// upstreamResult is an upstream's response, body read.
type upstreamResult struct {
	status int
	header http.Header
	body   []byte
}

// forward performs the upstream call of env and encodes the 200 envelope.
func (s *Server) forward(ctx context.Context, env *envelope) ([]byte, *proxyError) {
	t, perr := s.resolve(env)
	if perr != nil {
		return nil, perr
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.upstreamTimeout)
	defer cancel()

	u := *t.url
	var query []string
	if u.RawQuery != "" {
		query = append(query, u.RawQuery)
	}
	for _, p := range env.params {
		if p.Type == composiohttp.ParamQuery {
			query = append(query, url.QueryEscape(p.Name)+"="+url.QueryEscape(p.Value))
		}
	}
	u.RawQuery = strings.Join(query, "&")

	var body io.Reader
	var size int64 = -1
	var sent []byte // the body, for Calls
	contentType := ""
	switch {
	case env.body != nil:
		sent = env.body
		if s.cfg.stripFalsy {
			sent = stripFalsy(sent)
		}
		body, size, contentType = bytes.NewReader(sent), int64(len(sent)), contentTypeJSON
	case env.binaryURL != "":
		fetched, fetchedType, perr := s.fetchBinary(ctx, env.binaryURL)
		if perr != nil {
			return nil, perr
		}
		sent = fetched
		body, size, contentType = bytes.NewReader(fetched), int64(len(fetched)), env.binaryType
		if contentType == "" {
			contentType = fetchedType
		}
	case env.hasBinary:
		sent = env.binary
		body, size, contentType = bytes.NewReader(env.binary), int64(len(env.binary)), env.binaryType
	}
	req, err := http.NewRequestWithContext(ctx, env.method, u.String(), body)
	if err != nil {
		return nil, validationError("endpoint: " + err.Error())
	}
	if size >= 0 {
		req.ContentLength = size
	}
	for _, p := range env.params {
		if p.Type == composiohttp.ParamHeader {
			req.Header.Add(p.Name, p.Value)
		}
	}
	if contentType != "" && (env.body == nil || req.Header.Get(headerContentType) == "") {
		req.Header.Set(headerContentType, contentType)
	}
	if env.hasBinary && req.Header.Get(headerContentType) == "" {
		req.Header.Set(headerContentType, defaultBinaryType)
	}
	if err := s.cfg.applier(ctx, t.conn, req); err != nil {
		return nil, credentialError(t.conn, err)
	}

	h := t.handler
	if rh := s.exp.route(req); rh != nil {
		h = rh
	}
	res, err := s.send(ctx, req, h)
	status := 0
	if err == nil {
		status = res.status
	}
	s.recordCall(env.accountID, t.conn, req, sent, status)
	if err != nil {
		if errors.Is(err, errUpstreamTooLarge) {
			return nil, newError(http.StatusBadGateway, composiohttp.SlugBadGateway,
				fmt.Sprintf("The upstream API's reply is larger than the proxy's limit of %d bytes", s.cfg.maxUpstreamReply))
		}
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, newError(http.StatusGatewayTimeout, composiohttp.SlugUpstreamTimeout, "The upstream API did not answer in time")
		}
		return nil, newError(http.StatusBadGateway, composiohttp.SlugBadGateway, "The upstream API could not be reached", withoutURL(err))
	}
	return s.wrap(env.method, res), nil
}

// fetchBinary GETs a binary_body.url and returns its body and content
// type. The body is a request body: it is read whole before the upstream
// is called, up to the request limit (WithMaxEnvelope), in process as it
// is written or over HTTP one byte past the limit at most (a
// Content-Length over it is refused unread), and one over the limit is
// answered as an envelope over it, 413 PayloadTooLarge.
func (s *Server) fetchBinary(ctx context.Context, rawURL string) ([]byte, string, *proxyError) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, "", validationError("binary_body.url: " + err.Error())
	}
	var res *upstreamResult
	if h := s.handlerForURL(req.URL); h != nil {
		res, err = s.serveInProcess(ctx, req, h, s.cfg.maxEnvelope)
	} else {
		res, err = readCapped(s.fetcher, req, s.cfg.maxEnvelope)
	}
	if errors.Is(err, errUpstreamTooLarge) {
		return nil, "", newError(http.StatusRequestEntityTooLarge, composiohttp.SlugPayloadTooLarge,
			fmt.Sprintf("Request body is larger than %d bytes", s.cfg.maxEnvelope),
			fmt.Sprintf("binary_body.url: the file is larger than %d bytes", s.cfg.maxEnvelope))
	}
	if err != nil {
		return nil, "", newError(http.StatusBadRequest, composiohttp.SlugBinaryBodyFetchFailed, "binary_body.url could not be fetched", withoutURL(err))
	}
	if res.status != http.StatusOK {
		return nil, "", newError(http.StatusBadRequest, composiohttp.SlugBinaryBodyFetchFailed,
			fmt.Sprintf("binary_body.url answered %d", res.status))
	}
	return res.body, res.header.Get(headerContentType), nil
}

// handlerForURL returns the in-process handler for u, if any: the fake
// itself for its own URLs, or one registered with AddUpstream.
func (s *Server) handlerForURL(u *url.URL) http.Handler {
	if s.URL != "" && normOrigin(s.URL) == normOrigin(u.Scheme+"://"+u.Host) {
		return s
	}
	return s.upstreamHandler(u.Scheme + "://" + u.Host)
}

// errUpstreamTooLarge: an upstream's reply body is over the fake's limit
// (WithMaxUpstreamReply).
var errUpstreamTooLarge = errors.New("testutil: upstream reply over the limit")

// send performs req in process with h, or over HTTP when h is nil, reading
// at most WithMaxUpstreamReply bytes of the reply (errUpstreamTooLarge
// beyond).
func (s *Server) send(ctx context.Context, req *http.Request, h http.Handler) (*upstreamResult, error) {
	limit := s.cfg.maxUpstreamReply
	if h != nil {
		return s.serveInProcess(ctx, req, h, limit)
	}
	return readCapped(s.upstream, req, limit)
}

// readCapped performs req with c and reads at most limit bytes of the
// reply's body (errUpstreamTooLarge beyond).
func readCapped(c *http.Client, req *http.Request, limit int64) (*upstreamResult, error) {
	res, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.ContentLength > limit {
		return nil, errUpstreamTooLarge
	}
	// An upstream's Content-Length may lie too: read one byte past the
	// limit to tell a reply at it from a longer one (limit+1 would
	// overflow at math.MaxInt64, which no reply reaches).
	body, err := readGrowing(io.LimitReader(res.Body, min(limit, math.MaxInt64-1)+1), res.ContentLength)
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, errUpstreamTooLarge
	}
	return &upstreamResult{status: res.StatusCode, header: res.Header, body: body}, nil
}

// cappedRecorder records an in-process reply up to limit bytes of body; a
// write past it fails with errUpstreamTooLarge, records nothing, and
// closes over (once). Its handler writes from one goroutine, as any
// http.ResponseWriter's.
type cappedRecorder struct {
	*httptest.ResponseRecorder
	limit, n int64
	over     chan struct{}
}

func (w *cappedRecorder) Write(p []byte) (int, error) {
	if !w.take(len(p)) {
		return 0, errUpstreamTooLarge
	}
	return w.ResponseRecorder.Write(p)
}

func (w *cappedRecorder) WriteString(p string) (int, error) {
	if !w.take(len(p)) {
		return 0, errUpstreamTooLarge
	}
	return w.ResponseRecorder.WriteString(p)
}

// take counts n more bytes, reporting whether they fit within the limit.
func (w *cappedRecorder) take(n int) bool {
	if w.n > w.limit {
		return false
	}
	if w.n += int64(n); w.n > w.limit {
		close(w.over)
		return false
	}
	return true
}

// serveInProcess runs h on req in its own goroutine, so that the upstream
// timeout holds even for a handler that ignores its context, recording at
// most limit bytes of its reply body (errUpstreamTooLarge beyond, as soon
// as h writes past it).
func (s *Server) serveInProcess(ctx context.Context, req *http.Request, h http.Handler, limit int64) (*upstreamResult, error) {
	// Make req look like one a server received.
	req = req.Clone(ctx)
	if req.URL.Scheme == "https" {
		req.TLS = &tls.ConnectionState{Version: tls.VersionTLS12, HandshakeComplete: true, ServerName: req.URL.Hostname()}
	}
	req.RequestURI = req.URL.RequestURI()
	req.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	req.RemoteAddr = "192.0.2.1:1234"
	if req.Body == nil {
		req.Body = http.NoBody
	}
	rec := &cappedRecorder{ResponseRecorder: httptest.NewRecorder(), limit: limit, over: make(chan struct{})}
	done := make(chan any, 1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { done <- recover() }()
		h.ServeHTTP(rec, req)
	}()
	select {
	case p := <-done:
		if p != nil {
			return nil, fmt.Errorf("testutil: upstream handler panicked: %v", p)
		}
		if rec.n > rec.limit {
			return nil, errUpstreamTooLarge
		}
	case <-rec.over:
		// h may go on writing (in vain) until its context ends, when
		// forward returns.
		return nil, errUpstreamTooLarge
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res := rec.Result()
	return &upstreamResult{status: res.StatusCode, header: res.Header, body: rec.Body.Bytes()}, nil
}

// wrap turns an upstream response into the proxy's 200 envelope, written
// field by field in the order of composiohttp.ProxyResponse: status,
// headers (lower-case names in sorted order, repeated values joined),
// then data or binary_data. JSON data is spliced in verbatim.
func (s *Server) wrap(method string, res *upstreamResult) []byte {
	body := res.body
	if method == http.MethodHead {
		body = nil
	}
	b := make([]byte, 0, 64+len(body)+64*len(res.header))
	b = append(b, `{"status":`...)
	b = strconv.AppendInt(b, int64(res.status), 10)
	b = appendHeaders(b, res.header)
	if len(body) == 0 {
		return append(b, '}')
	}
	ct := res.header.Get(headerContentType)
	switch classify(ct, body) {
	case bodyJSON:
		b = append(b, `,"data":`...)
		b = append(b, bytes.TrimSpace(body)...)
	case bodyText:
		b = append(b, `,"data":`...)
		b = jsonw.AppendString(b, string(body))
	default:
		if ct == "" {
			ct = http.DetectContentType(body)
		}
		bd, _ := json.Marshal(s.storeBlob(body, ct))
		b = append(b, `,"binary_data":`...)
		b = append(b, bd...)
	}
	return append(b, '}')
}

// appendHeaders appends h as the envelope's "headers" member, if h has any.
func appendHeaders(b []byte, h http.Header) []byte {
	if len(h) == 0 {
		return b
	}
	lower := make(map[string]string, len(h))
	for k, v := range h {
		lower[strings.ToLower(k)] = strings.Join(v, ", ")
	}
	b = append(b, `,"headers":{`...)
	for i, k := range slices.Sorted(maps.Keys(lower)) {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonw.AppendString(b, k)
		b = append(b, ':')
		b = jsonw.AppendString(b, lower[k])
	}
	return append(b, '}')
}

type bodyKind int

const (
	bodyBinary bodyKind = iota
	bodyJSON
	bodyText
)

// classify decides how a body of content type ct travels in the envelope:
// valid JSON labelled JSON (or unlabelled) as data, verbatim; text as a
// JSON string; anything else, a body labelled JSON that is not valid JSON
// included, as binary_data.
func classify(ct string, body []byte) bodyKind {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		mt, _, _ = strings.Cut(strings.ToLower(ct), ";")
		mt = strings.TrimSpace(mt)
	}
	switch {
	case httpheader.IsJSON(ct): // the Transport's rule for request bodies too
		// A body labelled JSON that is not JSON ("OK", an HTML error page)
		// goes as binary_data: as a JSON string it would be read back as
		// a JSON string value, quotes included.
		if jsonscan.Valid(body) {
			return bodyJSON
		}
		return bodyBinary
	case mt == "":
		if jsonscan.Valid(body) {
			return bodyJSON
		}
	case strings.HasPrefix(mt, "text/"), mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/x-www-form-urlencoded", mt == "application/javascript":
	default:
		return bodyBinary
	}
	if utf8.Valid(body) {
		return bodyText
	}
	return bodyBinary
}

// withoutURL describes err without the request URL, whose query may carry
// credentials (API keys placed as query parameters).
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
