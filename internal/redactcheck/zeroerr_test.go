package redactcheck_test

import (
	"errors"
	"fmt"
	"go/ast"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/composiohttp/composiohttp"
	"github.com/composiohttp/composiohttp/credentials"
	"github.com/composiohttp/composiohttp/internal/jsonscan"
	"github.com/composiohttp/composiohttp/internal/redactcheck"
	"github.com/composiohttp/composiohttp/middleware/breaker"
	"github.com/composiohttp/composiohttp/middleware/ratelimit"
	"github.com/composiohttp/composiohttp/middleware/ratelimit/redislimit"
	"github.com/composiohttp/composiohttp/middleware/retry"
	"github.com/composiohttp/composiohttp/schemes"
	"github.com/composiohttp/composiohttp/testutil/vcr"
)

// zeroErrors holds the zero value of every exported error type of the
// module (a type with an Error() string method, on T or *T), keyed as
// registry is: a caller may build any of them by hand
// (&composiohttp.ProxyUnreachableError{}), and none may panic when used
// as an error or printed.
var zeroErrors = map[string]any{
	"./Error":                                    composiohttp.Error{},
	"./EnvelopeError":                            composiohttp.EnvelopeError{},
	"./BinaryError":                              composiohttp.BinaryError{},
	"./ProxyUnreachableError":                    composiohttp.ProxyUnreachableError{},
	"./DownloadError":                            composiohttp.DownloadError{},
	"./UploadError":                              composiohttp.UploadError{},
	"./NoConnectedAccountError":                  composiohttp.NoConnectedAccountError{},
	"./AmbiguousAccountError":                    composiohttp.AmbiguousAccountError{},
	"./ToolkitError":                             composiohttp.ToolkitError{},
	"credentials/MissingFieldError":              credentials.MissingFieldError{},
	"credentials/UnknownSchemeError":             credentials.UnknownSchemeError{},
	"schemes/TokenError":                         schemes.TokenError{},
	"schemes/WithheldError":                      schemes.WithheldError{},
	"schemes/UnknownToolkitError":                schemes.UnknownToolkitError{},
	"schemes/HostToolkitError":                   schemes.HostToolkitError{},
	"middleware/breaker/OpenError":               breaker.OpenError{},
	"middleware/ratelimit/LimitError":            ratelimit.LimitError{},
	"middleware/ratelimit/redislimit/ReplyError": redislimit.ReplyError{},
	"middleware/retry/BudgetError":               retry.BudgetError{},
	"testutil/vcr/MismatchError":                 vcr.MismatchError{},
	"internal/jsonscan/Error":                    jsonscan.Error{},
}

// errorTypes returns "dir/Name" for every exported type of the module
// with an Error() string method.
func errorTypes(t *testing.T) []string {
	return typesWithMethod(t, "Error", func(ft *ast.FuncType) bool {
		if ft.Params.NumFields() != 0 || ft.Results.NumFields() != 1 {
			return false
		}
		res, ok := ft.Results.List[0].Type.(*ast.Ident)
		return ok && res.Name == "string"
	})
}

// typesWithMethod returns "dir/Name" for every exported type of the
// module with a method called method (on T or *T) whose signature sig
// accepts.
func typesWithMethod(t *testing.T, method string, sig func(*ast.FuncType) bool) []string {
	var out []string
	walkModule(t, func(dir string, f *ast.File) {
		for _, decl := range f.Decls {
			fd, ok := decl.(*ast.FuncDecl)
			if !ok || fd.Recv == nil || fd.Name.Name != method || !sig(fd.Type) {
				continue
			}
			recv := fd.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok && id.IsExported() {
				out = append(out, dir+"/"+id.Name)
			}
		}
	})
	slices.Sort(out)
	return out
}

// TestEveryErrorTypeHasZero fails when an exported error type is added
// without an entry in zeroErrors, or an entry names a type that is gone.
func TestEveryErrorTypeHasZero(t *testing.T) {
	t.Parallel()
	checkListed(t, errorTypes(t), zeroErrors, "zeroErrors", "add its zero value")
	for name, v := range zeroErrors {
		if reflect.TypeOf(v).Name() != name[strings.LastIndex(name, "/")+1:] {
			t.Errorf("zeroErrors entry %s holds a %T", name, v)
		}
	}
}

