package router

import (
	"encoding/json"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// worker is the router's scratch of one transport worker (its
// wsconn.Worker.Local), reused for every message that worker handles so
// that steady-state dispatch allocates nothing. It belongs to that
// worker's goroutine and is passed explicitly down the dispatch path.
type worker struct {
	// batch is the transport worker's Batch: the connections this worker
	// queued frames to during the readiness event it serves, flushed when
	// the event ends.
	batch *wsconn.Batch

	dec protocol.Decoder
	msg protocol.Message

	uri  []byte            // resolved URI scratch
	uris map[string]string // procedure URIs seen, so a CALL's URI string costs no allocation
	out  []byte            // encoded reply scratch
	args []json.RawMessage
	call Call

	fan fanout
}

// maxInterned bounds a worker's procedure URI cache, so that callers
// inventing URIs cannot grow it without end; past it URIs are allocated.
const maxInterned = 1024

// newWorker makes the router's scratch of the transport worker tw
// (wsconn.Config.Local), its decoder bounded by the server's limits.
func (srv *Server) newWorker(tw *wsconn.Worker) any {
	w := &worker{batch: &tw.Batch, uris: make(map[string]string)}
	w.dec.Limits = srv.plimits
	w.fan.init()
	return w
}

// procURI returns w.uri as a string, from the worker's cache when it was
// seen before.
func (w *worker) procURI() string {
	if s, ok := w.uris[string(w.uri)]; ok {
		return s
	}
	s := string(w.uri)
	if len(w.uris) < maxInterned {
		w.uris[s] = s
	}
	return s
}

// fanout is the scratch of one publication's delivery.
type fanout struct {
	set     tagindex.Set
	pub     Publication
	targets []*subscription
	collect func(*subscription) // appends to targets, bound once
	frames  map[string][]byte   // topic string -> encoded EVENT frame

	// pend is the Batch of a server-side Publish, which runs on no
	// worker; a worker's publications use the worker's Batch.
	pend wsconn.Batch
}

func (f *fanout) init() {
	f.collect = func(s *subscription) { f.targets = append(f.targets, s) }
	f.frames = make(map[string][]byte)
}
