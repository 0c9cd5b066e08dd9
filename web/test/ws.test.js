// The WebSocket option with the npm package ws instead of the global
// WebSocket: go test ./web/webtest names it in TAGWAMP_WS_MODULE where it is
// installed (interop/node_modules), else this test skips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { connect, connectPlain } from "../tagwamp.js";
import { env, skip, PING, open, sync, collect, uniq } from "./helpers.js";

const wsSkip = skip || (env.TAGWAMP_WS_MODULE ? false : "TAGWAMP_WS_MODULE is not set (no npm package ws installed)");

test("the ws package as the WebSocket option", { skip: wsSkip }, async (t) => {
  const WS = createRequire(import.meta.url)(env.TAGWAMP_WS_MODULE);
  const s = await open(t, { WebSocket: WS });
  assert.equal(await s.call(PING), "pong");
  const T = uniq("ws");
  const got = collect(s, { base: T, tags: { k: "é&=" } });
  await sync(s);
  s.publish({ base: T, tags: { k: "é&=" } }, "self", { excludeMe: false });
  await got.until("self");

  const p = connectPlain(env.TAGWAMP_URL, { wsk: 1 }, { WebSocket: WS, reconnect: false });
  t.after(() => p.close());
  await p.ready;
  const msgs = [];
  p.onmessage = (m) => msgs.push(m);
  while (msgs.length === 0) {
    s.publish({ base: "", tags: { wsk: 1 } }, "to plain");
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.equal(msgs[0], "to plain");

  // A refused handshake (401) ends in closed 1006 with ws too.
  const r = connect(env.TAGWAMP_CRA_URL, { WebSocket: WS, reconnect: false });
  const err = await r.ready.catch((e) => e);
  assert.equal(err.code, 1006);
});
