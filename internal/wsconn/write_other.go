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
