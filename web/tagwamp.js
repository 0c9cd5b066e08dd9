// tagwamp.js: a WAMP v1 client for tagwamp, for browsers and Node >= 20.
// One ES module, no dependencies. Every wire rule it follows is written in
// docs/protocol.md of the tagwamp repository; the comments cite its anchors.

const WELCOME = 0, PREFIX = 1, CALL = 2, CALLRESULT = 3, CALLERROR = 4;
const SUBSCRIBE = 5, UNSUBSCRIBE = 6, PUBLISH = 7, EVENT = 8;

/** The WAMP-CRA procedures (docs/protocol.md#wamp-cra). */
export const PROC_AUTHREQ = "http://api.wamp.ws/procedure#authreq";
export const PROC_AUTH = "http://api.wamp.ws/procedure#auth";

const DEFAULT_CALL_TIMEOUT = 30000;
const DEFAULT_RECONNECT = Object.freeze({
  initialDelay: 500, maxDelay: 30000, factor: 2, jitter: 0.5, maxRetries: Infinity,
});

// A name: CURIE prefixes and tag keys (docs/protocol.md#curies,
// docs/protocol.md#tag-topics).
const NAME = /^[A-Za-z0-9_.-]+$/;

/** A CALLERROR from the server (docs/protocol.md#errors). */
export class CallError extends Error {
  constructor(uri, desc, details) {
    super(desc ? `${uri}: ${desc}` : String(uri));
    this.name = "CallError";
    this.uri = uri;
    this.desc = desc;
    this.details = details;
  }
}

/** A call that got no answer within its timeout. */
export class TimeoutError extends Error {
  constructor(uri, timeout) {
    super(`call ${uri} timed out after ${timeout} ms`);
    this.name = "TimeoutError";
    this.uri = uri;
    this.timeout = timeout;
  }
}

/**
 * The connection was lost (or closed) before a call was answered, or the
 * session is closed for good.
 */
export class ConnectionError extends Error {
  constructor(message, code, reason) {
    super(message);
    this.name = "ConnectionError";
    this.code = code;
    this.reason = reason;
  }
}

// ---------------------------------------------------------------- topics

function tagValue(key, v) {
  switch (typeof v) {
    case "string": return v;
    case "bigint": return String(v);
    case "number":
      if (Number.isFinite(v)) return String(v);
      break;
  }
  throw new TypeError(`tag ${key}: a value must be a string or a finite number, not ${v === null ? "null" : typeof v}`);
}

function tagEntries(tags) {
  if (tags == null) return [];
  const entries = tags instanceof Map ? [...tags] : Object.entries(tags);
  for (const [k] of entries) {
    if (typeof k !== "string" || !NAME.test(k)) {
      throw new TypeError(`tag key ${JSON.stringify(k)} is not a name (ASCII letters, digits, _, - or .)`);
    }
  }
  return entries;
}

/**
 * encodeTag percent-encodes a tag value for a topic's query: `&`, `=`,
 * `%`, `?`, `#`, `+`, spaces and every non-ASCII character become %XX of
 * their UTF-8 bytes (docs/protocol.md#tag-topics).
 */
export function encodeTag(value) {
  try {
    return encodeURIComponent(value);
  } catch {
    throw new TypeError("a tag value must be valid Unicode text (it holds a lone surrogate)");
  }
}

/**
 * topic builds the canonical tag topic `base?k1=v1&k2=v2` with keys in
 * ascending order and values percent-encoded (docs/protocol.md#tag-topics).
 * Without tags it is the base alone; an empty base gives a topic without
 * base (`?user=42`), which reaches across bases.
 */
export function topic(base, tags) {
  if (typeof base !== "string") throw new TypeError("a topic base must be a string");
  if (base.includes("?")) throw new TypeError(`a topic base holds no "?": ${base}`);
  const entries = tagEntries(tags).map(([k, v]) => [k, tagValue(k, v)]);
  if (entries.length === 0) return base;
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return base + "?" + entries.map(([k, v]) => k + "=" + encodeTag(v)).join("&");
}

/**
 * parseTopic splits a topic into its base and decoded tags, as the server
 * reads it (docs/protocol.md#tag-topics). It throws a TypeError for a
 * malformed topic.
 */
