package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"time"
	"unsafe"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// The backend methods (this file and backendconn.go) let a trusted
// in-process caller, such as package httpapi, act on the server without a
// WebSocket session: publish with PUBLISH's options, ask who a publication
// would reach, call a procedure, close a session. Topic handlers are not
// consulted: whoever calls these methods has been authorized already.

var (
	// ErrBadPublication is wrapped by the errors of PublishWith,
	// PublishBatch and Presence for a selection or publication that is not
	// well formed: neither or both of Topic and Tags, a malformed topic or
	// tags object (docs/protocol.md#tag-topics), an event that is not JSON.
	ErrBadPublication = errors.New("router: bad publication")
	// ErrOverLimit is wrapped, with the limit's own sentinel
	// (tagindex.ErrTooManyTags, tagindex.ErrTooLong,
	// protocol.ErrTooManyIDs), by those errors for a publication over one
	// of the limits a PUBLISH has (docs/protocol.md#limits).
	ErrOverLimit = errors.New("router: over a limit")
)

// BackendSessionID is the session id of the session CallAsBackend calls
// procedures as. No connected session has it: theirs are 22 characters of
// base64url (docs/protocol.md#welcome).
const BackendSessionID = "backend"

// BackendPublication is a publication made by a trusted backend
// (PublishWith, PublishBatch). Its receivers are chosen as a PUBLISH's
// (docs/protocol.md#publish-options), by a topic or, like a plain request
// (docs/protocol.md#plain-requests), by tags alone; exactly one of Topic
// and Tags is given.
type BackendPublication struct {
	// Topic is a topic URI, tags in its query (docs/protocol.md#tag-topics),
	// as a subscriber's EVENT would not carry it: each receiver's EVENT
	// carries its own topic (docs/protocol.md#event-topic). No CURIE.
	Topic string
	// Tags is a JSON object of tags, strings or integers, without a base
	// (docs/protocol.md#plain-connections): it reaches every subscription
	// holding those tags, on any base; {} is the empty set and reaches
	// everybody.
	Tags json.RawMessage
	// Event is the payload, any JSON value (null included); nil is an
	// error, not null.
	Event json.RawMessage
	// Exclude lists session ids that do not receive it; nil or empty
	// excludes nobody.
	Exclude []string
	// Eligible, when not nil, lists the only session ids that may receive
	// it (minus Exclude); a non-nil empty list reaches nobody.
	Eligible []string
}

// pending is a BackendPublication checked and parsed, ready to deliver.
type pending struct {
	pub Publication
	m   protocol.Publish
}

// PublishWith delivers p as a PUBLISH with its options would be delivered
// (docs/protocol.md#publish-options), under the same limits
// (MaxTagsPerTopic, MaxURILength, MaxPublishIDs), each distinct topic string
// encoded once (docs/protocol.md#encode-once), and returns the number of
// EVENTs queued (a session holding two matching subscriptions receives
// two). Nothing is delivered when p is refused; the error wraps
// ErrBadPublication or ErrOverLimit. It writes as Publish does, on the
// caller's goroutine, never waiting for a slow receiver.
func (srv *Server) PublishWith(p BackendPublication) (int, error) {
	n, err := srv.PublishBatch([]BackendPublication{p})
	if err != nil {
		var be *BatchError
		if errors.As(err, &be) {
			err = be.Err
		}
		return 0, err
	}
	return n[0], nil
}

// BatchError is PublishBatch's error: the first refused publication, by
// its index, and why.
type BatchError struct {
	Index int
	Err   error
}

func (e *BatchError) Error() string {
	return fmt.Sprintf("publication %d: %v", e.Index, e.Err)
}

func (e *BatchError) Unwrap() error { return e.Err }

// PublishBatch checks every publication of ps first and delivers none
// unless all are good; then it delivers them in order, as PublishWith
// does, so each receiver gets their events in that order, and returns each
// one's receivers. The writes of the whole batch leave together, one
// writev per receiver. The error is a *BatchError naming the first
// publication refused.
func (srv *Server) PublishBatch(ps []BackendPublication) ([]int, error) {
	batch := make([]pending, len(ps))
	for i := range ps {
		if err := srv.check(&ps[i], &batch[i]); err != nil {
			return nil, &BatchError{Index: i, Err: err}
		}
	}
	f := srv.fans.Get().(*fanout)
	defer srv.fans.Put(f)
	counts := make([]int, len(batch))
	for i := range batch {
		f.pub = batch[i].pub
		counts[i] = srv.deliver(f, &f.pend, nil, &batch[i].m)
		if srv.opts.Broker != nil {
			srv.forward(f, nil, &batch[i].m)
		}
	}
	f.pub = Publication{}
	f.pend.Flush()
	return counts, nil
}

