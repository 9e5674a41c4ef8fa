package vcr

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/composiohttp/composiohttp/internal/redact"
)

// String names the recorder's cassette and mode, never the secrets it
// scrubs (WithSecrets) or the real transport's fields.
func (r *Recorder) String() string {
	return "vcr.Recorder{File:" + strconv.Quote(r.file) + ", Mode:" + strconv.Itoa(int(r.mode)) + "}"
}

// GoString is String, for %#v.
func (r *Recorder) GoString() string { return r.String() }

// Format implements fmt.Formatter: every verb prints String.
func (r *Recorder) Format(f fmt.State, verb rune) { redact.Format(f, verb, r.String(), r.GoString()) }

// LogValue implements slog.LogValuer, as String.
func (r *Recorder) LogValue() slog.Value { return slog.StringValue(r.String()) }
