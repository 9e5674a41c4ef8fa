package credentials

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
)

// MinScrubLen is the shortest secret Scrub replaces: shorter values are
// too likely to occur in ordinary text to be told apart, and too short
// to be worth hiding.
const MinScrubLen = 4

// Scrub returns s with every exact occurrence of each secret of at least
// MinScrubLen bytes replaced by Redacted, longer secrets first. It is for
// text that comes back from a server that may quote what it was sent (an
// error message, a request id): the API key, a token, a password.
func Scrub(s string, secrets ...string) string {
	if s == "" || len(secrets) == 0 {
		return s
	}
	found := make([]string, 0, len(secrets))
	for _, sec := range secrets {
		if len(sec) >= MinScrubLen && strings.Contains(s, sec) {
			found = append(found, sec)
		}
	}
	if len(found) == 0 {
		return s
	}
	slices.SortFunc(found, func(a, b string) int { return len(b) - len(a) })
	pairs := make([]string, 0, 2*len(found))
	for _, sec := range found {
		pairs = append(pairs, sec, Redacted)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// SecretValues returns the values of v's secrets, for Scrub: every typed
// secret field that is set (IsSecret), the Basic credential built from
// username and password, and the string values (or strings in array
// values) of secret keys (IsSecretParam) at any depth of AuthedUser, Extra
// and credentials_json.
func (v *Val) SecretValues() []string {
	var out []string
	for i := range fields {
		f := &fields[i]
		if s := *f.ptr(v); s != "" && f.secret {
			out = append(out, s)
		}
	}
	if v.Username != "" || v.Password != "" {
		out = append(out, base64.StdEncoding.EncodeToString([]byte(v.Username+":"+v.Password)))
	}
	var walk func(secret bool, x any)
	walk = func(secret bool, x any) {
		switch x := x.(type) {
		case string:
			if secret && x != "" {
				out = append(out, x)
			}
		case map[string]any:
			for k, e := range x {
				walk(IsSecretParam(k), e)
			}
		case []any:
			for _, e := range x {
				walk(secret, e)
			}
		}
	}
	decode := func(secret bool, raw []byte) {
		var x any
		if json.Unmarshal(raw, &x) == nil {
			walk(secret, x)
		}
	}
	if len(v.AuthedUser) > 0 {
		decode(false, v.AuthedUser)
	}
	for k, raw := range v.Extra {
		decode(IsSecretParam(k), raw)
	}
	if strings.HasPrefix(strings.TrimSpace(v.CredentialsJSON), "{") {
		decode(false, []byte(v.CredentialsJSON))
	}
	return out
}
