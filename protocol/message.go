package protocol

//go:generate go run golang.org/x/tools/cmd/stringer@latest -type=MessageType -linecomment

// MessageType is a WAMP v1 message type id, element 0 of every message
// (docs/protocol.md#messages). The set is closed: ids 0 to 8.
type MessageType uint8

// The WAMP v1 message types (docs/protocol.md#messages). The line comments
// are the names String returns.
const (
	TypeWelcome     MessageType = 0 // WELCOME
	TypePrefix      MessageType = 1 // PREFIX
	TypeCall        MessageType = 2 // CALL
	TypeCallResult  MessageType = 3 // CALLRESULT
	TypeCallError   MessageType = 4 // CALLERROR
	TypeSubscribe   MessageType = 5 // SUBSCRIBE
	TypeUnsubscribe MessageType = 6 // UNSUBSCRIBE
	TypePublish     MessageType = 7 // PUBLISH
	TypeEvent       MessageType = 8 // EVENT
)

// maxType is the largest known MessageType.
const maxType = TypeEvent

// Welcome is the first message of a session, sent by the server right
// after the handshake (docs/protocol.md#welcome):
//
//	[WELCOME, sessionId|string, protocolVersion|integer, serverIdent|string]
//
// SessionID and ServerIdent are unescaped string contents, borrowed: they
// alias the frame given to Decoder.Decode or the Decoder's scratch buffer and
// are valid until the next Decode call on that Decoder.
type Welcome struct {
	// SessionID is the session id the server gave this session.
	SessionID []byte
	// Version is the protocol version; the server sends 1.
	Version int
	// ServerIdent names the server software, like "tagwamp/0.1.0".
	ServerIdent []byte
}

// Prefix defines a CURIE prefix for the rest of the session
// (docs/protocol.md#curies):
//
//	[PREFIX, prefix|name, uri|string]
//
// Both fields are unescaped string contents, borrowed until the next Decode
// call on the Decoder that produced them; Prefixes.Set copies what it keeps.
type Prefix struct {
	// Prefix is the short name; Decode has checked it with ValidName.
	Prefix []byte
	// URI is what Prefix expands to.
	URI []byte
}

// Call is a remote procedure call from a client (docs/protocol.md#messages):
//
//	[CALL, callId|string|number, procUri|uri|curie, arg|any...]
//
// All fields are borrowed until the next Decode call on the Decoder that
// produced them.
type Call struct {
	// CallID is the raw JSON token exactly as received, a string (quotes
	// and escapes included) or a number (7, 1e2 and -0.5e-3 as written), so
	// that the CALLRESULT or CALLERROR echoes it byte for byte
	// (docs/protocol.md#call-ids). Pass it to AppendCallResult,
	// AppendCallError or AppendError as it is.
	CallID []byte
	// ProcURI is the unescaped procedure URI or CURIE; resolve CURIEs with
	// Prefixes.Resolve.
	ProcURI []byte
	// Args holds the arguments as raw JSON values (whitespace-trimmed
	// subslices of the frame), any JSON type, null included. A single list
	// argument is one argument (docs/protocol.md#call-args). Empty when the
	// call has none.
	Args [][]byte
}

// CallResult is the successful answer to a Call (docs/protocol.md#messages):
//
//	[CALLRESULT, callId|string|number, result|any]
//
// Both fields are borrowed until the next Decode call on the Decoder that
// produced them.
type CallResult struct {
	// CallID is the raw JSON token of the answered Call, a string (quotes
	// included) or a number, as received (docs/protocol.md#call-ids).
	CallID []byte
	// Result is the raw JSON result, null included.
	Result []byte
}

// CallError is the error answer to a Call (docs/protocol.md#messages):
//
//	[CALLERROR, callId|string|number, errorUri|uri, errorDesc|string]
//	[CALLERROR, callId|string|number, errorUri|uri, errorDesc|string, errorDetails|any]
//
// All fields are borrowed until the next Decode call on the Decoder that
// produced them.
type CallError struct {
	// CallID is the raw JSON token of the answered Call, a string (quotes
	// included) or a number, as received (docs/protocol.md#call-ids).
	CallID []byte
	// ErrorURI is the unescaped error URI, like ErrorURINoSuchProcedure.
	ErrorURI []byte
	// ErrorDesc is the unescaped human-readable description.
	ErrorDesc []byte
	// ErrorDetails is the raw JSON details value, nil when the message has
	// the 4-element form.
	ErrorDetails []byte
}

// Subscribe asks for the events of a topic (docs/protocol.md#messages,
// #tag-topics):
//
//	[SUBSCRIBE, topicUri|uri|curie]
//
// TopicURI is unescaped and borrowed until the next Decode call on the
// Decoder that produced it; copy it to keep it.
type Subscribe struct {
	// TopicURI is the topic, possibly a CURIE, possibly with tags.
	TopicURI []byte
}

// Unsubscribe cancels a Subscribe (docs/protocol.md#messages):
//
//	[UNSUBSCRIBE, topicUri|uri|curie]
//
// TopicURI is unescaped and borrowed until the next Decode call on the
// Decoder that produced it.
type Unsubscribe struct {
	// TopicURI is the topic as it was subscribed.
	TopicURI []byte
}

