package router

import (
	"encoding/json"
	"unsafe"

	"github.com/tagwamp/tagwamp/internal/wsconn"
	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// worker is the router's scratch of one transport worker (its
// wsconn.Worker.Local), reused for every message that worker handles so
// that steady-state dispatch allocates nothing. It belongs to that
// worker's goroutine and is passed explicitly down the dispatch path.
type worker struct {
	// tw is the transport worker, and batch its Batch: the connections
	// this worker queued frames to during the readiness event it serves,
	// flushed when the event ends.
	tw    *wsconn.Worker
	batch *wsconn.Batch

	dec protocol.Decoder
	msg protocol.Message

	uri  []byte            // resolved URI scratch
	uris map[string]string // procedure URIs seen, so a CALL's URI string costs no allocation
	last string            // the URI procURI returned last: a run of calls to one procedure skips the map
	// urisBytes is the bytes of the URIs in uris.
	urisBytes int
	out       []byte // encoded reply scratch
	args      []json.RawMessage
	call      Call
	slab      resultSlab // ArgsList results (Call.slab)
	obs       Observer   // Options.Observer, or this worker's shard of it

	fan fanout
}

// maxInterned and maxInternedBytes bound a worker's procedure URI cache,
// in entries and in bytes, so that callers inventing URIs (long ones, up
// to MaxURILength) cannot grow it without end; past them URIs are
// allocated per call.
const (
	maxInterned      = 1024
	maxInternedBytes = 64 << 10
)

// newWorker makes the router's scratch of the transport worker tw
// (wsconn.Config.Local), its decoder bounded by the server's limits.
func (srv *Server) newWorker(tw *wsconn.Worker) any {
	w := &worker{tw: tw, batch: &tw.Batch, uris: make(map[string]string), obs: srv.opts.Observer}
	if so, ok := w.obs.(ShardedObserver); ok {
		w.obs = so.Shard()
	}
	w.dec.Limits = srv.plimits
	w.fan.init()
	return w
}

// procURI returns w.uri as a string, from the worker's cache when it was
// seen before.
func (w *worker) procURI() string {
	if string(w.uri) == w.last && w.last != "" {
		return w.last
	}
	if s, ok := w.uris[string(w.uri)]; ok {
		w.last = s
		return s
	}
	s := string(w.uri)
	if len(w.uris) < maxInterned && w.urisBytes+len(s) <= maxInternedBytes {
		w.uris[s] = s
		w.urisBytes += len(s)
	}
	w.last = s
	return s
}

// fanout is the scratch of one publication's delivery.
type fanout struct {
	set     tagindex.Set
	pub     Publication
	targets []*subscription
	collect func(*subscription) // appends to targets, bound once
	frames  map[string][]byte   // topic string -> encoded EVENT frame

	// A PUBLISH's exclude and eligible lists as sets, built once per
	// publication when a list is long (idSet), so that a receiver costs a
	// lookup whatever the lists' length.
	exclude, eligible idSet

	// pend is the Batch of a server-side Publish, which runs on no
	// worker; a worker's publications use the worker's Batch.
	pend wsconn.Batch
}

func (f *fanout) init() {
	f.collect = func(s *subscription) { f.targets = append(f.targets, s) }
	f.frames = make(map[string][]byte)
}

// idSetMin is the list length from which a PUBLISH's session id list is
// looked up in a set rather than scanned per receiver.
const idSetMin = 8

// idSetKeep is the largest set kept for the next publication; a larger one
// is let go, so that one long list does not stay with a worker.
const idSetKeep = 1024

// idSet holds the session ids of one PUBLISH list. Its keys borrow the
// frame's bytes: it is emptied before deliver returns.
type idSet struct {
	ids  [][]byte
	set  map[string]struct{}
	used bool // set is filled from ids
}

// reset points the set at ids, to be filled on first use.
func (s *idSet) reset(ids [][]byte) { s.ids, s.used = ids, false }

// contains reports whether id is in the list.
func (s *idSet) contains(id string) bool {
	if len(s.ids) < idSetMin {
		for _, b := range s.ids {
			if string(b) == id {
				return true
			}
		}
		return false
	}
	if !s.used {
		if s.set == nil {
			s.set = make(map[string]struct{}, len(s.ids))
		}
		for _, b := range s.ids {
			s.set[unsafe.String(unsafe.SliceData(b), len(b))] = struct{}{}
		}
		s.used = true
	}
	_, ok := s.set[id]
	return ok
}

// clear empties the set, so that it keeps no borrowed bytes.
func (s *idSet) clear() {
	if len(s.set) > idSetKeep {
		s.set = nil
	} else {
		clear(s.set)
	}
	s.ids, s.used = nil, false
}
