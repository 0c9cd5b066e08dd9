package router

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// errPanic stands for a recovered handler panic; the caller sees only
// ...error#internal (docs/protocol.md#errors).
var errPanic = errors.New("router: handler panicked")

// handleMessage decodes one WAMP message of s and dispatches it, or hands
// a plain tag connection's request to handlePlain. It runs on the worker w
// serving s and reports false when s is closing.
func (srv *Server) handleMessage(w *worker, s *Session, payload []byte) bool {
	srv.stats.messagesIn.Add(1)
	if s.plain {
		return srv.handlePlain(w, s, payload)
	}
	if err := w.dec.Decode(payload, &w.msg); err != nil {
		srv.violation(s, err)
		return false
	}
	if err := srv.dispatch(w, s, &w.msg); err != nil {
		srv.violation(s, err)
		return false
	}
	return !s.c.Closing()
}

// violation closes s for a bad message, with the close code the error maps
// to (docs/protocol.md#close-codes), and logs it with the session id.
func (srv *Server) violation(s *Session, err error) {
	srv.stats.protocolErrors.Add(1)
	switch {
	case errors.Is(err, protocol.ErrURITooLong):
		srv.stats.urisTooLong.Add(1)
	case errors.Is(err, protocol.ErrTooManyElements), errors.Is(err, protocol.ErrTooManyIDs):
		srv.stats.messagesOverLimit.Add(1)
	case errors.Is(err, tagindex.ErrTooManyTags), errors.Is(err, tagindex.ErrTooLong):
		srv.stats.topicsOverTagLimit.Add(1)
	}
	code := protocol.CloseCodeOf(err)
	srv.log.Info("closing session: protocol violation",
		"session", s.id, "client", s.c.ClientIP(), "code", int(code), "err", err)
	s.c.Close(ws.StatusCode(code), protocol.Reason(err))
}

// dispatch routes one decoded client message of s
// (docs/protocol.md#messages). It runs on the worker w serving s.
func (srv *Server) dispatch(w *worker, s *Session, m *protocol.Message) error {
	switch m.Type {
	case protocol.TypePrefix:
		return s.prefixes.Set(m.Prefix.Prefix, m.Prefix.URI)
	case protocol.TypeCall:
		srv.handleCall(w, s, &m.Call)
	case protocol.TypeSubscribe:
		return srv.handleSubscribe(w, s, m.Subscribe.TopicURI)
	case protocol.TypeUnsubscribe:
		return srv.handleUnsubscribe(w, s, m.Unsubscribe.TopicURI)
	case protocol.TypePublish:
		return srv.handlePublish(w, s, &m.Publish)
	default:
		return fmt.Errorf("%w: %s is sent by servers, not clients", protocol.ErrBadType, m.Type)
	}
	return nil
}

