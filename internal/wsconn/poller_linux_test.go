package wsconn

import (
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// TestPollers runs connections through each Config.Poller for real: the
// poller wakes a worker for each of many messages sent one at a time
// (each read re-arms it), to several connections at once, and stops
// watching a connection that closes; then Close stops it.
func TestPollers(t *testing.T) {
	t.Setenv("TAGWAMP_POLLER", "") // the test chooses
	for _, poller := range []string{PollerDefault, PollerEasygo} {
		t.Run("poller="+poller, func(t *testing.T) {
			tr := New(Config{MaxMessageSize: 1 << 20, MaxQueueBytes: 1 << 20, Poller: poller})
			defer tr.Close()
			const conns, msgs = 4, 50
			recs := make([]*recorder, conns)
			for i := range conns {
				recs[i] = &recorder{}
				c, peer := socketPair(t, tr, recs[i])
				if err := c.Start(); err != nil {
					t.Fatal(err)
				}
				go func() {
					for j := range msgs {
						if _, err := peer.Write(clientFrame(ws.OpText, true, fmt.Appendf(nil, "m%d", j))); err != nil {
							return
						}
						time.Sleep(time.Millisecond)
					}
				}()
			}
			if _, easy := tr.poller.(*easyPoller); easy != (poller == PollerEasygo) {
				t.Fatalf("Config.Poller %q gave a %T", poller, tr.poller)
			}
			for i, r := range recs {
				for deadline := time.Now().Add(10 * time.Second); len(r.messages()) < msgs; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("connection %d: %d messages of %d", i, len(r.messages()), msgs)
					}
				}
				for j, m := range r.messages() {
					if want := fmt.Sprintf("%v:m%d", ws.OpText, j); m != want {
						t.Fatalf("connection %d: message %d is %q, want %q", i, j, m, want)
					}
				}
			}
		})
	}
}
