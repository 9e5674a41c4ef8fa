package otelproxy

import "testing"

// The middleware knows otelhttp's client Labeler key (else otelhttp adds a
// Labeler and a context node of its own to every call: correct, but two
// allocations more).
func TestClientLabelerKeyKnown(t *testing.T) {
	if clientLabelerKey == nil {
		t.Error("otelhttp's client Labeler key was not found")
	}
}