// handleCall runs the RPC handler and queues exactly one CALLRESULT or
// CALLERROR, echoing the call id byte for byte (docs/protocol.md#call-ids).
func (srv *Server) handleCall(w *worker, s *Session, m *protocol.Call) {
	srv.stats.calls.Add(1)
	var err error
	if w.uri, err = s.prefixes.ResolveLimit(w.uri[:0], m.ProcURI); err != nil {
		srv.stats.urisTooLong.Add(1)
		buf, off := wsconn.BeginFrame(w.out[:0])
		buf = protocol.AppendCallError(buf, m.CallID, protocol.ErrorURIInvalidArgument, protocol.Reason(err), nil)
		w.out = buf[:0]
		s.c.WriteOn(w.batch, wsconn.EndFrame(buf, off, ws.OpText))
		return
	}
	args := w.args[:0]
	for _, a := range m.Args {
		args = append(args, a)
	}
	w.call = Call{URI: w.procURI(), Args: args, srv: srv, sess: s, id: m.CallID, checked: m.Args, slab: &w.slab}
	// An inline handler answers at once, here (InlineHandler); any other
	// may block: the worker leaves the pool meanwhile, so that other
	// sessions are still read and delivered to.
	inline := srv.rpc == nil || srv.inline != nil && srv.inline.Inline(&w.call)
	if !inline {
		w.batch.FlushUnlessOnly(s.c)
		if !w.tw.Detach() {
			srv.stats.callsBusy.Add(1)
			buf, off := wsconn.BeginFrame(w.out[:0])
			buf = protocol.AppendCallError(buf, m.CallID, protocol.ErrorURIBusy, "too many calls running: retry later", nil)
			w.out = buf[:0]
			s.c.WriteOn(w.batch, wsconn.EndFrame(buf, off, ws.OpText))
			clear(args)
			w.args = args[:0]
			w.call = Call{}
			return
		}
	}
	obs := w.obs
	var start time.Duration
	if obs != nil {
		start = srv.clock()
	}
	result, err := srv.invoke(s, &w.call, inline)
	if obs != nil {
		obs.ObserveCall(callOutcome(err, w.call.reply), srv.clock()-start)
	}
	if !inline {
		w.tw.Reattach()
	}
	if r := w.call.reply; r != nil {
		// Deferred: the Reply answers, unless the handler panicked.
		if err == errPanic {
			r.Send(nil, err)
		}
		clear(args)
		w.args = args[:0]
		w.call = Call{}
		return
	}

	buf, off := wsconn.BeginFrame(w.out[:0])
	if err == nil {
		var raw []byte
		if raw, err = marshalResult(result); err == nil {
			buf = protocol.AppendCallResult(buf, m.CallID, raw)
		} else {
			err = fmt.Errorf("router: marshaling the result of %s: %w", w.call.URI, err)
		}
	}
	if err != nil {
		buf = srv.appendCallError(buf, s, m.CallID, w.call.URI, err)
	}
	w.out = buf[:0]
	s.c.WriteOn(w.batch, wsconn.EndFrame(buf, off, ws.OpText))
	clear(args)
	w.args = args[:0]
	w.call = Call{}
}

// noProcedure is the RPC handler under RPCMiddleware when Options.RPC is
// nil.
func noProcedure(context.Context, *Session, *Call) (any, error) {
	return nil, ErrNoSuchProcedure
}

// invoke calls the RPC handler with a deadline, containing its panics. An
// inline call (InlineHandler) never waits: it gets the server's context,
// without the CallTimeout deadline and its allocation.
func (srv *Server) invoke(s *Session, c *Call, inline bool) (res any, err error) {
	if srv.rpc == nil {
		return nil, ErrNoSuchProcedure
	}
	ctx := srv.ctx
	if srv.opts.CallTimeout > 0 && !inline {
		cc := newCallCtx(srv.ctx, srv.opts.CallTimeout)
		defer cc.finish()
		ctx = cc
	}
	defer func() {
		if r := recover(); r != nil {
			srv.log.Error("RPC handler panicked", "session", s.id, "procedure", logval.String(c.URI),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, err = nil, errPanic
		}
	}()
	res, err = srv.rpc.ServeCall(ctx, s, c)
	if err == nil && ctx.Err() != nil && c.reply == nil {
		err = ctx.Err()
	}
	return res, err
}

// CallError returns the CALLERROR the server answers a call of procURI
// with when its RPC handler returns err (docs/protocol.md#errors):
//
//	a *protocol.Error (wrapped or not)  itself
//	wrapping ErrNoSuchProcedure         NoSuchRPCEndpoint, "no procedure
//	                                    registered for <procURI>"
//	wrapping context.DeadlineExceeded   timeout, "call timed out"
//	anything else                       internal, "internal error"
//
// The text of any other error is never sent: the server logs it. CallError
// returns nil for a nil err, and a fresh Error, which the caller may change,
// for the others. Use it to report or log what a call will answer, as
// handlers.LogCalls does.
func CallError(procURI string, err error) *protocol.Error {
	var pe *protocol.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, ErrNoSuchProcedure):
		return protocol.NewError(protocol.ErrorURINoSuchProcedure, "no procedure registered for "+procURI)
	case errors.Is(err, context.DeadlineExceeded):
		return protocol.NewError(protocol.ErrorURITimeout, "call timed out")
	}
	return protocol.NewError(protocol.ErrorURIInternal, "internal error")
}

