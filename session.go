package composiohttp

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// Tool-router sessions. A session belongs to one user; its proxy,
// POST {BaseURL}/api/v3.1/tool_router/session/{id}/proxy_execute, takes
// toolkit_slug instead of connected_account_id and picks the user's
// account itself (WithSession, Transport.SessionID).
//
// Shapes: composio-base-py
// src/composio_client/types/tool_router/session_create_params.py (user_id;
// connected_accounts and auth_configs map toolkit slugs to ids),
// session_create_response.py (session_id) and
// session_proxy_execute_params.py (toolkit_slug with the plain proxy
// envelope's fields).

// maxSessionReply bounds the create-session reply read into memory: the
// session id, its MCP server and the session's configuration echoed
// (session_create_response.py), a few KiB for what CreateSession sends.
const maxSessionReply = 64 << 10

// SessionOptions are optional settings of CreateSession.
type SessionOptions struct {
	// ConnectedAccounts pins, per toolkit slug, the connected account the
	// session uses. Default: the user's most recently connected ACTIVE
	// account of each toolkit.
	ConnectedAccounts map[string]string
	// AuthConfigs picks, per toolkit slug, the auth config whose accounts
	// the session uses. Default: any.
	AuthConfigs map[string]string
}

// CreateSession creates a tool-router session for userID with POST
// {BaseURL}/api/v3.1/tool_router/session and returns its id, for
// WithSession or Transport.SessionID. opts may be nil. A refusal of the
// service (any status but 2xx) is an *Error; a failure to reach it a
// *ProxyUnreachableError.
func (t *Transport) CreateSession(ctx context.Context, userID string, opts *SessionOptions) (string, error) {
	c := t.config()
	if c.err != nil {
		return "", c.err
	}
	if userID == "" {
		return "", fmt.Errorf("%w: CreateSession needs a user id", ErrBadRequest)
	}
	body := struct {
		UserID            string            `json:"user_id"`
		ConnectedAccounts map[string]string `json:"connected_accounts,omitempty"`
		AuthConfigs       map[string]string `json:"auth_configs,omitempty"`
	}{UserID: userID}
	if opts != nil {
		body.ConnectedAccounts, body.AuthConfigs = opts.ConnectedAccounts, opts.AuthConfigs
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	b, err := c.callAPI(ctx, http.MethodPost, "/api/v3.1/tool_router/session", nil, raw, maxSessionReply)
	if err != nil {
		return "", err
	}
	var reply struct {
		SessionID string `json:"session_id"`
	}
	if err := json.Unmarshal(b, &reply); err != nil || reply.SessionID == "" {
		return "", fmt.Errorf("%w: session create reply without session_id", ErrMalformedEnvelope)
	}
	return reply.SessionID, nil
}
