package credentials

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of Validate, for errors.Is.
var (
	// ErrMissingField: a field the scheme requires is empty or absent.
	// The concrete error is *MissingFieldError.
	ErrMissingField = errors.New("credentials: missing required field")
	// ErrUnknownScheme: the auth scheme is empty or not one of Schemes().
	// The concrete error is *UnknownSchemeError.
	ErrUnknownScheme = errors.New("credentials: unknown auth scheme")
)

// MissingFieldError reports a required field that is missing. It names
// the field, never a value. It is the one missing-field error of the
// module: Validate returns it, and so do package schemes' adapters (a
// field an auth scheme needs) and its toolkit registry (a field a
// toolkit's base URL needs, with Toolkit set).
type MissingFieldError struct {
	// Scheme is the connection's auth scheme ("" when Toolkit is set).
	Scheme Scheme
	// Toolkit is set when the field is needed by the toolkit rather than
	// by the auth scheme, e.g. "subdomain" for zendesk's base URL.
	Toolkit string
	// Field is the wire key that is missing.
	Field string
	// Alternatives are other keys any one of which would also do; nil
	// when Field alone satisfies the requirement.
	Alternatives []string
}

// Error returns e.g. `credentials: BEARER_TOKEN connection is missing
// "token" (or "bearer_token")`, or `credentials: toolkit "zendesk" needs
// connection field "subdomain"`.
func (e *MissingFieldError) Error() string {
	if e.Toolkit != "" {
		return fmt.Sprintf("credentials: toolkit %q needs connection field %q", e.Toolkit, e.Field)
	}
	msg := fmt.Sprintf("credentials: %s connection is missing %q", e.Scheme, e.Field)
	for _, alt := range e.Alternatives {
		msg += fmt.Sprintf(" (or %q)", alt)
	}
	return msg
}

// Is reports whether target is ErrMissingField.
func (e *MissingFieldError) Is(target error) bool { return target == ErrMissingField }

// UnknownSchemeError reports an auth scheme that is not known: not one
// of Schemes() for Validate, or one with no adapter in the registry used
// for package schemes.
type UnknownSchemeError struct {
	// Scheme is the connection's auth scheme, possibly "".
	Scheme Scheme
}

// Error returns e.g. `credentials: unknown auth scheme "SAML"`.
func (e *UnknownSchemeError) Error() string {
	return fmt.Sprintf("credentials: unknown auth scheme %q", string(e.Scheme))
}

// Is reports whether target is ErrUnknownScheme.
func (e *UnknownSchemeError) Is(target error) bool { return target == ErrUnknownScheme }

// required lists, per scheme, the requirements in the order they are
// checked; each requirement is a set of keys any one of which must be set.
var required = map[Scheme][][]string{
	OAuth2:               {{"access_token"}},
	S2SOAuth2:            {{"access_token"}},
	DCROAuth:             {{"access_token"}, {"client_id"}},
	APIKey:               {{"api_key", "generic_api_key", "bearer_token", "basic_encoded"}},
	Basic:                {{"username", "basic_encoded"}},
	BasicWithJWT:         {{"username"}, {"password"}},
	BearerToken:          {{"token", "bearer_token"}},
	OAuth1:               {{"oauth_token"}, {"oauth_token_secret"}},
	NoAuth:               {},
	ServiceAccount:       {{"application_id"}, {"installation_id"}, {"private_key"}},
	GoogleServiceAccount: {{"credentials_json"}},
}

// Required returns the requirements of scheme s, in the order Validate
// checks them, and whether s is known. Each requirement is a list of wire
// keys any one of which must be set: Val.Get returns a value that is not
// empty or blank (a number such as a numeric application_id counts):
//
//	OAUTH2, S2S_OAUTH2       access_token
//	DCR_OAUTH                access_token; client_id
//	API_KEY                  api_key | generic_api_key | bearer_token | basic_encoded
//	BASIC                    username | basic_encoded (password may be empty)
//	BASIC_WITH_JWT           username; password
//	BEARER_TOKEN             token | bearer_token
//	OAUTH1                   oauth_token; oauth_token_secret
//	NO_AUTH                  nothing
//	SERVICE_ACCOUNT          application_id; installation_id; private_key
//	GOOGLE_SERVICE_ACCOUNT   credentials_json
//
// The table follows the custom connection schemas of Composio's TypeScript
// SDK (@composio/core), which require access_token (OAUTH2), access_token
// and client_id (DCR_OAUTH), username and password (BASIC,
// BASIC_WITH_JWT), token (BEARER_TOKEN), oauth_token and
// oauth_token_secret (OAUTH1), application_id, installation_id and
// private_key (SERVICE_ACCOUNT) and credentials_json
// (GOOGLE_SERVICE_ACCOUNT). It departs from them where the proxy accepts
// an alternative: the SDK marks both API_KEY keys optional, but a key must
// be present somewhere, and Composio documents that the key's name varies
// by toolkit (Crowdin takes bearer_token), so any of the four key fields
// will do; BASIC accepts a ready basic_encoded, and an empty password as
// many APIs take an API key as user name; BEARER_TOKEN falls back to
// bearer_token as the adapters do.
//
// The result is a fresh copy the caller may modify.
func Required(s Scheme) ([][]string, bool) {
	reqs, ok := required[s]
	if !ok {
		return nil, false
	}
	out := make([][]string, len(reqs))
	for i, r := range reqs {
		out[i] = append([]string(nil), r...)
	}
	return out, true
}

// Validate reports the first requirement of c's scheme (see Required) that
// c.Val does not meet, as a *MissingFieldError, or a *UnknownSchemeError
// when the scheme is not known. It never mentions a value.
func (c *Connection) Validate() error {
	if c == nil {
		return errors.New("credentials: nil Connection")
	}
	reqs, ok := required[c.AuthScheme]
	if !ok {
		return &UnknownSchemeError{Scheme: c.AuthScheme}
	}
	for _, keys := range reqs {
		if !c.Val.hasAny(keys) {
			e := &MissingFieldError{Scheme: c.AuthScheme, Field: keys[0]}
			if len(keys) > 1 {
				e.Alternatives = append([]string(nil), keys[1:]...)
			}
			return e
		}
	}
	return nil
}

// hasAny reports whether any of keys has a non-empty value.
func (v *Val) hasAny(keys []string) bool {
	for _, k := range keys {
		if s, _ := v.Get(k); strings.TrimSpace(s) != "" {
			return true
		}
	}
	return false
}
