package router

import (
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// refusalLinger bounds how long a refused connection is read after its
// answer (lingerRefused).
const refusalLinger = 250 * time.Millisecond

// headLimitError is the error a headReader fails with when an upgrade
// request passes one of MaxRequestLine, MaxHeaderLine or
// MaxHandshakeBytes; upgrade answers it with its status and reason
// (docs/protocol.md#http-refusals), since gobwas/ws writes nothing for an
// error of the reader it reads.
type headLimitError struct {
	status int
	reason string
}

func (e *headLimitError) Error() string { return "router: " + e.reason }

// headLimits are the three errors of one server, made once with the
// limits in their reasons.
type headLimits struct {
	maxRequestLine, maxHeaderLine, maxBytes int
	requestLine, headerLine, total          *headLimitError
}

func newHeadLimits(o Options) headLimits {
	return headLimits{
		maxRequestLine: o.MaxRequestLine,
		maxHeaderLine:  o.MaxHeaderLine,
		maxBytes:       o.MaxHandshakeBytes,
		requestLine: &headLimitError{http.StatusRequestURITooLong,
			"request line longer than " + strconv.Itoa(o.MaxRequestLine) + " bytes"},
		headerLine: &headLimitError{http.StatusRequestHeaderFieldsTooLarge,
			"header line longer than " + strconv.Itoa(o.MaxHeaderLine) + " bytes"},
		total: &headLimitError{http.StatusRequestHeaderFieldsTooLarge,
			"request header larger than " + strconv.Itoa(o.MaxHandshakeBytes) + " bytes"},
	}
}

// headReader is what gobwas/ws's Upgrader reads an upgrade request
// through. gobwas/ws bounds neither a line (readLine appends the pieces of
// a line longer than its 4 KiB read buffer without end) nor the request,
// so headReader counts every byte before the Upgrader's buffer holds it:
// per line (the request line against MaxRequestLine, each header line
// against MaxHeaderLine, their CRLF not counted) and in total against
// MaxHandshakeBytes, and fails the read with a *headLimitError past any of
// them, so that no more than about the limit is ever buffered or parsed.
// After the blank line that ends the request it passes bytes through
// uncounted (the Upgrader reads no further).
type headReader struct {
	r      io.Reader
	lim    *headLimits
	err    *headLimitError
	total  int  // bytes of the request so far
	line   int  // bytes of the current line so far, LF not counted
	lines  int  // complete lines so far
	cr     bool // the current line so far is a lone CR
	passed bool // the blank line was read
}

func (h *headReader) Read(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n, err := h.r.Read(p)
	if h.passed {
		return n, err
	}
	for i, b := range p[:n] {
		if b == '\n' {
			if h.line == 0 || h.line == 1 && h.cr {
				h.passed = true // the rest of p is not the request's
				if h.total += i + 1; h.total > h.lim.maxBytes {
					h.err = h.lim.total
					return 0, h.err
				}
				return n, err
			}
			h.lines++
			h.line, h.cr = 0, false
			continue
		}
		h.line++
		h.cr = h.line == 1 && b == '\r'
		max := h.lim.maxHeaderLine
		if h.lines == 0 {
			max = h.lim.maxRequestLine
		}
		if h.line > max && (h.line > max+1 || b != '\r') { // the CR of a CRLF may follow
			if h.lines == 0 {
				h.err = h.lim.requestLine
			} else {
				h.err = h.lim.headerLine
			}
			return 0, h.err
		}
	}
	if h.total += n; h.total > h.lim.maxBytes {
		h.err = h.lim.total
		return 0, h.err
	}
	return n, err
}

// writeRefusal answers a request refused by a headReader: a status line,
// a plain-text reason and Connection: close (docs/protocol.md#http-refusals).
func writeRefusal(w io.Writer, e *headLimitError) error {
	b := make([]byte, 0, 160)
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, ' ')
	b = append(b, http.StatusText(e.status)...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(e.reason)), 10)
	b = append(b, "\r\n\r\n"...)
	b = append(b, e.reason...)
	_, err := w.Write(b)
	return err
}

// lingerRefused half-closes nc after a refusal was written and discards,
// for at most refusalLinger and max bytes, what the client is still
// sending, so that a client whose request was a little too large reads
// the answer rather than the reset that closing a socket with unread bytes
// sends. One that keeps sending gets the reset anyway.
func lingerRefused(nc net.Conn, max int) {
	if cw, ok := nc.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	nc.SetReadDeadline(time.Now().Add(refusalLinger))
	io.CopyN(io.Discard, nc, int64(max))
}
