//go:build !unix

package wstest

import (
	"errors"
	"syscall"
)

// rcvBufControl fails: setting a receive buffer is done on unix only.
func rcvBufControl(int) func(network, address string, rc syscall.RawConn) error {
	return func(string, string, syscall.RawConn) error {
		return errors.New("wstest: Options.RcvBuf is supported on unix only")
	}
}
