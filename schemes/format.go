package schemes

import (
	"fmt"
	"slices"
	"strings"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redact"
)

// Format implements fmt.Formatter: every verb prints String, which never
// shows ConsumerSecret.
func (a OAuth1) Format(f fmt.State, verb rune) { redact.Format(f, verb, a.String(), a.GoString()) }

// String lists the schemes r holds and each adapter by its own String
// when it has one, else by its type: never an adapter's fields, which may
// hold secrets (OAuth1.ConsumerSecret) or cached tokens.
func (r *Registry) String() string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := make([]credentials.Scheme, 0, len(r.adapters))
	for k := range r.adapters {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("schemes.Registry{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s:%s", string(k), redact.Describe(r.adapters[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// Format implements fmt.Formatter: every verb prints String.
func (r *Registry) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.String()) }
