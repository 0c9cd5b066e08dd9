package router

import (
	"bytes"
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

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// errTooManyFiles is accept's error when the process is out of descriptors.
var errTooManyFiles = syscall.EMFILE

// maxHeaders bounds the distinct header fields (and offered subprotocols)
// of an upgrade request; the bytes of lines and of the whole request are
// bounded by a headReader (MaxRequestLine, MaxHeaderLine,
// MaxHandshakeBytes), since gobwas/ws bounds neither.
const maxHeaders = 100

// subprotocol is the one WebSocket subprotocol tagwamp speaks
// (docs/protocol.md#subprotocol).
const subprotocol = "wamp"

// serveConn runs the connection filters, the TLS handshake when
// configured and the HTTP upgrade of one accepted connection that has sent
// its first byte, then sends WELCOME and hands the connection to the
// poller. It holds one of the MaxHandshakes places (admission.go) and ends
// there: an established session holds no goroutine.
func (srv *Server) serveConn(pc *pendingConn) {
	nc, tlsConfig := pc.nc, pc.tls
	defer func() {
		srv.leave(pc)
		srv.placeDone()
		srv.handshake.Done()
	}()
	for _, f := range srv.connFilters(nc) {
		if err := f.AcceptConn(nc); err != nil {
			srv.stats.rejected.Add(1)
			srv.log.Info("connection refused", "remote", nc.RemoteAddr().String(), "err", err)
			srv.forget(nc)
			nc.Close()
			return
		}
	}
	s := srv.newSession()
	c, err := srv.t.NewConn(nc, (*connHandler)(s))
	if err != nil {
		srv.log.Error("connection setup failed", "remote", nc.RemoteAddr().String(), "err", err)
		srv.forget(nc)
		nc.Close()
		return
	}
	s.c = c
	// refuse ends a connection that did not become a session: its slot
	// (if it took one) is released by ConnClosed.
	refuse := func(msg string, err error) {
		srv.stats.rejected.Add(1)
		srv.log.Debug(msg, "remote", nc.RemoteAddr().String(), "client", c.ClientIP(), "err", err)
		srv.forget(nc)
		c.Abort()
	}
	nc.SetDeadline(pc.deadline(srv))
	if tlsConfig != nil {
		if err := c.StartTLS(tlsConfig); err != nil {
			refuse("TLS handshake failed", err)
			return
		}
	}
	rw := c.HandshakeIO()
	var in io.Reader = &headReader{r: rw, lim: &srv.head}
	if srv.web != nil {
		// A request that is not a WebSocket upgrade goes to Options.HTTP.
		head, upgrade, err := readHead(in)
		if err != nil {
			srv.refuseHead(err, rw, nc)
			refuse("bad request head", err)
			return
		}
		if !upgrade {
			srv.forget(nc)
			srv.web.serve(nc, rw, head)
			return
		}
		in = io.MultiReader(bytes.NewReader(head), in)
	}
	req, asParsed, err := srv.upgrade(s, in, rw)
	if err != nil {
		refuse("handshake refused", err)
		return
	}
	nc.SetDeadline(time.Time{})
	if _, ok := nc.(*net.TCPConn); ok {
		// Off Go's poller: an idle session keeps no net.TCPConn
		// (wsconn.Conn.Detach). From here on NetConn is nil.
		if err := c.DetachFD(); err != nil {
			refuse("connection setup failed", err)
			return
		}
	}

	var welcome []byte // a plain tag connection gets none (docs/protocol.md#plain-connections)
	if !s.plain {
		buf, off := wsconn.BeginFrame(nil)
		buf = protocol.AppendWelcome(buf, s.id, srv.opts.ServerIdent)
		welcome = wsconn.EndFrame(buf, off, ws.OpText)
	}
	// Held from before the session can be closed until its SessionOpened
	// hooks are done: SessionClosed (in ConnClosed) waits for it.
	s.hookMu.Lock()
	if !srv.register(s, nc) {
		s.hookMu.Unlock()
		if welcome != nil {
			c.Write(welcome)
		}
		c.Close(ws.StatusGoingAway, "server shutting down")
		return
	}
	if welcome != nil {
		c.Write(welcome)
	} else {
		srv.subscribePlain(s, req.plainTags)
	}
	for _, h := range srv.opts.SessionHooks {
		h.SessionOpened(s)
	}
	s.hookMu.Unlock()
	s.trimRequest(asParsed)
	if err := c.Start(); err != nil {
		srv.log.Error("poller add failed", "session", s.id, "err", err)
		c.Abort()
		return
	}
	srv.log.Debug("session opened", "session", s.id, "remote", nc.RemoteAddr().String(), "client", c.ClientIP())
}

// forget drops nc, which will not become a session, from the pending set.
func (srv *Server) forget(nc net.Conn) {
	srv.mu.Lock()
	delete(srv.pending, nc)
	srv.mu.Unlock()
}

// upgrade reads the HTTP upgrade request of s from r, bounded by a
// headReader, and answers it on w (the socket, or its TLS connection; RFC
// 6455 §4.2) with the wamp subprotocol, or refuses it with a status and a
// plain reason. asParsed is checkRequest's.
//
// A plain tag connection (no subprotocol offered,
// docs/protocol.md#plain-connections) also has its tag subscription
// allowed by the topic handler here.
func (srv *Server) upgrade(s *Session, r io.Reader, w io.Writer) (req *Request, asParsed bool, err error) {
	req = &Request{Header: make(http.Header), RemoteAddr: s.c.NetConn().RemoteAddr()}
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
			s.req = &sessionRequest{full: req, clientIP: req.ClientIP}
			if a, ok := req.RemoteAddr.(*net.TCPAddr); ok {
				s.req.remote = a.AddrPort()
			}
			var err error
			if asParsed, err = srv.checkRequest(req); err != nil {
				return nil, err
			}
			s.admit(req)
			if req.plain {
				if err = srv.admitPlain(s, req); err != nil {
					return nil, err
				}
			}
			if err := s.takeSlot(); err != nil {
				return nil, rejectWith(err)
			}
			return ws.HandshakeHeaderString(""), nil
		},
	}
	if _, err := u.Upgrade(struct {
		io.Reader
		io.Writer
	}{r, w}); err != nil {
		srv.refuseHead(err, w, s.c.NetConn())
		return nil, false, err
	}
	return req, asParsed, nil
}

