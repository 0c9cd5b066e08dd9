package wire

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/gobwas/ws"

	"github.com/tagwamp/tagwamp/internal/wsconn"
)

// ErrFrame is returned for a server frame the generator cannot take: a
// masked or fragmented one, or one over MaxFrame.
var ErrFrame = errors.New("wire: bad server frame")

// MaxFrame bounds a server frame's payload.
const MaxFrame = 1 << 20

// FrameReader parses server frames out of byte buffers with gobwas/ws's
// low-level header reader. Its zero value is ready; it is not safe for
// concurrent use.
type FrameReader struct {
	br  bytes.Reader
	hdr [ws.MaxHeaderSize]byte
}

// Parse calls fn with each whole frame at the start of b and returns how
// many bytes those frames took; the rest is an incomplete frame, of which
// need is the whole length when its header is complete (0 otherwise).
func (r *FrameReader) Parse(b []byte, fn func(op ws.OpCode, payload []byte)) (used, need int, err error) {
	for {
		rest := b[used:]
		hl := wsconn.HeaderLen(rest)
		if hl == 0 || len(rest) < hl {
			return used, 0, nil
		}
		r.br.Reset(rest[:hl])
		h, err := ws.ReadHeaderBuffer(&r.br, r.hdr[:])
		if err != nil {
			return used, 0, fmt.Errorf("%w: %v", ErrFrame, err)
		}
		if h.Masked || !h.Fin || h.Length > MaxFrame {
			return used, 0, fmt.Errorf("%w: masked=%v fin=%v length=%d", ErrFrame, h.Masked, h.Fin, h.Length)
		}
		total := hl + int(h.Length)
		if len(rest) < total {
			return used, total, nil
		}
		fn(h.OpCode, rest[hl:total])
		used += total
	}
}

// ReadMessage reads one whole data frame from a blocking reader, skipping
// control frames; it is for the setup of a connection, before the
// connection is handed to epoll.
func ReadMessage(r io.Reader, buf []byte) ([]byte, error) {
	for {
		h, err := ws.ReadHeader(r)
		if err != nil {
			return nil, err
		}
		if h.Masked || !h.Fin || h.Length > MaxFrame {
			return nil, fmt.Errorf("%w: masked=%v fin=%v length=%d", ErrFrame, h.Masked, h.Fin, h.Length)
		}
		if int64(cap(buf)) < h.Length {
			buf = make([]byte, h.Length)
		}
		buf = buf[:h.Length]
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		switch h.OpCode {
		case ws.OpText, ws.OpBinary:
			return buf, nil
		case ws.OpClose:
			return nil, fmt.Errorf("wire: server closed: %s", closeReason(buf))
		}
	}
}

// closeReason renders a close frame's code and reason.
func closeReason(p []byte) string {
	if len(p) < 2 {
		return "no code"
	}
	return fmt.Sprintf("%d %q", int(p[0])<<8|int(p[1]), p[2:])
}

// CloseReason renders a close frame's payload: code and reason.
func CloseReason(p []byte) string { return closeReason(p) }
