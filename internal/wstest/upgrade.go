package wstest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Request is a hand-written upgrade request.
type Request struct {
	// Path is the request target with its query; "" is "/".
	Path string
	// Protocols go in Sec-WebSocket-Protocol; none means no such header.
	Protocols []string
	// Extra is more header lines, each ending in "\r\n".
	Extra string
}

// Response is the server's answer to a Request.
type Response struct {
	// Status is the status line, e.g. "HTTP/1.1 503 Service Unavailable".
	Status string
	// Code is the status code.
	Code int
	// Header is the response's header.
	Header http.Header
	// Body is the body of a refusal; "" after a 101.
	Body string
}

// RawUpgrade sends req to the ws:// url's host as an upgrade request with a
// fixed key and reads the answer (the body of a refusal to its end); it
// fails the test if it cannot.
func RawUpgrade(t testing.TB, url string, req Request) Response {
	t.Helper()
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	path := req.Path
	if path == "" {
		path = "/"
	}
	s := "GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
	if len(req.Protocols) > 0 {
		s += "Sec-WebSocket-Protocol: " + strings.Join(req.Protocols, ", ") + "\r\n"
	}
	if _, err := conn.Write([]byte(s + req.Extra + "\r\n")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading the answer to %s: %v", path, err)
	}
	defer resp.Body.Close()
	r := Response{Status: resp.Proto + " " + resp.Status, Code: resp.StatusCode, Header: resp.Header}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		b, _ := io.ReadAll(resp.Body)
		r.Body = string(b)
	}
	return r
}
