package testutil

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

const (
	codeBase               = 10000
	validationSuggestedFix = "Check the request body against the proxy execute API reference."
	malformedEnvelopeReply = `{"status":200,"headers":{"content-type":"application/json"},"data":{"truncat`
	redacted               = credentials.Redacted
	contentTypeJSON        = "application/json"
	headerRequestID        = "X-Request-Id"
	headerAPIKey           = "X-Api-Key"
	headerUserAPIKey       = "X-User-Api-Key"
	headerAuthorization    = "Authorization"
	headerCookie           = "Cookie"
	headerContentType      = "Content-Type"
	headerContentLength    = "Content-Length"
	headerRetryAfter       = "Retry-After"
	headerAllow            = "Allow"
	userKeyPrefix          = "uak_"
	requestIDPrefix        = "req_"
	proxyPathV3            = "/api/v3/tools/execute/proxy"
	proxyPathV31           = "/api/v3.1/tools/execute/proxy"
	binaryPathPrefix       = "/binary/"
	defaultBinaryType      = "application/octet-stream"
	maxErrorDetails        = 50
)

// proxyError is an error reply of the fake.
type proxyError struct {
	status  int
	slug    string
	message string
	fix     string
	errs    []string
	header  http.Header
}

func newError(status int, slug, message string, errs ...string) *proxyError {
	return &proxyError{status: status, slug: slug, message: message, errs: errs}
}

// methodNotAllowed is the 405 reply to r on a path that allows only the
// method allow.
func methodNotAllowed(r *http.Request, allow string) *proxyError {
	e := newError(http.StatusMethodNotAllowed, composiohttp.SlugMethodNotAllowed,
		fmt.Sprintf("Method %s is not allowed on %s", r.Method, r.URL.Path))
	e.header = http.Header{headerAllow: {allow}}
	return e
}

func (s *Server) writeError(w http.ResponseWriter, reqID string, e *proxyError) {
	if len(e.errs) > maxErrorDetails {
		e.errs = append(e.errs[:maxErrorDetails:maxErrorDetails], "...")
	}
	for k, v := range e.header {
		w.Header()[k] = v
	}
	body, _ := json.Marshal(composiohttp.ErrorResponse{Error: composiohttp.ErrorBody{
		Message:      e.message,
		Code:         codeBase + e.status,
		Slug:         e.slug,
		Status:       e.status,
		RequestID:    reqID,
		SuggestedFix: e.fix,
		Errors:       e.errs,
	}})
	w.Header().Set(headerContentType, contentTypeJSON)
	w.WriteHeader(e.status)
	w.Write(body)
}

// defaultSlug names a fault's status when the fault gives no slug: the
// slug of the README's error table where one status has one slug, else
// the status text without spaces.
func defaultSlug(status int) string {
	switch status {
	case http.StatusBadRequest:
		return composiohttp.SlugValidationError
	case http.StatusUnauthorized:
		return composiohttp.SlugInvalidAPIKey
	case http.StatusRequestEntityTooLarge:
		return composiohttp.SlugPayloadTooLarge
	case http.StatusNotImplemented:
		return composiohttp.SlugAuthSchemeNotSupported
	case http.StatusTooManyRequests:
		return composiohttp.SlugRateLimitExceeded
	case http.StatusInternalServerError:
		return composiohttp.SlugInternalServerError
	case http.StatusBadGateway:
		return composiohttp.SlugBadGateway
	case http.StatusServiceUnavailable:
		return composiohttp.SlugServiceUnavailable
	case http.StatusGatewayTimeout:
		return composiohttp.SlugUpstreamTimeout
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}
