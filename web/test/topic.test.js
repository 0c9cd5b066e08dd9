// Unit tests: tag topics (docs/protocol.md#tag-topics) and the backoff.
import { test } from "node:test";
import assert from "node:assert/strict";
import { topic, parseTopic, encodeTag, backoffDelay } from "../tagwamp.js";

test("topic sorts keys and percent-encodes values", () => {
  assert.equal(topic("http://example.com/news", { user: 42, lang: "FR" }), "http://example.com/news?lang=FR&user=42");
  assert.equal(topic("news", { q: "a&b" }), "news?q=a%26b");
  assert.equal(topic("news", { q: "a=b" }), "news?q=a%3Db");
  assert.equal(topic("news", { q: "100%" }), "news?q=100%25");
  assert.equal(topic("news", { q: "what?#frag" }), "news?q=what%3F%23frag");
  assert.equal(topic("news", { q: "a+b c" }), "news?q=a%2Bb%20c");
  assert.equal(topic("news", { city: "Zürich", emoji: "😀", ja: "東京" }),
    "news?city=Z%C3%BCrich&emoji=%F0%9F%98%80&ja=%E6%9D%B1%E4%BA%AC");
  assert.equal(topic("news", { empty: "" }), "news?empty=");
  assert.equal(topic("news", { a: "", b: "" }), "news?a=&b=");
});

test("topic without tags is the base; an empty base has none", () => {
  assert.equal(topic("http://example.com/news"), "http://example.com/news");
  assert.equal(topic("http://example.com/news", {}), "http://example.com/news");
  assert.equal(topic("", { user: 42 }), "?user=42");
  assert.equal(topic("http://example.com/t#news", { a: "1" }), "http://example.com/t#news?a=1");
});

test("topic accepts a Map, numbers and bigints", () => {
  assert.equal(topic("n", new Map([["b", 2], ["a", "1"]])), "n?a=1&b=2");
  assert.equal(topic("n", { big: 12345678901234567890n, neg: -0, f: 1.5 }), "n?big=12345678901234567890&f=1.5&neg=0");
});

test("topic refuses bad keys, values and bases", () => {
  for (const k of ["", "a b", "a=b", "a&b", "é", "a?", "%41"]) {
    assert.throws(() => topic("n", { [k]: "x" }), TypeError, k);
  }
  for (const v of [null, undefined, true, {}, [], NaN, Infinity]) {
    assert.throws(() => topic("n", { k: v }), TypeError, String(v));
  }
  assert.throws(() => topic("n", { k: "\uD800" }), TypeError);
  assert.throws(() => topic("n?x=1", { k: "v" }), TypeError);
  assert.throws(() => topic(42, {}), TypeError);
  assert.ok(topic("n", { "A-z_0.9": "ok" }));
});

test("parseTopic reads what topic writes", () => {
  const tags = { amp: "a&b", eq: "a=b", pct: "%41", q: "?#", plus: "+", sp: " ", uni: "Zürich 😀", empty: "" };
  assert.deepEqual(parseTopic(topic("http://example.com/news", tags)), { base: "http://example.com/news", tags });
  assert.deepEqual(parseTopic("news"), { base: "news", tags: {} });
  assert.deepEqual(parseTopic("news?&&a=1&"), { base: "news", tags: { a: "1" } });
  assert.deepEqual(parseTopic("news?a=1+2"), { base: "news", tags: { a: "1+2" } });
  for (const bad of ["n?a", "n?a=%4", "n?a=%zz", "n?a=1&a=2", "n?a%20b=1", "n?a=%FF"]) {
    assert.throws(() => parseTopic(bad), TypeError, bad);
  }
});

test("encodeTag", () => {
  assert.equal(encodeTag("a&b=c%d"), "a%26b%3Dc%25d");
  assert.throws(() => encodeTag("\uDC00"), TypeError);
});

test("backoffDelay grows, caps and jitters", () => {
  const o = { initialDelay: 100, maxDelay: 1000, factor: 2, jitter: 0.5 };
  assert.equal(backoffDelay(0, o, () => 0), 100);
  assert.equal(backoffDelay(3, o, () => 0), 800);
  assert.equal(backoffDelay(10, o, () => 0), 1000);
  assert.equal(backoffDelay(10, o, () => 1), 500);
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(2, o);
    assert.ok(d >= 200 && d <= 400, String(d));
  }
  assert.equal(backoffDelay(0, {}, () => 0), 500); // the defaults
});
