package schemes

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
)

// ErrCredentialsWithheld is matched (errors.Is) by every *WithheldError.
var ErrCredentialsWithheld = errors.New("schemes: credentials withheld")

// WithheldError reports a request that Transport did not put the
// connection's credentials on, because its URL is off the connection's
// site (see Transport). With Transport.Strict it is RoundTrip's error;
// otherwise Transport.OnWithheld receives it and the request goes out
// without credentials. It holds no secret: URLs lose user info, fragments
// and secret query and path parameter values (credentials.RedactURL).
type WithheldError struct {
	// URL is the request's URL, redacted.
	URL string
	// Site is the connection's base URL, the site credentials go to,
	// redacted.
	Site string
	// Toolkit is the connection's toolkit slug, if any.
	Toolkit string
}

func (e *WithheldError) Error() string {
	s := "schemes: credentials withheld: " + e.URL + " is not on the site of the connection's base URL " + e.Site
	if e.Toolkit != "" {
		s += " (toolkit " + e.Toolkit + ")"
	}
	return s + "; set base_url to the API's origin, or declare the host in Toolkit.CredentialHosts"
}

// Is reports whether target is ErrCredentialsWithheld.
func (e *WithheldError) Is(target error) bool { return target == ErrCredentialsWithheld }

// Code returns composiohttp.CodeOriginMismatch, the code
// composiohttp.CodeOf gives e: as the proxy's OriginMismatch, the URL is
// off the site the credentials belong to.
func (e *WithheldError) Code() composiohttp.Code { return composiohttp.CodeOriginMismatch }

func withheld(u, site *url.URL, toolkit string) *WithheldError {
	ru, _ := credentials.RedactURL(u)
	rs, _ := credentials.RedactURL(site)
	return &WithheldError{URL: ru.String(), Site: rs.String(), Toolkit: toolkit}
}

// reportWithheld records e: OnWithheld when set, else a debug line on
// slog's default logger.
func (t *Transport) reportWithheld(req *http.Request, e *WithheldError) {
	if t.OnWithheld != nil {
		t.OnWithheld(req, e)
		return
	}
	ctx := req.Context()
	if l := slog.Default(); l.Enabled(ctx, slog.LevelDebug) {
		l.LogAttrs(context.WithoutCancel(ctx), slog.LevelDebug, "schemes: credentials withheld",
			slog.String("url", e.URL), slog.String("site", e.Site), slog.String("toolkit", e.Toolkit))
	}
}
