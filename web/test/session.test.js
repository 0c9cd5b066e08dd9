// Unit tests of Session and PlainConnection over a fake WebSocket: what goes
// on the wire (docs/protocol.md#messages), call ids, timeouts, aborts,
// shared subscriptions, reconnecting and WAMP-CRA.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  connect, connectPlain, CallError, TimeoutError, ConnectionError, signChallenge,
  PROC_AUTHREQ, PROC_AUTH,
} from "../tagwamp.js";

// fake returns a WebSocket class whose instances the test drives.
function fake() {
  const sockets = [];
  class FakeWebSocket {
    constructor(url, protocols) {
      this.url = url;
      this.protocols = protocols;
      this.sent = [];
      this.closed = null;
      sockets.push(this);
    }
    send(text) {
      if (this.closed) throw new Error("send on a closed socket");
      this.sent.push(JSON.parse(text));
    }
    close(code = 1000, reason = "") {
      this.closed = { code, reason };
      queueMicrotask(() => this.onclose?.({ code, reason, wasClean: true }));
    }
    open() { this.onopen?.({}); }
    welcome(id = "S" + sockets.length) { this.open(); this.recv([0, id, 1, "tagwamp/test"]); }
    recv(m) { this.onmessage?.({ data: typeof m === "string" ? m : JSON.stringify(m) }); }
    drop(code = 1006, reason = "") { this.onclose?.({ code, reason, wasClean: false }); }
    take() { return this.sent.splice(0); }
  }
  return { WebSocket: FakeWebSocket, sockets, last: () => sockets[sockets.length - 1] };
}

const tick = () => new Promise((r) => setTimeout(r, 0));
// until resolves once cond() holds (WebCrypto answers on another thread).
const until = async (cond) => { while (!cond()) await new Promise((r) => setImmediate(r)); };
const next = (emitter, event) => new Promise((r) => { const off = emitter.on(event, (d) => { off(); r(d); }); });
const fast = { initialDelay: 1, maxDelay: 1, jitter: 0 };

async function opened(options = {}) {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket, reconnect: fast, ...options });
  await tick();
  f.last().welcome();
  await s.ready;
  return { f, s, ws: f.last() };
}

test("connects with subprotocol wamp and opens on WELCOME", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket });
  const states = [];
  s.onstatechange = (st) => states.push(st);
  assert.equal(s.state, "connecting");
  await tick();
  assert.deepEqual(f.last().protocols, ["wamp"]);
  assert.equal(f.last().url, "ws://h/");
  const open = next(s, "open");
  f.last().welcome("abc");
  assert.deepEqual(await open, { sessionId: "abc", serverIdent: "tagwamp/test", reconnected: false });
  assert.equal(s.sessionId, "abc");
  assert.equal(await s.ready, s);
  await s.close();
  assert.deepEqual(states, ["connecting", "open", "closed"]);
});

test("call ids are unique; CALLRESULT resolves, CALLERROR rejects with uri, desc, details", async () => {
  const { s, ws } = await opened();
  const ps = [];
  for (let i = 0; i < 100; i++) ps.push(s.call("urn:p", i, [i], { i }));
  const sent = ws.take();
  const ids = sent.map((m) => m[1]);
  assert.equal(new Set(ids).size, 100);
  assert.deepEqual(sent[7], [2, ids[7], "urn:p", 7, [7], { i: 7 }]);
  for (let i = 99; i >= 0; i--) {
    if (i % 2) ws.recv([3, ids[i], i * i]);
    else ws.recv([4, ids[i], "urn:err", "bad " + i, { i }]);
  }
  for (let i = 0; i < 100; i++) {
    if (i % 2) assert.equal(await ps[i], i * i);
    else {
      const err = await ps[i].then(() => null, (e) => e);
      assert.ok(err instanceof CallError);
      assert.equal(err.uri, "urn:err");
      assert.equal(err.desc, "bad " + i);
      assert.deepEqual(err.details, { i });
    }
  }
  // CALLERROR without details; a call with no args; a null result.
  const p = s.call("urn:none");
  const [m] = ws.take();
  assert.deepEqual(m, [2, m[1], "urn:none"]);
  assert.ok(!ids.includes(m[1]));
  ws.recv([4, m[1], "urn:e", ""]);
  const err = await p.catch((e) => e);
  assert.equal(err.details, undefined);
  assert.equal(err.desc, "");
  const q = s.call("urn:null");
  ws.recv([3, ws.take()[0][1], null]);
  assert.equal(await q, null);
  await s.close();
});

