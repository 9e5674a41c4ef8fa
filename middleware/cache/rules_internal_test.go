package cache

import (
	"net/http"
	"testing"
	"time"
)

func TestParseCacheControl(t *testing.T) {
	t.Parallel()
	tests := []struct {
		lines []string
		want  cacheControl
	}{
		{nil, cacheControl{staleIfError: -1}},
		{[]string{"max-age=60"}, cacheControl{staleIfError: -1}},
		{[]string{"max-age=60, No-Store"}, cacheControl{noStore: true, staleIfError: -1}},
		{[]string{"max-age=60", "\tno-store\t"}, cacheControl{noStore: true, staleIfError: -1}},
		{[]string{`private="no-store, x"`}, cacheControl{staleIfError: -1}}, // a field-name list, not the directive
		{[]string{`no-cache="Set-Cookie"`}, cacheControl{noCache: true, staleIfError: -1}},
		{[]string{"MUST-REVALIDATE"}, cacheControl{mustRevalidate: true, staleIfError: -1}},
		{[]string{"proxy-revalidate"}, cacheControl{mustRevalidate: true, staleIfError: -1}},
		{[]string{"max-stale"}, cacheControl{maxStale: true, staleIfError: -1}},
		{[]string{"stale-if-error"}, cacheControl{staleIfError: -1}},
		{[]string{"stale-if-error="}, cacheControl{staleIfError: -1}},
		{[]string{"stale-if-error=-1"}, cacheControl{staleIfError: -1}},
		{[]string{"stale-if-error=1.5"}, cacheControl{staleIfError: -1}},
		{[]string{"stale-if-error = 30"}, cacheControl{staleIfError: 30}},
		{[]string{"Stale-If-Error=30", "stale-if-error=60"}, cacheControl{staleIfError: 60}},
		{[]string{"stale-if-error=99999999999999999999999"}, cacheControl{staleIfError: maxDeltaSeconds}},
	}
	for _, tt := range tests {
		if got := parseCacheControl(tt.lines); got != tt.want {
			t.Errorf("parseCacheControl(%q) = %+v, want %+v", tt.lines, got, tt.want)
		}
	}
}

func TestNormalCacheControl(t *testing.T) { // not parallel: counts allocations
	tests := []struct {
		lines   []string
		drop    string
		want    string
		changed bool
	}{
		{nil, "", "", false},
		{[]string{"max-age=60, no-store"}, "", "max-age=60, no-store", false},
		{[]string{"Max-Age=60,No-Store"}, "", "max-age=60, no-store", true},
		{[]string{"max-age=60", "no-cache"}, "", "max-age=60, no-cache", true},
		{[]string{" max-age = 60 ,, "}, "", "max-age=60", true},
		{[]string{`private="A, B"`}, "", `private="A, B"`, false},
		{[]string{"max-stale=60, no-cache"}, "max-stale", "no-cache", true},
		{[]string{"Max-Stale"}, "max-stale", "", true},
		{[]string{`private="a`, "no-cache"}, "", "no-cache", true}, // the unterminated quote is dropped
	}
	for _, tt := range tests {
		got, changed := normalCacheControl(tt.lines, tt.drop)
		if got != tt.want || changed != tt.changed {
			t.Errorf("normalCacheControl(%q, %q) = %q, %v; want %q, %v", tt.lines, tt.drop, got, changed, tt.want, tt.changed)
		}
	}
	if n := testing.AllocsPerRun(100, func() { normalCacheControl([]string{"max-age=60, no-store"}, "") }); n != 0 {
		t.Errorf("normalCacheControl of a normal line allocates %v times", n)
	}
}

