package credentials

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// DefaultExpirySkew is the library-wide safety margin before an expiry: a
// credential that expires within DefaultExpirySkew is treated as already
// expired, so that it is not sent only to expire in flight. CachingSource
// uses it (unless WithExpirySkew) and the schemes package uses it to decide
// when to refresh an OAuth2 token. It is 10 seconds, as in
// golang.org/x/oauth2.
const DefaultExpirySkew = 10 * time.Second

// unixMillisCutoff separates Unix seconds from Unix milliseconds in
// expires_at: a number whose magnitude is at least 1e12 is milliseconds.
// 1e12 seconds is the year 33658, beyond any real expiry and beyond
// "never" sentinels such as 253402300799 (9999-12-31); 1e12 milliseconds is
// 2001-09-09, before any expiry still to come.
const unixMillisCutoff = 1e12

// maxUnixMillis bounds numeric expires_at values (1e15 ms is the year
// 33658 again); larger numbers are rejected.
const maxUnixMillis = 1e15

// expiryLayouts are the date-time forms of expires_at, after a lower-case
// or space separator became 'T' and a lower-case 'z' became 'Z'. Parsing
// accepts fractional seconds after the seconds in each.
var expiryLayouts = []string{
	time.RFC3339,               // 2026-01-01T00:00:00Z, +01:00
	"2006-01-02T15:04:05Z0700", // +0100
	"2006-01-02T15:04:05Z07",   // +01
	"2006-01-02T15:04:05",      // no zone: UTC
}

// Expiry returns when v's credentials expire, from expires_at. It is the
// one parser of expires_at in this module (the schemes package uses it
// too). It accepts:
//
//   - an RFC 3339 date-time, with or without fractional seconds, with 'T',
//     't' or a space between date and time, and a zone Z, ±hh:mm, ±hhmm or
//     ±hh ("2026-01-01T00:00:00Z", "2026-01-01 00:00:00.5+00:00");
//   - the same date-time without a zone, read as UTC
//     ("2026-01-01T00:00:00.123456", as Python's utcnow().isoformat()
//     writes it);
//   - Unix seconds as a JSON number or its text, integer or decimal
//     ("1767225600", "1767225600.5", "1.7672256e9");
//   - Unix milliseconds: a number of magnitude 1e12 or more
//     ("1767225600000"); below 1e12 a number is seconds. The cut-off is
//     unambiguous in practice: 1e12 ms is 2001-09-09, before any expiry
//     still to come, and 1e12 s is the year 33658, beyond any expiry and
//     any "never" sentinel such as 253402300799 (9999-12-31) in seconds.
//
// Decimal Unix times are exact to the microsecond. Expiry reports false
// when expires_at is absent, empty, not in one of these forms, or a number
// of magnitude 1e15 or more. expires_in is relative to when a token was
// issued, which a Val does not record; CachingSource counts it from when
// it fetched the connection.
func (v *Val) Expiry() (time.Time, bool) {
	s, ok := v.Get("expires_at")
	if !ok || s == "" {
		return time.Time{}, false
	}
	if isNumber(s) {
		return unixTime(s)
	}
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	for _, layout := range expiryLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// unixTime reads s, a JSON number, as Unix seconds or milliseconds.
func unixTime(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.Abs(f) >= maxUnixMillis {
		return time.Time{}, false
	}
	whole, frac := math.Modf(f)
	if math.Abs(f) >= unixMillisCutoff {
		return time.UnixMilli(int64(whole)).Add(time.Duration(math.Round(frac*1e3)) * time.Microsecond), true
	}
	// Round the fraction to microseconds: float64 holds a current Unix
	// time to about a quarter of a microsecond.
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1e3), true
}
