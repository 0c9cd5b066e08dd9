package router_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/router"
)

func TestMalformedInput(t *testing.T) {
	_, url := startServer(t, router.Options{MaxMessageSize: 4096})
	// A bystander session must notice nothing of the others' trouble.
	bystander := dial(t, url)
	subscribe(t, bystander, "http://x.com/t")
	pub := dial(t, url)

	text := func(s string) ws.Frame { return ws.NewTextFrame([]byte(s)) }
	tests := []struct {
		name   string
		frames []ws.Frame
		code   ws.StatusCode
		reason string
	}{
		{"invalid JSON", []ws.Frame{text(`[2,"a",`)}, 1007, "JSON"},
		{"trailing garbage", []ws.Frame{text(`[5,"t"]x`)}, 1007, ""},
		{"bad UTF-8", []ws.Frame{text("[5,\"t\xff\"]")}, 1007, ""},
		{"not an array", []ws.Frame{text(`{"type":2}`)}, 1002, ""},
		{"empty array", []ws.Frame{text(`[]`)}, 1002, ""},
		{"string type id", []ws.Frame{text(`["2","a","b"]`)}, 1002, ""},
		{"float type id", []ws.Frame{text(`[2.5,"a","b"]`)}, 1002, ""},
		{"unknown type id", []ws.Frame{text(`[42,"a"]`)}, 1002, "42"},
		{"CALL without string procUri", []ws.Frame{text(`[2,"a",7]`)}, 1002, "procUri"},
		{"CALL without call id", []ws.Frame{text(`[2]`)}, 1002, ""},
		{"SUBSCRIBE without string topic", []ws.Frame{text(`[5,1]`)}, 1002, ""},
		{"PUBLISH with bad exclude", []ws.Frame{text(`[7,"t",1,"me"]`)}, 1002, ""},
		{"server message from client", []ws.Frame{text(`[8,"t",1]`)}, 1002, "EVENT"},
		{"WELCOME from client", []ws.Frame{text(`[0,"s",1,"x"]`)}, 1002, "WELCOME"},
		{"CALLRESULT from client", []ws.Frame{text(`[3,"c",null]`)}, 1002, "CALLRESULT"},
		{"CALLERROR from client", []ws.Frame{text(`[4,"c","http://e/x","d"]`)}, 1002, "CALLERROR"},
		{"PREFIX without uri", []ws.Frame{text(`[1,"p"]`)}, 1002, ""},
		{"UNSUBSCRIBE without topic", []ws.Frame{text(`[6]`)}, 1002, ""},
		{"PUBLISH without event", []ws.Frame{text(`[7,"t"]`)}, 1002, ""},
		{"PUBLISH with bad eligible", []ws.Frame{text(`[7,"t",1,[],"x"]`)}, 1002, ""},
		{"SUBSCRIBE with extra element", []ws.Frame{text(`[5,"t","x"]`)}, 1002, ""},
		{"deep nesting", []ws.Frame{text(`[2,"c","p",` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `]`)}, 1007, ""},
		{"binary frame", []ws.Frame{ws.NewBinaryFrame([]byte(`[5,"t"]`))}, 1003, "binary"},
		{"too big", []ws.Frame{text(`[7,"t","` + strings.Repeat("x", 5000) + `"]`)}, 1009, "too big"},
		{"too big in fragments", []ws.Frame{
			ws.NewFrame(ws.OpText, false, bytes.Repeat([]byte("x"), 3000)),
			ws.NewFrame(ws.OpContinuation, true, bytes.Repeat([]byte("x"), 3000)),
		}, 1009, "too big"},
		{"continuation without start", []ws.Frame{ws.NewFrame(ws.OpContinuation, true, []byte("x"))}, 1002, "continuation"},
		{"data frame inside fragments", []ws.Frame{
			ws.NewFrame(ws.OpText, false, []byte(`[5,`)), text(`[5,"t"]`),
		}, 1002, "fragmented"},
		{"fragmented control frame", []ws.Frame{ws.NewFrame(ws.OpPing, false, nil)}, 1002, "control"},
		{"reserved bits", []ws.Frame{{Header: ws.Header{Fin: true, Rsv: 4, OpCode: ws.OpText, Length: 2}, Payload: []byte("[]")}}, 1002, "reserved"},
		{"reserved opcode", []ws.Frame{ws.NewFrame(ws.OpCode(3), true, nil)}, 1002, "opcode"},
		{"bad close code", []ws.Frame{ws.NewCloseFrame(ws.NewCloseFrameBody(1005, ""))}, 1002, "close code"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, url)
			for _, f := range tc.frames {
				c.SendFrame(f)
			}
			c.ExpectClose(tc.code, tc.reason)
			// Everybody else goes on.
			pub.T, bystander.T = t, t
			pub.Send(`[7,"http://x.com/t","still here"]`)
			if got := bystander.Recv(); got != `[8,"http://x.com/t","still here"]` {
				t.Fatalf("bystander got %s", got)
			}
		})
	}
}

func TestUnmaskedFrame(t *testing.T) {
	_, url := startServer(t, router.Options{})
	c := dial(t, url)
	if err := ws.WriteFrame(c.Conn, ws.NewTextFrame([]byte(`[5,"t"]`))); err != nil {
		t.Fatal(err)
	}
	c.ExpectClose(1002, "masked")
}

func TestFramesAndControl(t *testing.T) {
	_, url := startServer(t, router.Options{RPC: testRPC()})
	c := dial(t, url)

	// A fragmented message, with a ping between its fragments.
	c.SendFrame(ws.NewFrame(ws.OpText, false, []byte(`[2,"f","http://exa`)))
	c.SendFrame(ws.NewPingFrame([]byte("hi")))
	c.SendFrame(ws.NewFrame(ws.OpContinuation, false, []byte(`mple.com/simple/ca`)))
	c.SendFrame(ws.NewFrame(ws.OpContinuation, true, []byte(`lc#square",4]`)))
	c.Conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	h, err := ws.ReadHeader(c.Conn)
	if err != nil || h.OpCode != ws.OpPong || h.Length != 2 {
		t.Fatalf("want pong with 2 bytes, got %+v %v", h, err)
	}
	p := make([]byte, 2)
	c.Conn.Read(p)
	if string(p) != "hi" {
		t.Fatalf("pong payload %q", p)
	}
	if got := c.Recv(); got != `[3,"f",16]` {
		t.Fatalf("got %s", got)
	}

	// A message split over many TCP writes, byte by byte.
	f := ws.MaskFrameInPlace(ws.NewTextFrame([]byte(`[2,"s","http://example.com/simple/calc#square",5]`)))
	var buf bytes.Buffer
	ws.WriteFrame(&buf, f)
	for _, b := range buf.Bytes() {
		c.Conn.Write([]byte{b})
		time.Sleep(100 * time.Microsecond)
	}
	if got := c.Recv(); got != `[3,"s",25]` {
		t.Fatalf("got %s", got)
	}

	// A message larger than the read buffer, at the limit.
	big := `[2,"b","http://example.com/echo","` + strings.Repeat("y", 100000) + `"]`
	c.Send(big)
	if got := c.Recv(); got != `[3,"b",["`+strings.Repeat("y", 100000)+`"]]` {
		t.Fatalf("big echo: %d bytes", len(got))
	}

	// The close handshake: the server answers with the same code.
	c.SendFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "bye")))
	c.ExpectClose(1000, "")
}
