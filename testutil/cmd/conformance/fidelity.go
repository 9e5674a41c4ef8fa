package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// fidelityScenarios are the cases where the service's behaviour is not
// documented and the fake takes the stricter reading (see "Where the
// service is not known" in package testutil): a run against the service
// shows what it really does.
func fidelityScenarios() []scenario {
	get := func(c *config, s *side, q string, params ...map[string]any) map[string]any {
		env := map[string]any{"connected_account_id": s.account, "endpoint": c.url(q), "method": "GET"}
		if len(params) > 0 {
			env["parameters"] = params
		}
		return env
	}
	return []scenario{
		{
			name: "envelope sent as text/plain", doc: "an envelope with Content-Type text/plain (the fake: 400 ValidationError)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.rawContentType(ctx, "text/plain", get(c, s, "case=text-plain"))
			},
		},
		{
			name: "number as a parameter value", doc: "a query parameter whose value is the JSON number 1; Composio types value as a string (the fake: 400)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, _ := s.raw(ctx, "POST", "/api/v3.1/tools/execute/proxy",
					get(c, s, "case=number-value", map[string]any{"name": "n", "value": 1, "type": "query"}), s.apiKey)
				return o
			},
		},
		{
			name: "Host header parameter", doc: "a header parameter named Host (the fake: 400)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, _ := s.raw(ctx, "POST", "/api/v3.1/tools/execute/proxy",
					get(c, s, "case=host-param", map[string]any{"name": "Host", "value": "conformance.invalid", "type": "header"}), s.apiKey)
				return o
			},
		},
		{
			name: "hop-by-hop header parameters", doc: "header parameters Connection and Keep-Alive (the fake: 400)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, _ := s.raw(ctx, "POST", "/api/v3.1/tools/execute/proxy",
					get(c, s, "case=hop-by-hop",
						map[string]any{"name": "Connection", "value": "close", "type": "header"},
						map[string]any{"name": "Keep-Alive", "value": "timeout=5", "type": "header"}), s.apiKey)
				return o
			},
		},
		{
			name: "empty binary_body.base64", write: true, skip: needWrites,
			doc: "a POST whose binary_body.base64 is empty; the schema's minLength is 1 (the fake: 400)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				o, _ := s.raw(ctx, "POST", "/api/v3.1/tools/execute/proxy", map[string]any{
					"connected_account_id": s.account, "endpoint": c.url("case=empty-base64"), "method": "POST",
					"binary_body": map[string]any{"base64": "", "content_type": "application/octet-stream"},
				}, s.apiKey)
				return o
			},
		},
		{
			name: "non-JSON reply labelled JSON", doc: "an upstream reply OK with Content-Type application/json (the fake: binary_data, so the caller gets OK)",
			run: func(ctx context.Context, c *config, s *side) *obs {
				return s.through(ctx, newRequest("GET", c.url("reply=notjson"), nil), nil, "Content-Type")
			},
		},
	}
}

// rawContentType posts env to s's proxy path as contentType and observes
// the reply.
func (s *side) rawContentType(ctx context.Context, contentType string, env any) *obs {
	b, _ := json.Marshal(env)
	o := newObs()
	req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(s.baseURL, "/")+"/api/v3.1/tools/execute/proxy", bytes.NewReader(b))
	if err != nil {
		o.set("result", "bad request: "+err.Error())
		return o
	}
	req.Header.Set("Content-Type", contentType)
	if strings.HasPrefix(s.apiKey, "uak_") {
		req.Header.Set("X-User-Api-Key", s.apiKey)
	} else {
		req.Header.Set("X-Api-Key", s.apiKey)
	}
	cp := &capture{next: s.rt}
	resp, err := cp.RoundTrip(req)
	if err != nil {
		o.set("result", "transport error")
		return o
	}
	resp.Body.Close()
	o.observeProxy(cp.all()[0])
	return o
}
