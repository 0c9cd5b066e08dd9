// WAMP-CRA (docs/protocol.md#wamp-cra) with the third-party WAMP v1 client
// "wamp1" (npm) against a running tagwamp server, done the way an
// AutobahnJS 0.8 application does it: authreq(key, extra), key =
// ab.deriveKey(secret, challenge.authextra), signature =
// base64(HMAC-SHA256(key, challenge)), auth(signature). Node's crypto
// stands in for CryptoJS: PBKDF2-HMAC-SHA256 with keylen bytes, its base64
// text being the HMAC key. KEY's application is unsalted; SALTED_KEY's has
// salt parameters in the server's configuration (the client's extra
// chooses none).
//   node wamp1_cra.js ws://127.0.0.1:PORT/ KEY SALTED_KEY SECRET
// Exits 0 and prints "cra ok" when every step behaved as the spec says.
"use strict";
const assert = require("assert");
const crypto = require("crypto");
const WebSocket = require("ws");
const Wamp = require("wamp1");

const [url, appKey, saltedKey, secret] = process.argv.slice(2);
const timer = setTimeout(() => fail(new Error("timed out")), 20000);
const AUTHREQ = "http://api.wamp.ws/procedure#authreq";
const AUTH = "http://api.wamp.ws/procedure#auth";
const ERR = "http://api.wamp.ws/error#";

function fail(err) {
  console.error("cra FAILED:", err && err.stack || err);
  process.exit(1);
}

function connect(query) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url + query, "wamp");
    socket.on("error", reject);
    const wamp = new Wamp(socket, () => resolve({ wamp, socket }));
    wamp.on("error", fail);
  });
}

function call(wamp, ...args) {
  return new Promise((resolve) => wamp.call(...args, (err, res) => resolve({ err, res })));
}

// deriveKey is ab.deriveKey: the secret itself without a salt.
function deriveKey(secret, extra) {
  if (extra && extra.salt) {
    const keylen = extra.keylen || 32;
    const iterations = extra.iterations || 10000;
    return crypto.pbkdf2Sync(secret, extra.salt, iterations, keylen, "sha256").toString("base64");
  }
  return secret;
}

function authsign(challenge, key) {
  return crypto.createHmac("sha256", key).update(challenge).digest("base64");
}

async function authenticate(key, extra, salted) {
  const { wamp, socket } = await connect("?key=" + key);
  let r = await call(wamp, "urn:test#private");
  assert.strictEqual(r.err.uri, ERR + "not-authorized");
  r = await call(wamp, AUTHREQ, key, extra);
  assert.ifError(r.err);
  assert.strictEqual(typeof r.res, "string");
  const challenge = JSON.parse(r.res);
  assert.strictEqual(challenge.authkey, key);
  assert.deepStrictEqual(challenge.extra, extra || {});
  // Nothing of the key's permissions before the secret is proven.
  assert.deepStrictEqual(challenge.permissions, { rpc: [], pubsub: [] });
  // The salt parameters are the server's, whatever extra says.
  assert.strictEqual(!!(challenge.authextra && challenge.authextra.salt), salted, r.res);
  const sig = authsign(r.res, deriveKey(secret, challenge.authextra));
  r = await call(wamp, AUTH, sig);
  assert.ifError(r.err);
  assert.ok(Array.isArray(r.res.rpc) && Array.isArray(r.res.pubsub), JSON.stringify(r.res));
  r = await call(wamp, "urn:test#private");
  assert.ifError(r.err);
  assert.strictEqual(r.res, "private ok");
  r = await call(wamp, AUTHREQ, key);
  assert.strictEqual(r.err.uri, ERR + "already-authenticated");
  socket.close();
}

(async () => {
  await authenticate(appKey, undefined, false);
  await authenticate(appKey, { salt: "salt123" }, false);
  await authenticate(saltedKey, undefined, true);
  await authenticate(saltedKey, { salt: "pepper", iterations: 1000, keylen: 16 }, true);

  // A wrong signature: invalid-signature, and the challenge is spent.
  const { wamp, socket } = await connect("?key=" + appKey);
  let r = await call(wamp, AUTHREQ, appKey);
  const challenge = r.res;
  r = await call(wamp, AUTH, authsign(challenge, "not the secret"));
  assert.strictEqual(r.err.uri, ERR + "invalid-signature");
  r = await call(wamp, AUTH, authsign(challenge, secret));
  assert.strictEqual(r.err.uri, ERR + "no-authentication-requested");
  socket.close();

  clearTimeout(timer);
  console.log("cra ok");
})().catch(fail);