// check parses and bounds p into q, without delivering anything.
func (srv *Server) check(p *BackendPublication, q *pending) error {
	tags, err := srv.selection(p.Topic, p.Tags)
	if err != nil {
		return err
	}
	if p.Event == nil {
		return fmt.Errorf("%w: no event", ErrBadPublication)
	}
	if !protocol.Valid(p.Event) {
		return fmt.Errorf("%w: event is not valid JSON", ErrBadPublication)
	}
	maxIDs := limitOf(srv.opts.MaxPublishIDs, protocol.DefaultMaxIDs)
	for _, l := range [][]string{p.Exclude, p.Eligible} {
		if len(l) > maxIDs {
			return fmt.Errorf("%w: %w: %d session ids, at most %d", ErrOverLimit, protocol.ErrTooManyIDs, len(l), maxIDs)
		}
	}
	q.pub = Publication{Topic: p.Topic, Tags: tags, Event: p.Event}
	if len(p.Exclude) > 0 {
		q.m.Exclude = protocol.ExcludeList
		q.m.ExcludeIDs = idBytes(p.Exclude)
	}
	if p.Eligible != nil {
		q.m.HasEligible = true
		q.m.Eligible = idBytes(p.Eligible)
	}
	return nil
}

// selection returns the tag set that topic or tags (exactly one given)
// select, under the server's tag limits.
func (srv *Server) selection(topic string, tags json.RawMessage) (tagindex.Set, error) {
	var set tagindex.Set
	var err error
	switch {
	case topic != "" && tags != nil:
		return set, fmt.Errorf("%w: both a topic and tags", ErrBadPublication)
	case topic != "":
		set, err = tagindex.ParseTopicLimits(topic, srv.tlimits)
	case tags != nil:
		set, err = tagindex.ParseJSONLimits(tags, srv.tlimits)
	default:
		return set, fmt.Errorf("%w: neither a topic nor tags", ErrBadPublication)
	}
	switch {
	case err == nil:
		return set, nil
	case errors.Is(err, tagindex.ErrTooManyTags), errors.Is(err, tagindex.ErrTooLong):
		return set, fmt.Errorf("%w: %w", ErrOverLimit, err)
	}
	return set, fmt.Errorf("%w: %w", ErrBadPublication, err)
}

// idBytes converts session ids for protocol.Publish's lists; the bytes
// alias the strings and are only read.
func idBytes(ids []string) [][]byte {
	out := make([][]byte, len(ids))
	for i, id := range ids {
		out[i] = unsafe.Slice(unsafe.StringData(id), len(id))
	}
	return out
}

// limitOf resolves a limit of Options as the decoder does: 0 is def, a
// negative value is no limit.
func limitOf(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return int(^uint(0) >> 1)
	}
	return v
}

// Presence reports how many distinct sessions of this server a
// publication with the tag set of topic or tags (exactly one given, as in
// BackendPublication) would reach, and up to maxIDs of their ids, in no
// particular order. It asks the index (tagindex.Index.Match) and delivers
// nothing; the error wraps ErrBadPublication or ErrOverLimit. The count is
// of sessions, not of subscriptions: a session with two matching
// subscriptions counts once. ClusterPresence asks every node of a
// cluster.
func (srv *Server) Presence(topic string, tags json.RawMessage, maxIDs int) (int, []string, error) {
	set, err := srv.selection(topic, tags)
	if err != nil {
		return 0, nil, err
	}
	n, ids := srv.LocalPresence(set, maxIDs)
	return n, ids, nil
}

// LocalPresence is Presence for a parsed tag set: how many distinct
// sessions of this server a publication with tags would reach, and up to
// maxIDs of their ids. A broker answers the other nodes' presence requests
// with it (PresenceBroker).
func (srv *Server) LocalPresence(tags tagindex.Set, maxIDs int) (int, []string) {
	var subs []*subscription
	srv.index.Match(tags, func(s *subscription) { subs = append(subs, s) }) // only collects
	seen := make(map[*Session]struct{}, len(subs))
	var ids []string
	for _, s := range subs {
		if _, dup := seen[s.sess]; dup {
			continue
		}
		seen[s.sess] = struct{}{}
		if len(ids) < maxIDs {
			ids = append(ids, s.sess.id)
		}
	}
	return len(seen), ids
}

// PresenceResult is what ClusterPresence reports, and what a
// PresenceBroker reports of the other nodes.
type PresenceResult struct {
	// Sessions counts the distinct matching sessions of the nodes that
	// answered (session ids are unique across a cluster, so the nodes'
	// counts add up).
	Sessions int
	// IDs lists up to the maxIDs asked of their ids, in no particular
	// order.
	IDs []string
	// Nodes is how many nodes answered, this one included for
	// ClusterPresence.
	Nodes int
	// Partial reports that the figures may miss sessions: a node known to
	// the broker did not answer in time, or the broker is disconnected.
	Partial bool
}

