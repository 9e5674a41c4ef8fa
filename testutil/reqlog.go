package testutil

import (
	"net/http"
	"net/url"
)

// Bounds of the fake's logs: what it keeps of the traffic it sees, for
// Requests, Calls, Downloads and AccountListings. A fake that serves a
// long-running process (fakeproxy, a shared test server) stays within
// them however many requests arrive.
const (
	// DefaultLogEntries is the most entries each log keeps.
	DefaultLogEntries = 10_000
	// DefaultLogBytes is the most bytes each log keeps: the bodies,
	// headers, URLs and queries its entries hold.
	DefaultLogBytes = 64 << 20
)

// WithRequestLog bounds each of the fake's logs (the proxy requests of
// Requests, the upstream calls of Calls, the binary downloads of
// Downloads, the listings of AccountListings) to at most entries entries
// and bytes bytes of bodies, headers, URLs and queries. When a new entry
// would exceed a bound, the oldest entries are dropped first; an entry
// larger than bytes on its own is not kept. Dropped counts every entry
// dropped. entries ≤ 0 or bytes ≤ 0 keeps no log at all (each entry is
// counted as dropped). Default: DefaultLogEntries and DefaultLogBytes.
func WithRequestLog(entries int, bytes int64) Option {
	return func(c *config) { c.logLimits = logLimits{entries: entries, bytes: bytes} }
}

// LogDrops counts the entries each log dropped to stay within the bounds
// of WithRequestLog, since the fake started or since ResetRecorded.
type LogDrops struct {
	Requests        int // proxy requests (Requests)
	Calls           int // upstream calls (Calls)
	Downloads       int // binary_data URL requests (Downloads)
	AccountListings int // connected-accounts listings (AccountListings)
}

// Dropped returns how many entries each log dropped, oldest first, to
// stay within the bounds of WithRequestLog. A test that asserts on the
// logs can check that it is zero.
func (s *Server) Dropped() LogDrops {
	s.mu.Lock()
	d := LogDrops{Requests: s.records.dropped, Downloads: s.downloads.dropped, AccountListings: s.tenants.listings.dropped}
	s.mu.Unlock()
	s.exp.mu.Lock()
	d.Calls = s.exp.calls.dropped
	s.exp.mu.Unlock()
	return d
}

// ResetRecorded forgets what the logs hold (Requests, Calls, Downloads,
// AccountListings) and their Dropped counts. Unlike Reset, it leaves
// faults, stored binary bodies and the org limit's count alone.
func (s *Server) ResetRecorded() {
	s.mu.Lock()
	s.records.reset()
	s.downloads.reset()
	s.tenants.listings.reset()
	s.mu.Unlock()
	s.exp.resetCalls()
}

type logLimits struct {
	entries int
	bytes   int64
}

// boundedLog keeps the latest entries within limits, dropping the oldest
// first. It is not safe for concurrent use: its owner's mutex guards it.
type boundedLog[T any] struct {
	limits  logLimits
	items   []T
	sizes   []int64
	head    int // items[head:] are kept
	bytes   int64
	dropped int
}

// add appends v, which holds size bytes, and drops the oldest entries
// until the log is within its limits.
func (l *boundedLog[T]) add(v T, size int64) {
	if l.limits.entries <= 0 || size > l.limits.bytes {
		l.dropped++
		return
	}
	for l.len() >= l.limits.entries || l.bytes+size > l.limits.bytes {
		var zero T
		l.items[l.head] = zero // let it be collected
		l.bytes -= l.sizes[l.head]
		l.head++
		l.dropped++
	}
	if l.head > 0 && l.head >= len(l.items)/2 { // compact: amortised O(1) per entry
		n := copy(l.items, l.items[l.head:])
		clear(l.items[n:])
		l.items = l.items[:n]
		l.sizes = l.sizes[:copy(l.sizes, l.sizes[l.head:])]
		l.head = 0
	}
	l.items = append(l.items, v)
	l.sizes = append(l.sizes, size)
	l.bytes += size
}

func (l *boundedLog[T]) len() int { return len(l.items) - l.head }

// all returns the kept entries, oldest first; the slice is the log's own.
func (l *boundedLog[T]) all() []T { return l.items[l.head:] }

// reset forgets the entries and the drop count; the limits stay.
func (l *boundedLog[T]) reset() { *l = boundedLog[T]{limits: l.limits} }

// headerSize is the bytes of h's names and values.
func headerSize(h http.Header) int64 {
	var n int64
	for k, vs := range h {
		for _, v := range vs {
			n += int64(len(k) + len(v))
		}
	}
	return n
}

// valuesSize is the bytes of v's names and values.
func valuesSize(v url.Values) int64 { return headerSize(http.Header(v)) }

// size is what r holds: the memory of its body (the envelope's body and
// parameters share it or are small), base64 text, headers and names.
func (r *Recorded) size() int64 {
	n := int64(cap(r.Body)) + headerSize(r.Header) + int64(len(r.Path)+len(r.RequestID)+len(r.Envelope.Endpoint))
	if bb := r.Envelope.BinaryBody; bb != nil {
		n += int64(len(bb.Base64) + len(bb.URL))
	}
	return n
}

func (c *UpstreamCall) size() int64 {
	return int64(cap(c.Body)) + headerSize(c.Header) + int64(len(c.URL)+len(c.Account))
}

func (d *Download) size() int64 { return headerSize(d.Header) + int64(len(d.ID)) }

func (l *AccountListing) size() int64 {
	n := valuesSize(l.Query) + int64(len(l.Path))
	for _, u := range l.Unknown {
		n += int64(len(u))
	}
	return n
}
