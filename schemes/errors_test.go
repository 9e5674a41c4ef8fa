package schemes_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/schemes"
)

// Each error is defined once. A missing field or an unknown
// scheme found by schemes is the same error, with the same identity, as
// one found by credentials.Validate; the OAuth1 "body too large" is the
// root package's ErrBodyTooLarge.
func TestErrorsAreDefinedOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	apply := func(c credentials.Connection) error {
		return schemes.Default.Apply(ctx, &c, mustRequest(t, "GET", "https://api.example.com/"))
	}
	tooLarge := func() error {
		req, _ := http.NewRequest("POST", "https://api.example.com/p", strings.NewReader("a=b"))
		req.ContentLength = schemes.MaxFormBody + 1
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		c := &credentials.Connection{AuthScheme: credentials.OAuth1, Val: credentials.Val{ConsumerKey: "ck"}}
		return (&schemes.OAuth1{}).Apply(ctx, c, req)
	}
	missing := apply(credentials.Connection{AuthScheme: credentials.OAuth2})
	toolkitMissing := func() error {
		_, err := schemes.DefaultToolkits.ResolveBaseURL(&credentials.Connection{AuthScheme: credentials.APIKey, ToolkitSlug: "zendesk"})
		return err
	}()
	unknown := apply(credentials.Connection{AuthScheme: "SAML"})

	cases := []struct {
		name   string
		err    error
		target error
	}{
		{"adapter missing field", missing, credentials.ErrMissingField},
		{"toolkit missing field", toolkitMissing, credentials.ErrMissingField},
		{"unknown scheme", unknown, credentials.ErrUnknownScheme},
		{"oauth1 body too large", tooLarge(), composiohttp.ErrBodyTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !errors.Is(tc.err, tc.target) {
				t.Errorf("errors.Is(%v, %v) = false", tc.err, tc.target)
			}
		})
	}
	var mf *credentials.MissingFieldError
	if !errors.As(missing, &mf) || mf.Field != "access_token" || mf.Scheme != credentials.OAuth2 {
		t.Errorf("errors.As(%v, *credentials.MissingFieldError) = false or wrong field", missing)
	}
	if !errors.As(toolkitMissing, &mf) || mf.Field != "subdomain" || mf.Toolkit != "zendesk" {
		t.Errorf("errors.As(%v, *credentials.MissingFieldError) = false or wrong field", toolkitMissing)
	}
	var ue *credentials.UnknownSchemeError
	if !errors.As(unknown, &ue) || ue.Scheme != "SAML" {
		t.Errorf("errors.As(%v, *credentials.UnknownSchemeError) = false", unknown)
	}
	if code := composiohttp.CodeOf(missing); code != composiohttp.CodeInvalidRequest {
		t.Errorf("CodeOf(%v) = %v", missing, code)
	}
	if code := composiohttp.CodeOf(tooLarge()); code != composiohttp.CodePayloadTooLarge {
		t.Errorf("CodeOf(oauth1 too large) = %v", code)
	}
}

// A nil request is composiohttp.ErrNilRequest, as for every RoundTripper
// of the module, not a panic.
func TestTransportNilRequest(t *testing.T) {
	t.Parallel()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("RoundTrip(nil) panicked: %v", r)
		}
	}()
	tr := &schemes.Transport{Connection: &credentials.Connection{AuthScheme: credentials.BearerToken, Val: credentials.Val{Token: "t"}}}
	if _, err := tr.RoundTrip(nil); !errors.Is(err, composiohttp.ErrNilRequest) {
		t.Fatalf("RoundTrip(nil) = %v, want composiohttp.ErrNilRequest", err)
	}
}
