// Package redact holds the fmt plumbing shared by the module's types that
// hold secrets: each describes itself, redacted, and prints only that
// description, whatever the verb. It also holds the one decode-redact-encode
// of JSON printed redacted (JSON).
package redact

import (
	"fmt"
	"io"
)

// Format writes s, a value's redacted description, for verb: %#v writes
// goString; any other verb formats s as fmt formats a string (so %x is s
// in hex, and %d is fmt's bad-verb form of s). Types implement
// fmt.Formatter with it so that fmt never walks their fields, whose
// unexported parts it would print raw on its bad-verb path.
func Format(f fmt.State, verb rune, s, goString string) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, goString)
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), s)
}

// Describe names v for a redacted description: its own %v when it prints
// itself (a fmt.Formatter or fmt.Stringer, such as the module's
// RoundTrippers), else only its type, since fmt would walk its fields.
func Describe(v any) string {
	switch v.(type) {
	case nil:
		return "nil"
	case fmt.Formatter, fmt.Stringer:
		return fmt.Sprintf("%v", v)
	}
	return fmt.Sprintf("%T", v)
}
