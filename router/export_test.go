package router

import "github.com/tagwamp/tagwamp/internal/wsconn"

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
	sessions := make([]*Session, 0, len(srv.conns))
	for s := range srv.conns {
		sessions = append(sessions, s)
	}
	srv.mu.Unlock()
	for _, s := range sessions {
		n := s.c.QueuedBytes()
		total += n
		largest = max(largest, n)
	}
	return total, largest
}

// SetReadBudget lowers the bytes a worker reads from one connection per
// notification, so that tests can stop a read with bytes left inside
// crypto/tls. Call it before Serve.
func SetReadBudget(srv *Server, n int) {
	srv.tcfg.ReadBudget = n
	srv.t = wsconn.New(srv.tcfg)
}
