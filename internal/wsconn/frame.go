package wsconn

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// MaxFrameHeader is the largest header of a frame the server sends: it never
// masks, so 2 bytes plus at most 8 of extended length.
const MaxFrameHeader = 10

// bufSize is the size of the pooled buffers: a connection's queued frames
// are coalesced into them, and a short partial frame waits in one.
const bufSize = 4096

// BeginFrame reserves room for a frame header at the end of dst and returns
// the extended slice and the offset where the header space starts. The
// payload is then appended to the result and EndFrame writes the header.
// Encoding the payload in place this way costs no copy.
func BeginFrame(dst []byte) ([]byte, int) {
	off := len(dst)
	var pad [MaxFrameHeader]byte
	return append(dst, pad[:]...), off
}

// EndFrame writes, right-aligned in the space BeginFrame reserved at off, the
// header of an unfragmented, unmasked frame of opcode op whose payload runs
// from off+MaxFrameHeader to the end of b. It returns the frame.
func EndFrame(b []byte, off int, op ws.OpCode) []byte {
	n := len(b) - off - MaxFrameHeader
	var h [MaxFrameHeader]byte
	h[0] = 0x80 | byte(op)
	size := 2
	switch {
	case n <= 125:
		h[1] = byte(n)
	case n <= 0xffff:
		h[1] = 126
		binary.BigEndian.PutUint16(h[2:], uint16(n))
		size = 4
	default:
		h[1] = 127
		binary.BigEndian.PutUint64(h[2:], uint64(n))
		size = 10
	}
	start := off + MaxFrameHeader - size
	copy(b[start:], h[:size])
	return b[start:]
}

// AppendControl appends a whole control frame (ping, pong, close) with
// payload p, which must be at most 125 bytes.
func AppendControl(dst []byte, op ws.OpCode, p []byte) []byte {
	dst = append(dst, 0x80|byte(op), byte(len(p)))
	return append(dst, p...)
}

// closePayload is the body of a close frame: a status code and a reason cut
// to fit the 125 bytes a control frame allows.
func closePayload(code uint16, reason string) []byte {
	if len(reason) > 123 {
		n := 123
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	b := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(b, code)
	return append(b, reason...)
}

// HeaderLen reports the length of the frame header that starts b (masked
// or not), or 0 when b does not yet hold its first two bytes: what a reader
// needs to know before it can hand the header to gobwas/ws's
// ReadHeaderBuffer (which reads from an io.Reader and cannot say it needs
// more). The one copy of this knowledge in the repository: the bench
// harness's frame reader uses it too.
func HeaderLen(b []byte) int {
	if len(b) < 2 {
		return 0
	}
	n := 2
	switch b[1] & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b[1]&0x80 != 0 {
		n += 4
	}
	return n
}
