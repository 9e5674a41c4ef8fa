package breaker

import (
	"fmt"

	"github.com/composiohttp/composiohttp/internal/redact"
)

// String describes the middleware and what it wraps, never the wrapped
// RoundTripper's fields (a *composiohttp.Transport holds the API key).
func (t *Transport) String() string { return "breaker.New(" + redact.Describe(t.next) + ")" }

// Format implements fmt.Formatter: every verb prints String.
func (t *Transport) Format(f fmt.State, verb rune) { redact.Format(f, verb, t.String(), t.String()) }
