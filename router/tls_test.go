package router_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wstest"
	"github.com/tagwamp/tagwamp/router"
)

// testCert is a self-signed certificate for 127.0.0.1 and localhost, made
// once per test binary, with its PEM encodings.
var testCert = sync.OnceValue(func() (c struct {
	cert            tls.Certificate
	pool            *x509.CertPool
	certPEM, keyPEM []byte
}) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tagwamp test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		panic(err)
	}
	c.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	c.keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	if c.cert, err = tls.X509KeyPair(c.certPEM, c.keyPEM); err != nil {
		panic(err)
	}
	c.pool = x509.NewCertPool()
	c.pool.AppendCertsFromPEM(c.certPEM)
	return c
})

// startTLSServer serves o over TLS and returns its wss:// URL.
func startTLSServer(t testing.TB, o router.Options) (*router.Server, string) {
	t.Helper()
	o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{testCert().cert}, MinVersion: tls.VersionTLS12}
	srv, url := startServer(t, o)
	return srv, "wss://" + strings.TrimPrefix(url, "ws://")
}

// dialTLS opens a wss session and reads WELCOME. netDial, when not nil,
// makes the TCP connection under the client's TLS.
func dialTLS(t testing.TB, url string, netDial func(ctx context.Context, network, addr string) (net.Conn, error)) *wsClient {
	t.Helper()
	c := &wsClient{wstest.Dial(t, url, wstest.Options{
		TLSConfig: &tls.Config{RootCAs: testCert().pool, MinVersion: tls.VersionTLS12},
		NetDial:   netDial,
	})}
	if _, ok := c.Conn.(*tls.Conn); !ok {
		t.Fatalf("dialed a %T, want a *tls.Conn", c.Conn)
	}
	return c
}

// dribbleConn writes to its TCP connection a few bytes at a time, pausing
// between them, so that the server's reads end inside TLS records.
type dribbleConn struct{ net.Conn }

func (d dribbleConn) Write(p []byte) (int, error) {
	for i := 0; i < len(p); i += 7 {
		if _, err := d.Conn.Write(p[i:min(i+7, len(p))]); err != nil {
			return i, err
		}
		time.Sleep(50 * time.Microsecond)
	}
	return len(p), nil
}

func dribble(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.(*net.TCPConn).SetNoDelay(true)
	return dribbleConn{c}, nil
}

func TestTLS(t *testing.T) {
	_, url := startTLSServer(t, router.Options{RPC: testRPC()})

	t.Run("call", func(t *testing.T) {
		c := dialTLS(t, url, nil)
		if r := c.call(`[2,"1","http://example.com/echo","hi"]`); fmt.Sprint(r) != "[3 1 [hi]]" {
			t.Fatalf("echo: %v", r)
		}
	})
	t.Run("many frames in one record", func(t *testing.T) {
		c := dialTLS(t, url, nil)
		var b []byte
		for i := range 50 {
			b = append(b, wstest.MaskedFrame(ws.OpText, fmt.Sprintf(`[2,"%d","http://example.com/echo",%d]`, i, i))...)
		}
		if len(b) > 16<<10 {
			t.Fatalf("%d bytes do not fit one record", len(b))
		}
		if _, err := c.Conn.Write(b); err != nil { // one Write, one record
			t.Fatal(err)
		}
		for i := range 50 {
			if r := c.Recv(); r != fmt.Sprintf(`[3,"%d",[%d]]`, i, i) {
				t.Fatalf("reply %d: %s", i, r)
			}
		}
	})
	t.Run("one frame over many records", func(t *testing.T) {
		c := dialTLS(t, url, nil)
		f := wstest.MaskedFrame(ws.OpText, `[2,"split","http://example.com/echo","one byte per record"]`)
		for i := range f {
			if _, err := c.Conn.Write(f[i : i+1]); err != nil { // one record each
				t.Fatal(err)
			}
		}
		if r := c.Recv(); r != `[3,"split",["one byte per record"]]` {
			t.Fatalf("reply: %s", r)
		}
	})
	t.Run("partial records", func(t *testing.T) {
		c := dialTLS(t, url, dribble)
		for i := range 20 {
			if r := c.call(fmt.Sprintf(`[2,"%d","http://example.com/echo","%s"]`, i, strings.Repeat("p", 30*i))); r[1] != fmt.Sprint(i) {
				t.Fatalf("reply %d: %v", i, r)
			}
		}
	})
	t.Run("large message", func(t *testing.T) {
		c := dialTLS(t, url, nil)
		big := strings.Repeat("0123456789abcdef", 40<<10) // 640 KiB
		c.Send(`[2,"big","http://example.com/echo","` + big + `"]`)
		if r := c.Recv(); r != `[3,"big",["`+big+`"]]` {
			t.Fatalf("reply of %d bytes is not the echo", len(r))
		}
	})
	t.Run("more than one read budget at once", func(t *testing.T) {
		// 600 KiB of calls in one burst, read 256 KiB per notification.
		c := dialTLS(t, url, nil)
		const n = 3000
		var b []byte
		pad := strings.Repeat("q", 180)
		for i := range n {
			b = append(b, wstest.MaskedFrame(ws.OpText, fmt.Sprintf(`[2,"%d","http://example.com/echo","%s"]`, i, pad))...)
		}
		go c.Conn.Write(b)
		for i := range n {
			if r := c.Recv(); !strings.HasPrefix(r, fmt.Sprintf(`[3,"%d",`, i)) {
				t.Fatalf("reply %d: %.40s", i, r)
			}
		}
	})
	t.Run("ping", func(t *testing.T) {
		c := dialTLS(t, url, nil)
		c.Conn.Write(wstest.MaskedFrame(ws.OpPing, "are you there"))
		h, p, err := c.NextFrame(5 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if h.OpCode != ws.OpPong || string(p) != "are you there" {
			t.Fatalf("got %v %q, want the pong", h.OpCode, p)
		}
	})
	t.Run("message too big", func(t *testing.T) {
		c := dialTLS(t, url, nil)
		c.Send(`[2,"x","http://example.com/echo","` + strings.Repeat("z", 1<<20) + `"]`)
		c.ExpectClose(1009, "")
	})
}

func TestTLSReadBudgetLeavesRecordsInside(t *testing.T) {
	// A worker reads at most 100 bytes per notification. One write of 12
	// KiB of calls is one TLS record: the first read decrypts it whole and
	// takes 4 KiB of it, the socket is then empty, and the rest is only
	// inside crypto/tls, where epoll cannot see it. Every call must still
	// be answered.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := router.New(router.Options{
		RPC:       testRPC(),
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{testCert().cert}},
	})
	router.SetReadBudget(srv, 100)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		<-done
	})
	c := dialTLS(t, "wss://"+ln.Addr().String()+"/", nil)
	var b []byte
	const n = 60
	for i := range n {
		b = append(b, wstest.MaskedFrame(ws.OpText, fmt.Sprintf(`[2,"%d","http://example.com/echo","%s"]`, i, strings.Repeat("r", 150)))...)
	}
	if len(b) > 16<<10 {
		t.Fatalf("%d bytes do not fit one record", len(b))
	}
	if _, err := c.Conn.Write(b); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if r := c.Recv(); !strings.HasPrefix(r, fmt.Sprintf(`[3,"%d",`, i)) {
			t.Fatalf("reply %d: %.40s", i, r)
		}
	}
}

