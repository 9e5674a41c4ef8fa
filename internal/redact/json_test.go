package redact

import (
	"errors"
	"testing"
)

func TestJSON(t *testing.T) {
	t.Parallel()
	hide := func(v any) any {
		if m, ok := v.(map[string]any); ok {
			if _, ok := m["secret"]; ok {
				m["secret"] = "[REDACTED]"
			}
		}
		return v
	}
	for _, tc := range []struct {
		name, raw, want string
		wantErr         bool
		more            bool
	}{
		{"redacted, keys sorted", `{"secret":"s","b":1,"a":2}`, `{"a":2,"b":1,"secret":"[REDACTED]"}`, false, false},
		{"numbers keep their text, HTML unescaped", ` [1.50, 1e3, "<&>"] `, `[1.50,1e3,"<&>"]`, false, false},
		{"scalar", `"x"`, `"x"`, false, false},
		{"not JSON", `{"a":`, "", true, false},
		{"empty", ``, "", true, false},
		{"two values", `{} {}`, "", true, true},
		{"trailing garbage", `1 x`, "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := JSON([]byte(tc.raw), hide)
			if (err != nil) != tc.wantErr || string(got) != tc.want {
				t.Fatalf("JSON(%q) = %q, %v; want %q (error: %v)", tc.raw, got, err, tc.want, tc.wantErr)
			}
			if errors.Is(err, ErrMoreThanOneValue) != tc.more {
				t.Errorf("error %v: ErrMoreThanOneValue %v, want %v", err, !tc.more, tc.more)
			}
		})
	}
}
