package composiohttp

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// User id + toolkit → connected account.
//
// The lookup is GET {BaseURL}/api/v3.1/connected_accounts with user_ids,
// toolkit_slugs and statuses=ACTIVE, arrays comma-separated as Composio's
// generated clients send them, following next_cursor. Shapes:
// composio-base-py src/composio_client/types/connected_account_list_params.py
// (query; that version spells the status filter "statues", Composio's
// docs, https://docs.composio.dev/docs/connected-accounts, and SDKs send
// "statuses") and connected_account_list_response.py (items, next_cursor;
// an item's id, toolkit.slug, status, is_disabled, auth_config.id,
// created_at, updated_at), plus the item fields user_id, alias and word_id
// of the current API. A filter the API does not know is silently ignored,
// so every item is checked again here.

// Resolution defaults.
const (
	// DefaultResolveTTL is how long a user's account for a toolkit is
	// reused when ResolveOptions.TTL is 0.
	DefaultResolveTTL = 5 * time.Minute
	// DefaultResolveEntries bounds the resolution cache when
	// ResolveOptions.MaxEntries is 0.
	DefaultResolveEntries = 10000
	// DefaultResolveTimeout bounds one lookup (all its pages) when
	// ResolveOptions.Timeout is 0.
	DefaultResolveTimeout = 30 * time.Second
	// resolvePageSize is the limit asked for per page.
	resolvePageSize = 100
	// maxResolvePages bounds the pages one lookup follows.
	maxResolvePages = 50
	// maxListReply bounds one listing page read into memory.
	maxListReply = 8 << 20
)

var (
	// ErrNoConnectedAccount: the user has no ACTIVE connected account for
	// the toolkit. The concrete error is *NoConnectedAccountError.
	ErrNoConnectedAccount = errors.New("composiohttp: no connected account for the user and toolkit")
	// ErrAmbiguousAccount: the user has several ACTIVE connected accounts
	// for the toolkit and no ResolveOptions.Choose. The concrete error is
	// *AmbiguousAccountError.
	ErrAmbiguousAccount = errors.New("composiohttp: several connected accounts for the user and toolkit")
	// ErrNoToolkit: a user's or session's request names no toolkit and
	// none can be derived from its URL. The concrete error is
	// *ToolkitError.
	ErrNoToolkit = errors.New("composiohttp: cannot tell the request's toolkit")
)

// ConnectedAccount is a connected account as the connected-accounts API
// lists it.
type ConnectedAccount struct {
	ID      string
	UserID  string // "" when the API did not say
	Toolkit string
	Status  string
	// Alias is the account's human-readable alias, WordID its word id
	// ("coup_hurricane_dal_analytical"), when it has them.
	Alias        string
	WordID       string
	AuthConfigID string
	// CreatedAt and UpdatedAt are zero when the API gave none (or one
	// that is not RFC 3339).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ChooseFunc picks the account to use when a user has several ACTIVE
// accounts for a toolkit (accounts, at least two, all checked to be the
// user's and the toolkit's). It must return one of them or an error.
type ChooseFunc func(userID, toolkit string, accounts []ConnectedAccount) (ConnectedAccount, error)

// MostRecentlyUpdated is a ChooseFunc that picks the account updated last
// (ties: created last, then the first listed).
func MostRecentlyUpdated(_, _ string, accounts []ConnectedAccount) (ConnectedAccount, error) {
	best := accounts[0]
	for _, a := range accounts[1:] {
		if c := a.UpdatedAt.Compare(best.UpdatedAt); c > 0 || (c == 0 && a.CreatedAt.After(best.CreatedAt)) {
			best = a
		}
	}
	return best, nil
}

// ResolveOptions tunes how the Transport finds a user's connected account
// for a toolkit (WithUser, Transport.UserID). The zero value is ready to
// use.
type ResolveOptions struct {
	// TTL is how long a resolution is reused. Default: DefaultResolveTTL.
	TTL time.Duration
	// MaxEntries bounds the cache of resolutions (least recently used go
	// first). Default: DefaultResolveEntries.
	MaxEntries int
	// Timeout bounds one lookup. A lookup runs once for all the callers
	// that need it at the same time, detached from their contexts (each
	// caller still gives up when its own context ends). Default:
	// DefaultResolveTimeout.
	Timeout time.Duration
	// Choose picks among several ACTIVE accounts of the user for the
	// toolkit, e.g. MostRecentlyUpdated. Default: nil, and several
	// accounts are an *AmbiguousAccountError.
	Choose ChooseFunc
}

// ToolkitLookup derives the toolkit slug of a request from its URL.
// schemes.DefaultToolkits (a *schemes.ToolkitRegistry) is one.
type ToolkitLookup interface {
	ToolkitForURL(u *url.URL) (string, error)
}

// ToolkitLookupFunc adapts a function to ToolkitLookup.
type ToolkitLookupFunc func(u *url.URL) (string, error)

// ToolkitForURL calls f(u).
func (f ToolkitLookupFunc) ToolkitForURL(u *url.URL) (string, error) { return f(u) }

// NoConnectedAccountError reports that the user has no ACTIVE connected
// account for the toolkit. It matches ErrNoConnectedAccount.
type NoConnectedAccountError struct {
	UserID  string
	Toolkit string
}

func (e *NoConnectedAccountError) Error() string {
	return fmt.Sprintf("composiohttp: user %q has no ACTIVE connected account for toolkit %q", e.UserID, e.Toolkit)
}

// Is reports whether target is ErrNoConnectedAccount.
func (e *NoConnectedAccountError) Is(target error) bool { return target == ErrNoConnectedAccount }

// AmbiguousAccountError reports several ACTIVE connected accounts of the
// user for the toolkit. It matches ErrAmbiguousAccount.
type AmbiguousAccountError struct {
	UserID   string
	Toolkit  string
	Accounts []ConnectedAccount
}

func (e *AmbiguousAccountError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "composiohttp: user %q has %d ACTIVE connected accounts for toolkit %q:", e.UserID, len(e.Accounts), e.Toolkit)
	for i, a := range e.Accounts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, " %s (alias %q, word_id %q)", a.ID, a.Alias, a.WordID)
	}
	b.WriteString("; pick one with WithConnectedAccount, or set Transport.Resolve.Choose")
	return b.String()
}

