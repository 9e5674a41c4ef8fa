package testutil

import (
	"cmp"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The connected-accounts listing, GET /api/v3.1/connected_accounts (and
// /api/v3/connected_accounts).
//
// Shapes: the query parameters follow Composio's generated client,
// composio-base-py src/composio_client/types/connected_account_list_params.py
// (auth_config_ids, cursor, labels, limit, order_by, toolkit_slugs,
// user_ids; that version spells the status filter "statues", Composio's
// docs at https://docs.composio.dev/docs/connected-accounts and its SDKs
// send "statuses", which is what the fake knows), plus
// connected_account_ids. The reply follows
// src/composio_client/types/connected_account_list_response.py (items,
// next_cursor, total_items, current_page, total_pages; an item's id,
// toolkit.slug, status, auth_config, created_at, updated_at, is_disabled,
// state), with the item fields user_id, alias and word_id that the
// service adds (alias: schemas.apis.io PatchConnectedAccountBody; word
// ids such as "coup_hurricane_dal_analytical": the tool router execute
// reference, docs.composio.dev/reference/api-reference/tool-router).

// Listing defaults and limits of the fake.
const (
	// DefaultListLimit is the page size of a listing without limit.
	DefaultListLimit = 20
	// MaxListLimit is the largest limit accepted; more is a 400.
	MaxListLimit = 1000
)

const (
	accountsPathV3  = "/api/v3/connected_accounts"
	accountsPathV31 = "/api/v3.1/connected_accounts"
	// timeLayout is how the fake writes created_at and updated_at.
	timeLayout = "2006-01-02T15:04:05.000Z07:00"
)

// accountStatuses are the statuses a connected account can have
// (connected_account_list_response.py, Item.status).
var accountStatuses = []string{"INITIALIZING", "INITIATED", "ACTIVE", "FAILED", "EXPIRED", "INACTIVE"}

// listFilters are the query parameters the listing knows; any other name
// is ignored, as the real API ignores it, and recorded.
var listFilters = []string{
	"user_ids", "toolkit_slugs", "statuses", "connected_account_ids",
	"auth_config_ids", "labels", "cursor", "limit", "order_by",
}

// AccountListing is one GET of the connected-accounts listing received.
type AccountListing struct {
	// Path is the request path (/api/v3.1/connected_accounts or
	// /api/v3/connected_accounts).
	Path string
	// Query is the request's query, as sent.
	Query url.Values
	// Unknown names the query parameters the real API does not know,
	// sorted. The fake ignores them, as the service does, which is how a
	// misspelt filter ("entityId", "toolkit", "status") silently lists
	// every account of the organisation.
	Unknown []string
	// Status is the HTTP status answered.
	Status int
}

// AccountListings returns copies of the connected-accounts listings
// received with a valid API key, in order: the latest ones, within the
// bounds of WithRequestLog.
func (s *Server) AccountListings() []AccountListing {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.tenants.listings.all())
	for i := range out {
		out[i].Query = cloneValues(out[i].Query)
		out[i].Unknown = slices.Clone(out[i].Unknown)
	}
	return out
}

// UnknownListParams returns the names of the query parameters the real
// API does not know that any listing received, sorted and without
// repeats: a test asserts that it is empty to show its client sent only
// filters that filter.
func (s *Server) UnknownListParams() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, l := range s.tenants.listings.all() {
		names = append(names, l.Unknown...)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}

// tenantState is the fake's state for listings and sessions, guarded by
// Server.mu.
type tenantState struct {
	seq      map[string]uint64 // account id → order of AddAccount, for ties
	next     uint64
	listings boundedLog[AccountListing] // reqlog.go
	sessions map[string]*session
}

// noteAccount fills a's defaults and orders it; s.mu must be held.
func (s *Server) noteAccount(a *Account) {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = s.cfg.now()
	}
	if a.UpdatedAt.IsZero() {
		a.UpdatedAt = a.CreatedAt
	}
	if a.AuthConfigID == "" && a.Toolkit != "" {
		a.AuthConfigID = "ac_" + strings.ToLower(a.Toolkit)
	}
	if s.tenants.seq == nil {
		s.tenants.seq = make(map[string]uint64)
	}
	s.tenants.next++
	s.tenants.seq[a.ID] = s.tenants.next
}

// accountStatus is a's status as listed: "" is ACTIVE.
func accountStatus(a *Account) string {
	if a.Status == "" {
		return "ACTIVE"
	}
	return strings.ToUpper(a.Status)
}

// newerFirst orders accounts most recently connected first (by CreatedAt,
// then by order of AddAccount), or most recently updated first when
// byUpdate is set.
func (s *Server) newerFirst(list []Account, byUpdate bool) {
	slices.SortFunc(list, func(a, b Account) int {
		ta, tb := a.CreatedAt, b.CreatedAt
		if byUpdate {
			ta, tb = a.UpdatedAt, b.UpdatedAt
		}
		if c := tb.Compare(ta); c != 0 {
			return c
		}
		return cmp.Compare(s.tenants.seq[b.ID], s.tenants.seq[a.ID])
	})
}

