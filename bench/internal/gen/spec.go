package gen

import (
	"fmt"
	"os"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/tagwamp/tagwamp/bench/internal/wire"
)

// Role is what a worker's connections do.
type Role string

// The roles.
const (
	// RoleSubscriber connections subscribe (Topics) and count what they
	// receive, recording publish-to-deliver latency.
	RoleSubscriber Role = "subscriber"
	// RolePublisher connections publish (PublishTo) after CmdStart.
	RolePublisher Role = "publisher"
	// RoleCaller connections call the echo procedure after CmdStart,
	// recording round-trip latency.
	RoleCaller Role = "caller"
)

// Topics says what each subscriber connection subscribes to.
type Topics string

// The subscription layouts.
const (
	TopicsNone     Topics = "none"     // nothing: connect only
	TopicsPersonal Topics = "personal" // connection i: its personal topic
	TopicsGroup    Topics = "group"    // connection i: group i mod Groups
	// TopicsGroupUser: connection i subscribes to its own topic, group i
	// mod Groups tagged with its user (wire.Proto GroupUserTopic): a
	// publication to GroupTopic(g) reaches the same connections as with
	// TopicsGroup, each on a distinct topic string.
	TopicsGroupUser Topics = "group-user"
	TopicsMixed     Topics = "mixed" // connection i: personal and group i mod Groups
	// TopicsShard: connection i subscribes to one topic holding two tags,
	// one every connection holds and shard i mod Groups (wire.Proto
	// ShardTopic): ShardAll reaches every connection, ShardGroup(g) one
	// in Groups, and each node holds Groups+1 distinct tags, not one per
	// session.
	TopicsShard Topics = "shard"
)

// Target says where publishers publish.
type Target string

// The publication targets.
const (
	// TargetGroup publishes to groups in turn (publication k to group k
	// mod Groups); with Complete a publication stays in its publisher's
	// window until every subscriber it matches has it (Board); with Echo
	// instead each publisher subscribes to every group and counts its own
	// publications coming back, which bounds the publications in flight
	// by Window.
	TargetGroup Target = "group"
	// TargetMixed alternates a random user's personal topic and a group
	// (Users browsers, Groups groups), paced by Rate, no echo.
	TargetMixed Target = "mixed"
	// TargetTopic publishes every publication to Spec.Topic, no echo
	// (counted in Stats.Sent only).
	TargetTopic Target = "topic"
)

// Spec is a worker's whole assignment, sent as its first input line.
type Spec struct {
	Server wire.Server `json:"server"`
	URL    string      `json:"url"` // ws://host:port, the path comes from the protocol
	// URLs, when set, replace URL: connection First+i dials
	// URLs[(First+i) mod len(URLs)] (the nodes of a cluster).
	URLs        []string `json:"urls,omitempty"`
	Sources     []string `json:"sources"` // local addresses to dial from, in turn
	Role        Role     `json:"role"`
	Count       int      `json:"count"`       // connections
	First       int      `json:"first"`       // global number of the first connection
	Concurrency int      `json:"concurrency"` // connections set up at once
	Loops       int      `json:"loops"`       // epoll loops (goroutines)

	Topics Topics `json:"topics"`
	Groups int    `json:"groups"`
	Users  int    `json:"users"` // browsers, for TargetMixed

	Target Target  `json:"target"`
	Topic  string  `json:"topic,omitempty"` // TargetTopic: where to publish
	Echo   bool    `json:"echo"`
	Window int     `json:"window"` // publications or calls in flight per connection
	Rate   float64 `json:"rate"`   // per second for the whole worker; 0: as the window allows
	Pad    int     `json:"pad"`    // payload padding in bytes

	// Complete turns completion-based windows on (Board): publishers
	// count a publication in flight until every subscriber it matches
	// has it; subscribers report to the board. Files are the board's
	// memory and the completion pipe (Board.Subscribers, Publishers),
	// passed to the worker process as descriptors 3 and 4.
	Complete   bool       `json:"complete"`
	BoardFirst int        `json:"boardFirst"`           // connection number of the board's first publisher
	BoardPubs  int        `json:"boardPubs"`            // publisher connections on the board
	GroupSizes []int64    `json:"groupSizes,omitempty"` // publishers: receivers of a publication to each group
	Stall      Duration   `json:"stall"`                // publishers: a publication incomplete this long fails the worker (default 30s)
	Files      []*os.File `json:"-"`
}

// Duration is a time.Duration written in JSON as a string ("30s").
type Duration time.Duration

// MarshalText writes d as time.Duration's String.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads what MarshalText wrote.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

