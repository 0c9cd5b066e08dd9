package protocol_test

import (
	"errors"
	"fmt"

	"github.com/tagwamp/tagwamp/protocol"
)

func ExampleDecoder_Decode() {
	var d protocol.Decoder // one per worker; the zero value is ready
	var m protocol.Message // reused from frame to frame

	frame := []byte(`[2,"0.qd4lajti34a","http://example.com/simple/calc#add",23,[1,2]]`)
	if err := d.Decode(frame, &m); err != nil {
		fmt.Println(protocol.CloseCodeOf(err), protocol.Reason(err))
		return
	}
	fmt.Println(m.Type)
	fmt.Printf("callId %s, procUri %s\n", m.Call.CallID, m.Call.ProcURI)
	for _, a := range m.Call.Args {
		fmt.Printf("arg %s\n", a)
	}
	// Answer with the callId token as received.
	fmt.Printf("%s\n", protocol.AppendCallResult(nil, m.Call.CallID, []byte("30")))

	err := d.Decode([]byte(`[5,42]`), &m)
	fmt.Println(errors.Is(err, protocol.ErrBadMessage), protocol.CloseCodeOf(err), protocol.Reason(err))
	// Output:
	// CALL
	// callId "0.qd4lajti34a", procUri http://example.com/simple/calc#add
	// arg 23
	// arg [1,2]
	// [3,"0.qd4lajti34a",30]
	// true 1002 protocol: SUBSCRIBE: topicUri must be a string, not a number
}

func ExampleAppendEvent() {
	// Encode once per distinct topic string, write the bytes to every receiver.
	buf := make([]byte, 0, 512)
	buf = protocol.AppendEvent(buf[:0], "http://example.com/news?lang=FR", []byte(`{"title":"Bonjour"}`))
	fmt.Printf("%s\n", buf)
	buf = protocol.AppendEvent(buf[:0], "quote\"d\n", nil)
	fmt.Printf("%s\n", buf)
	// Output:
	// [8,"http://example.com/news?lang=FR",{"title":"Bonjour"}]
	// [8,"quote\"d\n",null]
}

func ExamplePrefixes_Resolve() {
	var p protocol.Prefixes // one per session
	if err := p.Set([]byte("calc"), []byte("http://example.com/simple/calc#")); err != nil {
		panic(err)
	}
	for _, s := range []string{"calc:square", "http://example.com/simple/calc#add", "other:x"} {
		fmt.Printf("%s\n", p.Resolve(nil, []byte(s)))
	}
	// Output:
	// http://example.com/simple/calc#square
	// http://example.com/simple/calc#add
	// other:x
}
