// Helpers of the integration tests, which run against the real servers that
// web/webtest (go test ./web/webtest) starts and names in the environment.
import { connect } from "../tagwamp.js";

export const env = process.env;

// skip is false when the servers are there, else the reason to skip.
export const skip = env.TAGWAMP_URL ? false : "TAGWAMP_URL is not set: `go test ./web/webtest` starts the servers and runs these tests";

export const PING = "http://tagwamp.dev/procedure#ping";
export const ECHO = "http://tagwamp.dev/procedure#echo";

let unique = 0;
// uniq returns a topic base no other test uses.
export const uniq = (name) => `http://example.com/${name}-${process.pid}-${++unique}`;

// open connects to url (TAGWAMP_URL by default), without reconnecting unless
// options say so, waits until the session is open, and closes it when the
// test t ends.
export async function open(t, options = {}, url = env.TAGWAMP_URL) {
  const s = connect(url, { reconnect: false, ...options });
  t.after(() => s.close());
  await s.ready;
  return s;
}

// sync resolves once the server has handled everything s sent before it: a
// session's messages are handled in order (docs/protocol.md#ordering).
export const sync = (s) => s.call(PING);

// collect subscribes to topic and returns the events it gets, with
// waitFor(n) that resolves once it holds n of them.
export function collect(s, topic) {
  const got = [];
  let waiters = [];
  const off = s.subscribe(topic, (event, t) => {
    got.push({ event, topic: t });
    waiters = waiters.filter((w) => !w());
  });
  got.off = off;
  got.waitFor = (n) => new Promise((resolve) => {
    const w = () => (got.length >= n ? (resolve(got), true) : false);
    if (!w()) waiters.push(w);
  });
  got.until = (event) => new Promise((resolve) => {
    const w = () => (got.some((e) => e.event === event) ? (resolve(got), true) : false);
    if (!w()) waiters.push(w);
  });
  return got;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