// appendCallError appends the CALLERROR that CallError maps a handler's
// error to, and logs an error that maps to internal. A *protocol.Error
// whose Details do not marshal answers internal too.
func (srv *Server) appendCallError(dst []byte, s *Session, callID []byte, uri string, err error) []byte {
	pe := CallError(uri, err)
	out, merr := protocol.AppendError(dst, callID, pe)
	if merr != nil {
		err, pe = merr, CallError(uri, merr)
		out, _ = protocol.AppendError(dst, callID, pe) // no details: cannot fail
	}
	var own *protocol.Error
	if pe.URI == protocol.ErrorURIInternal && err != errPanic && !errors.As(err, &own) {
		srv.log.Error("RPC call failed", "session", s.id, "procedure", logval.String(uri), "err", err)
	}
	return out
}

// handleSubscribe adds a subscription; a duplicate is a no-op and a denied
// or malformed one, or one over MaxSubscriptions, is dropped
// (docs/protocol.md#dropped-messages).
func (srv *Server) handleSubscribe(w *worker, s *Session, topicURI []byte) error {
	if err := srv.resolve(w, s, topicURI); err != nil {
		return err
	}
	s.mu.Lock()
	dup := s.sub(w.uri) != nil
	n := s.numSubs()
	s.mu.Unlock()
	if dup {
		return nil
	}
	if limit := srv.opts.MaxSubscriptions; limit > 0 && n >= limit {
		srv.stats.subsOverLimit.Add(1)
		srv.stats.droppedSubscribes.Add(1)
		if !s.overSubs { // logged once per session: the counter has the rest
			s.overSubs = true
			srv.log.Warn("dropping subscribes over the subscription limit", "session", s.id,
				"client", s.c.ClientIP(), "limit", limit)
		}
		return nil
	}
	w.tw.Handoff() // the topic handler may call out
	topic := string(w.uri)
	tags, err := tagindex.ParseTopicLimits(topic, srv.tlimits)
	if err != nil {
		srv.drop("subscribe", s, topic, err)
		return nil
	}
	sub := Subscription{Topic: topic, Tags: tags}
	if err := srv.topics.Subscribe(srv.ctx, s, &sub); err != nil {
		srv.drop("subscribe", s, topic, err)
		return nil
	}
	// Only this session's worker adds subscriptions, so the duplicate check
	// above still holds.
	srv.addSubscription(s, &subscription{sess: s, topic: topic}, sub.Tags)
	return nil
}

// resolve puts in w.uri the topic or procedure URI that u stands for in
// s's CURIE map, within MaxURILength; an error closes the session.
func (srv *Server) resolve(w *worker, s *Session, u []byte) error {
	var err error
	w.uri, err = s.prefixes.ResolveLimit(w.uri[:0], u)
	return err
}

// addSubscription puts entry in s's subscriptions and in the index under
// tags, unless s is detached (closed) meanwhile.
func (srv *Server) addSubscription(s *Session, entry *subscription, tags tagindex.Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.detached {
		return
	}
	s.addSub(entry)
	entry.h = srv.index.Add(tags, entry)
	if srv.opts.Broker != nil {
		srv.interestAdd(entry.h)
	}
	srv.stats.subscriptions.Add(1)
}

// handleUnsubscribe removes the subscription made with exactly this topic
// string; an unknown one is a no-op.
func (srv *Server) handleUnsubscribe(w *worker, s *Session, topicURI []byte) error {
	if err := srv.resolve(w, s, topicURI); err != nil {
		return err
	}
	s.mu.Lock()
	if entry := s.removeSub(w.uri); entry != nil {
		if srv.opts.Broker != nil {
			srv.interestRemove(entry.h)
		}
		srv.index.RemoveHandle(entry.h, entry)
		srv.stats.subscriptions.Add(-1)
	}
	s.mu.Unlock()
	return nil
}

