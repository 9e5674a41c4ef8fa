package main

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// echoHeaderPrefix marks the request headers the echo reports back; no
// other header is echoed, so that credentials and headers a proxy adds
// (user agents, forwarding, tracing) never reach a reply or a report.
const echoHeaderPrefix = "X-Conf-"

// binaryReply is what the echo answers to ?reply=binary: every byte value,
// twice.
var binaryReply = func() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// echoHandler is the upstream the scenarios call. It answers every method,
// by the query parameter reply:
//
//	(none)   a binary request body comes back as is, with its content
//	         type; anything else gets a JSON description of the request:
//	         method, query (in order), the X-Conf-* headers, and the body
//	         exactly as received (a string, or base64 if not UTF-8)
//	text     text/plain
//	notjson  OK, labelled application/json
//	binary   512 bytes of application/octet-stream
//	status   the status given as code=..., with a small JSON body
//	headers  repeated response headers (Link, X-Conf-Multi) and {}
//
// It never echoes Authorization, cookies or any header outside X-Conf-*.
// Serve it with `conformance -echo ADDR` on a host the proxy can reach.
func echoHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		q := r.URL.Query()
		switch q.Get("reply") {
		case "text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			io.WriteString(w, "conformance text reply: \"quoted\", <tag> & unicode \u00e9\n")
			return
		case "notjson":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "OK")
			return
		case "binary":
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write(binaryReply)
			return
		case "status":
			code, err := strconv.Atoi(q.Get("code"))
			if err != nil || code < 200 || code > 599 {
				code = http.StatusTeapot
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			io.WriteString(w, `{"message":"conformance status `+strconv.Itoa(code)+`","ok":false}`)
			return
		case "headers":
			w.Header().Add("Link", `<https://example.com/page/2>; rel="next"`)
			w.Header().Add("Link", `<https://example.com/page/9>; rel="last"`)
			w.Header().Add("X-Conf-Multi", "one")
			w.Header().Add("X-Conf-Multi", "two")
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{}`)
			return
		}
		ct := r.Header.Get("Content-Type")
		if len(body) > 0 && ct != "" && !strings.Contains(ct, "json") {
			w.Header().Set("Content-Type", ct)
			w.Write(body)
			return
		}
		headers := map[string][]string{}
		for k, v := range r.Header {
			if strings.HasPrefix(http.CanonicalHeaderKey(k), echoHeaderPrefix) {
				headers[http.CanonicalHeaderKey(k)] = v
			}
		}
		var query [][2]string
		for pair := range strings.SplitSeq(r.URL.RawQuery, "&") {
			if pair == "" {
				continue
			}
			k, v, _ := strings.Cut(pair, "=")
			query = append(query, [2]string{k, v})
		}
		reply := map[string]any{"method": r.Method, "query": query, "headers": headers}
		if utf8.Valid(body) {
			reply["body"] = string(body)
		} else {
			reply["body_base64"] = base64.StdEncoding.EncodeToString(body)
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.Encode(reply)
	})
}