// Publish sends an event to a topic's subscribers
// (docs/protocol.md#messages):
//
//	[PUBLISH, topicUri|uri|curie, event|any]
//	[PUBLISH, topicUri|uri|curie, event|any, excludeMe|bool]
//	[PUBLISH, topicUri|uri|curie, event|any, exclude|list(string)]
//	[PUBLISH, topicUri|uri|curie, event|any, exclude|list(string), eligible|list(string)]
//
// All byte slices are borrowed until the next Decode call on the Decoder
// that produced them.
type Publish struct {
	// TopicURI is the unescaped topic, possibly a CURIE.
	TopicURI []byte
	// Event is the raw JSON event, any type, null included.
	Event []byte
	// Exclude says how element 3 was given.
	Exclude ExcludeMode
	// ExcludeIDs holds the unescaped session ids of an exclude list; set
	// only when Exclude is ExcludeList, and possibly empty then.
	ExcludeIDs [][]byte
	// Eligible holds the unescaped session ids of the eligible list; set only
	// when HasEligible. An empty list means nobody
	// (docs/protocol.md#publish-options).
	Eligible [][]byte
	// HasEligible reports whether element 4, the eligible list, was given.
	HasEligible bool
}

// Event delivers a publication to a subscriber (docs/protocol.md#messages,
// #event-topic):
//
//	[EVENT, topicUri|uri, event|any]
//
// Both fields are borrowed until the next Decode call on the Decoder that
// produced them.
type Event struct {
	// TopicURI is the unescaped topic, as the subscriber subscribed it.
	TopicURI []byte
	// Event is the raw JSON event, any type, null included.
	Event []byte
}

// ExcludeMode is how PUBLISH element 3 was given
// (docs/protocol.md#publish-options).
type ExcludeMode uint8

// The forms of PUBLISH element 3.
const (
	// ExcludeDefault: element 3 is absent; the router applies its default
	// (the publisher does not receive its own event, configurable).
	ExcludeDefault ExcludeMode = iota
	// ExcludeMe: element 3 is true; the publisher is excluded.
	ExcludeMe
	// ExcludeNone: element 3 is false; nobody is excluded.
	ExcludeNone
	// ExcludeList: element 3 is a list of session ids, in
	// Publish.ExcludeIDs; exactly those sessions are excluded.
	ExcludeList
)

// Message is the decoded form of any message: Type says which one of the
// other fields is set; Decode leaves the others zero (it clears the field
// the previous Type selected, so set no other field by hand).
//
// A Message is reusable: Decode overwrites it and reuses the capacity of
// Call.Args, Publish.ExcludeIDs and Publish.Eligible, so that steady-state
// decoding allocates nothing. Every byte slice in it is borrowed from the
// frame or the Decoder and valid until the next Decode call on that Decoder.
// After a Decode error its contents are unspecified.
type Message struct {
	// Type is the message type; it selects the field below that is set.
	Type MessageType
	// Welcome is set when Type is TypeWelcome.
	Welcome Welcome
	// Prefix is set when Type is TypePrefix.
	Prefix Prefix
	// Call is set when Type is TypeCall.
	Call Call
	// CallResult is set when Type is TypeCallResult.
	CallResult CallResult
	// CallError is set when Type is TypeCallError.
	CallError CallError
	// Subscribe is set when Type is TypeSubscribe.
	Subscribe Subscribe
	// Unsubscribe is set when Type is TypeUnsubscribe.
	Unsubscribe Unsubscribe
	// Publish is set when Type is TypePublish.
	Publish Publish
	// Event is set when Type is TypeEvent.
	Event Event
}

// reset zeroes the field of m that m.Type selects, which is the only one
// Decode sets, and sets Type to t. It keeps the capacity of the reusable
// slices up to keepElems entries (see reuse).
func (m *Message) reset(t MessageType) {
	switch m.Type {
	case TypeWelcome:
		m.Welcome = Welcome{}
	case TypePrefix:
		m.Prefix = Prefix{}
	case TypeCall:
		m.Call = Call{Args: reuse(m.Call.Args)}
	case TypeCallResult:
		m.CallResult = CallResult{}
	case TypeCallError:
		m.CallError = CallError{}
	case TypeSubscribe:
		m.Subscribe = Subscribe{}
	case TypeUnsubscribe:
		m.Unsubscribe = Unsubscribe{}
	case TypePublish:
		m.Publish = Publish{ExcludeIDs: reuse(m.Publish.ExcludeIDs), Eligible: reuse(m.Publish.Eligible)}
	case TypeEvent:
		m.Event = Event{}
	default:
		*m = Message{}
	}
	m.Type = t
}

// reuse returns vs emptied for reuse: its elements cleared, so that no old
// frame stays reachable, or nil when its capacity grew past keepElems, so
// that one big message does not pin its memory.
func reuse(vs [][]byte) [][]byte {
	if cap(vs) > keepElems {
		return nil
	}
	clear(vs)
	return vs[:0]
}
