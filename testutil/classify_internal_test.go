package testutil

import "testing"

// TestClassify pins how the fake carries an upstream body in its reply.
// Whether a label names JSON is internal/httpheader.IsJSON, the rule the
// Transport uses for request bodies: a "+json" label without a
// type/subtype ("+json", "vnd+json", "/+json") is not JSON (the fake's own
// check took any "+json" suffix before).
func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ct, body string
		want     bodyKind
	}{
		{"application/json", `{"a":1}`, bodyJSON},
		{"Application/JSON; charset=utf-8", `[1]`, bodyJSON},
		{"application/vnd.github+json", `{}`, bodyJSON},
		{"application/problem+JSON ; q=1", `{}`, bodyJSON},
		{"application/json; charset", `{}`, bodyJSON}, // a malformed parameter
		{"application/json", `OK`, bodyBinary},
		{"", `{"a":1}`, bodyJSON},
		{"", `plain`, bodyText},
		{"text/plain", `{"a":1}`, bodyText},
		{"application/xml", `<a/>`, bodyText},
		{"image/png", `{}`, bodyBinary},
		{"text/plain", "\xff\xfe", bodyBinary},
		{"+json", `{}`, bodyBinary},
		{"vnd+json", `{}`, bodyBinary},
		{"/+json", `{}`, bodyBinary},
	} {
		if got := classify(tc.ct, []byte(tc.body)); got != tc.want {
			t.Errorf("classify(%q, %q) = %d, want %d", tc.ct, tc.body, got, tc.want)
		}
	}
}
