package testutil

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/composiohttp/composiohttp"

	"github.com/composiohttp/composiohttp/internal/jsonscan"
)

// Tool-router sessions: POST /api/v3.1/tool_router/session (and
// /api/v3/tool_router/session) creates one for a user, and
// POST /api/v3.1/tool_router/session/{id}/proxy_execute is its proxy.
//
// Shapes: the create body is composio-base-py
// src/composio_client/types/tool_router/session_create_params.py (user_id
// required; auth_configs and connected_accounts map toolkit slugs to ids;
// manage_connections, tags, toolkits, tools, workbench accepted and not
// acted on), the reply session_create_response.py (session_id, config,
// mcp, tool_router_tools). The proxy body is
// src/composio_client/types/tool_router/session_proxy_execute_params.py:
// the plain proxy envelope with toolkit_slug required and no
// connected_account_id. The account a session uses for a toolkit follows
// https://docs.composio.dev/docs/managing-multiple-connected-accounts and
// /docs/authentication/session-cant-find-account: the account pinned in
// connected_accounts, else the user's ACTIVE accounts of the auth config
// given in auth_configs, else of any auth config, the most recently
// connected first.

// SlugSessionNotFound is the slug of a 404 for an unknown session id.
const SlugSessionNotFound = "ToolRouterSessionNotFound"

const (
	sessionPathV3     = "/api/v3/tool_router/session"
	sessionPathV31    = "/api/v3.1/tool_router/session"
	sessionProxyTail  = "/proxy_execute"
	sessionIDPrefix   = "trs_"
	sessionMCPPathFmt = "/tool_router/%s/mcp"
)

// session is a tool-router session of the fake.
type session struct {
	id          string
	userID      string
	accounts    map[string]string // toolkit slug (lower case) → connected account id
	authConfigs map[string]string // toolkit slug (lower case) → auth config id
}

// SessionInfo describes a tool-router session the fake created.
type SessionInfo struct {
	ID     string
	UserID string
	// ConnectedAccounts and AuthConfigs are the pins given at creation, by
	// toolkit slug (lower case).
	ConnectedAccounts map[string]string
	AuthConfigs       map[string]string
}

// Session returns the session with id, if the fake created it.
func (s *Server) Session(id string) (SessionInfo, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.tenants.sessions[id]
	if !ok {
		return SessionInfo{}, false
	}
	return SessionInfo{
		ID: sess.id, UserID: sess.userID,
		ConnectedAccounts: maps.Clone(sess.accounts), AuthConfigs: maps.Clone(sess.authConfigs),
	}, true
}

// serveTenantAPI serves the connected-accounts listing and the sessions,
// and reports whether r was for one of them.
func (s *Server) serveTenantAPI(rw http.ResponseWriter, r *http.Request, reqID string) bool {
	w := &statusWriter{ResponseWriter: rw}
	switch p := r.URL.Path; {
	case p == accountsPathV31 || p == accountsPathV3:
		s.serveAccountList(w, r, reqID)
	case p == sessionPathV31 || p == sessionPathV3:
		s.serveSessionCreate(w, r, reqID)
	case strings.HasPrefix(p, sessionPathV31+"/") && strings.HasSuffix(p, sessionProxyTail):
		id := strings.TrimSuffix(strings.TrimPrefix(p, sessionPathV31+"/"), sessionProxyTail)
		if id == "" || strings.Contains(id, "/") {
			return false
		}
		s.serveSessionProxy(w, r, reqID, id)
	default:
		return false
	}
	return true
}