// refuseHead answers a request head that a headReader refused (err is a
// *headLimitError) with its status and reason, and counts it; other
// errors it leaves alone.
func (srv *Server) refuseHead(err error, w io.Writer, nc net.Conn) {
	var le *headLimitError
	if errors.As(err, &le) {
		srv.stats.headTooLarge.Add(1)
		if writeRefusal(w, le) == nil {
			lingerRefused(nc, srv.opts.MaxHandshakeBytes)
		}
	}
}

// admitPlain makes s a plain tag connection's session and lets the
// topic handler decide on its subscription before the upgrade: one with
// exactly the URL's tags and no base (docs/protocol.md#plain-connections),
// offered as a Subscription whose Topic is "". A refusal answers the
// handler's *HTTPError, or 403 with a fixed reason (the error itself is
// logged at debug level, never sent).
func (srv *Server) admitPlain(s *Session, req *Request) error {
	s.plain = true
	sub := Subscription{Tags: req.plainTags}
	if err := srv.topics.Subscribe(srv.ctx, s, &sub); err != nil {
		srv.stats.droppedSubscribes.Add(1)
		srv.log.Debug("plain connection refused", "client", req.ClientIP, "tags", req.plainTags.String(), "err", err)
		var he *HTTPError
		if errors.As(err, &he) {
			return rejectWith(err)
		}
		return reject(http.StatusForbidden, "not authorized to receive publications with these tags")
	}
	req.plainTags = sub.Tags
	return nil
}

// newSession makes the session of an accepted connection; admit gives it
// its upgrade request.
func (srv *Server) newSession() *Session {
	s := &Session{id: newSessionID(), srv: srv}
	s.prefixes.Max = srv.opts.MaxPrefixes
	s.prefixes.MaxURILen = srv.opts.MaxURILength
	return s
}

// admit gives s its upgrade request (already in s.req, for the client's
// address) once the handshake middleware has seen it, with a copy of the
// values the middleware stored.
func (s *Session) admit(req *Request) {
	if len(req.values) > 0 {
		s.values = maps.Clone(req.values)
	}
}

// checkRequest applies the subprotocol rule (docs/protocol.md#subprotocol)
// and the handshake filters to a complete upgrade request. asParsed
// reports that the filters left URI and URL as the router parsed them, so
// that URL can be parsed again from URI (Session.trimRequest).
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
		// A plain tag connection: its tags come from the URL,
		// whose query must parse: a pair dropped for a bad escape or a
		// semicolon may have been the tags (docs/protocol.md#plain-connections).
		q, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			return false, reject(http.StatusBadRequest, "bad query: "+err.Error())
		}
		if raw := q.Get("tags"); raw != "" {
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
