// Drives plain tag connections (docs/protocol.md#plain-connections, the Gomoob
// dialect) with the third-party WebSocket client "ws" (npm) against a running
// tagwamp server, beside a WAMP v1 subscriber speaking through the npm client
// "wamp1":
//   node plain_client.js ws://127.0.0.1:PORT/
// Exits 0 and prints "plain ok" when every step behaved as docs/protocol.md
// says. No step depends on timing: publications are repeated until they arrive,
// and a receiver that gets what its tags do not select fails at once.
"use strict";
const assert = require("assert");
const WebSocket = require("ws");
const Wamp = require("wamp1");

const url = process.argv[2];
const timer = setTimeout(() => fail(new Error("timed out")), 20000);

function fail(err) {
  console.error("plain FAILED:", err && err.stack || err);
  process.exit(1);
}

// plain opens a plain tag connection (no subprotocol) carrying tags.
function plain(tags) {
  const q = tags ? "?tags=" + encodeURIComponent(JSON.stringify(tags)) : "";
  return new Promise((resolve, reject) => {
    const s = new WebSocket(url + q);
    s.on("error", reject);
    s.on("open", () => {
      try {
        assert.strictEqual(s.protocol, "", "no subprotocol is echoed");
      } catch (e) { return reject(e); }
      resolve(s);
    });
  });
}

function wamp() {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, "wamp");
    socket.on("error", reject);
    const w = new Wamp(socket, () => resolve(w));
    w.on("error", fail);
  });
}

// until sends a request every 20ms until done() resolves.
async function until(sender, request, done) {
  const t = setInterval(() => sender.send(JSON.stringify(request)), 20);
  sender.send(JSON.stringify(request));
  try { await done; } finally { clearInterval(t); }
}

function next(socket, check) {
  return new Promise((resolve) => {
    socket.on("message", function onMessage(data, isBinary) {
      try {
        assert.strictEqual(isBinary, false);
        if (check(JSON.parse(data.toString()))) {
          socket.off("message", onMessage);
          resolve();
        }
      } catch (e) { fail(e); }
    });
  });
}

(async () => {
  const fr = await plain({ language: "FR", user: 42 });
  const en = await plain({ language: "EN" });
  const backend = await plain(null);
  const browser = await wamp();

  // The WAMP subscriber on a base receives a base-less publication as an
  // EVENT with its own topic string (docs/protocol.md#event-topic).
  const topic = "http://example.com/news?language=FR";
  let gotEvent;
  const event = new Promise((resolve) => { gotEvent = resolve; });
  browser.subscribe(topic, (ev) => { // wamp1 routes EVENTs by their topic string
    try {
      assert.deepStrictEqual(ev, { hello: "fr" });
    } catch (e) { fail(e); }
    gotEvent();
  });

  // fr must never see the EN message, en never the FR one.
  fr.on("message", (d) => { if (JSON.parse(d.toString()) === "en") fail(new Error("FR connection got the EN message")); });
  en.on("message", (d) => { if (typeof JSON.parse(d.toString()) === "object") fail(new Error("EN connection got the FR message")); });

  // The message arrives alone, without envelope.
  await until(backend, { message: { hello: "fr" }, tags: { language: "FR" } },
    Promise.all([next(fr, (m) => assert.deepStrictEqual(m, { hello: "fr" }) || true), event]));
  await until(backend, { message: "en", tags: { language: "EN" }, metadata: { trace: "x" } },
    next(en, (m) => m === "en"));

  // A request that is not one closes only its sender, with 1002.
  const bad = await plain(null);
  const closed = new Promise((resolve) => bad.on("close", (code, reason) => resolve([code, reason.toString()])));
  bad.send(JSON.stringify({ msg: "no message key" }));
  const [code, reason] = await closed;
  assert.strictEqual(code, 1002);
  assert.ok(reason.length > 0, "the close carries a reason");
  await until(backend, { message: "still", tags: { language: "EN" } }, next(en, (m) => m === "still"));

  clearTimeout(timer);
  for (const s of [fr, en, backend]) s.close();
  console.log("plain ok");
  process.exit(0);
})().catch(fail);
