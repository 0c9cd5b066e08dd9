package handlers

import (
	"testing"
	"time"

	"github.com/tagwamp/tagwamp/internal/leakcheck"
)

// TestMain fails the run when tests leave goroutines behind.
func TestMain(m *testing.M) {
	leakcheck.Main(m, leakcheck.Options{Wait: 2 * time.Second})
}