export function parseTopic(t) {
  const q = t.indexOf("?");
  if (q < 0) return { base: t, tags: {} };
  const tags = {};
  for (const piece of t.slice(q + 1).split("&")) {
    if (piece === "") continue;
    const eq = piece.indexOf("=");
    if (eq < 0) throw new TypeError(`malformed topic: ${JSON.stringify(piece)} has no "="`);
    const k = pctDecode(piece.slice(0, eq)), v = pctDecode(piece.slice(eq + 1));
    if (!NAME.test(k)) throw new TypeError(`malformed topic: key ${JSON.stringify(k)} is not a name`);
    if (Object.hasOwn(tags, k)) throw new TypeError(`malformed topic: key ${k} appears twice`);
    tags[k] = v;
  }
  return { base: t.slice(0, q), tags };
}

// pctDecode decodes %XX only ("+" stays a plus) and requires UTF-8.
function pctDecode(s) {
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) throw new TypeError(`malformed topic: bad % escape in ${JSON.stringify(s)}`);
  try {
    return decodeURIComponent(s);
  } catch {
    throw new TypeError(`malformed topic: ${JSON.stringify(s)} is not UTF-8 once decoded`);
  }
}

function topicString(t) {
  if (typeof t === "string") return t;
  if (t && typeof t === "object") return topic(t.base ?? "", t.tags);
  throw new TypeError("a topic is a string or {base, tags}");
}

// ---------------------------------------------------------------- WAMP-CRA

function subtle() {
  const s = globalThis.crypto?.subtle;
  if (!s) throw new Error("WebCrypto (crypto.subtle) is not available here (browsers give it to secure contexts only); pass authSign");
  return s;
}

function base64(bytes) {
  let bin = "";
  for (const b of new Uint8Array(bytes)) bin += String.fromCharCode(b);
  return btoa(bin);
}

const utf8 = (s) => new TextEncoder().encode(s);

/**
 * deriveKey returns the WAMP-CRA signing key for secret, as AutobahnJS 0.8's
 * ab.deriveKey: the secret itself when authextra has no salt, else the
 * base64 text of PBKDF2-HMAC-SHA256(secret, salt, iterations (10000),
 * keylen (32) bytes) (docs/protocol.md#wamp-cra).
 */
export async function deriveKey(secret, authextra) {
  if (!authextra || !authextra.salt) return secret;
  const iterations = authextra.iterations || 10000, keylen = authextra.keylen || 32;
  const s = subtle();
  const k = await s.importKey("raw", utf8(secret), "PBKDF2", false, ["deriveBits"]);
  const bits = await s.deriveBits(
    { name: "PBKDF2", salt: utf8(authextra.salt), iterations, hash: "SHA-256" }, k, keylen * 8);
  return base64(bits);
}

/**
 * signChallenge returns base64(HMAC-SHA256(key, challenge)), the signature
 * auth expects, key being deriveKey's result (docs/protocol.md#wamp-cra).
 */
