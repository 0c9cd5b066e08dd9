package router

// QueuedBytes reports, for tests, the bytes waiting in the sessions' write
// queues: their total over all sessions and the largest of one session.
//
// It counts what a session's queue holds and no flusher has taken yet, the
// quantity MaxQueueBytes bounds. A flusher holds at most one more batch
// (taken from a queue that was within the bound), so what the server keeps
// for a session's writes is at most twice MaxQueueBytes; frames shared by
// the receivers of one EVENT are counted once per receiver.
func (srv *Server) QueuedBytes() (total, largest int) {
	srv.mu.Lock()
	conns := make([]*conn, 0, len(srv.conns))
	for c := range srv.conns {
		conns = append(conns, c)
	}
	srv.mu.Unlock()
	for _, c := range conns {
		c.wmu.Lock()
		n := c.wqBytes
		c.wmu.Unlock()
		total += n
		largest = max(largest, n)
	}
	return total, largest
}

// SetReadBudget lowers the bytes a worker reads from one connection per
// notification, so that tests can stop a read with bytes left inside
// crypto/tls. Call it before Serve.
func SetReadBudget(srv *Server, n int) { srv.readBudget = n }
