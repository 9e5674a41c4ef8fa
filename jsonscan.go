package composiohttp

// A small strict JSON scanner (RFC 8259). encoding/json's json.Valid runs
// at about 125 MB/s here, which alone would eat most of the per-call
// budget; this scanner validates and finds value boundaries in one pass at
// several hundred MB/s and never allocates. FuzzScanMatchesValid checks it
// against json.Valid.

const maxJSONDepth = 10000 // as encoding/json

type scanError struct {
	off int
	msg string
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(b []byte, i int) int {
	if i < len(b) && b[i] > ' ' {
		return i
	}
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// validJSON reports whether b is exactly one JSON value with optional
// surrounding whitespace.
func validJSON(b []byte) bool {
	i := skipSpace(b, 0)
	end, err := scanValue(b, i, 0)
	if err != nil {
		return false
	}
	return skipSpace(b, end) == len(b)
}

// scanValue validates the value starting at b[i] and returns the index
// just past it.
func scanValue(b []byte, i, depth int) (int, *scanError) {
	if i >= len(b) {
		return i, &scanError{i, "unexpected end of JSON"}
	}
	switch c := b[i]; {
	case c == '"':
		return scanString(b, i)
	case c == '{':
		return scanObject(b, i, depth+1)
	case c == '[':
		return scanArray(b, i, depth+1)
	case c == '-' || (c >= '0' && c <= '9'):
		return scanNumber(b, i)
	case c == 't':
		return scanLiteral(b, i, "true")
	case c == 'f':
		return scanLiteral(b, i, "false")
	case c == 'n':
		return scanLiteral(b, i, "null")
	}
	return i, &scanError{i, "invalid character"}
}

func scanLiteral(b []byte, i int, lit string) (int, *scanError) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return i, &scanError{i, "invalid literal"}
	}
	return i + len(lit), nil
}

// plainStringByte marks the bytes a JSON string may hold as they are.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func scanString(b []byte, i int) (int, *scanError) {
	start := i
	i++ // opening quote
	for i < len(b) {
		for i < len(b) && plainStringByte[b[i]] {
			i++
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, nil
		case c == '\\':
			if i+1 >= len(b) {
				return i, &scanError{i, "unterminated string"}
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if len(b)-i < 6 || !isHex(b[i+2]) || !isHex(b[i+3]) || !isHex(b[i+4]) || !isHex(b[i+5]) {
					return i, &scanError{i, "invalid \\u escape"}
				}
				i += 6
			default:
				return i, &scanError{i, "invalid escape"}
			}
		case c < 0x20:
			return i, &scanError{i, "control character in string"}
		default:
			i++
		}
	}
	return start, &scanError{start, "unterminated string"}
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func scanNumber(b []byte, i int) (int, *scanError) {
	start := i
	if b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return start, &scanError{i, "invalid number"}
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return start, &scanError{i, "invalid number"}
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return start, &scanError{i, "invalid number"}
		}
	}
	return i, nil
}

func scanObject(b []byte, i, depth int) (int, *scanError) {
	return objectMembers(b, i, depth, nil)
}

func scanArray(b []byte, i, depth int) (int, *scanError) {
	if depth > maxJSONDepth {
		return i, &scanError{i, "nesting too deep"}
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err *scanError
		if i, err = scanValue(b, i, depth); err != nil {
			return i, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, &scanError{i, "unexpected end of JSON"}
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return i, &scanError{i, "expected ',' or ']'"}
		}
	}
}

// objectMembers validates the object at b[i] and calls fn (if not nil)
// for each member with the key token (quotes included, escapes not
// decoded) and the value's bounds. It returns the index just past the object.
func objectMembers(b []byte, i, depth int, fn func(key []byte, vs, ve int) *scanError) (int, *scanError) {
	if i >= len(b) || b[i] != '{' {
		return i, &scanError{i, "expected object"}
	}
	if depth > maxJSONDepth {
		return i, &scanError{i, "nesting too deep"}
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return i, &scanError{i, "expected object key"}
		}
		ks := i
		ke, err := scanString(b, i)
		if err != nil {
			return i, err
		}
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return i, &scanError{i, "expected ':'"}
		}
		vs := skipSpace(b, i+1)
		ve, err := scanValue(b, vs, depth)
		if err != nil {
			return ve, err
		}
		if fn != nil {
			if err := fn(b[ks:ke], vs, ve); err != nil {
				return vs, err
			}
		}
		i = skipSpace(b, ve)
		if i >= len(b) {
			return i, &scanError{i, "unexpected end of JSON"}
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return i, &scanError{i, "expected ',' or '}'"}
		}
	}
}
