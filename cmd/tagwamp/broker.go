package main

import (
	"fmt"
	"log/slog"

	"github.com/tagwamp/tagwamp/cluster"
	"github.com/tagwamp/tagwamp/cmd/tagwamp/internal/config"
)

// newBroker returns the cluster broker cfg.Broker configures, or nil when
// the section is off; close it after the server's Shutdown.
func newBroker(cfg config.Config, logger *slog.Logger) (*cluster.NATS, error) {
	if !cfg.Broker.Enabled() {
		return nil, nil
	}
	o := cfg.Broker.Options()
	o.Logger = logger
	b, err := cluster.NewNATS(o)
	if err != nil {
		return nil, fmt.Errorf("broker.nats: %w", err)
	}
	logger.Info("cluster mode: NATS broker", "urls", o.URLs, "subject_prefix", o.SubjectPrefix)
	return b, nil
}
