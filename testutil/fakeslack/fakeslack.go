// Package fakeslack is a small in-memory Slack Web API for tests and
// examples, to serve as a testutil.Account's upstream: one workspace with
// channels #general (C0GENERAL) and #random (C0RANDOM), and the methods
// auth.test, chat.postMessage, conversations.list and
// conversations.history at https://slack.com/api/METHOD. Arguments are read
// as Slack reads them: from the query string, a form body
// (application/x-www-form-urlencoded) or a JSON body. Replies have Slack's
// shape: HTTP 200 and {"ok":true,...}, or {"ok":false,"error":"..."}
// (channel_not_found, no_text, unknown_method, ...).
//
// Authentication is strict, stricter than Slack may be: the token may come
// as "Authorization: Bearer <token>" (which the fake proxy puts there from
// the account's access token) or as a "token" argument (query, form or
// JSON field), neither is not_authed, and any of them that is not the
// workspace's token is invalid_auth, even when the other one is right. An SDK that insists on a token and sends it in the form
// body, as slack-go does, therefore fails against it with a placeholder
// token unless the placeholder is removed before the call leaves the
// client: see middleware/sdktoken.
//
//	ws := fakeslack.New("Acme", "xoxb-acme")
//	srv.AddAccount(ws.Account("ca_acme"))
package fakeslack

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/redact"
	"github.com/composiohttp/composiohttp/testutil"
)

// BaseURL is the Slack Web API's base URL, the slack toolkit's.
const BaseURL = "https://slack.com/api"

// Bot is the user id of the bot the workspace's token belongs to.
const Bot = "U0BOT"

// Channel is a conversation of the workspace.
type Channel struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Message is a message posted to a channel.
type Message struct {
	Type string `json:"type"`
	User string `json:"user"`
	Text string `json:"text"`
	TS   string `json:"ts"`
}

// Workspace is a fake Slack workspace and the http.Handler of its Web API;
// make one with New. It is safe for concurrent use, and prints without its
// token.
type Workspace struct {
	team, teamID string
	token        string

	mu       sync.Mutex
	channels []Channel
	messages map[string][]Message // by channel id, oldest first
	seq      int
}

// New returns a workspace named team (e.g. "Acme", team id "T0ACME")
// whose bot token is token, with the channels #general and #random.
func New(team, token string) *Workspace {
	return &Workspace{
		team: team, teamID: "T0" + strings.ToUpper(strings.ReplaceAll(team, " ", "")), token: token,
		channels: []Channel{{"C0GENERAL", "general"}, {"C0RANDOM", "random"}},
		messages: make(map[string][]Message),
	}
}

// Account returns a connected Slack account on the fake proxy whose
// upstream is w: toolkit slack, OAuth2 with w's token as access token.
func (w *Workspace) Account(id string) testutil.Account {
	return testutil.Account{
		ID:         id,
		Toolkit:    "slack",
		AuthScheme: credentials.OAuth2,
		Val:        credentials.Val{AccessToken: w.token},
		BaseURL:    BaseURL,
		Handler:    w,
	}
}

// Team returns the workspace's name.
func (w *Workspace) Team() string { return w.team }

// Messages returns a copy of the messages posted to the channel with id
// or name channel, oldest first.
func (w *Workspace) Messages(channel string) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	c, ok := w.channelLocked(channel)
	if !ok {
		return nil
	}
	return append([]Message(nil), w.messages[c.ID]...)
}

// String describes w without its token.
func (w *Workspace) String() string { return fmt.Sprintf("fakeslack.Workspace{Team:%q}", w.team) }

// Format implements fmt.Formatter: every verb prints String, never the
// token.
func (w *Workspace) Format(f fmt.State, verb rune) { redact.Format(f, verb, w.String(), w.String()) }

// ServeHTTP serves the Web API methods under /api/.
func (w *Workspace) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	args, err := arguments(r)
	if err != nil {
		reply(rw, map[string]any{"ok": false, "error": "invalid_form_data"})
		return
	}
	auth := r.Header.Get("Authorization")
	toks, hasTok := args["token"]
	switch {
	case auth == "" && !hasTok:
		reply(rw, map[string]any{"ok": false, "error": "not_authed"})
		return
	case auth != "" && auth != "Bearer "+w.token,
		hasTok && (len(toks) != 1 || toks[0] != w.token):
		reply(rw, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method, _ := strings.CutPrefix(r.URL.Path, "/api/"); method {
	case "auth.test":
		reply(rw, map[string]any{"ok": true, "url": "https://" + strings.ToLower(w.team) + ".slack.com/",
			"team": w.team, "team_id": w.teamID, "user": "composio-bot", "user_id": Bot, "bot_id": "B0BOT"})
	case "chat.postMessage":
		w.postMessage(rw, args)
	case "conversations.list":
		w.mu.Lock()
		list := make([]map[string]any, len(w.channels))
		for i, c := range w.channels {
			list[i] = map[string]any{"id": c.ID, "name": c.Name, "is_channel": true, "is_member": true}
		}
		w.mu.Unlock()
		reply(rw, map[string]any{"ok": true, "channels": list, "response_metadata": map[string]string{"next_cursor": ""}})
	case "conversations.history":
		w.mu.Lock()
		c, ok := w.channelLocked(args.Get("channel"))
		var msgs []Message
		for i := len(w.messages[c.ID]) - 1; ok && i >= 0; i-- { // newest first
			msgs = append(msgs, w.messages[c.ID][i])
		}
		w.mu.Unlock()
		if !ok {
			reply(rw, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		}
		reply(rw, map[string]any{"ok": true, "messages": msgs, "has_more": false})
	default:
		reply(rw, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func (w *Workspace) postMessage(rw http.ResponseWriter, args url.Values) {
	text := args.Get("text")
	if text == "" && args.Get("blocks") == "" {
		reply(rw, map[string]any{"ok": false, "error": "no_text"})
		return
	}
	w.mu.Lock()
	c, ok := w.channelLocked(args.Get("channel"))
	if !ok {
		w.mu.Unlock()
		reply(rw, map[string]any{"ok": false, "error": "channel_not_found"})
		return
	}
	w.seq++
	m := Message{Type: "message", User: Bot, Text: text, TS: fmt.Sprintf("1700000000.%06d", w.seq*100)}
	w.messages[c.ID] = append(w.messages[c.ID], m)
	w.mu.Unlock()
	reply(rw, map[string]any{"ok": true, "channel": c.ID, "ts": m.TS, "message": m})
}

// channelLocked finds a channel by id, name or #name.
func (w *Workspace) channelLocked(s string) (Channel, bool) {
	s = strings.TrimPrefix(s, "#")
	for _, c := range w.channels {
		if c.ID == s || c.Name == s {
			return c, true
		}
	}
	return Channel{}, false
}

// arguments collects a method call's arguments from the query string and
// a form or JSON body.
func arguments(r *http.Request) (url.Values, error) {
	args := r.URL.Query()
	if r.Body == nil { // a request built by hand (http.NewRequest without a body)
		return args, nil
	}
	body, err := io.ReadAll(r.Body)
	if err != nil || len(body) == 0 {
		return args, err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		for k, v := range form {
			args[k] = append(args[k], v...)
		}
	case "application/json":
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, err
		}
		for k, v := range m {
			switch v := v.(type) {
			case string:
				args.Add(k, v)
			default:
				b, _ := json.Marshal(v)
				args.Add(k, string(b))
			}
		}
	}
	return args, nil
}

func reply(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	json.NewEncoder(w).Encode(v)
}
