package router

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// errTooManyFiles is accept's error when the process is out of descriptors.
var errTooManyFiles = syscall.EMFILE

// maxHeaders bounds the header fields (and offered subprotocols) of an
// upgrade request, so that one request cannot grow its Request without end
// (gobwas/ws bounds each line by its read buffer, not their number).
const maxHeaders = 100

// subprotocol is the one WebSocket subprotocol tagwamp speaks (wamp1.md §1).
const subprotocol = "wamp"

// serveConn runs the connection filters, the TLS handshake when
// configured and the HTTP upgrade of one accepted connection, then sends
// WELCOME and hands the connection to the poller. It runs in the handshake
// pool (Options.MaxHandshakes) and ends there: an established session holds
// no goroutine.
func (srv *Server) serveConn(nc net.Conn, tlsConfig *tls.Config) {
	defer func() {
		<-srv.handshakes
		srv.handshake.Done()
	}()
	established := false
	var c *conn
	defer func() {
		if !established {
			srv.mu.Lock()
			delete(srv.pending, nc)
			srv.mu.Unlock()
			if c != nil {
				c.releaseSlot()
			}
		}
	}()
	for _, f := range srv.connFilters(nc) {
		if err := f.AcceptConn(nc); err != nil {
			srv.stats.rejected.Add(1)
			srv.log.Info("connection refused", "remote", nc.RemoteAddr().String(), "err", err)
			nc.Close()
			return
		}
	}
	c, err := newConn(srv, nc)
	if err != nil {
		srv.log.Error("connection setup failed", "remote", nc.RemoteAddr().String(), "err", err)
		nc.Close()
		return
	}
	nc.SetDeadline(time.Now().Add(srv.opts.HandshakeTimeout))
	var rw io.ReadWriter = nc
	if tlsConfig != nil {
		if err := c.startTLS(tlsConfig); err != nil {
			srv.stats.rejected.Add(1)
			srv.log.Debug("TLS handshake failed", "remote", nc.RemoteAddr().String(), "err", err)
			nc.Close()
			return
		}
		rw = c.tc
	}
	req, s, asParsed, err := srv.upgrade(c, rw)
	if err != nil {
		srv.stats.rejected.Add(1)
		srv.log.Debug("handshake refused", "remote", nc.RemoteAddr().String(),
			"client", c.clientIP, "err", err)
		nc.Close()
		return
	}
	nc.SetDeadline(time.Time{})

	if s == nil {
		s = srv.newSession(c, req)
	}
	c.sess = s
	c.limit.start(&srv.rates, time.Now().UnixNano())
	var welcome []byte // a plain tag connection gets none (wamp1.md §5)
	if !s.plain {
		buf, off := beginFrame(nil)
		buf = protocol.AppendWelcome(buf, s.id, srv.opts.ServerIdent)
		welcome = endFrame(buf, off, ws.OpText)
	}
	established = true
	// Held from before the session can be closed until its SessionOpened
	// hooks are done: SessionClosed (in abort) waits for it.
	s.hookMu.Lock()
	if !srv.register(c) {
		s.hookMu.Unlock()
		if welcome != nil {
			c.write(welcome)
		}
		c.closeWith(protocol.CloseGoingAway, "server shutting down")
		return
	}
	if welcome != nil {
		c.write(welcome)
	} else {
		srv.subscribePlain(s, req.plainTags)
	}
	for _, h := range srv.opts.SessionHooks {
		h.SessionOpened(s)
	}
	s.hookMu.Unlock()
	s.trimRequest(asParsed)
	c.mu.Lock()
	if c.tr != nil {
		c.tr.nonblock = true
	}
	if c.state == stateOpen { // a SessionOpened hook may have closed it
		err = srv.poller.add(c)
	}
	c.mu.Unlock()
	if err != nil {
		srv.log.Error("poller add failed", "session", s.id, "err", err)
		c.abort()
		return
	}
	if c.tc != nil {
		// crypto/tls may already hold bytes read with the upgrade request,
		// which epoll cannot see: read once now (package doc, "TLS").
		srv.pool.schedule(c.readTask)
	}
	srv.log.Debug("session opened", "session", s.id, "remote", nc.RemoteAddr().String(), "client", c.clientIP)
}

// upgrade reads the HTTP upgrade request of c from rw (the socket, or its
// TLS connection) and answers it (RFC 6455 §4.2) with the wamp
// subprotocol, or refuses it with a status and a plain reason. asParsed is
// checkRequest's.
//
// A plain tag connection (no subprotocol offered, wamp1.md §5) also gets
// its session here, whose tag subscription the topic handler has allowed.
func (srv *Server) upgrade(c *conn, rw io.ReadWriter) (req *Request, s *Session, asParsed bool, err error) {
	req = &Request{Header: make(http.Header), RemoteAddr: c.nc.RemoteAddr()}
	u := ws.Upgrader{
		OnRequest: func(uri []byte) error {
			req.URI = string(uri)
			return nil
		},
		OnHost: func(host []byte) error {
			req.Host = string(host)
			return nil
		},
		OnHeader: func(key, value []byte) error {
			if len(req.Header) >= maxHeaders {
				return reject(http.StatusRequestHeaderFieldsTooLarge, "too many header fields")
			}
			req.Header.Add(string(key), string(value))
			return nil
		},
		ProtocolCustom: func(v []byte) (string, bool) {
			for _, p := range bytes.Split(v, []byte(",")) {
				if p = bytes.TrimSpace(p); len(p) > 0 && len(req.Protocols) < maxHeaders {
					req.Protocols = append(req.Protocols, string(p))
				}
			}
			for _, p := range req.Protocols {
				if p == subprotocol {
					return subprotocol, true
				}
			}
			return "", true
		},
		OnBeforeUpgrade: func() (ws.HandshakeHeader, error) {
			req.ClientIP = clientIP(srv.opts.TrustedProxies, peerIP(req.RemoteAddr),
				req.Header.Values("X-Forwarded-For"))
			c.clientIP = req.ClientIP
			var err error
			if asParsed, err = srv.checkRequest(req); err != nil {
				return nil, err
			}
			if req.plain {
				if s, err = srv.admitPlain(c, req); err != nil {
					return nil, err
				}
			}
			if err := c.takeSlot(); err != nil {
				return nil, rejectWith(err)
			}
			return ws.HandshakeHeaderString(""), nil
		},
	}
	if _, err := u.Upgrade(rw); err != nil {
		return nil, nil, false, err
	}
	return req, s, asParsed, nil
}