func (s *Spec) withDefaults() {
	if s.Concurrency <= 0 {
		s.Concurrency = 32
	}
	if s.Loops <= 0 {
		s.Loops = 1
	}
	if s.Groups <= 0 {
		s.Groups = 1
	}
	if s.Window <= 0 {
		s.Window = 1
	}
	if s.Stall <= 0 {
		s.Stall = Duration(30 * time.Second)
	}
	if len(s.Sources) == 0 {
		s.Sources = []string{"127.0.0.1"}
	}
}

func (s *Spec) validate() error {
	switch {
	case s.Count <= 0:
		return fmt.Errorf("gen: spec: count %d must be positive", s.Count)
	case s.URL == "" && len(s.URLs) == 0:
		return fmt.Errorf("gen: spec: no url")
	case s.Target == TargetTopic && s.Topic == "":
		return fmt.Errorf("gen: spec: topic target needs a topic")
	case s.Role != RoleSubscriber && s.Role != RolePublisher && s.Role != RoleCaller:
		return fmt.Errorf("gen: spec: unknown role %q", s.Role)
	case s.Target == TargetMixed && s.Users <= 0:
		return fmt.Errorf("gen: spec: mixed target needs users")
	case s.Complete && s.BoardPubs < 1:
		return fmt.Errorf("gen: spec: completion needs a board of publishers")
	case s.Complete && s.Role == RolePublisher && (s.Target != TargetGroup || s.Echo || len(s.GroupSizes) != s.Groups):
		return fmt.Errorf("gen: spec: completion publishes to groups, without echo, and needs each group's size")
	case s.Complete && s.Role == RolePublisher && (s.First != s.BoardFirst || s.Count != s.BoardPubs):
		return fmt.Errorf("gen: spec: completion needs every publisher of the board (%d from %d) in one worker, not %d from %d",
			s.BoardPubs, s.BoardFirst, s.Count, s.First)
	case s.Complete && s.Window > MaxCompleteWindow:
		return fmt.Errorf("gen: spec: window %d above %d, the most completion tracks", s.Window, MaxCompleteWindow)
	}
	_, err := wire.For(s.Server)
	return err
}

// Commands a worker takes, one per input line; each is answered with one
// Stats line.
const (
	CmdStats = "stats" // counters and the latency histogram now
	CmdCount = "count" // counters only: cheap enough to poll
	CmdReset = "reset" // empty the latency histograms, then answer
	CmdStart = "start" // publishers and callers begin
	CmdStop  = "stop"  // publishers and callers stop; nothing is sent after the answer
	CmdBurst = "burst" // the first connection sends one publication (or call), even while stopped
	CmdAwait = "await" // "await N MS": answer once Deliveries+Results >= N, or after MS ms
	CmdQuit  = "quit"  // answer, then exit
)

// Stats is a worker's answer. Counters are cumulative since the worker
// started; Latency covers what was recorded since the last CmdReset.
type Stats struct {
	Conns        int     `json:"conns"`        // connections set up
	Closed       int64   `json:"closed"`       // connections the server closed or reset
	Deliveries   int64   `json:"deliveries"`   // events received by subscribers
	Echoes       int64   `json:"echoes"`       // publishers' own publications received back
	Sent         int64   `json:"sent"`         // publications or calls sent
	SentGroup    []int64 `json:"sentGroup"`    // publications per group
	SentPersonal int64   `json:"sentPersonal"` // publications to personal topics
	Results      int64   `json:"results"`      // call results
	Errors       int64   `json:"errors"`       // error answers and unparsable messages
	Stale        int64   `json:"stale"`        // deliveries the completion board did not expect
	Completed    int64   `json:"completed"`    // publications every matching subscriber has (Complete)
	MaxInflight  int64   `json:"maxInflight"`  // the most incomplete publications one publisher had (Complete)
	CPUSeconds   float64 `json:"cpuSeconds"`   // the worker's own user+system CPU
	SetupSeconds float64 `json:"setupSeconds"` // time to set every connection up

	Latency        *hdr.Snapshot `json:"latency,omitempty"`        // ns: deliveries or calls
	ConnectLatency *hdr.Snapshot `json:"connectLatency,omitempty"` // ns: dial to hello
	Err            string        `json:"err,omitempty"`
}

// Histogram is the latency histogram (HdrHistogram), values in
// nanoseconds.
type Histogram = hdr.Histogram

// NewHistogram returns the histogram every latency goes to: 1 ns to 100 s
// at 3 significant digits.
func NewHistogram() *hdr.Histogram { return hdr.New(1, 100e9, 3) }

// MergeLatency merges the latency (or, with connect, the connect latency)
// histograms of sts into a new histogram.
func MergeLatency(sts []Stats, connect bool) *hdr.Histogram {
	h := NewHistogram()
	for _, s := range sts {
		snap := s.Latency
		if connect {
			snap = s.ConnectLatency
		}
		if snap != nil {
			h.Merge(hdr.Import(snap))
		}
	}
	return h
}
