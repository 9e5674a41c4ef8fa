package credentials

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/composiohttp/composiohttp/internal/redact"
)

// Redacted replaces the value of a secret that is set, in every form of a
// Connection or Val other than MarshalWire and AppendWire.
const Redacted = "[REDACTED]"

// secretWords mark a key outside the typed fields as secret when its
// lower-cased name contains one of them. The list errs on the side of
// hiding: "author" is hidden because it contains "auth".
var secretWords = []string{"token", "secret", "key", "pass", "pwd", "auth",
	"credential", "signature", "cookie", "session", "private", "verifier",
	"jwt", "username"}

// IsSecret reports whether the value of key (a wire name) is redacted.
//
// Typed keys that are secret: access_token, refresh_token, id_token,
// client_secret, generic_api_key, api_key, bearer_token, basic_encoded,
// token, username, password, oauth_token, oauth_token_secret,
// oauth_verifier, private_key, credentials_json and authed_user. username is
// secret because several APIs take an API key as the basic-auth user name.
// The other typed keys (token_type, expires_in, expires_at, scope,
// client_id, consumer_key, application_id, installation_id and the location
// fields such as subdomain or base_url) are shown.
//
// Any other key is secret when its lower-cased name contains token, secret,
// key, pass, pwd, auth, credential, signature, cookie, session, private,
// verifier, jwt or username.
func IsSecret(key string) bool {
	if i, ok := fieldIndex[key]; ok {
		return fields[i].secret
	}
	if key == authedUserKey {
		return true
	}
	ascii := true
	for i := 0; i < len(key) && ascii; i++ {
		ascii = key[i] < utf8.RuneSelf
	}
	if !ascii { // Unicode case mapping (the Kelvin sign lowers to k)
		key = strings.ToLower(key)
	}
	for _, w := range secretWords {
		if containsFold(key, w) {
			return true
		}
	}
	return false
}

// containsFold reports whether s contains word (lower-case ASCII) in any
// case of ASCII letters, without allocating: IsSecret runs on every
// header name of a request in middleware (package cache, logging).
func containsFold(s, word string) bool {
	for i := 0; i+len(word) <= len(s); i++ {
		j := 0
		for ; j < len(word); j++ {
			c := s[i+j]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

// Format implements fmt.Formatter so that every verb shows c redacted:
// %#v gives GoString, any other verb formats String as a string would be.
func (c Connection) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), c.String())
}

// Format implements fmt.Formatter so that every verb shows v redacted:
// %#v gives GoString, any other verb formats String as a string would be.
func (v Val) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, v.GoString())
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), v.String())
}

// GoString returns a Go-syntax-like, redacted form of c.
func (c Connection) GoString() string {
	return fmt.Sprintf("credentials.Connection{AuthScheme:%q, ToolkitSlug:%q, Val:%s}",
		string(c.AuthScheme), c.ToolkitSlug, c.Val.GoString())
}

// GoString returns a Go-syntax-like, redacted form of v: the typed fields
// that are set, then AuthedUser and Extra as redacted JSON.
func (v Val) GoString() string {
	var b strings.Builder
	b.WriteString("credentials.Val{")
	sep := ""
	for i := range fields {
		f := &fields[i]
		if s := *f.ptr(&v); s != "" {
			if f.secret {
				s = Redacted
			}
			fmt.Fprintf(&b, "%s%s:%q", sep, f.name, s)
			sep = ", "
		}
	}
	if len(v.AuthedUser) > 0 {
		fmt.Fprintf(&b, "%sAuthedUser:%s", sep, redactRaw(authedUserKey, v.AuthedUser))
		sep = ", "
	}
	if len(v.Extra) > 0 {
		fmt.Fprintf(&b, "%sExtra:{", sep)
		for i, k := range v.sortedExtra() {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q:%s", k, redactRaw(k, v.Extra[k]))
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return b.String()
}

// redactRaw returns the JSON text of key's raw value as it may be shown:
// Redacted (quoted) when key is secret and its value is set (not "" or
// null) or when raw is not valid JSON; else, for an object or array, raw
// with every secret nested at any depth redacted the same way (see
// redactNested); else raw.
func redactRaw(key string, raw json.RawMessage) string {
	switch {
	case IsSecret(key) && string(raw) != `""` && string(raw) != "null", !json.Valid(raw):
		return strconv.Quote(Redacted)
	case len(raw) > 0 && (raw[0] == '{' || raw[0] == '['):
		return redactNested(raw)
	}
	return string(raw)
}

// redactNested returns the JSON object or array raw redacted by
// RedactJSON, or Redacted (quoted) when raw does not decode. It runs only
// when a credential is printed or logged, never on the wire path.
func redactNested(raw json.RawMessage) string {
	out, err := RedactJSON(raw)
	if err != nil {
		return strconv.Quote(Redacted)
	}
	return string(out)
}

// RedactJSON returns the JSON text raw with the value of every secret key
// (IsSecretParam), at any depth, replaced by Redacted unless it is "" or
// null, as RedactValue does. Object keys come out sorted, numbers keep
// their text, and HTML characters are not escaped. It fails, quoting
// nothing of raw, when raw is not one valid JSON value. It decodes into
// any, which allocates: it is for logs and printing, not for a hot path.
func RedactJSON(raw []byte) ([]byte, error) {
	out, err := redact.JSON(raw, RedactValue)
	switch {
	case errors.Is(err, redact.ErrMoreThanOneValue):
		return nil, errors.New("credentials: more than one JSON value")
	case err != nil:
		return nil, sanitize(err)
	}
	return out, nil
}

// RedactValue redacts a value decoded by encoding/json (maps, slices and
// scalars), in place, and returns it: the value of every object key that
// IsSecretParam reports, at any depth, becomes Redacted unless it is "" or
// null (an empty secret shows that it is empty). It is the one JSON
// redactor of the module: credentials' printing, the logging middleware's
// bodies and the fake's records all use it.
func RedactValue(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if IsSecretParam(k) && e != nil && e != "" {
				v[k] = Redacted
			} else {
				v[k] = RedactValue(e)
			}
		}
	case []any:
		for i, e := range v {
			v[i] = RedactValue(e)
		}
	}
	return v
}

// LogValue implements slog.LogValuer: a group of authScheme, toolkitSlug
// and val, with secrets redacted.
func (c Connection) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("authScheme", string(c.AuthScheme)),
		slog.String("toolkitSlug", c.ToolkitSlug),
		slog.Attr{Key: "val", Value: c.Val.LogValue()},
	)
}

// LogValue implements slog.LogValuer: a group of the keys that are set,
// with secrets redacted. Values are strings; a non-string value of an
// Extra key is given as its JSON text.
func (v Val) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, 8)
	for i := range fields {
		f := &fields[i]
		if s := *f.ptr(&v); s != "" {
			if f.secret {
				s = Redacted
			}
			attrs = append(attrs, slog.String(f.key, s))
		}
	}
	add := func(k string, raw json.RawMessage) {
		s := redactRaw(k, raw)
		var uq string
		if s != "" && s[0] == '"' && json.Unmarshal([]byte(s), &uq) == nil {
			s = uq
		}
		attrs = append(attrs, slog.String(k, s))
	}
	if len(v.AuthedUser) > 0 {
		add(authedUserKey, v.AuthedUser)
	}
	for _, k := range v.sortedExtra() {
		if !v.typedSet(k) {
			add(k, v.Extra[k])
		}
	}
	return slog.GroupValue(attrs...)
}
