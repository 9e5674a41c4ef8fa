// Package credentials describes a connected account's credentials as
// Composio's proxy carries them in custom_connection_data: a [Connection]
// (auth scheme, toolkit slug and a [Val] of fields), the required fields of
// each scheme, [Source]s for credentials that rotate, and redaction so that
// printing or logging a credential never shows a secret.
//
// # Wire form and round trip
//
// A Connection encodes as {"authScheme", "toolkitSlug", "val"}. Val has a
// typed string field for every key Composio documents and keeps every other
// key, as raw JSON, in Val.Extra. Decoding and then encoding with
// [MarshalWire] or [AppendWire] loses no key and no value, with these
// normalisations:
//
//   - Whitespace inside object and array values is removed.
//   - expires_in and expires_at are written as JSON numbers when their text
//     is a JSON number, else as strings ("3600" and 3600 both decode to the
//     text "3600" and are written as 3600).
//   - credentials_json may arrive as an object or a string; its field holds
//     the JSON text and it is always written as a string, which is what
//     the proxy expects. Invalid UTF-8 in a string becomes U+FFFD, as
//     with encoding/json.
//   - A typed key whose value is a number keeps its text in the field
//     (a GitHub application_id may arrive as 12345) and is written back
//     as a number while the field holds one.
//   - A typed key whose value is neither a non-empty string nor a number
//     (an empty string, null, an array such as a list of scopes) leaves
//     its field empty and is kept verbatim in Extra, so "password": ""
//     survives the round trip. [Val.Get] and [Val.Set] see both places.
//
// Keys are written in a fixed order (the typed fields, then Extra sorted by
// key), so equal connections encode to equal bytes.
//
// # Redaction
//
// Only MarshalWire and AppendWire write secrets. json.Marshal of a
// Connection or Val, every fmt verb (%v, %+v, %#v, %s, %q, ...), slog
// (LogValue) and the errors of this package show a secret that is set as
// the text [REDACTED] and leave out secrets that are empty. Secret keys are
// listed by [IsSecret]. Redaction is recursive: inside an object or array
// value (in Val.Extra, such as "metadata": {"api_key": "..."} or
// "headers": [{"Authorization": "..."}]) the value of every secret key
// (IsSecretParam), at any depth, is [REDACTED] too; such values are printed
// with their keys sorted. RedactJSON and RedactValue are that JSON
// redactor, the module's only one: the logging middleware's bodies and
// the fake's records use it too. The module spells a redaction one way,
// Redacted ("[REDACTED]"), in values, headers and URL query values alike
// (RedactedParam is the same text). Redaction works through the values' methods, so it
// also covers a Connection or Val held in an exported field, map or slice
// of another value being printed; fmt cannot call methods on unexported
// struct fields, so do not keep credentials in unexported fields of
// structs you print with %v.
//
// # Required fields
//
// Validate checks the fields each scheme needs (see Required); the root
// Transport calls it before sending custom_connection_data.
//
// # Sources
//
// A Source supplies a Connection per request for credentials that rotate:
// StaticSource, FileSource, EnvSource, SourceFunc, and CachingSource, which
// keeps a connection until it expires and refreshes it once for many
// concurrent callers. The sources print as the call that made them
// (credentials.FileSource("path")), never with the connection they hold.
package credentials
