package testutil

import (
	"encoding/json"
	"reflect"
	"testing"
)

// splitSeeds are valid JSON values; members must split the objects as
// encoding/json does and refuse the rest.
var splitSeeds = []string{
	`{}`, `[]`, ` { } `, ` [ ] `,
	`{"a":1}`, `{"a" : 1 , "b":"x"}`, "\t{\n\"a\"\r:\n[1, {\"b\": [ ]}] ,\"c\":null}\n",
	`{"a":1,"a":2}`, `{"a\"b":"c\\\"}"}`, `{"\u0041":true,"\ud83d\ude00":false}`, "{\"\xff\":1}",
	`{"a":"]}","b":{"c":"{["}}`, `{"n":-1.5e+10,"t":true,"f":false,"z":null}`,
	`[1, "two", [3], {"four":4}, null, true, -0.0e-1]`, `[[],[[]],{}]`, `["\\", "\"", "\\\""]`,
	`{"endpoint":"/x","method":"GET","parameters":[{"name":"a","value":1,"type":"query"}],"body":{"a":[1,false,{}]}}`,
}

func TestSplitMatchesEncodingJSON(t *testing.T) {
	t.Parallel()
	for _, s := range splitSeeds {
		checkSplit(t, []byte(s))
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range splitSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		if json.Valid(raw) {
			checkSplit(t, raw)
		} else if _, err := members(raw); err == nil {
			t.Errorf("members(%q) accepted invalid JSON", raw)
		}
	})
}

// checkSplit compares members of raw, valid JSON, with encoding/json.
func checkSplit(t *testing.T, raw []byte) {
	t.Helper()
	if kindOf(raw) != kindObject {
		if _, err := members(raw); err == nil {
			t.Errorf("members(%q) accepted a %s", raw, kindOf(raw))
		}
		return
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(raw, &want); err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
	got, err := members(raw)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("members(%q) = %q, %v; want %q", raw, got, err, want)
	}
}
