// The tagwamp demo page: one session to the server that served the page
// (or to ?ws=<url>), built with tagwamp.js. Every rule it shows is in
// docs/protocol.md: tag topics, tag matching (P ⊆ S), PUBLISH options.
import { connect, topic, parseTopic, CallError } from "./tagwamp.js";

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const url = params.get("ws") || `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/`;

// el builds an element with a class and children (strings become text).
function el(tag, cls, ...children) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  for (const c of children) e.append(c);
  return e;
}
const code = (text) => el("code", "", text);
const now = () => new Date().toLocaleTimeString();

// prepend adds item at the top of list and keeps its newest max items.
function prepend(list, item, max) {
  list.prepend(item);
  while (list.children.length > max) list.lastElementChild.remove();
}

function logConn(text) {
  prepend($("conn-log"), el("li", "", el("span", "muted", now() + " "), text), 100);
}

// ------------------------------------------------------------ connection

let reconnects = 0;
const session = connect(url, { reconnect: { initialDelay: 250, maxDelay: 5000 } });

function showState(state) {
  $("conn").dataset.state = state;
  $("state").textContent = state;
}

session.on("connecting", ({ attempt }) => {
  showState("connecting");
  logConn(`connecting to ${url}` + (attempt > 0 ? ` (reconnect attempt ${attempt})` : ""));
});
session.on("open", ({ sessionId, serverIdent, reconnected }) => {
  if (reconnected) reconnects++;
  showState("open");
  $("reconnects").textContent = String(reconnects);
  $("session-id").textContent = sessionId;
  $("my-id").textContent = sessionId;
  $("close-info").textContent = serverIdent;
  logConn(`open: session ${sessionId}, ${serverIdent}` + (reconnected ? " (reconnected; subscriptions restored)" : ""));
});
session.on("closed", ({ code: c, reason, willReconnect, delay }) => {
  showState("closed");
  $("session-id").textContent = "–";
  $("my-id").textContent = "–";
  const why = `closed: code ${c}` + (reason ? ` "${reason}"` : "");
  const next = willReconnect ? `; reconnecting in ${Math.round(delay ?? 0)} ms` : "; for good";
  $("close-info").textContent = why + next;
  logConn(why + next);
});
session.on("error", (err) => logConn(`error: ${err?.message ?? err}`));

// ------------------------------------------------------------ tag rows

function addTagRow(fieldset, key = "", value = "") {
  const k = el("input", "tag-key");
  k.placeholder = "key";
  k.value = key;
  k.setAttribute("aria-label", "tag key");
  const v = el("input", "tag-value");
  v.placeholder = "value";
  v.value = value;
  v.setAttribute("aria-label", "tag value");
  const rm = el("button", "remove", "×");
  rm.type = "button";
  rm.title = "remove this tag";
  const row = el("div", "tag-row", k, v, rm);
  rm.addEventListener("click", () => {
    row.remove();
    update();
  });
  fieldset.append(row);
  return row;
}

// tagsOf reads a fieldset's rows; rows without a key are left out.
function tagsOf(fieldset) {
  const tags = {};
  for (const row of fieldset.querySelectorAll(".tag-row")) {
    const k = row.querySelector(".tag-key").value.trim();
    if (k !== "") tags[k] = row.querySelector(".tag-value").value;
  }
  return tags;
}

// formTopic builds the topic of a form, or throws its TypeError.
const formTopic = (base, fieldset) => topic($(base).value.trim(), tagsOf($(fieldset)));

function preview(target, base, fieldset) {
  try {
    $(target).textContent = formTopic(base, fieldset);
    $(target).classList.remove("error");
  } catch (e) {
    $(target).textContent = e.message;
    $(target).classList.add("error");
  }
}

// ------------------------------------------------------------ subscribe

const subs = new Map(); // topic -> {unsubscribe, li}

function subscribe(t) {
  if (subs.has(t)) return;
  const events = el("ul", "events");
  const count = el("span", "muted count", "0 events");
  const unsub = el("button", "remove", "unsubscribe");
  unsub.type = "button";
  const li = el("li", "sub", el("div", "sub-head", code(t), count, unsub), events);
  li.dataset.topic = t;
  let n = 0;
  const unsubscribe = session.subscribe(t, (event, matched) => {
    n++;
    count.textContent = `${n} event${n === 1 ? "" : "s"}`;
    const item = el("li", "event", el("span", "time", now()), "topic ", code(matched), " ", code(JSON.stringify(event)));
    item.dataset.event = JSON.stringify(event);
    prepend(events, item, 50);
  });
  unsub.addEventListener("click", () => {
    unsubscribe();
    subs.delete(t);
    li.remove();
    update();
  });
  subs.set(t, { unsubscribe, li });
  $("subs").append(li);
  update();
}

$("sub-add-tag").addEventListener("click", () => addTagRow($("sub-tags")).querySelector("input").focus());
$("sub-form").addEventListener("submit", (e) => {
  e.preventDefault();
  try {
    subscribe(formTopic("sub-base", "sub-tags"));
  } catch (err) {
    $("sub-topic").textContent = err.message;
  }
});

