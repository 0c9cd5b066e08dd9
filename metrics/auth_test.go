package metrics_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/tagwamp/tagwamp/auth"
	"github.com/tagwamp/tagwamp/metrics"
)

type fixedAuth auth.Stats

func (f fixedAuth) Stats() auth.Stats { return auth.Stats(f) }

func TestAuthCollector(t *testing.T) {
	src := fixedAuth{RefusedConnections: 1, DeniedCalls: 2, DeniedSubscribes: 3, DeniedPublishes: 4,
		FailedCRA: 5, AuthTimeouts: 6, RateLimitedChallenges: 7}
	want := `
# HELP tagwamp_auth_connections_refused_total Upgrades refused with 401 for missing or wrong credentials.
# TYPE tagwamp_auth_connections_refused_total counter
tagwamp_auth_connections_refused_total 1
# HELP tagwamp_auth_calls_denied_total CALLs answered not-authorized.
# TYPE tagwamp_auth_calls_denied_total counter
tagwamp_auth_calls_denied_total 2
# HELP tagwamp_auth_subscribes_denied_total SUBSCRIBEs dropped for want of permission.
# TYPE tagwamp_auth_subscribes_denied_total counter
tagwamp_auth_subscribes_denied_total 3
# HELP tagwamp_auth_publishes_denied_total PUBLISHes dropped for want of permission.
# TYPE tagwamp_auth_publishes_denied_total counter
tagwamp_auth_publishes_denied_total 4
# HELP tagwamp_auth_cra_failures_total Wrong WAMP-CRA signatures.
# TYPE tagwamp_auth_cra_failures_total counter
tagwamp_auth_cra_failures_total 5
# HELP tagwamp_auth_timeouts_total Sessions closed for not authenticating within auth_timeout.
# TYPE tagwamp_auth_timeouts_total counter
tagwamp_auth_timeouts_total 6
# HELP tagwamp_auth_challenges_rate_limited_total WAMP-CRA challenges (authreq) refused over challenge_rate.
# TYPE tagwamp_auth_challenges_rate_limited_total counter
tagwamp_auth_challenges_rate_limited_total 7
`
	if err := testutil.CollectAndCompare(metrics.NewAuthCollector(src), strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(metrics.NewAuthCollector(fixedAuth{})); n != reflect.TypeFor[auth.Stats]().NumField() {
		t.Fatalf("%d metrics, want one per field of auth.Stats (%d)", n, reflect.TypeFor[auth.Stats]().NumField())
	}
	problems, err := testutil.CollectAndLint(metrics.NewAuthCollector(fixedAuth{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

// TestHandlerExtra scrapes a handler given the auth collector.
func TestHandlerExtra(t *testing.T) {
	ts := httptest.NewServer(metrics.Handler(fixed{Sessions: 2}, metrics.NewAuthCollector(fixedAuth{FailedCRA: 3})))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"\ntagwamp_sessions 2\n", "\ntagwamp_auth_cra_failures_total 3\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
