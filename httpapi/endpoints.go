package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/tagwamp/tagwamp/router"
)

// publication is the body of /api/publish and an item of /api/batch: the
// topic form {"topic", "event"} or Gomoob's tag form {"tags", "message"},
// with optional exclude and eligible lists.
type publication struct {
	Topic    string          `json:"topic"`
	Event    json.RawMessage `json:"event"`
	Tags     json.RawMessage `json:"tags"`
	Message  json.RawMessage `json:"message"`
	Exclude  []string        `json:"exclude"`
	Eligible []string        `json:"eligible"`
}

// backend checks p's form and returns it as the router takes it; the
// router checks the rest (topic, tags, event, limits).
func (p *publication) backend() (router.BackendPublication, error) {
	b := router.BackendPublication{Topic: p.Topic, Tags: p.Tags, Exclude: p.Exclude, Eligible: p.Eligible}
	switch {
	case p.Topic != "" && p.Tags != nil:
		return b, errors.New("give a topic or tags, not both")
	case p.Topic != "":
		if p.Message != nil {
			return b, errors.New(`the topic form carries "event", not "message"`)
		}
		if p.Event == nil {
			return b, errors.New(`no "event"`)
		}
		b.Event = p.Event
	case p.Tags != nil:
		if p.Event != nil {
			return b, errors.New(`the tag form carries "message", not "event"`)
		}
		if p.Message == nil {
			return b, errors.New(`no "message"`)
		}
		b.Event = p.Message
	default:
		return b, errors.New(`no "topic" nor "tags"`)
	}
	return b, nil
}

type receivers struct {
	Receivers int `json:"receivers"`
}

func (h *handler) publish(w http.ResponseWriter, r *http.Request) {
	var p publication
	if !h.decode(w, r, &p) {
		return
	}
	b, err := p.backend()
	if err != nil {
		writeError(w, http.StatusBadRequest, codeBadRequest, err.Error())
		return
	}
	n, err := h.srv.PublishWith(b)
	if err != nil {
		writePublishError(w, err, nil)
		return
	}
	writeJSON(w, http.StatusOK, receivers{n})
}

func (h *handler) batch(w http.ResponseWriter, r *http.Request) {
	var ps []publication
	if !h.decode(w, r, &ps) {
		return
	}
	if len(ps) > h.maxBatch {
		writeError(w, http.StatusRequestEntityTooLarge, codeBatchTooLarge,
			fmt.Sprintf("%d publications, at most %d in one batch", len(ps), h.maxBatch))
		return
	}
	bs := make([]router.BackendPublication, len(ps))
	for i := range ps {
		var err error
		if bs[i], err = ps[i].backend(); err != nil {
			writeJSON(w, http.StatusBadRequest, struct {
				Error apiError `json:"error"`
			}{apiError{Code: codeBadRequest, Message: fmt.Sprintf("publication %d: %v", i, err), Index: &i}})
			return
		}
	}
	counts, err := h.srv.PublishBatch(bs)
	if err != nil {
		var be *router.BatchError
		if errors.As(err, &be) {
			writePublishError(w, be.Err, &be.Index)
		} else {
			writePublishError(w, err, nil)
		}
		return
	}
	results := make([]receivers, len(counts))
	for i, n := range counts {
		results[i].Receivers = n
	}
	writeJSON(w, http.StatusOK, struct {
		Results []receivers `json:"results"`
	}{results})
}

// writePublishError answers a publication the router refused: 422 over a
// limit, 400 otherwise; index names a batch's publication.
func writePublishError(w http.ResponseWriter, err error, index *int) {
	status, code := http.StatusBadRequest, codeBadPublication
	if errors.Is(err, router.ErrOverLimit) {
		status, code = http.StatusUnprocessableEntity, codeOverLimit
	}
	msg := err.Error()
	if index != nil {
		msg = fmt.Sprintf("publication %d: %s", *index, msg)
	}
	writeJSON(w, status, struct {
		Error apiError `json:"error"`
	}{apiError{Code: code, Message: msg, Index: index}})
}

func (h *handler) call(w http.ResponseWriter, r *http.Request) {
	var c struct {
		Procedure string            `json:"procedure"`
		Args      []json.RawMessage `json:"args"`
	}
	if !h.decode(w, r, &c) {
		return
	}
	if c.Procedure == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, `no "procedure"`)
		return
	}
	result, perr := h.srv.CallAsBackend(r.Context(), c.Procedure, c.Args)
	if perr == nil {
		// The result's bytes as the procedure made them.
		writeBody(w, http.StatusOK, append(append([]byte(`{"result":`), result...), "}\n"...))
		return
	}
	e := struct {
		URI     string `json:"uri"`
		Desc    string `json:"desc"`
		Details any    `json:"details,omitempty"`
	}{perr.URI, perr.Desc, perr.Details}
	writeJSON(w, http.StatusOK, struct {
		Error any `json:"error"`
	}{e})
}

