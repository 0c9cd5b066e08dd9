package client

import (
	"encoding/json"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// waitTimeout bounds every wait of the tests on the fake server or client.
const waitTimeout = 5 * time.Second

// testWelcome is the WELCOME the fake server sends by default.
const testWelcome = `[0,"sess-1",1,"fake/1.0"]`

// fakeConfig scripts a fakeServer. The zero value selects the wamp
// subprotocol, sends testWelcome, records what it receives and answers
// nothing.
type fakeConfig struct {
	// noSubprotocol makes the server select no subprotocol.
	noSubprotocol bool
	// reject makes the server refuse the upgrade with HTTP 400.
	reject bool
	// welcome replaces testWelcome as the first frame; "-" sends none.
	welcome string
	// handle is called on the connection's goroutine for every text frame,
	// with the frame split into its elements.
	handle func(sc *serverConn, msg []json.RawMessage)
	// noCloseEcho makes the server ignore the client's close frame instead
	// of answering it and closing the socket.
	noCloseEcho bool
}

// fakeServer is a scripted WAMP v1 server on a loopback listener.
type fakeServer struct {
	t     *testing.T
	cfg   fakeConfig
	ln    net.Listener
	url   string
	conns chan *serverConn
	wg    sync.WaitGroup

	mu  sync.Mutex
	all []*serverConn
}

// serverConn is one connection of the fake server.
type serverConn struct {
	srv    *fakeServer
	conn   net.Conn
	wmu    sync.Mutex
	frames chan string // text frames received
	pongs  chan string // pong payloads received
	closes chan []byte // close frame payloads received
}

func newFakeServer(t *testing.T, cfg fakeConfig) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, cfg: cfg, ln: ln, url: "ws://" + ln.Addr().String() + "/", conns: make(chan *serverConn, 16)}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.stop)
	return s
}

func (s *fakeServer) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		sc := &serverConn{srv: s, conn: conn, frames: make(chan string, 1024), pongs: make(chan string, 16), closes: make(chan []byte, 1)}
		s.mu.Lock()
		s.all = append(s.all, sc)
		s.mu.Unlock()
		s.wg.Add(1)
		go sc.run()
	}
}

// stop closes the listener and every connection and waits for their
// goroutines.
func (s *fakeServer) stop() {
	s.ln.Close()
	s.mu.Lock()
	for _, sc := range s.all {
		sc.conn.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// accept returns the next connection the server upgraded.
func (s *fakeServer) accept(t *testing.T) *serverConn {
	t.Helper()
	select {
	case sc := <-s.conns:
		return sc
	case <-time.After(waitTimeout):
		t.Fatal("fake server: no connection")
		return nil
	}
}

func (sc *serverConn) run() {
	defer sc.srv.wg.Done()
	defer sc.conn.Close()
	cfg := sc.srv.cfg
	u := ws.Upgrader{Protocol: func(p []byte) bool { return !cfg.noSubprotocol && string(p) == "wamp" }}
	if cfg.reject {
		u.OnRequest = func([]byte) error {
			return ws.RejectConnectionError(ws.RejectionStatus(400), ws.RejectionReason("no wamp here"))
		}
	}
	if _, err := u.Upgrade(sc.conn); err != nil {
		return
	}
	sc.srv.conns <- sc
	switch cfg.welcome {
	case "":
		sc.send(testWelcome)
	case "-":
	default:
		sc.send(cfg.welcome)
	}
	for {
		h, err := ws.ReadHeader(sc.conn)
		if err != nil || h.Length > 1<<20 {
			return
		}
		f := ws.Frame{Header: h, Payload: make([]byte, h.Length)}
		if _, err := io.ReadFull(sc.conn, f.Payload); err != nil {
			return
		}
		if f.Header.Masked {
			ws.Cipher(f.Payload, f.Header.Mask, 0)
		}
		switch f.Header.OpCode {
		case ws.OpText:
			sc.frames <- string(f.Payload)
			if cfg.handle != nil {
				var msg []json.RawMessage
				if err := json.Unmarshal(f.Payload, &msg); err != nil {
					sc.srv.t.Errorf("fake server: client sent %q: %v", f.Payload, err)
					return
				}
				cfg.handle(sc, msg)
			}
		case ws.OpPing:
			sc.write(ws.OpPong, f.Payload)
		case ws.OpPong:
			sc.pongs <- string(f.Payload)
		case ws.OpClose:
			sc.closes <- f.Payload
			if cfg.noCloseEcho {
				continue
			}
			sc.write(ws.OpClose, f.Payload)
			return
		}
	}
}

// write sends one frame from the server.
func (sc *serverConn) write(op ws.OpCode, p []byte) {
	sc.wmu.Lock()
	defer sc.wmu.Unlock()
	wsutil.WriteServerMessage(sc.conn, op, p)
}

// send sends a text frame.
func (sc *serverConn) send(msg string) { sc.write(ws.OpText, []byte(msg)) }

// sendLater sends msg after d, from another goroutine.
func (sc *serverConn) sendLater(d time.Duration, msg string) {
	sc.srv.wg.Add(1)
	go func() {
		defer sc.srv.wg.Done()
		time.Sleep(d)
		sc.send(msg)
	}()
}

// expect waits for the next text frame from the client and checks it.
func (sc *serverConn) expect(t *testing.T, want string) {
	t.Helper()
	select {
	case got := <-sc.frames:
		if got != want {
			t.Errorf("server received %s, want %s", got, want)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("server did not receive %s", want)
	}
}