// Is reports whether target is ErrAmbiguousAccount.
func (e *AmbiguousAccountError) Is(target error) bool { return target == ErrAmbiguousAccount }

// ToolkitError reports a user's or session's request whose toolkit is
// neither given (WithToolkit) nor derivable from its URL. It matches
// ErrNoToolkit.
type ToolkitError struct {
	// Host is the request URL's host ("" for a relative URL).
	Host string
	// Err is the ToolkitLookup's error, or nil when there is none.
	Err error
}

func (e *ToolkitError) Error() string {
	const how = "set it with composiohttp.WithToolkit(ctx, slug)"
	switch {
	case e.Host == "":
		return "composiohttp: the request URL has no host to derive its toolkit from; " + how
	case e.Err == nil:
		return fmt.Sprintf("composiohttp: cannot tell the toolkit of host %q (Transport.Toolkits is nil); %s, or set Transport.Toolkits (e.g. schemes.DefaultToolkits)", e.Host, how)
	}
	return fmt.Sprintf("composiohttp: cannot tell the toolkit of host %q: %v; %s, or register the host's toolkit", e.Host, e.Err, how)
}

// Is reports whether target is ErrNoToolkit.
func (e *ToolkitError) Is(target error) bool { return target == ErrNoToolkit }

// Unwrap returns the lookup's error.
func (e *ToolkitError) Unwrap() error { return e.Err }

// requestToolkit is the toolkit of a user's or session's request: the
// selection's, else derived from the URL.
func (t *Transport) requestToolkit(req *http.Request, cl *call) (string, error) {
	if cl.toolkit != "" {
		return cl.toolkit, nil
	}
	if req.URL.Host == "" {
		return "", &ToolkitError{}
	}
	if t.Toolkits == nil {
		return "", &ToolkitError{Host: req.URL.Host}
	}
	tk, err := t.Toolkits.ToolkitForURL(req.URL)
	if err != nil || tk == "" {
		return "", &ToolkitError{Host: req.URL.Host, Err: err}
	}
	return tk, nil
}

// ResolveAccount returns the connected account the Transport uses for
// userID's requests to toolkit: the one ACTIVE account of that user and
// toolkit, or the one ResolveOptions.Choose picks among several. It uses
// and fills the Transport's cache.
func (t *Transport) ResolveAccount(ctx context.Context, userID, toolkit string) (ConnectedAccount, error) {
	c := t.config()
	if c.err != nil {
		return ConnectedAccount{}, c.err
	}
	a, _, err := c.resolver.resolve(ctx, t, c, resolveKey{userID, toolkit}, false)
	return a, err
}

type resolveKey struct{ user, toolkit string }