// PresenceBroker is an optional interface of a Broker
// (Options.Broker) that can ask the other nodes of its cluster for their
// LocalPresence; ClusterPresence uses it.
type PresenceBroker interface {
	// RemotePresence asks every other node how many of its sessions a
	// publication with tags would reach, and up to maxIDs of their ids,
	// and sums the answers that came before ctx ends (or before every
	// node the broker knows answered). Nodes counts the nodes that
	// answered. tags is borrowed until it returns. Its error (too many
	// requests in flight) means nothing was asked.
	RemotePresence(ctx context.Context, tags tagindex.Set, maxIDs int) (PresenceResult, error)
}

// ClusterPresence is Presence across a cluster: with a Broker that
// implements PresenceBroker, this server's figures plus those of every
// other node that answered before ctx ended; otherwise this server's
// alone, Nodes 1 and Partial false. The error wraps ErrBadPublication or
// ErrOverLimit for the selection, or is the broker's.
func (srv *Server) ClusterPresence(ctx context.Context, topic string, tags json.RawMessage, maxIDs int) (PresenceResult, error) {
	set, err := srv.selection(topic, tags)
	if err != nil {
		return PresenceResult{}, err
	}
	n, ids := srv.LocalPresence(set, maxIDs)
	res := PresenceResult{Sessions: n, IDs: ids, Nodes: 1}
	pb, ok := srv.opts.Broker.(PresenceBroker)
	if !ok {
		return res, nil
	}
	remote, err := pb.RemotePresence(ctx, set, maxIDs)
	if err != nil {
		return PresenceResult{}, fmt.Errorf("router: presence: %w", err)
	}
	res.Sessions += remote.Sessions
	res.Nodes += remote.Nodes
	res.Partial = remote.Partial
	for _, id := range remote.IDs {
		if len(res.IDs) >= maxIDs {
			break
		}
		res.IDs = append(res.IDs, id)
	}
	return res, nil
}

// Disconnect closes the session whose id is sessionID with 1008 (policy
// violation) and reason, after what is queued for it
// (docs/protocol.md#close-codes); the reason is cut to fit a close frame.
// It reports whether such a session was open. It looks the id up among
// all sessions: an administrative call, not for a hot path.
func (srv *Server) Disconnect(sessionID, reason string) bool {
	var found *Session
	srv.mu.Lock()
	for s := range srv.conns {
		if s.id == sessionID {
			found = s
			break
		}
	}
	srv.mu.Unlock()
	if found == nil || found.c.Closing() {
		return false
	}
	srv.log.Info("closing session: disconnected by a backend", "session", found.id, "reason", logval.String(reason))
	found.Close(protocol.ClosePolicyViolation, reason)
	return true
}

