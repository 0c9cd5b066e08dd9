//go:build !linux

package wsconn

// wscratch is empty where writes are not made from the workers.
type wscratch struct{}

// writeRaw writes nothing on this platform: the whole batch goes to a
// flusher goroutine, which writes through the net.Conn.
func (c *Conn) writeRaw(_ *wscratch, batch []outFrame) (n, total int, err error) {
	for _, f := range batch {
		total += len(f.b)
	}
	return 0, total, nil
}

// flushConns flushes every connection of the list, one by one.
func (l *Batch) flushConns() { l.flushEach(l.conns) }

// rings is empty where io_uring does not exist.
type rings struct{}

func (*rings) close() {}
