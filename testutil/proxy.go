package testutil

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/composiohttp/composiohttp/internal/httpurl"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// ServeHTTP serves the proxy endpoints and the signed binary URLs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r = withBody(r)
	reqID := r.Header.Get(headerRequestID)
	if reqID == "" {
		reqID = requestIDPrefix + strconv.FormatUint(s.reqSeq.Add(1), 10)
	}
	w.Header().Set(headerRequestID, reqID)
	if isAPIPath(r.URL.Path) && s.orgLimit(w, r) {
		if p := r.URL.Path; p == proxyPathV3 || p == proxyPathV31 {
			rec := s.record(r, nil, reqID, nil)
			s.mu.Lock()
			rec.Status = http.StatusTooManyRequests
			s.mu.Unlock()
		}
		return
	}
	switch p := r.URL.Path; {
	case p == proxyPathV3 || p == proxyPathV31:
		s.serveProxy(w, r, reqID)
	case strings.HasPrefix(p, binaryPathPrefix):
		s.serveBinary(w, r)
	case s.serveTenantAPI(w, r, reqID): // accounts.go, sessions.go
	default:
		s.writeError(w, reqID, newError(http.StatusNotFound, composiohttp.SlugNotFound,
			fmt.Sprintf("Cannot %s %s", r.Method, p)))
	}
}

// statusWriter remembers the status written.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) serveProxy(rw http.ResponseWriter, r *http.Request, reqID string) {
	w := &statusWriter{ResponseWriter: rw}
	env, perr, finish, ok := s.admit(w, r, reqID, decodeEnvelope)
	defer finish()
	if !ok {
		return
	}
	if perr != nil {
		s.writeError(w, reqID, perr)
		return
	}
	s.forwardEnvelope(w, r, reqID, env)
}

// admit answers what every proxy endpoint refuses alike, in this order: a
// method other than POST (405), a missing or bad API key (401), an
// envelope over the limit of WithMaxEnvelope (413); then decodes the envelope with decode
// and records the call. The body is read only once the method and the key
// have passed: an unauthenticated request is neither read nor recorded.
// ok is false when it answered, or the caller went away; else perr is the
// envelope's decoding error, if any, for the caller to answer in its own
// order. The caller defers finish, which records the status it answered
// with.
func (s *Server) admit(w *statusWriter, r *http.Request, reqID string, decode func([]byte) (*envelope, *proxyError)) (env *envelope, perr *proxyError, finish func(), ok bool) {
	finish = func() {}
	authErr := s.checkAPIKey(r)
	if r.Method != http.MethodPost {
		if authErr == nil {
			finish = s.recordFinish(w, s.record(r, nil, reqID, nil))
		}
		s.writeError(w, reqID, methodNotAllowed(r, http.MethodPost))
		return nil, nil, finish, false
	}
	if authErr != nil {
		s.writeError(w, reqID, authErr)
		return nil, nil, finish, false
	}
	raw, readErr := s.readBody(w, r)
	if readErr != nil {
		// An envelope cut short or too large is recorded without its body.
		finish = s.recordFinish(w, s.record(r, nil, reqID, nil))
		s.answerReadError(w, reqID, readErr)
		return nil, nil, finish, false
	}
	env, perr = decode(raw)
	if e := checkContentType(r.Header.Get(headerContentType)); e != nil {
		perr = e
	}
	finish = s.recordFinish(w, s.record(r, raw, reqID, env))
	return env, perr, finish, true
}

// recordFinish returns the function that sets rec's status to what w
// answered.
func (s *Server) recordFinish(w *statusWriter, rec *Recorded) func() {
	return func() {
		s.mu.Lock()
		rec.Status = w.status
		s.mu.Unlock()
	}
}

// forwardEnvelope sends an admitted envelope upstream, after any fault
// scripted for its account, and writes the reply envelope.
func (s *Server) forwardEnvelope(w *statusWriter, r *http.Request, reqID string, env *envelope) {
	if f, ok := s.takeFault(env.accountID); ok && s.applyFault(w, r, reqID, f) {
		return
	}
	reply, perr := s.forward(r.Context(), env)
	if perr != nil {
		if r.Context().Err() == nil {
			s.writeError(w, reqID, perr)
		}
		return
	}
	w.Header().Set(headerContentType, contentTypeJSON)
	w.Header().Set(headerContentLength, strconv.Itoa(len(reply)))
	w.WriteHeader(http.StatusOK)
	w.Write(reply)
}

// readBodyPresize is the most readBody allocates before bytes arrive,
// whatever length a request declares.
const readBodyPresize = 64 << 10

// readBody reads r's body, up to the envelope limit (WithMaxEnvelope).
// Its buffer grows with the bytes that arrive: a declared Content-Length
// only sizes the first readBodyPresize bytes, so that a request declaring
// 250 MB and sending one byte costs one small buffer.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readGrowing(http.MaxBytesReader(w, r.Body, s.cfg.maxEnvelope), r.ContentLength)
}

