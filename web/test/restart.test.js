// Reconnecting after a server restart: the harness (web/webtest) restarts
// the server on the same port when asked (POST TAGWAMP_CONTROL_URL/restart);
// the session comes back with a new session id, its PREFIXes and its
// subscriptions.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect } from "../tagwamp.js";
import { env, skip, open, collect, uniq } from "./helpers.js";

test("reconnect after a restart restores prefixes and subscriptions", { skip }, async (t) => {
  const url = env.TAGWAMP_RESTART_URL;
  const s = connect(url, { reconnect: { initialDelay: 20, maxDelay: 200 } });
  t.after(() => s.close());
  s.prefix("tw", "http://tagwamp.dev/procedure#");
  s.prefix("ex", "http://example.com/");
  const T = uniq("restart");
  const got = collect(s, "ex:" + T.slice("http://example.com/".length) + "?k=1");
  await s.ready;
  const first = s.sessionId;
  const states = [];
  s.on("statechange", (st, d) => states.push([st, d]));
  const reopened = new Promise((resolve) => s.on("open", resolve));

  const res = await fetch(env.TAGWAMP_CONTROL_URL + "/restart", { method: "POST" });
  assert.equal(res.status, 200, await res.text());
  const d = await reopened;
  assert.equal(d.reconnected, true);
  assert.notEqual(s.sessionId, first);
  assert.equal(states[0][0], "closed");
  assert.equal(states[0][1].code, 1001);
  assert.equal(states[0][1].willReconnect, true);
  assert.equal(states.at(-1)[0], "open");

  assert.equal(await s.call("tw:ping"), "pong"); // the PREFIX came back, and the SUBSCRIBE was handled
  const pub = await open(t, {}, url);
  pub.publish(T + "?k=1", "after restart");
  await got.until("after restart");
  assert.equal(got[0].topic, T + "?k=1");
});