export async function signChallenge(key, challenge) {
  const s = subtle();
  const k = await s.importKey("raw", utf8(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return base64(await s.sign("HMAC", k, utf8(challenge)));
}

// ---------------------------------------------------------------- plumbing

/**
 * backoffDelay is the wait before reconnect attempt number attempt (0
 * first): min(maxDelay, initialDelay * factor^attempt), less a random part
 * of up to jitter of it.
 */
export function backoffDelay(attempt, options = {}, random = Math.random) {
  const o = { ...DEFAULT_RECONNECT, ...options };
  const d = Math.min(o.maxDelay, o.initialDelay * o.factor ** attempt);
  return Math.max(0, d * (1 - o.jitter * random()));
}

function withQuery(url, params) {
  let out = String(url);
  for (const [k, v] of params) out += (out.includes("?") ? "&" : "?") + k + "=" + encodeURIComponent(v);
  return out;
}

function reconnectOptions(r) {
  if (r === false) return null;
  if (r === true || r == null) return { ...DEFAULT_RECONNECT };
  return { ...DEFAULT_RECONNECT, ...r };
}

class Emitter {
  #listeners = new Map();

  /** on adds fn as a listener of event and returns a function that removes it. */
  on(event, fn) {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    const entry = { fn };
    set.add(entry);
    return () => set.delete(entry);
  }

  _emit(event, ...args) {
    const set = this.#listeners.get(event);
    if (set) for (const { fn } of [...set]) this._guard(fn, args);
  }

  // _guard calls a listener or handler; what it throws goes to the "error"
  // listeners, or to console.error when there are none (or one of them threw).
  _guard(fn, args) {
    try {
      fn(...args);
    } catch (err) {
      const errs = this.#listeners.get("error");
      if (errs && errs.size > 0 && ![...errs].some((e) => e.fn === fn)) this._emit("error", err);
      else console.error("tagwamp: a listener threw", err);
    }
  }
}

// Connection is what WAMP sessions and plain connections share: the socket,
// the states connecting/open/closed, reconnecting with backoff and close().
class Connection extends Emitter {
  constructor(url, options, protocols) {
    super();
    this.url = url;
    this.state = "connecting";
    this.onstatechange = null;
    this._WS = options.WebSocket ?? globalThis.WebSocket;
    if (typeof this._WS !== "function") {
      throw new TypeError("no WebSocket here: Node 20 needs --experimental-websocket, or pass the WebSocket option (e.g. the ws package)");
    }
    this._protocols = protocols;
    this._reconnect = reconnectOptions(options.reconnect);
    this._attempt = 0;
    this._ws = null;
    this._timer = null;
    this._closing = null; // {code, reason} once close() was called
    this._fatal = null; // an error that ends the session
    this._opened = false; // once open, later opens are reconnects
    this._welcomed = null; // the socket whose WELCOME was handled
    this._final = false;
    this._closeWaiters = [];
    this._queue = [];
    this.ready = new Promise((resolve, reject) => {
      this._readyResolve = resolve;
      this._readyReject = reject;
    });
    this.ready.catch(() => {}); // not awaiting ready is no unhandled rejection
    queueMicrotask(() => this._connect());
  }

  _setState(state, detail) {
    this.state = state;
    this._emit(state, detail);
    this._emit("statechange", state, detail);
    if (typeof this.onstatechange === "function") this._guard(this.onstatechange, [state, detail]);
  }

  _connect() {
    this._timer = null;
    if (this._closing || this._final) return;
    this._setState("connecting", { attempt: this._attempt, url: this.url });
    let ws;
    try {
      ws = this._protocols ? new this._WS(this._socketURL(), this._protocols) : new this._WS(this._socketURL());
    } catch (err) {
      this._fatal = err;
      this._finish(1006, String(err && err.message || err), false);
      return;
    }
    this._ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      if (ws === this._ws) this._onSocketOpen();
    };
    ws.onmessage = (ev) => {
      if (ws !== this._ws) return;
      if (typeof ev.data === "string") this._onText(ev.data);
      else this._emit("error", new Error("tagwamp: a binary message was received and ignored"));
    };
    // A close event follows an error, except where a handshake fails in
    // Node 20's WebSocket (undici), which fires error alone: a connection
    // that fails before it opens counts as closed (1006) at once.
    ws.onerror = () => {
      if (!opened && ws === this._ws) this._onSocketClose(1006, "", false);
    };
    ws.onclose = (ev) => { if (ws === this._ws) this._onSocketClose(ev.code, ev.reason, ev.wasClean); };
  }

  _socketURL() { return this.url; }

  _send(msg) {
    this._ws.send(JSON.stringify(msg));
  }

  _onSocketClose(code, reason, wasClean) {
    this._ws = null;
    this._onDrop(new ConnectionError(`connection closed (${code}${reason ? " " + reason : ""})`, code, reason));
    const r = this._reconnect;
    if (this._closing || this._fatal || !r || this._attempt >= r.maxRetries) {
      this._finish(code, reason, wasClean);
      return;
    }
    const delay = backoffDelay(this._attempt++, r);
    this._setState("closed", { code, reason, wasClean, willReconnect: true, delay });
    this._timer = setTimeout(() => this._connect(), delay);
  }

  // _finish closes the session for good.
  _finish(code, reason, wasClean) {
    if (this._final) return;
    this._final = true;
    clearTimeout(this._timer);
    const err = new ConnectionError(`session closed (${code}${reason ? " " + reason : ""})`, code, reason);
    this._onFinal(err);
    this._readyReject(this._fatal ?? err);
    const detail = { code, reason, wasClean, willReconnect: false };
    if (this._fatal) detail.error = this._fatal;
    this._setState("closed", detail);
    for (const w of this._closeWaiters.splice(0)) w();
  }

  // _open sends what waited for the connection, in the order it was
  // queued, then announces the open state.
  _open(detail) {
    const reconnected = this._opened;
    this._opened = true;
    this._attempt = 0;
    this.state = "open"; // what the queue sends, and what its callers see
    for (const item of this._queue.splice(0)) item();
    this._setState("open", { ...detail, reconnected });
    this._readyResolve(this);
  }

  /**
   * close ends the session for good: no reconnect. It resolves once the
   * socket is closed.
   */
  close(code = 1000, reason = "") {
    if (this._final) return Promise.resolve();
    const done = new Promise((resolve) => this._closeWaiters.push(resolve));
    if (!this._closing) {
      this._closing = { code, reason };
      clearTimeout(this._timer);
      if (this._ws) {
        try { this._ws.close(code, reason); } catch { this._ws.close(); }
      } else {
        queueMicrotask(() => this._finish(code, reason, true));
      }
    }
    return done;
  }

  _onSocketOpen() {}
  _onText() {}
  _onDrop() {}
  _onFinal() {}
}

// ---------------------------------------------------------------- WAMP

/**
 * Session is a WAMP v1 session that reconnects: see connect.
 */
export class Session extends Connection {
  constructor(url, options = {}) {
    super(url, options, options.protocols ?? ["wamp"]);
    this._options = options;
    this._callTimeout = options.callTimeout ?? DEFAULT_CALL_TIMEOUT;
    this.sessionId = null;
    this.serverIdent = null;
    this.authPermissions = null;
    this._seq = 0;
    this._calls = new Map(); // call id -> pending call
    this._subs = new Map(); // topic string -> Set of handlers
    this._prefixes = new Map();
  }

  _socketURL() {
    const o = this._options, params = [];
    if (o.token != null) params.push(["token", o.token]);
    if (o.authKey != null && o.authKeyInURL !== false) params.push(["key", o.authKey]);
    return withQuery(this.url, params);
  }

  _onText(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      this._emit("error", new Error("tagwamp: a message that is not JSON was ignored"));
      return;
    }
    if (!Array.isArray(m)) return;
    switch (m[0]) {
      case WELCOME:
        this._onWelcome(m);
        break;
      case CALLRESULT: {
        const c = this._calls.get(m[1]);
        if (c) c.settle(true, m[2]);
        break;
      }
      case CALLERROR: {
        const c = this._calls.get(m[1]);
        if (c) c.settle(false, new CallError(m[2], m[3], m[4]));
        break;
      }
      case EVENT: {
        const handlers = this._subs.get(m[1]);
        if (handlers) for (const h of [...handlers]) this._guard(h.fn, [m[2], m[1]]);
        break;
      }
    }
  }

  async _onWelcome(m) {
    const ws = this._ws;
    if (this._welcomed === ws) return; // one WELCOME per connection
    this._welcomed = ws;
    this.sessionId = m[1];
    this.serverIdent = m[3];
    if (m[2] !== 1) {
      this._fatal = new Error(`tagwamp: the server speaks WAMP version ${m[2]}, not 1`);
      ws.close(1000, "wrong WAMP version");
      return;
    }
    try {
      if (typeof this._options.authKey === "string") await this._authenticate();
    } catch (err) {
      if (ws !== this._ws || err instanceof ConnectionError) return; // the connection went first
      if (err instanceof TimeoutError) {
        ws.close(1000, "authentication timed out"); // try again on a new connection
        return;
      }
      this._fatal = err; // refused (a CallError) or unable to sign: trying again would not help
      ws.close(1000, "authentication failed");
      return;
    }
    if (ws !== this._ws) return;
    for (const [name, uri] of this._prefixes) this._send([PREFIX, name, uri]);
    for (const t of this._subs.keys()) this._send([SUBSCRIBE, t]);
    this._open({ sessionId: this.sessionId, serverIdent: this.serverIdent });
  }

  async _authenticate() {
    const o = this._options;
    const challenge = await this._call({}, PROC_AUTHREQ, [o.authKey, o.authExtra ?? {}], true);
    let sig = null;
    if (challenge !== null) {
      const info = JSON.parse(challenge);
      if (typeof o.authSign === "function") sig = await o.authSign(challenge, info);
      else if (typeof o.authSecret === "string") sig = await signChallenge(await deriveKey(o.authSecret, info.authextra), challenge);
      else throw new TypeError("authKey needs authSecret or authSign");
    }
    this.authPermissions = await this._call({}, PROC_AUTH, [sig], true);
  }

  _onDrop(err) {
    this.sessionId = null;
    for (const c of [...this._calls.values()]) if (c.sent) c.settle(false, err);
  }

  _onFinal(err) {
    for (const c of [...this._calls.values()]) c.settle(false, err);
    this._queue.length = 0;
  }

  _call(opts, uri, args, direct) {
    return new Promise((resolve, reject) => {
      if (this._final || this._closing) return reject(new ConnectionError("session closed"));
      if (typeof uri !== "string") return reject(new TypeError("a procedure URI must be a string"));
      const signal = opts.signal;
      if (signal?.aborted) return reject(signal.reason);
      const id = String(++this._seq);
      const timeout = opts.timeout ?? this._callTimeout;
      let timer = null;
      const onAbort = () => c.settle(false, signal.reason);
      const c = {
        sent: false,
        settle: (ok, v) => {
          if (!this._calls.delete(id)) return;
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (ok) resolve(v); else reject(v);
        },
      };
      this._calls.set(id, c);
      if (timeout > 0 && Number.isFinite(timeout)) {
        timer = setTimeout(() => c.settle(false, new TimeoutError(uri, timeout)), timeout);
      }
      signal?.addEventListener("abort", onAbort, { once: true });
      const send = () => {
        if (!this._calls.has(id)) return; // timed out or aborted while queued
        c.sent = true;
        this._send([CALL, id, uri, ...args]);
      };
      if (direct || this.state === "open") send();
      else this._queue.push(send);
    });
  }

  /**
   * call calls procedure uri with args, each one WAMP argument
   * (docs/protocol.md#call-args), with the session's callTimeout. It
   * resolves with the result and rejects with a CallError, TimeoutError or
   * ConnectionError.
   */
  call(uri, ...args) {
    return this._call({}, uri, args, false);
  }

  /**
   * callWith is call with options: {timeout} in ms (0: none) replaces the
   * session's callTimeout, and {signal}, an AbortSignal, rejects the call
   * with signal.reason when it aborts.
   */
  callWith(options, uri, ...args) {
    return this._call(options ?? {}, uri, args, false);
  }

  _resolve(t) {
    const i = t.indexOf(":");
    if (i > 0) {
      const uri = this._prefixes.get(t.slice(0, i));
      if (uri !== undefined) return uri + t.slice(i + 1);
    }
    return t;
  }

  /**
   * prefix defines the CURIE prefix name for uri (docs/protocol.md#curies);
   * it is sent again after every reconnect.
   */
  prefix(name, uri) {
    if (typeof name !== "string" || !NAME.test(name)) throw new TypeError(`a CURIE prefix must be a name, not ${JSON.stringify(name)}`);
    if (typeof uri !== "string") throw new TypeError("a prefix URI must be a string");
    this._prefixes.set(name, uri);
    if (this.state === "open") this._send([PREFIX, name, uri]);
  }

  /**
   * subscribe calls handler(event, topic) for each EVENT on the topic, a
   * string or {base, tags} (built by topic()). Handlers of one topic share
   * one SUBSCRIBE; the returned function removes this handler and sends
   * UNSUBSCRIBE when the last one goes. Subscriptions are restored after
   * every reconnect.
   */
  subscribe(t, handler) {
    if (typeof handler !== "function") throw new TypeError("subscribe needs a handler function");
    if (this._final || this._closing) throw new ConnectionError("session closed");
    const s = this._resolve(topicString(t));
    let set = this._subs.get(s);
    if (!set) {
      this._subs.set(s, (set = new Set()));
      if (this.state === "open") this._send([SUBSCRIBE, s]);
    }
    const entry = { fn: handler };
    set.add(entry);
    return () => {
      if (!set.delete(entry) || set.size > 0 || this._subs.get(s) !== set) return;
      this._subs.delete(s);
      if (this.state === "open") this._send([UNSUBSCRIBE, s]);
    };
  }

  /**
   * publish publishes event to topic, a string or {base, tags}, with the
   * PUBLISH options (docs/protocol.md#publish-options): excludeMe,
   * exclude (session ids) and eligible (session ids). Sent at once when
   * open, else when the session (re)opens.
   */
  publish(t, event, options = {}) {
    if (this._final || this._closing) throw new ConnectionError("session closed");
    const s = topicString(t);
    const { excludeMe, exclude, eligible } = options;
    for (const [n, l] of [["exclude", exclude], ["eligible", eligible]]) {
      if (l !== undefined && (!Array.isArray(l) || l.some((x) => typeof x !== "string"))) {
        throw new TypeError(`publish: ${n} must be a list of session ids`);
      }
    }
    if (excludeMe !== undefined && typeof excludeMe !== "boolean") throw new TypeError("publish: excludeMe must be a boolean");
    const send = () => {
      const msg = [PUBLISH, s, event === undefined ? null : event];
      if (exclude || eligible) {
        const ex = [...(exclude ?? [])];
        if (excludeMe === true && this.sessionId) ex.push(this.sessionId);
        msg.push(ex);
        if (eligible) msg.push([...eligible]);
      } else if (excludeMe !== undefined) {
        msg.push(excludeMe);
      }
      this._send(msg);
    };
    if (this.state === "open") send();
    else this._queue.push(send);
  }
}