func TestTLSFrameBufferedDuringUpgrade(t *testing.T) {
	// The client sends its upgrade request and, in a second TLS record
	// without waiting for the 101 (RFC 6455 §4.1 says it must wait), a
	// CALL. crypto/tls reads both records from the socket while the server
	// reads the request, so the CALL sits inside crypto/tls when the
	// session starts, where epoll cannot see it. It is answered all the same.
	_, url := startTLSServer(t, router.Options{RPC: testRPC()})
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/")
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: testCert().pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "GET / HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: wamp\r\n\r\n"
	frame := wstest.MaskedFrame(ws.OpText, `[2,"early","http://example.com/echo","pipelined"]`)
	if _, err := conn.Write([]byte(req)); err != nil { // record 1
		t.Fatal(err)
	}
	if _, err := conn.Write(frame); err != nil { // record 2
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []byte
	buf := make([]byte, 4096)
	for !strings.Contains(string(got), `[3,"early",["pipelined"]]`) {
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("read: %v; got %q", err, got)
		}
	}
}

func TestTLSFanout(t *testing.T) {
	srv, url := startTLSServer(t, router.Options{})
	const subs, events = 5, 300
	clients := make([]*wsClient, subs)
	for i := range clients {
		clients[i] = dialTLS(t, url, nil)
		subscribe(t, clients[i], "http://x.com/room?g=1")
	}
	pub := dialTLS(t, url, nil)
	var wg sync.WaitGroup
	errs := make(chan error, subs)
	for _, c := range clients {
		wg.Go(func() {
			for i := range events {
				m, err := c.Next(10 * time.Second)
				if want := fmt.Sprintf(`[8,"http://x.com/room?g=1",%d]`, i); err != nil || m != want {
					errs <- fmt.Errorf("event %d: %q, %v", i, m, err)
					return
				}
			}
		})
	}
	for i := range events {
		pub.Send(fmt.Sprintf(`[7,"http://x.com/room",%d]`, i))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Stats().EventsOut; n != subs*events {
		t.Fatalf("EventsOut = %d", n)
	}
	// A clean close over TLS.
	pub.SendFrame(ws.NewCloseFrame(ws.NewCloseFrameBody(1000, "")))
	pub.ExpectClose(1000, "")
}

func TestTLSRefusesPlainAndBadHandshakes(t *testing.T) {
	srv, url := startTLSServer(t, router.Options{HandshakeTimeout: time.Second})
	plain := "ws://" + strings.TrimPrefix(url, "wss://")
	if _, err := tryDial(plain, "wamp"); err == nil {
		t.Fatal("a plain WebSocket handshake succeeded on a TLS listener")
	}
	// A TLS client that never sends its HTTP request times out.
	conn, err := tls.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/"),
		&tls.Config{RootCAs: testCert().pool})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("silent TLS client: %v, want the server to close", err)
	}
	if n := srv.Stats().Rejected; n != 2 {
		t.Fatalf("Rejected = %d", n)
	}
}