func (s *Server) serveSessionCreate(w *statusWriter, r *http.Request, reqID string) {
	if r.Method != http.MethodPost {
		s.writeError(w, reqID, methodNotAllowed(r, http.MethodPost))
		return
	}
	if e := s.checkAPIKey(r); e != nil {
		s.writeError(w, reqID, e)
		return
	}
	raw, err := s.readBody(w, r)
	if err != nil {
		s.answerReadError(w, reqID, err)
		return
	}
	sess, perr := s.decodeSessionCreate(raw)
	if perr != nil {
		s.writeError(w, reqID, perr)
		return
	}
	s.mu.Lock()
	if s.tenants.sessions == nil {
		s.tenants.sessions = make(map[string]*session)
	}
	sess.id = sessionIDPrefix + randomHex(8)
	s.tenants.sessions[sess.id] = sess
	s.mu.Unlock()

	// session_create_response.py: SessionCreateResponse.
	type config struct {
		UserID            string            `json:"user_id"`
		AuthConfigs       map[string]string `json:"auth_configs,omitempty"`
		ConnectedAccounts map[string]string `json:"connected_accounts,omitempty"`
	}
	type mcp struct {
		Type string `json:"type"`
		URL  string `json:"url"`
	}
	writeJSON(w, http.StatusCreated, struct {
		SessionID       string   `json:"session_id"`
		Config          config   `json:"config"`
		MCP             mcp      `json:"mcp"`
		ToolRouterTools []string `json:"tool_router_tools"`
	}{
		SessionID:       sess.id,
		Config:          config{UserID: sess.userID, AuthConfigs: sess.authConfigs, ConnectedAccounts: sess.accounts},
		MCP:             mcp{Type: "http", URL: s.URL + fmt.Sprintf(sessionMCPPathFmt, sess.id)},
		ToolRouterTools: []string{"COMPOSIO_SEARCH_TOOLS", "COMPOSIO_MULTI_EXECUTE_TOOL", "COMPOSIO_MANAGE_CONNECTIONS"},
	})
}

// decodeSessionCreate validates a session create body, including that
// each pinned account exists, belongs to the user and is of its toolkit.
func (s *Server) decodeSessionCreate(raw []byte) (*session, *proxyError) {
	top, err := members(raw)
	if err != nil {
		return nil, validationError("request body: must be a JSON object: " + err.Error())
	}
	var c fieldCheck
	for _, k := range sortedKeys(top) {
		switch k {
		case "user_id", "auth_configs", "connected_accounts", "manage_connections", "tags", "toolkits", "tools", "workbench":
		default:
			c.add(k, "unknown field")
		}
	}
	userID, ok := top["user_id"]
	sess := &session{userID: c.required("user_id", userID, ok)}
	sess.accounts = c.stringMap("connected_accounts", top["connected_accounts"])
	sess.authConfigs = c.stringMap("auth_configs", top["auth_configs"])
	if len(c.errs) > 0 {
		return nil, validationError(c.errs...)
	}
	for _, tk := range sortedKeys(sess.accounts) {
		id := sess.accounts[tk]
		a, ok := s.account(id)
		switch {
		case !ok:
			e := newError(http.StatusNotFound, composiohttp.SlugConnectedAccountNotFound, fmt.Sprintf("Connected account %s not found", id))
			e.fix = "Pin an existing connected account of the user, or leave the toolkit out of connected_accounts."
			return nil, e
		case a.UserID != sess.userID:
			c.add("connected_accounts."+tk, "connected account %s belongs to another user", id)
		case !strings.EqualFold(a.Toolkit, tk):
			c.add("connected_accounts."+tk, "connected account %s is of toolkit %q", id, a.Toolkit)
		}
	}
	if len(c.errs) > 0 {
		return nil, validationError(c.errs...)
	}
	return sess, nil
}

// stringMap decodes an optional object of non-empty strings, keys lower
// cased (toolkit slugs).
func (c *fieldCheck) stringMap(field string, raw json.RawMessage) map[string]string {
	if k := kindOf(raw); k == kindMissing || k == kindNull {
		return nil
	}
	m, err := members(raw)
	if err != nil {
		c.add(field, "must be an object, got %s", kindOf(raw))
		return nil
	}
	out := make(map[string]string, len(m))
	for _, k := range sortedKeys(m) {
		if v, ok := c.str(joinField(field, k), m[k]); ok {
			if v == "" {
				c.add(joinField(field, k), "must not be empty")
			}
			out[strings.ToLower(k)] = v
		} else if isNull(m[k]) {
			c.add(joinField(field, k), "must be a string, got null")
		}
	}
	return out
}

