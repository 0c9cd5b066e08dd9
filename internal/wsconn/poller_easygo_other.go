//go:build !linux

package wsconn

// newEasyPoller is the portable poller: easygo's kqueue backend is not
// finished at the version the module pins (docs/architecture.md), so
// Config.Poller PollerEasygo is for Linux only.
func newEasyPoller(pool *pool, onErr func(error)) (watcher, error) { return newPoller(pool, onErr) }