// flightKey is k as one string for singleflight: the user id prefixed by
// its length, so that no two keys share a lookup (and its account),
// whatever bytes they hold.
func (k resolveKey) flightKey() string {
	return strconv.Itoa(len(k.user)) + ":" + k.user + k.toolkit
}

// resolver caches user + toolkit → account: a bounded LRU whose entries
// expire, with one lookup in flight per key.
type resolver struct {
	ttl     time.Duration
	max     int
	timeout time.Duration
	choose  ChooseFunc

	flights singleflight.Group
	mu      sync.Mutex
	entries map[resolveKey]*list.Element // of *resolveEntry
	lru     list.List                    // most recently used first
}

type resolveEntry struct {
	key     resolveKey
	account ConnectedAccount
	expires time.Time
}

func newResolver(o ResolveOptions) *resolver {
	r := &resolver{ttl: o.TTL, max: o.MaxEntries, timeout: o.Timeout, choose: o.Choose,
		entries: make(map[resolveKey]*list.Element)}
	if r.ttl <= 0 {
		r.ttl = DefaultResolveTTL
	}
	if r.max <= 0 {
		r.max = DefaultResolveEntries
	}
	if r.timeout <= 0 {
		r.timeout = DefaultResolveTimeout
	}
	return r
}

// cached returns key's account if cached and not expired at now.
func (r *resolver) cached(key resolveKey, now time.Time) (ConnectedAccount, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.entries[key]
	if !ok {
		return ConnectedAccount{}, false
	}
	e := el.Value.(*resolveEntry)
	if !now.Before(e.expires) {
		r.lru.Remove(el)
		delete(r.entries, key)
		return ConnectedAccount{}, false
	}
	r.lru.MoveToFront(el)
	return e.account, true
}

func (r *resolver) store(key resolveKey, a ConnectedAccount, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.entries[key]; ok {
		e := el.Value.(*resolveEntry)
		e.account, e.expires = a, now.Add(r.ttl)
		r.lru.MoveToFront(el)
		return
	}
	for r.lru.Len() >= r.max {
		old := r.lru.Back()
		r.lru.Remove(old)
		delete(r.entries, old.Value.(*resolveEntry).key)
	}
	r.entries[key] = r.lru.PushFront(&resolveEntry{key: key, account: a, expires: now.Add(r.ttl)})
}

// evict forgets key's account if it is still id.
func (r *resolver) evict(key resolveKey, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.entries[key]; ok && el.Value.(*resolveEntry).account.ID == id {
		r.lru.Remove(el)
		delete(r.entries, key)
	}
}

