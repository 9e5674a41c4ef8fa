package testutil

import "testing"

func TestStripFalsy(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"a":1,"b":false,"c":0,"d":"","e":{},"f":[]}`, `{"a":1}`},
		{`{"z":-0,"y":0.0,"x":0e5,"w":-0.0E-3,"v":0.5,"u":"0","t":"false","s":true,"r":null}`, `{"v":0.5,"u":"0","t":"false","s":true,"r":null}`},
		{` { "a" : { "b" : false } , "c" : [ 0 , false , {} , { "d" : 0 , "e" : 1 } ] } `, `{"c":[0,false,{},{"e":1}]}`},
		{`{"a":[[]],"b":[{}]}`, `{"a":[[]],"b":[{}]}`},
		{`{"a\"b":"x","\u00e9":0}`, `{"a\"b":"x"}`},
		{`{"only":false}`, `{}`},
		{`[false,0,"",{"a":false}]`, `[false,0,"",{}]`},
		{`"text"`, `"text"`},
		{` 0 `, `0`},
		{`{}`, `{}`},
	}
	for _, tt := range tests {
		if got := string(stripFalsy([]byte(tt.in))); got != tt.want {
			t.Errorf("stripFalsy(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