test("callWith: timeout and AbortSignal; late answers are ignored", async () => {
  const { s, ws } = await opened();
  const p = s.callWith({ timeout: 20 }, "urn:slow", 1);
  const [[, id]] = ws.take();
  const err = await p.catch((e) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.uri, "urn:slow");
  ws.recv([3, id, "late"]); // nothing happens

  const ac = new AbortController();
  const q = s.callWith({ signal: ac.signal }, "urn:slow");
  assert.equal(ws.take().length, 1);
  ac.abort(new Error("changed my mind"));
  assert.equal((await q.catch((e) => e)).message, "changed my mind");

  const r = s.callWith({ signal: AbortSignal.abort() }, "urn:slow");
  assert.equal((await r.catch((e) => e)).name, "AbortError");
  assert.equal(ws.take().length, 0, "an aborted signal sends nothing");

  // The session's default timeout.
  await s.close();
  const t = await opened({ callTimeout: 10 });
  assert.ok((await t.s.call("urn:x").catch((e) => e)) instanceof TimeoutError);
  await t.s.close();
});

test("handlers of one topic share one SUBSCRIBE; the last one UNSUBSCRIBEs", async () => {
  const { s, ws } = await opened();
  const got = [];
  const offA = s.subscribe("news?a=1", (ev, t) => got.push(["A", ev, t]));
  const offB = s.subscribe({ base: "news", tags: { a: 1 } }, (ev, t) => got.push(["B", ev, t]));
  const offC = s.subscribe("news?a=2", (ev) => got.push(["C", ev]));
  assert.deepEqual(ws.take(), [[5, "news?a=1"], [5, "news?a=2"]]);
  ws.recv([8, "news?a=1", { x: 1 }]);
  ws.recv([8, "news?a=1&b=2", "not mine"]);
  ws.recv([8, "news?a=2", null]);
  assert.deepEqual(got, [["A", { x: 1 }, "news?a=1"], ["B", { x: 1 }, "news?a=1"], ["C", null]]);
  offA();
  offA();
  assert.deepEqual(ws.take(), []);
  offB();
  assert.deepEqual(ws.take(), [[6, "news?a=1"]]);
  got.length = 0;
  ws.recv([8, "news?a=1", 1]);
  assert.deepEqual(got, []);
  // Subscribing again after the last went sends SUBSCRIBE again.
  const offD = s.subscribe("news?a=1", () => {});
  assert.deepEqual(ws.take(), [[5, "news?a=1"]]);
  offC(); offD();
  assert.deepEqual(ws.take(), [[6, "news?a=2"], [6, "news?a=1"]]);
  await s.close();
});

test("CURIEs: PREFIX is sent; subscriptions are keyed by the resolved URI", async () => {
  const { s, ws } = await opened();
  s.prefix("ex", "http://example.com/");
  const got = [];
  s.subscribe("ex:news?a=1", (ev, t) => got.push(t));
  assert.deepEqual(ws.take(), [[1, "ex", "http://example.com/"], [5, "http://example.com/news?a=1"]]);
  ws.recv([8, "http://example.com/news?a=1", 1]);
  assert.deepEqual(got, ["http://example.com/news?a=1"]);
  s.call("ex:proc").catch(() => {});
  assert.equal(ws.take()[0][2], "ex:proc");
  assert.throws(() => s.prefix("a:b", "x"), TypeError);
  assert.throws(() => s.prefix("", "x"), TypeError);
  await s.close();
});

test("publish: the wire forms of the options", async () => {
  const { s, ws } = await opened();
  s.publish("t", { a: 1 });
  s.publish("t", undefined);
  s.publish({ base: "t", tags: { k: "a&b" } }, 1, { excludeMe: false });
  s.publish("t", 2, { excludeMe: true });
  s.publish("t", 3, { exclude: ["x"] });
  s.publish("t", 4, { exclude: ["x"], excludeMe: true });
  s.publish("t", 5, { eligible: ["y"] });
  s.publish("t", 6, { eligible: [], exclude: ["x"] });
  s.publish("t", 7, { eligible: ["y"], excludeMe: true });
  const me = s.sessionId;
  assert.deepEqual(ws.take(), [
    [7, "t", { a: 1 }],
    [7, "t", null],
    [7, "t?k=a%26b", 1, false],
    [7, "t", 2, true],
    [7, "t", 3, ["x"]],
    [7, "t", 4, ["x", me]],
    [7, "t", 5, [], ["y"]],
    [7, "t", 6, ["x"], []],
    [7, "t", 7, [me], ["y"]],
  ]);
  assert.throws(() => s.publish("t", 1, { exclude: "x" }), TypeError);
  assert.throws(() => s.publish("t", 1, { eligible: [1] }), TypeError);
  assert.throws(() => s.publish("t", 1, { excludeMe: 1 }), TypeError);
  await s.close();
});

