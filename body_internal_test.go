package wechatauth

// The duplicate-key walk of decodeJSON, at every depth.
import "testing"

func TestHasDuplicateKey(t *testing.T) {
	for in, want := range map[string]bool{
		`{"code":"a","code":"b"}`:                   true,
		`{"code":"a","c":"b"}`:                      false,
		`{"a":{"x":1,"x":2}}`:                       true,
		`{"a":{"x":1},"b":{"x":2}}`:                 false,
		`{"a":[{"x":1,"x":2}]}`:                     true,
		`{"a":[{"x":1},{"x":1}],"b":[1,2,{"a":1}]}`: false,
		`{"a":1,"\u0061":2}`:                        true,
		`{"a":{"b":{}},"a2":[[],[{}]],"c":null}`:    false,
		`{"a":{"b":{}},"c":[[],[{}]],"c":null}`:     true,
	} {
		if got := hasDuplicateKey([]byte(in)); got != want {
			t.Errorf("%s: %v", in, got)
		}
	}
}
