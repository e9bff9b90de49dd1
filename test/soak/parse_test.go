package soak

import "testing"

// The server's count of duplicates rests on parseEmit.
func TestParseEmit(t *testing.T) {
	for _, tc := range []struct {
		in   string
		name string
		n    int64
		ok   bool
	}{
		{`42["echo",17]`, "echo", 17, true},
		{`4212["ack",18]`, "ack", 18, true},
		{`451-13["ack",19,{"_placeholder":true,"num":0}]`, "ack", 19, true},
		{`42/chat,7["ack",20]`, "ack", 20, true},
		{`42["noop",0]`, "noop", 0, true},
		{`43["ack",1]`, "", 0, false},
		{`42["ack","1"]`, "", 0, false},
		{`42["ack",-1]`, "", 0, false},
		{`40`, "", 0, false},
		{`3`, "", 0, false},
		{`451["ack",1]`, "", 0, false},
		{`<binary 8 bytes>`, "", 0, false},
	} {
		name, n, ok := parseEmit(tc.in)
		if name != tc.name || n != tc.n || ok != tc.ok {
			t.Errorf("parseEmit(%q) = %q, %d, %v; want %q, %d, %v", tc.in, name, n, ok, tc.name, tc.n, tc.ok)
		}
	}
}

func TestTally(t *testing.T) {
	tl := newTally()
	st := tl.update([]string{`42["echo",1]`, `421["ack",2]`, `3`})
	if st.PlainEmits != 1 || st.AckEmits != 1 || st.AckDups+st.PlainDups != 0 {
		t.Fatalf("first update: %+v", st)
	}
	st = tl.update([]string{`42["echo",1]`, `421["ack",2]`, `3`, `422["ack",2]`, `42["noop",200]`})
	if st.AckEmits != 2 || st.AckDups != 1 || st.PlainEmits != 2 || st.PlainDups != 0 || st.Packets != 5 {
		t.Fatalf("second update: %+v", st)
	}
}
