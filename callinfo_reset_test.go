package composiohttp

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// middlewareCallInfoFields are the CallInfo fields that layers above the
// Transport write (context.go says which: "middleware/retry",
// "middleware/cache"). RoundTrip must leave them alone: a retry layer
// counts its retries across attempts, a cache layer sets its result
// before the call reaches the Transport. Every other field is the
// Transport's, and RoundTrip resets it at the start of each attempt.
var middlewareCallInfoFields = []string{"Retries", "CacheHit", "CacheResult"}

// nonZero sets v, a CallInfo field, to a value other than its zero value.
func nonZero(t *testing.T, name string, v reflect.Value) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString("stale-" + name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
	default:
		t.Fatalf("CallInfo.%s is a %s: teach nonZero a value of that kind", name, v.Kind())
	}
	if v.IsZero() {
		t.Fatalf("CallInfo.%s: nonZero left it zero", name)
	}
}

// staleCallInfo returns a CallInfo with every field non-zero, as an
// earlier attempt and the middleware above would leave it.
func staleCallInfo(t *testing.T) *CallInfo {
	info := new(CallInfo)
	v := reflect.ValueOf(info).Elem()
	for i := range v.NumField() {
		nonZero(t, v.Type().Field(i).Name, v.Field(i))
	}
	return info
}

// TestCallInfoResetCoversEveryField: RoundTrip starts each attempt with
// every CallInfo field the Transport owns reset, and the fields the
// middleware owns as they were, for every field CallInfo has, found by
// reflection: a field added to CallInfo and forgotten in RoundTrip's
// reset block (transport.go, "fresh for each attempt") fails here, by
// name. A request refused before anything is sent shows the reset alone;
// a call through the proxy shows the Transport never writes the
// middleware's fields.
func TestCallInfoResetCoversEveryField(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		method string
		// transportZero: the Transport's fields must all be zero after
		// the call (nothing was sent, so nothing was set again).
		transportZero bool
	}{
		{"refused before sending", "TRACE", true},
		{"through the proxy", http.MethodGet, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := &stubProxy{reply: `{"status":200,"data":null}`}
			info := staleCallInfo(t)
			stale := *info
			req, err := http.NewRequestWithContext(WithCallInfo(context.Background(), info), tt.method, "https://api.github.com/x", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := newTestTransport(p).RoundTrip(req)
			if tt.transportZero != (err != nil) {
				t.Fatalf("RoundTrip: %v", err)
			}
			if resp != nil {
				resp.Body.Close()
			}
			got, was := reflect.ValueOf(info).Elem(), reflect.ValueOf(stale)
			for i := range got.NumField() {
				name := got.Type().Field(i).Name
				switch f := got.Field(i); {
				case slices.Contains(middlewareCallInfoFields, name):
					if !reflect.DeepEqual(f.Interface(), was.Field(i).Interface()) {
						t.Errorf("CallInfo.%s (middleware's) = %v, want %v kept: RoundTrip must not reset it", name, f, was.Field(i))
					}
				case tt.transportZero && !f.IsZero():
					t.Errorf("CallInfo.%s = %v after a new attempt: reset it at the start of RoundTrip (transport.go, \"fresh for each attempt\"), or list it in middlewareCallInfoFields if middleware writes it", name, f)
				}
			}
		})
	}
}

// TestCallInfoOwnersDocumented: middlewareCallInfoFields is exactly the
// set of CallInfo fields whose doc comment in context.go names a
// middleware package as their writer, so the list and the docs cannot
// drift. A field without a comment of its own shares the comment above
// it ("UserID and SessionID: ...").
func TestCallInfoOwnersDocumented(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "context.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	var fields *ast.FieldList
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "CallInfo" {
			fields = ts.Type.(*ast.StructType).Fields
		}
		return fields == nil
	})
	if fields == nil {
		t.Fatal("no CallInfo in context.go")
	}
	var fromDocs []string
	doc := ""
	for _, fl := range fields.List {
		if fl.Doc != nil {
			doc = fl.Doc.Text()
		}
		if strings.Contains(doc, "middleware/") {
			for _, n := range fl.Names {
				fromDocs = append(fromDocs, n.Name)
			}
		}
	}
	want := slices.Sorted(slices.Values(middlewareCallInfoFields))
	if slices.Sort(fromDocs); !slices.Equal(fromDocs, want) {
		t.Errorf("context.go names middleware as the writer of %v; middlewareCallInfoFields lists %v", fromDocs, want)
	}
}
