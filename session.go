package composiohttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"time"
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
// service is an *Error.
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
	u := c.apiBase
	u.Path += "/api/v3.1/tool_router/session"
	req := (&http.Request{
		Method: http.MethodPost, URL: &u, Header: maps.Clone(c.header), Host: u.Host,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Body: io.NopCloser(bytes.NewReader(raw)), ContentLength: int64(len(raw)),
	}).WithContext(ctx)
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		perr := parseProxyError(resp.StatusCode, resp.Header, b, time.Now())
		scrubEchoes(perr, c, nil)
		return "", perr
	}
	b, err := readBody(resp.Body, resp.ContentLength, maxErrorBody)
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