// ------------------------------------------------------------ publish

const ids = (input) => $(input).value.split(/[\s,]+/).filter(Boolean);

function addId(input, id) {
  if (!id || id === "–" || ids(input).includes(id)) return;
  $(input).value = [...ids(input), id].join(", ");
}

$("pub-add-tag").addEventListener("click", () => addTagRow($("pub-tags")).querySelector("input").focus());
$("pub-use-eligible").addEventListener("change", () => {
  $("pub-eligible").disabled = !$("pub-use-eligible").checked;
});
$("exclude-me").addEventListener("click", () => addId("pub-exclude", session.sessionId));
$("eligible-me").addEventListener("click", () => {
  $("pub-use-eligible").checked = true;
  $("pub-eligible").disabled = false;
  addId("pub-eligible", session.sessionId);
});

$("pub-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const status = $("pub-status");
  status.classList.remove("error");
  try {
    const t = formTopic("pub-base", "pub-tags");
    const text = $("pub-event").value.trim();
    const event = text === "" ? null : JSON.parse(text);
    const exclude = ids("pub-exclude");
    const useEligible = $("pub-use-eligible").checked;
    const opts = {};
    if (exclude.length > 0 || useEligible) opts.exclude = exclude;
    if (useEligible) opts.eligible = ids("pub-eligible");
    session.publish(t, event, opts);
    let how = "to every matching session but you";
    if (opts.exclude) how = exclude.length ? `excluding ${exclude.join(", ")}` : "excluding nobody";
    if (opts.eligible) how += opts.eligible.length ? `; only to ${opts.eligible.join(", ")}` : "; eligible: nobody";
    status.textContent = `${now()} published to ${t} (${how})`;
  } catch (err) {
    status.classList.add("error");
    status.textContent = err instanceof SyntaxError ? `event: not JSON (${err.message})` : err.message;
  }
});

// ------------------------------------------------------------ P ⊆ S

// tagSet is a topic's tag set as [key, value] pairs, its base under the
// reserved key (none for a topic without base).
function tagSet(t) {
  const { base, tags } = parseTopic(t);
  const set = Object.entries(tags).map(([k, v]) => [k, v]);
  if (base !== "") set.unshift([null, base]);
  return set;
}

const show = ([k, v]) => (k === null ? `base ${v}` : `${k}=${v}`);

// missing lists what of p a subscription's set s lacks: P ⊆ S when none.
function missing(p, s) {
  return p.filter(([k, v]) => !s.some(([sk, sv]) => sk === k && sv === v));
}

function renderMatch() {
  const list = $("match-list");
  list.replaceChildren();
  let p;
  try {
    p = tagSet(formTopic("pub-base", "pub-tags"));
  } catch (err) {
    $("p-set").textContent = err.message;
    return;
  }
  $("p-set").textContent = "{" + p.map(show).join(", ") + "}" + (p.length === 0 ? " (the empty set: every subscription)" : "");
  if (subs.size === 0) {
    list.append(el("li", "muted", "Subscribe to a topic to see whether it would receive this publication."));
    return;
  }
  for (const t of subs.keys()) {
    const s = tagSet(t);
    const lack = missing(p, s);
    const li = el("li", lack.length === 0 ? "match" : "", code(t),
      el("span", "why", lack.length === 0
        ? "P ⊆ S: receives it"
        : `not reached: S lacks ${lack.map(show).join(", ")}`));
    li.dataset.topic = t;
    li.dataset.match = String(lack.length === 0);
    list.append(li);
  }
}

// ------------------------------------------------------------ call

$("call-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const out = $("call-result");
  const uri = $("call-uri").value.trim();
  let args;
  try {
    const text = $("call-args").value.trim();
    args = text === "" ? [] : JSON.parse(text);
    if (!Array.isArray(args)) throw new SyntaxError("a JSON list, such as [] or [1, \"two\"]");
  } catch (err) {
    out.dataset.status = "error";
    out.textContent = `arguments: ${err.message}`;
    return;
  }
  out.dataset.status = "pending";
  out.textContent = `calling ${uri}…`;
  try {
    const result = await session.call(uri, ...args);
    out.dataset.status = "ok";
    out.textContent = JSON.stringify(result, null, 2);
  } catch (err) {
    out.dataset.status = "error";
    if (err instanceof CallError) {
      out.textContent = `CALLERROR ${err.uri}\n${err.desc}` + (err.details === undefined ? "" : "\n" + JSON.stringify(err.details, null, 2));
    } else {
      out.textContent = `${err.name}: ${err.message}`;
    }
  }
});

// ------------------------------------------------------------ start

function update() {
  preview("sub-topic", "sub-base", "sub-tags");
  preview("pub-topic", "pub-base", "pub-tags");
  $("no-subs").hidden = subs.size > 0;
  renderMatch();
}

for (const id of ["sub-form", "pub-form"]) $(id).addEventListener("input", update);
addTagRow($("sub-tags"), "lang", "FR");
addTagRow($("sub-tags"), "user", "42");
addTagRow($("pub-tags"), "lang", "FR");
update();
