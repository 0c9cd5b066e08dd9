// WAMP-CRA against the real server (docs/protocol.md#wamp-cra): unsalted and
// salted keys through WebCrypto, an authSign callback, a wrong secret.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect, CallError, deriveKey, signChallenge } from "../tagwamp.js";
import { env, skip, open, collect, uniq } from "./helpers.js";

const url = env.TAGWAMP_CRA_URL;

for (const key of [env.TAGWAMP_CRA_KEY, env.TAGWAMP_CRA_SALTED_KEY]) {
  test(`CRA with key ${key}: permissions, then subscriptions and calls`, { skip }, async (t) => {
    const s = connect(url, { reconnect: false, authKey: key, authSecret: env.TAGWAMP_CRA_SECRET });
    t.after(() => s.close());
    const T = uniq("cra");
    const got = collect(s, T); // sent after auth, else the server would drop it
    await s.ready;
    assert.deepEqual(s.authPermissions.rpc.map((r) => r.uri), ["urn:tagwamp:test#"]);
    assert.equal(await s.call("urn:tagwamp:test#private"), "private ok");
    s.publish(T, "mine", { excludeMe: false });
    await got.until("mine");
    const again = await s.call("http://api.wamp.ws/procedure#authreq", key).catch((e) => e);
    assert.equal(again.uri, "http://api.wamp.ws/error#already-authenticated");
  });
}

test("CRA with authSign", { skip }, async (t) => {
  const challenges = [];
  const s = await open(t, {
    authKey: env.TAGWAMP_CRA_SALTED_KEY,
    authSign: async (challenge, info) => {
      challenges.push(info);
      return signChallenge(await deriveKey(env.TAGWAMP_CRA_SECRET, info.authextra), challenge);
    },
  }, url);
  assert.deepEqual(challenges[0].authextra, { salt: "pepper", iterations: 1000, keylen: 16 });
  assert.equal(await s.call("urn:tagwamp:test#private"), "private ok");
});

test("CRA with a wrong secret rejects ready and does not reconnect", { skip }, async () => {
  const s = connect(url, { authKey: env.TAGWAMP_CRA_KEY, authSecret: "not the secret at all", reconnect: { initialDelay: 1 } });
  const states = [];
  s.on("statechange", (st, d) => states.push([st, d]));
  const err = await s.ready.catch((e) => e);
  assert.ok(err instanceof CallError, String(err));
  assert.equal(err.uri, "http://api.wamp.ws/error#invalid-signature");
  await s.close();
  assert.deepEqual(states.map(([st]) => st), ["connecting", "closed"]);
  assert.equal(states[1][1].willReconnect, false);
  assert.equal(states[1][1].error, err);
});