func (s *Server) serveSessionProxy(w *statusWriter, r *http.Request, reqID, id string) {
	var toolkit string
	env, perr, finish, ok := s.admit(w, r, reqID, func(raw []byte) (env *envelope, perr *proxyError) {
		env, toolkit, perr = decodeSessionEnvelope(raw)
		return env, perr
	})
	defer finish()
	if !ok {
		return
	}
	s.mu.Lock()
	sess := s.tenants.sessions[id]
	s.mu.Unlock()
	if sess == nil {
		e := newError(http.StatusNotFound, SlugSessionNotFound, fmt.Sprintf("Tool router session %s not found", id))
		e.fix = "Create a session with POST /api/v3.1/tool_router/session first."
		s.writeError(w, reqID, e)
		return
	}
	if perr != nil {
		s.writeError(w, reqID, perr)
		return
	}
	if env.conn == nil {
		if env.accountID, perr = s.sessionAccount(sess, toolkit); perr != nil {
			s.writeError(w, reqID, perr)
			return
		}
	}
	s.forwardEnvelope(w, r, reqID, env)
}

// sessionAccount picks the account sess uses for toolkit: the pinned one,
// else the most recently connected ACTIVE account of the session's user
// for the toolkit (of the pinned auth config, if one is).
func (s *Server) sessionAccount(sess *session, toolkit string) (string, *proxyError) {
	tk := strings.ToLower(toolkit)
	if id, ok := sess.accounts[tk]; ok {
		return id, nil // gone or inactive since: the proxy's 404 or 422
	}
	authConfig, pinnedConfig := sess.authConfigs[tk]
	s.mu.Lock()
	var list []Account
	for _, a := range s.accounts {
		if a.UserID == sess.userID && strings.EqualFold(a.Toolkit, tk) && accountStatus(&a) == "ACTIVE" &&
			(!pinnedConfig || a.AuthConfigID == authConfig) {
			list = append(list, a)
		}
	}
	s.newerFirst(list, false)
	s.mu.Unlock()
	if len(list) == 0 {
		msg := fmt.Sprintf("No ACTIVE connected account of user %s for toolkit %s", sess.userID, tk)
		if pinnedConfig {
			msg += " with auth config " + authConfig
		}
		e := newError(http.StatusNotFound, composiohttp.SlugConnectedAccountNotFound, msg)
		e.fix = "Connect the user to the toolkit first, or pin an account in connected_accounts when creating the session."
		return "", e
	}
	return list[0].ID, nil
}

// decodeSessionEnvelope validates a session proxy_execute body: the plain
// envelope's rules, toolkit_slug required, connected_account_id unknown.
// It returns the envelope (no account set) and the toolkit slug.
func decodeSessionEnvelope(raw []byte) (*envelope, string, *proxyError) {
	if _, err := members(raw); err != nil {
		_, perr := decodeEnvelope(raw) // the plain proxy's answer to a body that is not an object
		return nil, "", perr
	}
	var c fieldCheck
	tkRaw, hasTK, hasConn := json.RawMessage(nil), false, false
	rest := make([]byte, 0, len(raw)+32)
	rest = append(rest, '{')
	// The members in order, keys as sent, values byte for byte: rest is
	// the plain envelope without toolkit_slug.
	jsonscan.Members(raw, jsonscan.SkipSpace(raw, 0), func(key []byte, vs, ve int) *jsonscan.Error {
		value := raw[vs:ve]
		var k string
		json.Unmarshal(key, &k)
		switch k {
		case "toolkit_slug":
			tkRaw, hasTK = value, true
			return nil
		case "connected_account_id":
			c.add(k, "unknown field (a session chooses the account from its user and toolkit_slug)")
			return nil
		case "custom_connection_data":
			hasConn = !isNull(value)
		}
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = append(append(append(rest, key...), ':'), value...)
		return nil
	})
	if !hasConn { // stands in for the account the session will choose
		if len(rest) > 1 {
			rest = append(rest, ',')
		}
		rest = append(rest, `"connected_account_id":"session"`...)
	}
	rest = append(rest, '}')
	toolkit := c.required("toolkit_slug", tkRaw, hasTK)
	env, perr := decodeEnvelope(rest)
	switch {
	case len(c.errs) > 0 && perr != nil && perr.slug == composiohttp.SlugValidationError:
		return nil, "", validationError(append(c.errs, perr.errs...)...)
	case len(c.errs) > 0:
		return nil, "", validationError(c.errs...)
	case perr != nil:
		return nil, "", perr
	}
	if !hasConn {
		env.accountID = ""
	}
	return env, toolkit, nil
}