// listValues reads a filter sent comma-separated ("a,b"), repeated
// (?x=a&x=b) or both; blanks are dropped.
func listValues(vs []string) []string {
	var out []string
	for _, v := range vs {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}

func (s *Server) serveAccountList(w *statusWriter, r *http.Request, reqID string) {
	q := r.URL.Query()
	listing := AccountListing{Path: r.URL.Path, Query: cloneValues(q)}
	for name := range q {
		if !slices.Contains(listFilters, name) {
			listing.Unknown = append(listing.Unknown, name)
		}
	}
	slices.Sort(listing.Unknown)
	authErr := s.checkAPIKey(r)
	defer func() {
		if authErr != nil {
			return // unauthenticated requests are not recorded
		}
		listing.Status = w.status
		s.mu.Lock()
		s.tenants.listings.add(listing, listing.size())
		s.mu.Unlock()
	}()

	if r.Method != http.MethodGet {
		s.writeError(w, reqID, methodNotAllowed(r, http.MethodGet))
		return
	}
	if authErr != nil {
		s.writeError(w, reqID, authErr)
		return
	}

	var c fieldCheck
	users := listValues(q["user_ids"])
	toolkits := listValues(q["toolkit_slugs"])
	ids := listValues(q["connected_account_ids"])
	authConfigs := listValues(q["auth_config_ids"])
	labels := listValues(q["labels"])
	statuses := listValues(q["statuses"])
	for i, st := range statuses {
		statuses[i] = strings.ToUpper(st)
		if !slices.Contains(accountStatuses, statuses[i]) {
			c.add("statuses", "must be one of %s, got %q", strings.Join(accountStatuses, ", "), st)
		}
	}
	limit := DefaultListLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			c.add("limit", "must be an integer from 1 to %d, got %q", MaxListLimit, v)
		}
		limit = n
	}
	offset := 0
	if v := q.Get("cursor"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			c.add("cursor", "invalid cursor %q", v)
		}
		offset = n
	}
	byUpdate := false
	switch v := q.Get("order_by"); v {
	case "", "created_at":
	case "updated_at":
		byUpdate = true
	default:
		c.add("order_by", "must be created_at or updated_at, got %q", v)
	}
	if len(c.errs) > 0 {
		s.writeError(w, reqID, validationError(c.errs...))
		return
	}

	match := func(want []string, v string) bool {
		return len(want) == 0 || slices.ContainsFunc(want, func(x string) bool { return strings.EqualFold(x, v) })
	}
	s.mu.Lock()
	var list []Account
	for _, a := range s.accounts {
		if match(users, a.UserID) && match(toolkits, a.Toolkit) && match(statuses, accountStatus(&a)) &&
			(len(ids) == 0 || slices.Contains(ids, a.ID)) &&
			match(authConfigs, a.AuthConfigID) && len(labels) == 0 { // accounts carry no labels
			list = append(list, a)
		}
	}
	s.newerFirst(list, byUpdate)
	s.mu.Unlock()

	total := len(list)
	page := list[min(offset, total):min(offset+limit, total)]
	reply := accountListReply{
		Items:       make([]accountItem, len(page)),
		TotalItems:  total,
		TotalPages:  (total + limit - 1) / limit,
		CurrentPage: offset/limit + 1,
	}
	for i := range page {
		reply.Items[i] = listItem(&page[i])
	}
	if offset+limit < total {
		next := strconv.Itoa(offset + limit)
		reply.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, reply)
}

// accountListReply is connected_account_list_response.py's
// ConnectedAccountListResponse.
type accountListReply struct {
	Items       []accountItem `json:"items"`
	NextCursor  *string       `json:"next_cursor"`
	TotalItems  int           `json:"total_items"`
	TotalPages  int           `json:"total_pages"`
	CurrentPage int           `json:"current_page"`
}

// accountItem is connected_account_list_response.py's Item, plus user_id,
// alias and word_id. Its state carries the auth scheme and status, never
// the credentials.
type accountItem struct {
	ID      string `json:"id"`
	UserID  string `json:"user_id"`
	Alias   string `json:"alias,omitempty"`
	WordID  string `json:"word_id,omitempty"`
	Toolkit struct {
		Slug string `json:"slug"`
	} `json:"toolkit"`
	Status       string  `json:"status"`
	StatusReason *string `json:"status_reason"`
	IsDisabled   bool    `json:"is_disabled"`
	AuthConfig   struct {
		ID                string `json:"id"`
		IsComposioManaged bool   `json:"is_composio_managed"`
		IsDisabled        bool   `json:"is_disabled"`
	} `json:"auth_config"`
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
	State     struct {
		AuthScheme string `json:"authScheme"`
		Val        struct {
			Status string `json:"status"`
		} `json:"val"`
	} `json:"state"`
}

func listItem(a *Account) accountItem {
	var it accountItem
	it.ID, it.UserID, it.Alias, it.WordID = a.ID, a.UserID, a.Alias, a.WordID
	it.Toolkit.Slug = strings.ToLower(a.Toolkit)
	it.Status = accountStatus(a)
	it.AuthConfig.ID, it.AuthConfig.IsComposioManaged = a.AuthConfigID, true
	it.CreatedAt = a.CreatedAt.UTC().Format(timeLayout)
	it.UpdatedAt = a.UpdatedAt.UTC().Format(timeLayout)
	it.State.AuthScheme = string(a.AuthScheme)
	it.State.Val.Status = it.Status
	return it
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		panic(err) // the fake's own types always marshal
	}
	w.Header().Set(headerContentType, contentTypeJSON)
	w.Header().Set(headerContentLength, strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