/**
 * connect opens a WAMP v1 session to url and returns it at once; it
 * connects, authenticates and reconnects by itself. See README.md.
 */
export function connect(url, options = {}) {
  return new Session(url, options);
}

// ---------------------------------------------------------------- plain

function plainTags(tags) {
  const out = {};
  for (const [k, v] of tagEntries(tags)) {
    if (typeof v === "string" || (typeof v === "number" && Number.isSafeInteger(v))) out[k] = v;
    else if (typeof v === "bigint") out[k] = String(v); // the same tag as the integer (docs/protocol.md#tag-topics)
    else throw new TypeError(`tag ${k}: a plain tag value must be a string or an integer`);
  }
  return out;
}

/**
 * PlainConnection is a plain tag connection (docs/protocol.md#plain-connections):
 * no subprotocol, one subscription made of its URL's tags, requests out and
 * bare JSON events in. See connectPlain.
 */
export class PlainConnection extends Connection {
  constructor(url, tags, options = {}) {
    super(url, options, null);
    this._tags = tags == null ? null : plainTags(tags);
    this.onmessage = null;
  }

  _socketURL() {
    return this._tags ? withQuery(this.url, [["tags", JSON.stringify(this._tags)]]) : this.url;
  }

  _onSocketOpen() {
    this._open({});
  }