test("before WELCOME: calls and publications wait; prefixes and subscriptions go first", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket });
  s.subscribe("a", () => {});
  const p = s.call("urn:p", 1);
  s.publish("b", 2);
  s.prefix("x", "urn:x#");
  await tick();
  const ws = f.last();
  ws.open();
  assert.deepEqual(ws.take(), []);
  ws.recv([0, "S", 1, "t"]);
  await tick();
  const sent = ws.take();
  assert.deepEqual(sent.map((m) => m[0]), [1, 5, 2, 7]);
  ws.recv([3, sent[2][1], "ok"]);
  assert.equal(await p, "ok");
  await s.close();
});

test("reconnects with backoff, sends PREFIXes and SUBSCRIBEs again, fails the calls in flight", async () => {
  const { f, s, ws } = await opened();
  s.prefix("x", "urn:x#");
  s.subscribe("a?k=1", () => {});
  s.subscribe("x:b", () => {});
  const off = s.subscribe("c", () => {});
  off();
  ws.take();
  const inflight = s.call("urn:p");
  const [[, oldID]] = ws.take();
  const events = [];
  s.on("statechange", (st, d) => events.push([st, d]));
  const reopened = next(s, "open");
  ws.drop(1001, "going away");
  const err = await inflight.catch((e) => e);
  assert.ok(err instanceof ConnectionError);
  assert.equal(err.code, 1001);
  const queued = s.call("urn:q"); // waits for the next session
  await new Promise((r) => setTimeout(r, 10));
  const ws2 = f.last();
  assert.notEqual(ws2, ws);
  ws2.welcome("S2");
  assert.deepEqual(await reopened, { sessionId: "S2", serverIdent: "tagwamp/test", reconnected: true });
  const sent = ws2.take();
  assert.deepEqual(sent.slice(0, 3), [[1, "x", "urn:x#"], [5, "a?k=1"], [5, "urn:x#b"]]);
  assert.equal(sent[3][2], "urn:q");
  assert.notEqual(sent[3][1], oldID);
  ws2.recv([3, sent[3][1], "q"]);
  assert.equal(await queued, "q");
  assert.equal(events[0][0], "closed");
  assert.deepEqual({ ...events[0][1], delay: 0 }, { code: 1001, reason: "going away", wasClean: false, willReconnect: true, delay: 0 });
  assert.equal(events[1][0], "connecting");
  assert.equal(events[2][0], "open");
  await s.close();
  assert.equal(s.state, "closed");
});

test("without reconnect a drop ends the session; ready rejects if it never opened", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket, reconnect: false });
  const p = s.call("urn:p");
  await tick();
  const closed = next(s, "closed");
  f.last().drop(1006);
  assert.deepEqual(await closed, { code: 1006, reason: "", wasClean: false, willReconnect: false });
  assert.ok((await s.ready.catch((e) => e)) instanceof ConnectionError);
  assert.ok((await p.catch((e) => e)) instanceof ConnectionError);
  assert.equal(f.sockets.length, 1);
  assert.ok((await s.call("urn:p").catch((e) => e)) instanceof ConnectionError);
  assert.throws(() => s.publish("t", 1), ConnectionError);
});

test("close() stops reconnecting, also while waiting to reconnect", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket, reconnect: { initialDelay: 10000 } });
  await tick();
  f.last().drop();
  assert.equal(s.state, "closed");
  const p = s.call("urn:p");
  await s.close();
  assert.ok((await p.catch((e) => e)) instanceof ConnectionError);
  assert.equal(f.sockets.length, 1);
});

test("token and key go in the URL", async () => {
  const f = fake();
  const a = connect("ws://h/?x=1", { WebSocket: f.WebSocket, token: "a.b+c" });
  await tick();
  assert.equal(f.last().url, "ws://h/?x=1&token=a.b%2Bc");
  await a.close();
  const b = connect("ws://h/", { WebSocket: f.WebSocket, authKey: "app 1", authSecret: "s" });
  await tick();
  assert.equal(f.last().url, "ws://h/?key=app%201");
  await b.close();
});

test("WAMP-CRA: authreq, auth with the HMAC of the challenge, then open", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket, authKey: "app", authSecret: "secret", reconnect: fast });
  s.subscribe("t", () => {});
  await tick();
  const ws = f.last();
  ws.welcome();
  let [m] = ws.take();
  assert.deepEqual(m, [2, m[1], PROC_AUTHREQ, "app", {}]);
  const challenge = JSON.stringify({ authid: "X", authkey: "app", extra: {} });
  ws.recv([3, m[1], challenge]);
  await until(() => ws.sent.length > 0);
  [m] = ws.take();
  assert.deepEqual(m, [2, m[1], PROC_AUTH, await signChallenge("secret", challenge)]);
  assert.equal(s.state, "connecting");
  ws.recv([3, m[1], { rpc: [], pubsub: [] }]);
  await s.ready;
  assert.deepEqual(s.authPermissions, { rpc: [], pubsub: [] });
  assert.deepEqual(ws.take(), [[5, "t"]]);
  await s.close();
});