// errOther is an error no type of the module matches.
var errOther = errors.New("redactcheck: some other error")

// TestZeroErrorsDoNotPanic uses the zero value of every exported error
// type, and a pointer to it, every way a caller may: Error, Unwrap,
// errors.Is and errors.As (also through a wrapping error), every other
// method that takes no argument or only plain values, and every fmt verb,
// slog and json.Marshal (redactcheck.Outputs). None may panic, and no
// output may show a recovered panic (fmt's and slog's "PANIC").
func TestZeroErrorsDoNotPanic(t *testing.T) {
	t.Parallel()
	for name, zero := range zeroErrors {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ptr := reflect.New(reflect.TypeOf(zero))
			for _, v := range []any{zero, ptr.Interface()} {
				t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
					t.Parallel()
					probeZero(t, v)
				})
			}
		})
	}
}

// probeZero runs every probe of TestZeroErrorsDoNotPanic on v.
func probeZero(t *testing.T, v any) {
	try := func(what string, f func()) {
		t.Helper()
		defer func() {
			if r := recover(); r != nil {
				t.Errorf("%s of %T panicked: %v", what, v, r)
			}
		}()
		f()
	}
	if err, ok := v.(error); ok {
		try("Error()", func() { _ = err.Error() })
		try("errors.Unwrap", func() { _ = errors.Unwrap(err) })
		if u, ok := err.(interface{ Unwrap() []error }); ok {
			try("Unwrap() []error", func() { _ = u.Unwrap() })
		}
		for _, e := range []error{err, fmt.Errorf("wrapped: %w", err)} {
			try("errors.Is(other)", func() { _ = errors.Is(e, errOther) })
			try("errors.Is(itself)", func() { _ = errors.Is(e, err) })
			try("errors.As(own type)", func() {
				target := reflect.New(reflect.TypeOf(v))
				if !errors.As(e, target.Interface()) {
					t.Errorf("errors.As(%T) finds no %T", e, v)
				}
			})
			try("errors.As(other type)", func() {
				var target *redactcheckError
				_ = errors.As(e, &target)
			})
			try("errors.As(interface)", func() {
				var target interface{ Timeout() bool }
				_ = errors.As(e, &target)
			})
		}
	}
	rv := reflect.ValueOf(v)
	for i := range rv.NumMethod() {
		m, mt := rv.Method(i), rv.Type().Method(i)
		if mt.Name == "Format" {
			continue // needs a fmt.State: the fmt verbs below call it
		}
		args, ok := plainArgs(m.Type(), v)
		if !ok {
			continue
		}
		try(mt.Name+"()", func() { m.Call(args) })
	}
	try("redactcheck.Outputs", func() {
		for how, s := range redactcheck.Outputs(v) {
			if strings.Contains(s, "PANIC") {
				t.Errorf("%s of %T shows a panic: %s", how, v, s)
			}
		}
	})
}

// plainArgs returns arguments for a method of type mt: errOther for an
// error, a pointer to a *T for an any (an As method), the zero value for
// plain values (numbers, strings, time.Time); false when the method takes
// another kind of argument, whose zero value may rightly be refused.
func plainArgs(mt reflect.Type, v any) ([]reflect.Value, bool) {
	errType := reflect.TypeFor[error]()
	anyType := reflect.TypeFor[any]()
	var args []reflect.Value
	for i := range mt.NumIn() {
		in := mt.In(i)
		switch {
		case in == errType:
			args = append(args, reflect.ValueOf(&errOther).Elem())
		case in == anyType:
			args = append(args, reflect.ValueOf(reflect.New(reflect.TypeOf(v)).Interface()))
		case in.Kind() == reflect.Struct || in.Kind() <= reflect.Complex128 || in.Kind() == reflect.String:
			args = append(args, reflect.Zero(in))
		default:
			return nil, false
		}
	}
	if mt.IsVariadic() {
		return nil, false
	}
	return args, true
}

// redactcheckError is an error type no value of the module wraps.
type redactcheckError struct{}

func (*redactcheckError) Error() string { return "redactcheck" }