// answerReadError answers a body that could not be read: 413 when it is
// over the envelope limit; nothing when the caller went away or was too
// slow (the server closes the connection).
func (s *Server) answerReadError(w http.ResponseWriter, reqID string, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		s.writeError(w, reqID, newError(http.StatusRequestEntityTooLarge, composiohttp.SlugPayloadTooLarge,
			fmt.Sprintf("Request body is larger than %d bytes", s.cfg.maxEnvelope)))
	}
}

// readGrowing reads rd to the end into a buffer presized to declared, at
// most readBodyPresize, and grown as bytes arrive.
func readGrowing(rd io.Reader, declared int64) ([]byte, error) {
	var buf bytes.Buffer
	if declared > 0 {
		buf.Grow(int(min(declared, readBodyPresize)) + bytes.MinRead) // ReadFrom wants MinRead free for the final read
	}
	_, err := buf.ReadFrom(rd)
	return buf.Bytes(), err
}

func (s *Server) record(r *http.Request, raw []byte, reqID string, env *envelope) *Recorded {
	rec := &Recorded{
		Body:      raw,
		Header:    redact(r.Header),
		Method:    r.Method,
		Path:      r.URL.Path,
		Time:      s.cfg.now(),
		RequestID: reqID,
	}
	if env != nil {
		rec.Envelope = env.proxyRequest()
	} else {
		json.Unmarshal(raw, &rec.Envelope) // best effort
	}
	s.mu.Lock()
	s.records.add(rec, rec.size())
	s.mu.Unlock()
	return rec
}

func redact(h http.Header) http.Header {
	h = h.Clone()
	for _, k := range []string{headerAPIKey, headerUserAPIKey, headerAuthorization, headerCookie} {
		for i := range h[k] {
			h[k][i] = redacted
		}
	}
	return h
}

func (s *Server) checkAPIKey(r *http.Request) *proxyError {
	key, userKey := r.Header.Get(headerAPIKey), r.Header.Get(headerUserAPIKey)
	switch {
	case key != "" && strings.HasPrefix(key, userKeyPrefix):
		e := newError(http.StatusUnauthorized, composiohttp.SlugInvalidAPIKey, "User API keys must be sent in the x-user-api-key header")
		e.fix = "Send uak_ keys as x-user-api-key, never as x-api-key."
		return e
	case key != "" && equal(key, s.APIKey):
		return nil
	case key == "" && userKey != "" && s.UserAPIKey != "" && equal(userKey, s.UserAPIKey):
		return nil
	case key == "" && userKey == "":
		e := newError(http.StatusUnauthorized, composiohttp.SlugInvalidAPIKey, "API key is missing")
		e.fix = "Send your project API key in the x-api-key header."
		return e
	}
	e := newError(http.StatusUnauthorized, composiohttp.SlugInvalidAPIKey, "Invalid API key")
	e.fix = "Check the API key of your project."
	return e
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// applyFault plays f and reports whether the call is answered.
func (s *Server) applyFault(w *statusWriter, r *http.Request, reqID string, f Fault) bool {
	if f.Latency > 0 {
		if err := s.cfg.sleep(r.Context(), f.Latency); err != nil {
			return true
		}
	}
	switch {
	case f.Drop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
			return true
		}
		panic(http.ErrAbortHandler)
	case f.Malformed:
		w.Header().Set(headerContentType, contentTypeJSON)
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, malformedEnvelopeReply)
	case f.UpstreamTimeout:
		s.writeError(w, reqID, newError(http.StatusGatewayTimeout, composiohttp.SlugUpstreamTimeout, "The upstream API did not answer in time"))
	case f.Status != 0:
		e := newError(f.Status, f.Slug, f.Message)
		if e.slug == "" {
			e.slug = defaultSlug(f.Status)
		}
		if e.message == "" {
			e.message = http.StatusText(f.Status)
		}
		if f.RetryAfter != "" {
			e.header = http.Header{headerRetryAfter: {f.RetryAfter}}
		}
		s.writeError(w, reqID, e)
	default:
		return false
	}
	return true
}

// target is where a call goes and as whom.
type target struct {
	url     *url.URL
	conn    *credentials.Connection
	handler http.Handler // nil: over HTTP
}

