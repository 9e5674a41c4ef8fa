package redact

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// ErrMoreThanOneValue is JSON's error for a text that holds a second
// value after the first.
var ErrMoreThanOneValue = errors.New("more than one JSON value")

// JSON decodes raw, one JSON value, into any (numbers as json.Number, so
// that they keep their text), hands it to redact, and encodes what redact
// returns: object keys sorted, HTML characters not escaped. It fails with
// the decoder's error when raw is not valid JSON, and with
// ErrMoreThanOneValue when a value follows the first. It is the one
// decode-redact-encode of credentials.RedactJSON and the fake's printed
// records (testutil), which redact more than RedactJSON does (secret
// parameters by name), so that both print JSON the same way.
func JSON(raw []byte, redact func(any) any) ([]byte, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber() // numbers keep their text
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, ErrMoreThanOneValue
	}
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	if err := e.Encode(redact(v)); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
