package forward

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tagwamp/tagwamp/internal/logval"
	"github.com/tagwamp/tagwamp/router"
)

// backend is one HTTP service: a route's or a hook's. It is immutable
// after newBackend but for its in-flight count.
type backend struct {
	name    string
	url     string
	header  http.Header
	timeout time.Duration
	max     int64 // MaxInFlight

	inFlight  atomic.Int64
	transport *http.Transport
	client    *http.Client
}

// newBackend makes a backend with its own client, whose connections to
// the service are bounded by maxInFlight and kept alive between requests.
func newBackend(name, url string, header http.Header, timeout time.Duration, maxInFlight int) *backend {
	t := &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxConnsPerHost:     maxInFlight,
		MaxIdleConns:        maxInFlight,
		MaxIdleConnsPerHost: maxInFlight,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: timeout,
		ForceAttemptHTTP2:   true,
	}
	return &backend{
		name: name, url: url, header: header.Clone(), timeout: timeout, max: int64(maxInFlight),
		transport: t,
		client: &http.Client{Transport: t, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a 3xx is not an answer
		}},
	}
}

// acquire takes one of the backend's places, or reports that all
// MaxInFlight are taken; release gives it back.
func (b *backend) acquire() bool {
	if b.inFlight.Add(1) > b.max {
		b.inFlight.Add(-1)
		return false
	}
	return true
}

func (b *backend) release() { b.inFlight.Add(-1) }

// errBodyMax is how much of a failed answer's body post keeps for the
// log, before logval cuts it.
const errBodyMax = 4 << 10

// post POSTs body to b and returns the body of a 2xx answer, at most
// max bytes. Its errors are for the log: ErrStatus and ErrBadAnswer carry
// the start of what the service sent, cut by logval; the caller never
// shows them to a client.
func (b *backend) post(ctx context.Context, body []byte, max int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, v := range b.header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "tagwamp/"+router.Version)
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		head, _ := io.ReadAll(io.LimitReader(resp.Body, errBodyMax))
		return nil, fmt.Errorf("%w: %s, body %q", ErrStatus, resp.Status, logval.String(string(head)))
	}
	out, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(out)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return out, nil
}
