package router

// SetReadBudget lowers the bytes a worker reads from one connection per
// notification, so that tests can stop a read with bytes left inside
// crypto/tls. Call it before Serve.
func SetReadBudget(srv *Server, n int) { srv.readBudget = n }