test("WAMP-CRA: authSign signs; a refusal rejects ready and ends the session", async () => {
  const f = fake();
  const seen = [];
  const s = connect("ws://h/", {
    WebSocket: f.WebSocket, authKey: "app", reconnect: fast,
    authSign: async (c, info) => { seen.push([c, info]); return "sig"; },
  });
  await tick();
  const ws = f.last();
  ws.welcome();
  let [m] = ws.take();
  ws.recv([3, m[1], '{"authextra":{"salt":"s"}}']);
  await until(() => ws.sent.length > 0);
  [m] = ws.take();
  assert.equal(m[3], "sig");
  assert.deepEqual(seen, [['{"authextra":{"salt":"s"}}', { authextra: { salt: "s" } }]]);
  const closed = next(s, "closed");
  ws.recv([4, m[1], "http://api.wamp.ws/error#invalid-signature", "invalid signature"]);
  const err = await s.ready.catch((e) => e);
  assert.ok(err instanceof CallError);
  assert.equal(err.uri, "http://api.wamp.ws/error#invalid-signature");
  const d = await closed;
  assert.equal(d.willReconnect, false);
  assert.equal(d.error, err);
  assert.equal(f.sockets.length, 1);
});

test("a listener that throws goes to the error listeners", async () => {
  const { s, ws } = await opened();
  const errs = [];
  s.on("error", (e) => errs.push(e.message));
  s.subscribe("t", () => { throw new Error("boom"); });
  let after = false;
  s.subscribe("t", () => { after = true; });
  ws.recv([8, "t", 1]);
  ws.recv("not json");
  assert.deepEqual(errs[0], "boom");
  assert.equal(errs.length, 2);
  assert.ok(after);
  await s.close();
});

test("plain connection: tags in the URL, no subprotocol, requests and bare events", async () => {
  const f = fake();
  const p = connectPlain("ws://h/", { language: "FR", user: 42 }, { WebSocket: f.WebSocket });
  p.send({ message: "early" });
  await tick();
  const ws = f.last();
  assert.equal(ws.protocols, undefined);
  assert.equal(ws.url, "ws://h/?tags=" + encodeURIComponent('{"language":"FR","user":42}'));
  const got = [];
  p.onmessage = (v) => got.push(v);
  ws.open();
  await p.ready;
  p.send({ message: { t: 1 }, tags: { language: "FR" }, metadata: { key: "k", secret: "s" } });
  assert.deepEqual(ws.take(), [
    { message: "early" },
    { message: { t: 1 }, tags: { language: "FR" }, metadata: { key: "k", secret: "s" } },
  ]);
  ws.recv({ hello: "world" });
  ws.recv([8, "x", 1]);
  assert.deepEqual(got, [{ hello: "world" }, [8, "x", 1]]);
  assert.throws(() => p.send({}), TypeError);
  assert.throws(() => p.send({ message: 1, tags: { k: 1.5 } }), TypeError);
  assert.throws(() => connectPlain("ws://h/", { "bad key": 1 }, { WebSocket: f.WebSocket }), TypeError);
  await p.close();
  const q = connectPlain("ws://h/", null, { WebSocket: f.WebSocket });
  await tick();
  assert.equal(f.last().url, "ws://h/");
  await q.close();
});

test("WAMP-CRA: a timed-out authreq reconnects instead of giving up", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket, authKey: "app", authSecret: "x", callTimeout: 10, reconnect: fast });
  await tick();
  f.last().welcome();
  const closed = next(s, "closed");
  const d = await closed; // authreq got no answer within callTimeout
  assert.equal(d.willReconnect, true);
  await until(() => f.sockets.length === 2);
  await s.close();
});

test("a second WELCOME on one connection is ignored; queued calls go before the open listeners' own", async () => {
  const f = fake();
  const s = connect("ws://h/", { WebSocket: f.WebSocket });
  s.call("urn:first").catch(() => {});
  s.on("open", () => s.call("urn:second").catch(() => {}));
  let opens = 0;
  s.on("open", () => opens++);
  await tick();
  const ws = f.last();
  ws.welcome("A");
  ws.recv([0, "B", 1, "again"]);
  assert.equal(s.sessionId, "A");
  assert.equal(opens, 1);
  assert.deepEqual(ws.take().map((m) => m[2]), ["urn:first", "urn:second"]);
  await s.close();
});