  _onText(text) {
    let v;
    try {
      v = JSON.parse(text);
    } catch {
      this._emit("error", new Error("tagwamp: a message that is not JSON was ignored"));
      return;
    }
    this._emit("message", v);
    if (typeof this.onmessage === "function") this._guard(this.onmessage, [v]);
  }

  _onFinal() {
    this._queue.length = 0;
  }

  /**
   * send publishes a plain request (docs/protocol.md#plain-requests):
   * message (any JSON value), tags and metadata ({key, secret}).
   */
  send({ message, tags, metadata } = {}) {
    if (this._final || this._closing) throw new ConnectionError("connection closed");
    if (message === undefined) throw new TypeError("a plain request needs a message");
    const req = { message };
    if (tags != null) req.tags = plainTags(tags);
    if (metadata != null) {
      if (typeof metadata !== "object" || Array.isArray(metadata)) throw new TypeError("metadata must be an object");
      req.metadata = metadata;
    }
    const text = JSON.stringify(req);
    const send = () => this._ws.send(text);
    if (this.state === "open") send();
    else this._queue.push(send);
  }
}

/**
 * connectPlain opens a plain tag connection whose single subscription is
 * tags (an object of strings and integers; none: the empty tag set).
 */
export function connectPlain(url, tags, options = {}) {
  return new PlainConnection(url, tags, options);
}
