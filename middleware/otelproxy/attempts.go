package otelproxy

import (
	"net/http"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/composiohttp/composiohttp"
)

// Attempts returns a middleware that makes one client span per attempt,
// as the HTTP semantic conventions advise for resends: place it just inside
// retry (Chain(..., retry.Middleware(), otelproxy.Attempts(tp), breaker...)).
// Each span is a child of the call's span (New's), named like it, and
// carries http.request.method, server.address, http.request.resend_count
// (0 for the first attempt; from the *composiohttp.CallInfo that New puts
// in the context and retry counts in), the status, and the proxy error's
// slug; it ends when the attempt's RoundTrip returns. tp nil:
// otel.GetTracerProvider().
func Attempts(tp trace.TracerProvider) func(http.RoundTripper) http.RoundTripper {
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	tracer := tp.Tracer("github.com/composiohttp/composiohttp/middleware/otelproxy")
	return func(next http.RoundTripper) http.RoundTripper {
		if next == nil {
			next = http.DefaultTransport
		}
		return &attempts{next: next, tracer: tracer}
	}
}

type attempts struct {
	names  spanNamer
	next   http.RoundTripper
	tracer trace.Tracer
}

// Unwrap returns the RoundTripper it wraps.
func (a *attempts) Unwrap() http.RoundTripper { return a.next }

func (a *attempts) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	resend := 0
	if info := composiohttp.CallInfoFromContext(ctx); info != nil {
		resend = info.Retries
	}
	attrs := []attribute.KeyValue{
		attribute.String("http.request.method", req.Method),
		AttrResendCount.Int(resend),
	}
	if req.URL != nil {
		attrs = append(attrs, attribute.String("server.address", req.URL.Hostname()))
	}
	ctx, span := a.tracer.Start(ctx, a.names.name("", req), trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	defer span.End()
	resp, err := a.next.RoundTrip(req.WithContext(ctx))
	switch pe := proxyError(err); {
	case pe != nil:
		span.SetAttributes(AttrProxyStatus.Int(pe.StatusCode), AttrErrorSlug.String(pe.Slug))
		span.SetStatus(codes.Error, "proxy error")
	case err != nil:
		span.SetStatus(codes.Error, "request failed")
	default:
		span.SetAttributes(attribute.Int("http.response.status_code", resp.StatusCode))
		if resp.StatusCode >= 500 {
			span.SetStatus(codes.Error, "")
		}
	}
	return resp, err
}
