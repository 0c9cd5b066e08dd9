package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/client"
	"github.com/tagwamp/tagwamp/handlers"
	"github.com/tagwamp/tagwamp/internal/wstest"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key to
// PEM files and returns their paths and a pool that trusts it.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "tagwamp cmd test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(certFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	return certFile, keyFile, pool
}

func TestRunTLS(t *testing.T) {
	certFile, keyFile, pool := writeCert(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"config file", []string{"-config", writeFile(t, "tls:\n  cert_file: "+certFile+"\n  key_file: "+keyFile+"\n")}},
		{"flags", []string{"-tls-cert", certFile, "-tls-key", keyFile}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := startRun(t, tc.args...)
			addr, logs := r.addr.String(), r.logs
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := client.Dial(ctx, "wss://"+addr+"/", client.WithTLSConfig(&tls.Config{RootCAs: pool}))
			if err != nil {
				t.Fatalf("dial wss: %v\n%s", err, logs.String())
			}
			defer c.Close()
			var echo []any
			if err := c.Call(ctx, handlers.ProcEcho, &echo, "over TLS"); err != nil || len(echo) != 1 || echo[0] != "over TLS" {
				t.Fatalf("echo = %v, %v", echo, err)
			}
			if !strings.Contains(logs.String(), "url=wss://"+addr+"/") {
				t.Errorf("logs do not announce wss://\n%s", logs.String())
			}
			// Plain ws:// is not served on a TLS port.
			if _, err := client.Dial(ctx, "ws://"+addr+"/"); err == nil {
				t.Fatal("plain ws:// dial succeeded on the TLS port")
			}
		})
	}
}

func TestRunTrustedProxiesAndLimits(t *testing.T) {
	file := writeFile(t, `
trusted_proxies: [127.0.0.0/8]
limits:
  max_conns_per_ip: 1
  retry_after: 3s
middleware:
  ip:
    deny: [203.0.113.0/24]
`)
	r := startRun(t, "-config", file)
	addr, logs := r.addr.String(), r.logs
	dialFrom := func(xff string) (net.Conn, error) {
		c, err := wstest.Open("ws://"+addr+"/", wstest.Options{Header: http.Header{"X-Forwarded-For": {xff}}})
		if err != nil {
			return nil, err
		}
		return c.Conn, nil
	}
	// The deny list applies to the client behind the proxy, at the handshake.
	if _, err := dialFrom("203.0.113.5"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("denied client: %v, want 403\n%s", err, logs.String())
	}
	conn, err := dialFrom("198.51.100.1")
	if err != nil {
		t.Fatalf("allowed client: %v", err)
	}
	defer conn.Close()
	// One connection per client IP, counted by X-Forwarded-For.
	if _, err := dialFrom("198.51.100.1"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("second connection of one client: %v, want 503", err)
	}
	conn2, err := dialFrom("198.51.100.2")
	if err != nil {
		t.Fatalf("another client: %v", err)
	}
	conn2.Close()
}
