package schemes

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// ErrNoToolkitForHost is matched (errors.Is) by every *HostToolkitError:
// the registry cannot tell which toolkit serves a URL.
var ErrNoToolkitForHost = errors.New("schemes: no single toolkit serves the host")

// HostToolkitError reports a URL that no registered toolkit serves
// (Candidates empty) or that several serve equally well (Candidates lists
// their slugs, sorted).
type HostToolkitError struct {
	Host       string
	Candidates []string
}

func (e *HostToolkitError) Error() string {
	if len(e.Candidates) == 0 {
		return fmt.Sprintf("schemes: no registered toolkit serves host %q", e.Host)
	}
	return fmt.Sprintf("schemes: host %q is served by several toolkits (%s)", e.Host, strings.Join(e.Candidates, ", "))
}

// Is reports whether target is ErrNoToolkitForHost.
func (e *HostToolkitError) Is(target error) bool { return target == ErrNoToolkitForHost }

// hostEntry is one toolkit's base URL as a host pattern and a path prefix.
type hostEntry struct {
	slug string
	// host is the exact host, or for a base URL whose first host label is
	// a placeholder ("https://{subdomain}.zendesk.com") the rest of the
	// host, ".zendesk.com", that one more label must precede.
	host string
	wild bool
	path string // base path without a trailing slash, "" for none
}

// hostIndex is the registry's base URLs by host, built on first use and
// dropped by Register.
type hostIndex struct {
	exact map[string][]hostEntry
	wild  []hostEntry
}

func buildHostIndex(tks map[string]Toolkit) *hostIndex {
	idx := &hostIndex{exact: make(map[string][]hostEntry)}
	for slug, tk := range tks {
		e, ok := parseHostEntry(slug, tk.BaseURL)
		switch {
		case !ok:
		case e.wild:
			idx.wild = append(idx.wild, e)
		default:
			idx.exact[e.host] = append(idx.exact[e.host], e)
		}
	}
	return idx
}

// parseHostEntry reads a base URL template. Templates whose host is a
// placeholder beyond the first label ("{instanceEndpoint}") serve no
// fixed host and are left out.
func parseHostEntry(slug, base string) (hostEntry, bool) {
	scheme, rest, ok := strings.Cut(base, "://")
	if !ok || (scheme != "https" && scheme != "http") {
		return hostEntry{}, false
	}
	host, path, _ := strings.Cut(rest, "/")
	e := hostEntry{slug: slug, host: strings.ToLower(host), path: strings.TrimRight("/"+path, "/")}
	if first, tail, ok := strings.Cut(e.host, "."); ok && strings.HasPrefix(first, "{") && strings.HasSuffix(first, "}") {
		e.host, e.wild = "."+tail, true
	}
	if strings.ContainsAny(e.host, "{}") || e.host == "" || strings.ContainsAny(e.path, "{}") {
		return hostEntry{}, false
	}
	return e, true
}

// nextWild returns the index of the first entry of wild, from i on, that
// host is a tenant's host under: one label (not empty, no dot), then the
// entry's host (".zendesk.com"); -1 if none. ToolkitForURL and
// tenantDomain both ask it. It loops itself, rather than being asked per
// entry: a call per entry made ToolkitForURL about 15% slower (it is not
// inlined).
func nextWild(wild []hostEntry, host string, i int) int {
	for ; i < len(wild); i++ {
		if label, ok := strings.CutSuffix(host, wild[i].host); ok && label != "" && !strings.Contains(label, ".") {
			return i
		}
	}
	return -1
}

// serves reports whether e's base path is a prefix of path, by segments.
func (e hostEntry) serves(path string) bool {
	return e.path == "" || path == e.path || strings.HasPrefix(path, e.path+"/")
}

// ToolkitForURL returns the slug of the registered toolkit whose base URL
// serves u: the same host (a placeholder first label, as in
// "https://{subdomain}.zendesk.com", matches any one label) and a path
// under the base URL's path. Of several matches, the one with the longest
// base path wins ("https://acme.atlassian.net/wiki/..." is confluence,
// not jira). The scheme and port are not compared. No match, or several
// equally long ones (discord and discordbot share https://discord.com/api),
// is a *HostToolkitError; a URL without a host is one with Host "".
func (r *ToolkitRegistry) ToolkitForURL(u *url.URL) (string, error) {
	if u == nil || u.Host == "" {
		return "", &HostToolkitError{}
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	path := u.Path
	idx := r.hostIndex()
	// each calls f with every entry serving host and path.
	each := func(f func(hostEntry)) {
		for _, e := range idx.exact[host] {
			if e.serves(path) {
				f(e)
			}
		}
		for i := nextWild(idx.wild, host, 0); i >= 0; i = nextWild(idx.wild, host, i+1) {
			if e := idx.wild[i]; e.serves(path) {
				f(e)
			}
		}
	}
	var best hostEntry
	bestLen, ties := -1, 0
	each(func(e hostEntry) {
		switch n := len(e.path); {
		case n > bestLen:
			best, bestLen, ties = e, n, 0
		case n == bestLen:
			ties++
		}
	})
	if bestLen >= 0 && ties == 0 {
		return best.slug, nil
	}
	var candidates []string // the tie, if any (no allocation on success)
	each(func(e hostEntry) {
		if len(e.path) == bestLen {
			candidates = append(candidates, e.slug)
		}
	})
	slices.Sort(candidates)
	return "", &HostToolkitError{Host: host, Candidates: candidates}
}

// ToolkitForURL is DefaultToolkits.ToolkitForURL(u).
func ToolkitForURL(u *url.URL) (string, error) { return DefaultToolkits.ToolkitForURL(u) }

func (r *ToolkitRegistry) hostIndex() *hostIndex {
	r.mu.RLock()
	idx := r.hosts
	r.mu.RUnlock()
	if idx != nil {
		return idx
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.hosts == nil {
		r.hosts = buildHostIndex(r.toolkits)
	}
	return r.hosts
}