func TestReusable(t *testing.T) { // not parallel: counts allocations
	const head = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
	tests := []struct {
		entry              string
		ok, mustRevalidate bool
	}{
		{head + "Cache-Control: max-age=60\r\n\r\nok", true, false},
		{head + "Cache-Control: max-age=60, must-revalidate\r\n\r\nok", true, true},
		{head + "Cache-Control: max-age=60\r\ncache-control: NO-STORE\r\n\r\nok", false, false},
		{head + "Vary: Accept, *\r\n\r\nok", false, false},
		{head + "\r\nVary: *", true, false}, // in the body, not the header
		{"HTTP/1.1 206 Partial Content\r\n\r\nok", false, false},
		{"HTTP/1.1 503 Service Unavailable\r\nCache-Control: max-age=60\r\n\r\nok", false, false},
		{"HTTP/1.1 500 Internal Server Error\r\n\r\nok", false, false},
		{head + "Cache-Control: max-age=60\r\nset-cookie: sid=SECRET\r\n\r\nok", false, false},
		{head + "\r\nSet-Cookie: in the body", true, false},
		{"garbage", false, false},
		{"", false, false},
	}
	for _, tt := range tests {
		if ok, mr := reusable([]byte(tt.entry)); ok != tt.ok || mr != tt.mustRevalidate {
			t.Errorf("reusable(%q) = %v, %v; want %v, %v", tt.entry, ok, mr, tt.ok, tt.mustRevalidate)
		}
	}
	entry := []byte(head + "Cache-Control: max-age=60\r\nVary: Accept\r\n\r\nok")
	if n := testing.AllocsPerRun(100, func() { reusable(entry) }); n != 0 {
		t.Errorf("reusable allocates %v times", n)
	}
}

func TestWithinStaleWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	date := now.Add(-90 * time.Second).Format(http.TimeFormat)
	none := cacheControl{staleIfError: -1}
	tests := []struct {
		cc   string
		date string
		req  cacheControl
		want bool
	}{
		{"max-age=60, stale-if-error=91", date, none, true},
		{"max-age=60, stale-if-error=90", date, none, false},
		{"max-age=60, stale-if-error", date, none, false},
		{"max-age=60", date, cacheControl{staleIfError: 3600}, true},
		{"max-age=60, stale-if-error=3600", date, cacheControl{staleIfError: 10}, false},
		{"max-age=60, stale-if-error=3600", "", none, false},
		{"max-age=60, stale-if-error=3600", "yesterday", none, false},
		{"max-age=60, must-revalidate, stale-if-error=3600", date, none, false},
		{"no-cache, stale-if-error=3600", date, none, false},
	}
	for _, tt := range tests {
		h := http.Header{"Cache-Control": {tt.cc}}
		if tt.date != "" {
			h.Set("Date", tt.date)
		}
		if got := withinStaleWindow(h, tt.req, now); got != tt.want {
			t.Errorf("withinStaleWindow(%q, Date %q, request %+v) = %v, want %v", tt.cc, tt.date, tt.req, got, tt.want)
		}
	}
}

// FuzzCacheControl: the parsers never panic; normalizing is idempotent
// and keeps what the wrapper reads.
func FuzzCacheControl(f *testing.F) {
	for _, s := range []string{"max-age=60, No-Store", `private="a, \"b"`, "stale-if-error=12,,", "\t", `"`, `a="\`} {
		f.Add(s, "no-cache")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		lines := []string{a, b}
		norm, _ := normalCacheControl(lines, "")
		again, changed := normalCacheControl([]string{norm}, "")
		if norm != "" && (changed || again != norm) {
			t.Errorf("normalizing %q twice: %q then %q (changed %v)", lines, norm, again, changed)
		}
		if got, want := parseCacheControl([]string{norm}), parseCacheControl(lines); norm != "" && got != want {
			t.Errorf("normalized %q reads %+v, the lines %q read %+v", norm, got, lines, want)
		}
		hasStar(a)
		reusable([]byte("HTTP/1.1 200 OK\r\nCache-Control: " + a + "\r\nVary: " + b + "\r\n\r\n"))
		reusable([]byte(a))
	})
}
