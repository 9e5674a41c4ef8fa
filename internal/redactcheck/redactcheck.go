// Package redactcheck checks that a value holding secrets never shows
// them: under every fmt verb that prints data (%v %+v %#v %s %q %x %X, and %d), in
// slog's text and JSON output, and in json.Marshal's. Its own test walks
// every exported type of the module (see registry_test.go) and fails
// when a new exported type is not registered there with a sample or a
// reason why it holds no secret.
package redactcheck

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
)

// Verbs are the fmt verbs Check prints a value with.
var Verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"}

// Forms returns the ways secret can appear in printed output: as is, in
// lower and upper hex (%x, %X), as fmt prints a []byte ("115 101 ...") and
// in standard base64 (json.Marshal of a []byte).
func Forms(secret string) []string {
	return []string{
		secret,
		hex.EncodeToString([]byte(secret)),
		strings.ToUpper(hex.EncodeToString([]byte(secret))),
		strings.Trim(fmt.Sprint([]byte(secret)), "[]"),
		base64.StdEncoding.EncodeToString([]byte(secret)),
	}
}

// Outputs returns v printed every way Check looks at, keyed by how: each
// of Verbs, "slog text", "slog json" and "json.Marshal" (its error text
// when it fails).
func Outputs(v any) map[string]string {
	out := make(map[string]string, len(Verbs)+3)
	for _, verb := range Verbs {
		out[verb] = fmt.Sprintf(verb, v)
	}
	var text, js bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("m", "v", v)
	slog.New(slog.NewJSONHandler(&js, nil)).Info("m", "v", v)
	out["slog text"], out["slog json"] = text.String(), js.String()
	if b, err := json.Marshal(v); err != nil {
		out["json.Marshal"] = "error: " + err.Error()
	} else {
		out["json.Marshal"] = string(b)
	}
	return out
}

// Check fails t for every output of v (see Outputs) that holds one of
// secrets in any of its Forms.
func Check(t testing.TB, v any, secrets ...string) {
	t.Helper()
	CheckExcept(t, v, nil, secrets...)
}

// CheckExcept is Check without the outputs named in skip (keys of
// Outputs), for a type whose documented form there is a wire format.
func CheckExcept(t testing.TB, v any, skip []string, secrets ...string) {
	t.Helper()
	for how, s := range Outputs(v) {
		if slices.Contains(skip, how) {
			continue
		}
		var found []string
		for _, secret := range secrets {
			for _, form := range Forms(secret) {
				if strings.Contains(s, form) {
					found = append(found, secret)
					break
				}
			}
		}
		if len(found) > 0 {
			if len(s) > 400 {
				s = s[:400] + "..."
			}
			t.Errorf("%s of %T shows %q:\n%s", how, v, found, s)
		}
	}
}
