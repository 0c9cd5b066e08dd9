package router

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// TestIdleHoldsNoBuffer checks the design claim of doc.go: a connection
// keeps a read buffer only while a frame is partly received.
func TestIdleHoldsNoBuffer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Options{})
	go srv.Serve(ln)
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	nc, br, _, err := ws.Dialer{Protocols: []string{"wamp"}}.Dial(context.Background(), "ws://"+ln.Addr().String()+"/")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rw := struct {
		io.Reader
		io.Writer
	}{nc, nc}
	if br != nil {
		rw.Reader = io.MultiReader(br, nc)
	}
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := wsutil.ReadServerText(rw); err != nil { // WELCOME
		t.Fatal(err)
	}
	srv.mu.Lock()
	var c *conn
	for c = range srv.conns {
	}
	srv.mu.Unlock()

	// bufferHeld waits until a worker has served the connection after the
	// lastRead value since and finished, then reports whether the
	// connection still holds a read buffer.
	bufferHeld := func(since int64) bool {
		deadline := time.Now().Add(5 * time.Second)
		for c.lastRead.Load() == since || c.reading.Load() {
			if time.Now().After(deadline) {
				t.Fatal("no worker served the connection")
			}
			time.Sleep(time.Millisecond)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.rbuf != nil
	}

	// A whole message: answered, and the buffer goes back to the pool.
	since := c.lastRead.Load()
	wsutil.WriteClientText(nc, []byte(`[2,"1","http://example.com/none"]`))
	if _, err := wsutil.ReadServerText(rw); err != nil {
		t.Fatal(err)
	}
	if bufferHeld(since) {
		t.Fatal("an idle connection holds a read buffer")
	}

	// Half a frame: the buffer is kept for the rest of it.
	var frame writeBuffer
	ws.WriteFrame(&frame, ws.MaskFrameInPlace(ws.NewTextFrame([]byte(`[2,"2","http://example.com/none"]`))))
	since = c.lastRead.Load()
	nc.Write(frame[:10])
	if !bufferHeld(since) {
		t.Fatal("a partly received frame was not kept")
	}
	since = c.lastRead.Load()
	nc.Write(frame[10:])
	if _, err := wsutil.ReadServerText(rw); err != nil {
		t.Fatal(err)
	}
	if bufferHeld(since) {
		t.Fatal("the buffer was kept after the frame completed")
	}
}

type writeBuffer []byte

func (b *writeBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}
