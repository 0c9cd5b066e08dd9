package router

import (
	"bytes"
	"encoding/json"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/protocol"
	"github.com/tagwamp/tagwamp/tagindex"
)

// worker is the scratch state of one pool goroutine, reused for every
// message it handles so that steady-state dispatch allocates nothing.
type worker struct {
	br  bytes.Reader
	hdr [ws.MaxHeaderSize - 2]byte
	dec protocol.Decoder
	msg protocol.Message

	uri  []byte            // resolved URI scratch
	uris map[string]string // procedure URIs seen, so a CALL's URI string costs no allocation
	out  []byte            // encoded reply scratch
	args []json.RawMessage
	call Call

	fan fanout

	// pend holds the connections this worker queued frames to during the
	// read batch it serves; it flushes them when the batch ends.
	pend flushList
}

// maxInterned bounds a worker's procedure URI cache, so that callers
// inventing URIs cannot grow it without end; past it URIs are allocated.
const maxInterned = 1024

func newWorker() *worker {
	w := &worker{uris: make(map[string]string)}
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

	// pend is the flush list of a server-side Publish, which runs on no
	// worker; a worker's publications use the worker's list.
	pend flushList
}

func (f *fanout) init() {
	f.collect = func(s *subscription) { f.targets = append(f.targets, s) }
	f.frames = make(map[string][]byte)
}