// handlePublish parses the topic into the worker's reusable tag set, lets
// the topic handler decide, and delivers.
func (srv *Server) handlePublish(w *worker, s *Session, m *protocol.Publish) error {
	f := &w.fan
	if err := srv.resolve(w, s, m.TopicURI); err != nil {
		return err
	}
	if err := f.set.ParseTopicLimits(w.uri, srv.tlimits); err != nil {
		srv.drop("publish", s, string(w.uri), err)
		return nil
	}
	f.pub = Publication{Topic: unsafe.String(unsafe.SliceData(w.uri), len(w.uri)), Tags: f.set, Event: m.Event}
	w.tw.Handoff() // the topic handler may call out, the fan-out may be long
	if err := srv.topics.Publish(srv.ctx, s, &f.pub); err != nil {
		srv.drop("publish", s, f.pub.Topic, err)
		return nil
	}
	srv.deliver(f, w.batch, s, m)
	if srv.opts.Broker != nil {
		srv.forward(f, s, m)
	}
	f.pub = Publication{}
	return nil
}

// deliver queues f.pub to every matching subscription that the PUBLISH
// options admit, leaving the writes to l. Each distinct topic string is
// encoded once and its bytes shared by all its receivers; so is the bare
// event that plain tag connections receive (docs/protocol.md#encode-once).
// It returns the receivers.
func (srv *Server) deliver(f *fanout, l *wsconn.Batch, from *Session, m *protocol.Publish) int {
	if m != nil && m.HasEligible && len(m.Eligible) == 0 {
		return 0 // an empty eligible list means nobody (docs/protocol.md#publish-options)
	}
	if m != nil {
		f.exclude.reset(m.ExcludeIDs)
		f.eligible.reset(m.Eligible)
	}
	f.targets = f.targets[:0]
	srv.index.Match(f.pub.Tags, f.collect)
	n := 0
	// Receivers of one topic string usually come in a row: the last
	// encoding is checked before the map.
	var last string
	var frame, plain []byte
	for _, t := range f.targets {
		if m != nil && !srv.admits(f, t.sess, from, m) {
			continue
		}
		if t.plain {
			// The bare event, encoded once for every plain receiver; not
			// keyed by a topic string, which a WAMP topic may equal.
			if plain == nil {
				plain = encodePlain(f.pub.Event)
			}
			if t.sess.c.WriteShared(l, plain) {
				n++
			}
			continue
		}
		if frame == nil || t.topic != last {
			var ok bool
			if frame, ok = f.frames[t.topic]; !ok {
				frame = encodeEvent(t.topic, f.pub.Event)
				f.frames[t.topic] = frame
			}
			last = t.topic
		}
		if t.sess.c.WriteShared(l, frame) {
			n++
		}
	}
	clear(f.targets)
	clear(f.frames)
	f.exclude.clear()
	f.eligible.clear()
	srv.stats.eventsOut.Add(uint64(n))
	return n
}

// admits applies PUBLISH's excludeMe, exclude and eligible
// (docs/protocol.md#publish-options).
func (srv *Server) admits(f *fanout, to, from *Session, m *protocol.Publish) bool {
	switch m.Exclude {
	case protocol.ExcludeDefault:
		if to == from && !srv.opts.DeliverToPublisher {
			return false
		}
	case protocol.ExcludeMe:
		if to == from {
			return false
		}
	case protocol.ExcludeList:
		if f.exclude.contains(to.id) {
			return false
		}
	}
	return !m.HasEligible || f.eligible.contains(to.id)
}

// encodeEvent encodes one EVENT frame, to be shared by its receivers.
func encodeEvent(topic string, event []byte) []byte {
	b := make([]byte, 0, wsconn.MaxFrameHeader+len(topic)+len(event)+16)
	b, off := wsconn.BeginFrame(b)
	b = protocol.AppendEvent(b, topic, event)
	return wsconn.EndFrame(b, off, ws.OpText)
}

// drop counts and logs a SUBSCRIBE or PUBLISH that WAMP v1 cannot answer.
func (srv *Server) drop(what string, s *Session, topic string, err error) {
	if what == "subscribe" {
		srv.stats.droppedSubscribes.Add(1)
	} else {
		srv.stats.droppedPublishes.Add(1)
	}
	if errors.Is(err, tagindex.ErrTooManyTags) || errors.Is(err, tagindex.ErrTooLong) {
		srv.stats.topicsOverTagLimit.Add(1)
	}
	srv.log.Debug("dropped "+what, "session", s.id, "topic", logval.String(topic), "err", err)
}
