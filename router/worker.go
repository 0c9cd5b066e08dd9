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

	uri  []byte // resolved URI scratch
	out  []byte // encoded reply scratch
	args []json.RawMessage
	call Call

	fan fanout
}

func newWorker() *worker {
	w := &worker{}
	w.fan.init()
	return w
}

// fanout is the scratch of one publication's delivery.
type fanout struct {
	set     tagindex.Set
	pub     Publication
	targets []*subscription
	collect func(*subscription) // appends to targets, bound once
	frames  map[string][]byte   // topic string -> encoded EVENT frame
}

func (f *fanout) init() {
	f.collect = func(s *subscription) { f.targets = append(f.targets, s) }
	f.frames = make(map[string][]byte)
}