// admitPlain makes the session of a plain tag connection and lets the
// topic handler decide on its subscription before the upgrade: one with
// exactly the URL's tags and no base (wamp1.md §5), offered as a
// Subscription whose Topic is "". A refusal answers the handler's
// *HTTPError, or 403 with a fixed reason (the error itself is logged at
// debug level, never sent).
func (srv *Server) admitPlain(c *conn, req *Request) (*Session, error) {
	s := srv.newSession(c, req)
	s.plain = true
	sub := Subscription{Tags: req.plainTags}
	if err := srv.topics.Subscribe(srv.ctx, s, &sub); err != nil {
		srv.stats.droppedSubscribes.Add(1)
		srv.log.Debug("plain connection refused", "client", req.ClientIP, "tags", req.plainTags.String(), "err", err)
		var he *HTTPError
		if errors.As(err, &he) {
			return nil, rejectWith(err)
		}
		return nil, reject(http.StatusForbidden, "not authorized to receive publications with these tags")
	}
	req.plainTags = sub.Tags
	return s, nil
}

// newSession makes the session of an accepted upgrade request.
func (srv *Server) newSession(c *conn, req *Request) *Session {
	s := &Session{id: newSessionID(), c: c, req: req}
	if len(req.values) > 0 {
		s.values = maps.Clone(req.values)
	}
	s.prefixes.Max = srv.opts.MaxPrefixes
	return s
}

// checkRequest applies the subprotocol rule (wamp1.md §1) and the handshake
// filters to a complete upgrade request. asParsed reports that the
// filters left URI and URL as the router parsed them, so that URL can be
// parsed again from URI (Session.trimRequest).
func (srv *Server) checkRequest(req *Request) (asParsed bool, err error) {
	req.plain = len(req.Protocols) == 0
	if !req.plain && !hasProtocol(req.Protocols, subprotocol) {
		return false, reject(http.StatusBadRequest, "unsupported subprotocol "+
			strings.Join(req.Protocols, ", ")+": tagwamp speaks only \"wamp\" (or none, for a plain tag connection)")
	}
	u, err := url.ParseRequestURI(req.URI)
	if err != nil {
		return false, reject(http.StatusBadRequest, "bad request URI")
	}
	req.URL = u
	if req.plain {
		// A plain tag connection (wamp1.md §5): its tags come from the URL.
		if raw := u.Query().Get("tags"); raw != "" {
			if req.plainTags, err = tagindex.ParseJSON([]byte(raw)); err != nil {
				return false, reject(http.StatusBadRequest, "bad tags: "+err.Error())
			}
		}
	}
	if len(srv.opts.Filters) == 0 {
		return true, nil
	}
	uri, parsed := req.URI, *u
	for _, f := range srv.opts.Filters {
		if err := f.Handshake(req); err != nil {
			return false, rejectWith(err)
		}
	}
	return req.URI == uri && req.URL != nil && *req.URL == parsed, nil
}

// connFilters returns the ConnFilters to ask about nc: none when its peer
// is a trusted proxy, whose address is not the client's (see ConnFilter).
func (srv *Server) connFilters(nc net.Conn) []ConnFilter {
	if len(srv.filters) == 0 || len(srv.opts.TrustedProxies) == 0 ||
		!trusted(srv.opts.TrustedProxies, peerIP(nc.RemoteAddr())) {
		return srv.filters
	}
	return nil
}

func hasProtocol(ps []string, p string) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// rejectWith turns a handshake filter's error into the refusal it asks
// for: an *HTTPError's status, reason and headers; 403 for any other error,
// whose text is not sent.
func rejectWith(err error) error {
	var he *HTTPError
	if !errors.As(err, &he) {
		return reject(http.StatusForbidden, "forbidden")
	}
	status := he.Status
	if status < 400 || status > 599 {
		status = http.StatusForbidden
	}
	if len(he.Header) == 0 {
		return reject(status, he.Reason)
	}
	return ws.RejectConnectionError(ws.RejectionStatus(status), ws.RejectionReason(he.Reason),
		ws.RejectionHeader(ws.HandshakeHeaderHTTP(he.Header)))
}

// reject builds the error that makes gobwas/ws answer with status and a
// plain-text reason.
func reject(status int, reason string) error {
	return ws.RejectConnectionError(ws.RejectionStatus(status), ws.RejectionReason(reason))
}