func (s *Server) resolve(env *envelope) (*target, *proxyError) {
	t := &target{}
	var bu *url.URL
	var perr *proxyError
	if env.accountID != "" {
		a, ok := s.account(env.accountID)
		if !ok {
			e := newError(http.StatusNotFound, composiohttp.SlugConnectedAccountNotFound,
				fmt.Sprintf("Connected account %s not found", env.accountID))
			e.fix = "Check the connected account id, or connect the user to the toolkit first."
			return nil, e
		}
		if a.Status != "" && !strings.EqualFold(a.Status, "ACTIVE") {
			e := newError(http.StatusUnprocessableEntity, composiohttp.SlugConnectedAccountNotActive,
				fmt.Sprintf("Connected account %s is %s, not ACTIVE", a.ID, a.Status))
			e.fix = "Reconnect the account."
			return nil, e
		}
		t.conn = &credentials.Connection{AuthScheme: a.AuthScheme, ToolkitSlug: a.Toolkit, Val: a.Val.Clone()}
		t.handler = a.Handler
		if bu, perr = s.accountBase(&a, t.conn); perr != nil {
			return nil, perr
		}
	} else {
		c := *env.conn
		t.conn = &c
		if bu, perr = s.connectionBase(t.conn); perr != nil {
			return nil, perr
		}
	}
	eu, err := url.Parse(env.endpoint)
	if err != nil {
		return nil, validationError(fmt.Sprintf("endpoint: invalid URL: %v", err))
	}
	switch {
	case eu.Scheme != "" && eu.Host != "":
		if !schemes.SameRegistrableDomain(eu, bu) {
			e := newError(http.StatusBadRequest, composiohttp.SlugOriginMismatch,
				fmt.Sprintf("Endpoint %s://%s does not share scheme and registrable domain with the connection's base URL %s://%s",
					eu.Scheme, eu.Host, bu.Scheme, bu.Host))
			e.fix = "Use a path relative to the connection's base URL, or an absolute URL on the same domain."
			return nil, e
		}
		t.url = eu
	case eu.Scheme != "" || eu.Host != "":
		return nil, validationError("endpoint: must be an absolute http(s) URL or a path")
	default:
		u := *bu
		escaped := strings.TrimSuffix(bu.EscapedPath(), "/") + "/" + strings.TrimPrefix(eu.EscapedPath(), "/")
		if u.Path, err = url.PathUnescape(escaped); err != nil {
			return nil, validationError("endpoint: " + err.Error())
		}
		u.RawPath = escaped
		u.RawQuery = eu.RawQuery
		u.Fragment = ""
		t.url = &u
	}
	if t.handler == nil {
		t.handler = s.upstreamHandler(t.url.Scheme + "://" + t.url.Host)
	}
	return t, nil
}

// accountBase returns the base URL of account a, whose connection is conn:
// its BaseURL, else conn's (val.base_url or the toolkit's), else for an
// in-process account DefaultAccountBaseURL.
func (s *Server) accountBase(a *Account, conn *credentials.Connection) (*url.URL, *proxyError) {
	base := a.BaseURL
	if base == "" {
		var err error
		var mf *credentials.MissingFieldError
		base, err = s.cfg.toolkits.ResolveBaseURL(conn)
		switch {
		case err == nil:
		case a.Handler != nil && errors.Is(err, schemes.ErrUnknownToolkit):
			base = DefaultAccountBaseURL
		case errors.As(err, &mf):
			e := newError(http.StatusUnprocessableEntity, composiohttp.SlugInvalidConnectionData,
				fmt.Sprintf("The account's base URL cannot be resolved for toolkit %q", a.Toolkit),
				fmt.Sprintf("val.%s: required by the base URL of toolkit %q", mf.Field, a.Toolkit))
			e.fix = "Reconnect the account with the location fields its toolkit needs."
			return nil, e
		default:
			base = ""
		}
	}
	if bu, ok := httpurl.Parse(base); ok {
		return bu, nil
	}
	return nil, newError(http.StatusBadGateway, composiohttp.SlugBadGateway, "The account has no valid upstream base URL")
}

// connectionBase returns the base URL of custom_connection_data: its
// val.base_url, else its toolkit's.
func (s *Server) connectionBase(c *credentials.Connection) (*url.URL, *proxyError) {
	base, err := s.cfg.toolkits.ResolveBaseURL(c)
	bu, ok := httpurl.Parse(base)
	var mf *credentials.MissingFieldError
	switch {
	case c.Val.BaseURL != "" && (err != nil || !ok):
		return nil, validationError("custom_connection_data.val.base_url: must be an absolute http(s) URL")
	case errors.Is(err, schemes.ErrUnknownToolkit):
		return nil, validationError("custom_connection_data.val.base_url: required when toolkitSlug is not a known toolkit")
	case errors.As(err, &mf):
		return nil, validationError(fmt.Sprintf("custom_connection_data.val.%s: required by the base URL of toolkit %q", mf.Field, c.ToolkitSlug))
	case err != nil:
		return nil, validationError("custom_connection_data.val: " + strings.TrimPrefix(err.Error(), "schemes: "))
	}
	if ok {
		return bu, nil
	}
	return nil, validationError("custom_connection_data.val: the toolkit's base URL is not an absolute http(s) URL")
}

func normOrigin(origin string) string {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return strings.ToLower(strings.TrimSuffix(origin, "/"))
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// withBody returns r, or a copy of it with an empty Body when its Body is
// nil: a request built by http.NewRequest without a body, handed to a
// handler directly (a server never passes a nil Body).
func withBody(r *http.Request) *http.Request {
	if r.Body != nil {
		return r
	}
	r2 := *r
	r2.Body = http.NoBody
	return &r2
}
