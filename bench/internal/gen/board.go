package gen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// BoardRing is how many publications of one publisher the completion
// board tracks at once: publication seq of a publisher uses slot seq mod
// BoardRing. MaxCompleteWindow, half of it, is the largest window a
// publisher may keep with completion on.
const (
	BoardRing         = 1024
	MaxCompleteWindow = BoardRing / 2
)

// boardMsgSize is one completion on the pipe: the publisher's index on
// the board and the publication's sequence number, both uint32 little
// endian. It is below PIPE_BUF, so writes from many processes never
// interleave.
const boardMsgSize = 8

// Board is the harness's side of completion-based windows: a shared
// memory board (a memfd) of one uint64 slot per tracked publication, and
// a pipe. Before a publisher sends publication seq it stores
// seq<<32 | receivers in its slot; each subscriber that receives it
// subtracts one, and the one that brings the count to zero writes the
// completion to the pipe, which the publisher reads to free a place in
// its window. A publication is thus complete when every subscriber it
// matches has it, whichever worker process holds them.
type Board struct {
	first, pubs int
	mem         *os.File
	r, w        *os.File
}

// NewBoard makes a board for pubs publisher connections numbered
// first, first+1, ...
func NewBoard(first, pubs int) (*Board, error) {
	if pubs < 1 {
		return nil, fmt.Errorf("gen: board: %d publishers", pubs)
	}
	fd, err := unix.MemfdCreate("tagwamp-bench-board", 0)
	if err != nil {
		return nil, fmt.Errorf("gen: board: memfd: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "board")
	if err := mem.Truncate(int64(boardBytes(pubs))); err != nil {
		mem.Close()
		return nil, fmt.Errorf("gen: board: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		mem.Close()
		return nil, fmt.Errorf("gen: board: %w", err)
	}
	return &Board{first: first, pubs: pubs, mem: mem, r: r, w: w}, nil
}

func boardBytes(pubs int) int { return pubs * BoardRing * 8 }

// Subscribers sets spec up for subscribers reporting to the board.
func (b *Board) Subscribers(spec *Spec) {
	spec.Complete, spec.BoardFirst, spec.BoardPubs = true, b.first, b.pubs
	spec.Files = []*os.File{b.mem, b.w}
}

// Publishers sets spec up for the board's publishers, whose publications
// to group g reach sizes[g] subscribers.
func (b *Board) Publishers(spec *Spec, sizes []int64) {
	spec.Complete, spec.BoardFirst, spec.BoardPubs = true, b.first, b.pubs
	spec.GroupSizes = sizes
	spec.Files = []*os.File{b.mem, b.r}
}

// Close closes the harness's descriptors; the workers keep theirs.
func (b *Board) Close() error {
	return errors.Join(b.mem.Close(), b.r.Close(), b.w.Close())
}

// board is a worker's view of the Board.
type board struct {
	first, pubs int
	mem         []byte
	slots       []atomic.Uint64
	pipe        *os.File // write end in subscribers, read end in publishers
	stale       atomic.Int64
}

// openBoard maps the board file and keeps the pipe.
func openBoard(spec *Spec, mem, pipe *os.File) (*board, error) {
	n := boardBytes(spec.BoardPubs)
	m, err := unix.Mmap(int(mem.Fd()), 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("gen: board: mmap: %w", err)
	}
	b := &board{first: spec.BoardFirst, pubs: spec.BoardPubs, mem: m, pipe: pipe}
	b.slots = unsafe.Slice((*atomic.Uint64)(unsafe.Pointer(&m[0])), n/8)
	return b, nil
}

// slot is publication seq of publisher index i's slot.
func (b *board) slot(i int, seq uint32) *atomic.Uint64 {
	return &b.slots[i*BoardRing+int(seq%BoardRing)]
}

// delivered counts one delivery of publication seq of publisher
// connection pub, and writes the completion when it was the last one. A
// delivery the board does not expect (another publication holds the
// slot, or all its receivers were counted already) is counted as stale.
func (b *board) delivered(pub int, seq uint32) error {
	i := pub - b.first
	if i < 0 || i >= b.pubs {
		b.stale.Add(1)
		return nil
	}
	s := b.slot(i, seq)
	v := s.Add(^uint64(0)) // minus one
	if uint32(v>>32) != seq || uint32(v) == ^uint32(0) {
		s.Add(1) // not ours: put it back
		b.stale.Add(1)
		return nil
	}
	if uint32(v) != 0 {
		return nil
	}
	var msg [boardMsgSize]byte
	binary.LittleEndian.PutUint32(msg[:4], uint32(i))
	binary.LittleEndian.PutUint32(msg[4:], seq)
	if _, err := b.pipe.Write(msg[:]); err != nil {
		return fmt.Errorf("gen: board: writing a completion: %w", err)
	}
	return nil
}

// readCompletions calls fn with each batch of completions (publisher
// index, sequence number) read from the pipe until it fails.
func (b *board) readCompletions(fn func(idx []uint32, seq []uint32)) error {
	buf := make([]byte, 512*boardMsgSize)
	have := 0
	var idx, seq []uint32
	for {
		n, err := b.pipe.Read(buf[have:])
		if err != nil {
			return err
		}
		have += n
		idx, seq = idx[:0], seq[:0]
		whole := have / boardMsgSize * boardMsgSize
		for off := 0; off < whole; off += boardMsgSize {
			idx = append(idx, binary.LittleEndian.Uint32(buf[off:]))
			seq = append(seq, binary.LittleEndian.Uint32(buf[off+4:]))
		}
		have = copy(buf, buf[whole:have])
		if len(idx) > 0 {
			fn(idx, seq)
		}
	}
}