// CallAsBackend calls procedure with args (raw JSON values) through the
// RPC handler chain, middleware included, as the session BackendSessionID,
// and returns the result's JSON or the CALLERROR the call answers
// (docs/protocol.md#errors), exactly as a WAMP caller would get them.
//
// The session is not connected: RemoteAddr and Request().RemoteAddr are
// BackendAddr, Request() holds the URI "/", Value and SetValue work for the
// call's duration, and Close ends the call (a call not answered yet answers
// ...error#internal). A call over MaxURILength or MaxMessageElements, or
// with an argument that is not JSON, answers ...error#invalid-argument
// without running the handler.
//
// The handler's context ends with ctx, at Shutdown, or after CallTimeout.
// A handler that defers (Call.Defer) is waited for until its Reply answers
// or that context ends, which answers ...error#timeout (the deadline) or
// ...error#internal (ctx or Shutdown). A backend call holds no worker and
// is not counted in MaxRunningCalls: the caller bounds its own concurrency.
func (srv *Server) CallAsBackend(ctx context.Context, procedure string, args []json.RawMessage) (json.RawMessage, *protocol.Error) {
	if pe := srv.checkCall(procedure, args); pe != nil {
		return nil, pe
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(srv.ctx, cancel)
	defer stop()
	if srv.opts.CallTimeout > 0 {
		var cancelT context.CancelFunc
		ctx, cancelT = context.WithTimeout(ctx, srv.opts.CallTimeout)
		defer cancelT()
	}

	s, bc := srv.backendSession()
	defer s.c.Abort()
	checked := make([][]byte, len(args)) // the values checkCall checked
	for i, a := range args {
		checked[i] = a
	}
	c := &Call{URI: procedure, Args: args, srv: srv, sess: s, id: backendCallID, checked: checked}
	obs := srv.opts.Observer
	var start time.Duration
	if obs != nil {
		start = srv.clock()
	}
	result, err := srv.invokeBackend(ctx, s, c)
	if obs != nil {
		obs.ObserveCall(callOutcome(err, c.reply), srv.clock()-start)
	}
	if r := c.reply; r != nil {
		if err == errPanic {
			r.Send(nil, err)
		}
		return srv.awaitBackend(ctx, bc, procedure)
	}
	if err == nil && ctx.Err() != nil {
		err = ctx.Err()
	}
	var payload []byte
	if err == nil {
		var raw []byte
		if raw, err = marshalResult(result); err == nil {
			payload = protocol.AppendCallResult(nil, backendCallID, raw)
		} else {
			err = fmt.Errorf("router: marshaling the result of %s: %w", procedure, err)
		}
	}
	if err != nil {
		payload = srv.appendCallError(nil, s, backendCallID, procedure, err)
	}
	return decodeAnswer(payload)
}

// backendCallID is the call id of backend calls, never seen outside.
var backendCallID = []byte("0")

// checkCall bounds a backend call as a CALL frame is bounded.
func (srv *Server) checkCall(procedure string, args []json.RawMessage) *protocol.Error {
	if procedure == "" {
		return protocol.NewError(protocol.ErrorURIInvalidArgument, "no procedure")
	}
	if n := limitOf(srv.opts.MaxURILength, protocol.DefaultMaxURILen); len(procedure) > n {
		return protocol.NewError(protocol.ErrorURIInvalidArgument, fmt.Sprintf("procedure URI longer than %d bytes", n))
	}
	if n := limitOf(srv.opts.MaxMessageElements, protocol.DefaultMaxElements); len(args) > n {
		return protocol.NewError(protocol.ErrorURIInvalidArgument, fmt.Sprintf("more than %d arguments", n))
	}
	for i, a := range args {
		if !protocol.Valid(a) {
			return protocol.NewError(protocol.ErrorURIInvalidArgument, fmt.Sprintf("argument %d is not valid JSON", i))
		}
	}
	return nil
}

// invokeBackend is invoke with the caller's context: the RPC handler
// runs with ctx, and its panics are contained.
func (srv *Server) invokeBackend(ctx context.Context, s *Session, c *Call) (res any, err error) {
	if srv.rpc == nil {
		return nil, ErrNoSuchProcedure
	}
	defer func() {
		if r := recover(); r != nil {
			srv.log.Error("RPC handler panicked", "session", s.id, "procedure", logval.String(c.URI),
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			res, err = nil, errPanic
		}
	}()
	return srv.rpc.ServeCall(ctx, s, c)
}

// awaitBackend waits for a deferred backend call's Reply, which writes
// its answer to the session's connection.
func (srv *Server) awaitBackend(ctx context.Context, bc *backendConn, procedure string) (json.RawMessage, *protocol.Error) {
	select {
	case payload := <-bc.answer:
		return decodeAnswer(payload)
	case <-bc.closed:
		select {
		case payload := <-bc.answer: // answered, then closed
			return decodeAnswer(payload)
		default:
		}
		return nil, protocol.NewError(protocol.ErrorURIInternal, "internal error")
	case <-ctx.Done():
		return nil, CallError(procedure, ctx.Err())
	}
}

// decodeAnswer turns the CALLRESULT or CALLERROR a backend call was
// answered with into its result or error; the bytes returned are the
// caller's.
func decodeAnswer(payload []byte) (json.RawMessage, *protocol.Error) {
	var d protocol.Decoder
	d.Limits = protocol.Limits{MaxElements: -1, MaxIDs: -1}
	var m protocol.Message
	if err := d.Decode(payload, &m); err != nil {
		return nil, protocol.NewError(protocol.ErrorURIInternal, "internal error")
	}
	switch m.Type {
	case protocol.TypeCallResult:
		return json.RawMessage(bytes.Clone(m.CallResult.Result)), nil
	case protocol.TypeCallError:
		e := &protocol.Error{URI: string(m.CallError.ErrorURI), Desc: string(m.CallError.ErrorDesc)}
		if len(m.CallError.ErrorDetails) > 0 {
			e.Details = json.RawMessage(bytes.Clone(m.CallError.ErrorDetails))
		}
		return nil, e
	}
	return nil, protocol.NewError(protocol.ErrorURIInternal, "internal error")
}

// ErrNotListening is Ready's answer before the server listens.
var ErrNotListening = errors.New("router: not listening")

// Ready reports whether the server can take sessions, for a readiness
// probe: nil while it serves at least one listener and is not shutting
// down, else ErrNotListening or ErrServerClosed; and, with an
// Options.Broker that reports its connection (Connected() bool),
// ErrBrokerDisconnected while it is down.
func (srv *Server) Ready() error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	switch {
	case srv.shutdown:
		return ErrServerClosed
	case len(srv.listeners) == 0:
		return ErrNotListening
	case !srv.brokerConnected():
		return ErrBrokerDisconnected
	}
	return nil
}
