// Drives the third-party WAMP v1 client "wamp1" (npm, Arpad Borsos) against
// a running tagwamp server: node wamp1_client.js ws://127.0.0.1:PORT/
// Exits 0 and prints "interop ok" when every step behaved as docs/protocol.md
// says.
"use strict";
const assert = require("assert");
const WebSocket = require("ws");
const Wamp = require("wamp1");

const url = process.argv[2];
const timer = setTimeout(() => fail(new Error("timed out")), 10000);

function fail(err) {
  console.error("interop FAILED:", err && err.stack || err);
  process.exit(1);
}

function connect() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "wamp");
    socket.on("error", reject);
    const wamp = new Wamp(socket, (welcome) => {
      try {
        assert.strictEqual(socket.protocol, "wamp");
        assert.strictEqual(welcome.version, 1);
        assert.match(welcome.server, /^tagwamp\//);
        assert.ok(typeof welcome.sessionId === "string" && welcome.sessionId.length >= 16);
      } catch (e) { return reject(e); }
      resolve(wamp);
    });
    wamp.on("error", fail);
  });
}

function call(wamp, ...args) {
  return new Promise((resolve) => wamp.call(...args, (err, res) => resolve({ err, res })));
}

function nextEvent(wamp, topic) {
  return new Promise((resolve) => {
    const fn = (data) => resolve(data);
    wamp.subscribe(topic, fn);
  });
}

(async () => {
  const a = await connect();
  const b = await connect();
  assert.notStrictEqual(a.sessionId, b.sessionId);

  // RPC with a CURIE, several arguments, a single list argument.
  a.prefix("tw", "http://tagwamp.dev/procedure#");
  let r = await call(a, "tw:echo", 1, "x", [1, 2], null);
  assert.ifError(r.err);
  assert.deepStrictEqual(r.res, [1, "x", [1, 2], null]);
  r = await call(a, "http://tagwamp.dev/procedure#session-info");
  assert.strictEqual(r.res.session_id, a.sessionId);

  // CALLERROR for an unknown procedure: uri and description, no details.
  r = await call(a, "http://example.com/nope");
  assert.strictEqual(r.err.uri, "http://api.wamp.ws/error#NoSuchRPCEndpoint");
  assert.strictEqual(r.err.message, "no procedure registered for http://example.com/nope");
  assert.strictEqual(r.err.details, undefined);

  // Tag topics: b subscribes with a CURIE and with a plain URI.
  b.prefix("news", "http://example.com/news");
  const viaCurie = nextEvent(b, "news:?lang=FR&user=42");
  const plain = nextEvent(b, "http://example.com/news?lang=FR");
  const notMine = new Promise((resolve) => b.subscribe("http://example.com/news?lang=EN", () => resolve("EN")));
  await call(b, "tw:ping"); // b's SUBSCRIBEs are handled before this answer
  a.publish("http://example.com/news?lang=FR", { title: "Bonjour" });
  assert.deepStrictEqual(await viaCurie, { title: "Bonjour" });
  assert.deepStrictEqual(await plain, { title: "Bonjour" });

  // excludeMe: by default the publisher does not receive its own event;
  // with false it does; eligible restricts receivers.
  const own = nextEvent(a, "http://example.com/news?lang=FR&user=7");
  await call(a, "tw:ping");
  a.publish("http://example.com/news?user=7", "first");
  a.publish("http://example.com/news?user=7", "second", false);
  assert.strictEqual(await own, "second");
  const eligible = nextEvent(b, "http://example.com/news?lang=FR&user=9");
  await call(b, "tw:ping");
  a.publish("http://example.com/news?user=9", "for b", [], [b.sessionId]);
  assert.strictEqual(await eligible, "for b");

  const winner = await Promise.race([notMine, new Promise((res) => setTimeout(() => res("none"), 200))]);
  assert.strictEqual(winner, "none");

  clearTimeout(timer);
  a.socket.close();
  b.socket.close();
  console.log("interop ok");
})().catch(fail);
