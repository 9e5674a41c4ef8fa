package credentials

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/composiohttp/composiohttp/internal/redact"
)

// The sources print as the call that made them, never with the connection
// they hold: fmt (every verb), slog and json.Marshal see only this.

func (s *fileSource) String() string   { return "credentials.FileSource(" + strconv.Quote(s.path) + ")" }
func (s *fileSource) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints String.
func (s *fileSource) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer.
func (s *fileSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes String as a JSON string.
func (s *fileSource) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

func (s *envSource) String() string   { return "credentials.EnvSource(" + strconv.Quote(s.name) + ")" }
func (s *envSource) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints String.
func (s *envSource) Format(f fmt.State, verb rune) { redact.Format(f, verb, s.String(), s.GoString()) }

// LogValue implements slog.LogValuer.
func (s *envSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes String as a JSON string.
func (s *envSource) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// String names the wrapped source by its own String when it has one (the
// built-in sources do), else by its type.
func (s *cachingSource) String() string {
	inner := fmt.Sprintf("%T", s.src)
	if st, ok := s.src.(fmt.Stringer); ok {
		inner = st.String()
	}
	return "credentials.CachingSource(" + inner + ")"
}
func (s *cachingSource) GoString() string { return s.String() }

// Format implements fmt.Formatter: every verb prints String.
func (s *cachingSource) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, s.String(), s.GoString())
}

// LogValue implements slog.LogValuer.
func (s *cachingSource) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON encodes String as a JSON string.
func (s *cachingSource) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