func (h *handler) presence(w http.ResponseWriter, r *http.Request) {
	var q struct {
		Topic string          `json:"topic"`
		Tags  json.RawMessage `json:"tags"`
		Limit *int            `json:"limit"`
	}
	if !h.decode(w, r, &q) {
		return
	}
	max := h.maxPresence
	if q.Limit != nil {
		if *q.Limit < 0 {
			writeError(w, http.StatusBadRequest, codeBadRequest, `"limit" is negative`)
			return
		}
		max = min(max, *q.Limit)
	}
	res, err := h.srv.ClusterPresence(r.Context(), q.Topic, q.Tags, max)
	switch {
	case errors.Is(err, router.ErrBadPublication), errors.Is(err, router.ErrOverLimit):
		writePublishError(w, err, nil)
		return
	case err != nil:
		// The cluster's bound on presence requests in flight.
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, codeBusy, err.Error())
		return
	}
	if res.IDs == nil {
		res.IDs = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Sessions int      `json:"sessions"`
		IDs      []string `json:"ids"`
		Nodes    int      `json:"nodes"`
		Partial  bool     `json:"partial"`
	}{res.Sessions, res.IDs, res.Nodes, res.Partial})
}

// defaultReason is the close reason of a disconnect that gives none.
const defaultReason = "disconnected by the server"

func (h *handler) disconnect(w http.ResponseWriter, r *http.Request) {
	var d struct {
		Session string `json:"session"`
		Reason  string `json:"reason"`
	}
	if !h.decode(w, r, &d) {
		return
	}
	if d.Session == "" {
		writeError(w, http.StatusBadRequest, codeBadRequest, `no "session"`)
		return
	}
	if d.Reason == "" {
		d.Reason = defaultReason
	}
	if !h.srv.Disconnect(d.Session, d.Reason) {
		writeError(w, http.StatusNotFound, codeNoSuchSession, "no open session has this id")
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Disconnected bool `json:"disconnected"`
	}{true})
}

// refusals are the router's counts of what it refused or shed, per limit
// (docs/protocol.md#limits).
type refusals struct {
	ConnsRefused           uint64 `json:"conns_refused"`
	RateLimited            uint64 `json:"rate_limited"`
	SlowConsumers          uint64 `json:"slow_consumers"`
	TooBig                 uint64 `json:"too_big"`
	URIsTooLong            uint64 `json:"uris_too_long"`
	TopicsOverTagLimit     uint64 `json:"topics_over_tag_limit"`
	MessagesOverLimit      uint64 `json:"messages_over_limit"`
	SubscriptionsOverLimit uint64 `json:"subscriptions_over_limit"`
	CallsBusy              uint64 `json:"calls_busy"`
	InputShed              uint64 `json:"input_shed"`
	QueueShed              uint64 `json:"queue_shed"`
	StalledFrames          uint64 `json:"stalled_frames"`
	PingTimeouts           uint64 `json:"ping_timeouts"`
	DroppedSubscribes      uint64 `json:"dropped_subscribes"`
	DroppedPublishes       uint64 `json:"dropped_publishes"`
	ProtocolErrors         uint64 `json:"protocol_errors"`
}

type info struct {
	Version       string    `json:"version"`
	Started       time.Time `json:"started"`
	UptimeSeconds float64   `json:"uptime_seconds"`
	Sessions      int64     `json:"sessions"`
	Subscriptions int64     `json:"subscriptions"`
	TagSets       int64     `json:"tag_sets"`
	Refused       refusals  `json:"refused"`
}

func (h *handler) info(w http.ResponseWriter, _ *http.Request) {
	st := h.srv.Stats()
	started := st.Started
	if started.IsZero() {
		started = h.started
	}
	writeJSON(w, http.StatusOK, info{
		Version:       router.Version,
		Started:       started.UTC(),
		UptimeSeconds: time.Since(started).Seconds(),
		Sessions:      st.Sessions,
		Subscriptions: st.Subscriptions,
		TagSets:       st.TagSets,
		Refused: refusals{
			ConnsRefused:           st.ConnsRefused,
			RateLimited:            st.RateLimited,
			SlowConsumers:          st.SlowConsumers,
			TooBig:                 st.TooBig,
			URIsTooLong:            st.URIsTooLong,
			TopicsOverTagLimit:     st.TopicsOverTagLimit,
			MessagesOverLimit:      st.MessagesOverLimit,
			SubscriptionsOverLimit: st.SubscriptionsOverLimit,
			CallsBusy:              st.CallsBusy,
			InputShed:              st.InputShed,
			QueueShed:              st.QueueShed,
			StalledFrames:          st.StalledFrames,
			PingTimeouts:           st.PingTimeouts,
			DroppedSubscribes:      st.DroppedSubscribes,
			DroppedPublishes:       st.DroppedPublishes,
			ProtocolErrors:         st.ProtocolErrors,
		},
	})
}

func (h *handler) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

func (h *handler) readyz(w http.ResponseWriter, _ *http.Request) {
	if h.ready != nil {
		if err := h.ready(); err != nil {
			writeError(w, http.StatusServiceUnavailable, codeNotReady, "not ready: "+err.Error())
			return
		}
	}
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ready"})
}