// resolve returns key's account, from the cache unless fresh is set, and
// reports whether it came from the cache. A lookup runs once per key at a
// time, detached from ctx and bounded by the timeout; ctx only bounds how
// long this caller waits for it.
func (r *resolver) resolve(ctx context.Context, t *Transport, c *config, key resolveKey, fresh bool) (ConnectedAccount, bool, error) {
	if !fresh {
		if a, ok := r.cached(key, time.Now()); ok {
			return a, true, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return ConnectedAccount{}, false, err
	}
	ch := r.flights.DoChan(key.flightKey(), func() (any, error) {
		// A flight that ended between this caller's cache miss and
		// DoChan has stored its account already: look again, so that
		// it is not looked up twice.
		if !fresh {
			if a, ok := r.cached(key, time.Now()); ok {
				return a, nil
			}
		}
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		a, err := r.lookup(lctx, c, key)
		if err == nil {
			r.store(key, a, time.Now())
		}
		return a, err
	})
	select {
	case <-ctx.Done():
		return ConnectedAccount{}, false, ctx.Err()
	case res := <-ch:
		if res.Err != nil {
			return ConnectedAccount{}, false, res.Err
		}
		return res.Val.(ConnectedAccount), false, nil
	}
}

// lookup lists the user's ACTIVE accounts of the toolkit, keeps those that
// really are (a filter the API ignored must not let another user's
// account through), and picks one.
func (r *resolver) lookup(ctx context.Context, c *config, key resolveKey) (ConnectedAccount, error) {
	var found []ConnectedAccount
	cursor := ""
	seen := map[string]bool{}
	for range maxResolvePages {
		page, err := listAccounts(ctx, c, key, cursor)
		if err != nil {
			return ConnectedAccount{}, fmt.Errorf("composiohttp: looking up the connected account of user %q for toolkit %q: %w", key.user, key.toolkit, err)
		}
		for _, it := range page.Items {
			if a, ok := it.account(key); ok {
				found = append(found, a)
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return r.pick(key, found)
		}
		cursor = *page.NextCursor
		if seen[cursor] {
			return ConnectedAccount{}, fmt.Errorf("composiohttp: looking up the connected account of user %q for toolkit %q: the listing repeats cursor %q", key.user, key.toolkit, cursor)
		}
		seen[cursor] = true
	}
	return ConnectedAccount{}, fmt.Errorf("composiohttp: looking up the connected account of user %q for toolkit %q: more than %d pages", key.user, key.toolkit, maxResolvePages)
}

func (r *resolver) pick(key resolveKey, found []ConnectedAccount) (ConnectedAccount, error) {
	switch {
	case len(found) == 0:
		return ConnectedAccount{}, &NoConnectedAccountError{UserID: key.user, Toolkit: key.toolkit}
	case len(found) == 1:
		return found[0], nil
	case r.choose == nil:
		return ConnectedAccount{}, &AmbiguousAccountError{UserID: key.user, Toolkit: key.toolkit, Accounts: found}
	}
	a, err := r.choose(key.user, key.toolkit, slices.Clone(found))
	if err != nil {
		return ConnectedAccount{}, err
	}
	if !slices.ContainsFunc(found, func(f ConnectedAccount) bool { return f.ID == a.ID }) {
		return ConnectedAccount{}, fmt.Errorf("%w: ResolveOptions.Choose returned account %q, not one of user %q's for toolkit %q", ErrBadRequest, a.ID, key.user, key.toolkit)
	}
	return a, nil
}

// listPage is one page of connected_account_list_response.py's
// ConnectedAccountListResponse, the fields used.
type listPage struct {
	Items      []listItem `json:"items"`
	NextCursor *string    `json:"next_cursor"`
}

type listItem struct {
	ID      string  `json:"id"`
	UserID  *string `json:"user_id"`
	Alias   string  `json:"alias"`
	WordID  string  `json:"word_id"`
	Toolkit struct {
		Slug string `json:"slug"`
	} `json:"toolkit"`
	Status     string `json:"status"`
	IsDisabled bool   `json:"is_disabled"`
	AuthConfig struct {
		ID string `json:"id"`
	} `json:"auth_config"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// account returns the item as an account if it is an enabled ACTIVE
// account of key's toolkit and user (an item that names no user is
// taken at the listing's word).
func (it *listItem) account(key resolveKey) (ConnectedAccount, bool) {
	if it.ID == "" || it.IsDisabled || !strings.EqualFold(it.Toolkit.Slug, key.toolkit) ||
		(it.Status != "" && !strings.EqualFold(it.Status, "ACTIVE")) ||
		(it.UserID != nil && *it.UserID != key.user) {
		return ConnectedAccount{}, false
	}
	a := ConnectedAccount{
		ID: it.ID, Toolkit: it.Toolkit.Slug, Status: it.Status,
		Alias: it.Alias, WordID: it.WordID, AuthConfigID: it.AuthConfig.ID,
	}
	if it.UserID != nil {
		a.UserID = *it.UserID
	}
	a.CreatedAt, _ = time.Parse(time.RFC3339, it.CreatedAt)
	a.UpdatedAt, _ = time.Parse(time.RFC3339, it.UpdatedAt)
	return a, true
}

// listAccounts fetches one page of the user's ACTIVE accounts of the
// toolkit.
func listAccounts(ctx context.Context, c *config, key resolveKey, cursor string) (*listPage, error) {
	q := url.Values{
		"user_ids":      {key.user},
		"toolkit_slugs": {key.toolkit},
		"statuses":      {"ACTIVE"},
		"limit":         {fmt.Sprint(resolvePageSize)},
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	raw, err := c.callAPI(ctx, http.MethodGet, "/api/v3.1/connected_accounts", q, nil, maxListReply)
	if err != nil {
		return nil, err
	}
	var page listPage
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, fmt.Errorf("%w: connected accounts listing: %v", ErrMalformedEnvelope, err)
	}
	return &page, nil
}

// staleAccount reports a proxy error saying the account used is gone
// (404 ConnectedAccountNotFound) or not active (422).
func staleAccount(err error) bool {
	var pe *Error
	if !errors.As(err, &pe) {
		return false
	}
	return pe.StatusCode == http.StatusUnprocessableEntity ||
		(pe.StatusCode == http.StatusNotFound && (pe.Slug == "" || pe.Slug == SlugConnectedAccountNotFound))
}
