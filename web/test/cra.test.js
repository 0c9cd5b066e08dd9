// Unit tests: WAMP-CRA keys and signatures (docs/protocol.md#wamp-cra), the
// vectors of auth's Go tests (TestDeriveKeyAndSignVectors in auth/cra_test.go).
import { test } from "node:test";
import assert from "node:assert/strict";
import { deriveKey, signChallenge } from "../tagwamp.js";

const secret = "B4ajW3P7jfWEYPZsQV8mnteHg97G67uW";
const challenge = '{"authid":"X","authkey":"application1"}';

test("no salt: the secret is the key", async () => {
  assert.equal(await deriveKey(secret, undefined), secret);
  assert.equal(await deriveKey(secret, {}), secret);
  assert.equal(await signChallenge(secret, challenge), "ZxCGdsJApJSf9zBOQOd2rUoZQxI5GITwB4iZwoCCv+I=");
});

test("PBKDF2 as RFC 7914", async () => {
  const want = Buffer.from("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b", "hex").toString("base64");
  assert.equal(await deriveKey("password", { salt: "salt", iterations: 1, keylen: 32 }), want);
});

test("salt with the defaults (10000 iterations, 32 bytes)", async () => {
  const key = await deriveKey(secret, { salt: "salt123" });
  assert.equal(key, "Qd55B0iRqtjODVSCnw0Uw3YJMmDRSvuHkczlDvR1hvk=");
  assert.equal(await signChallenge(key, challenge), "r4BwpLl/xSuznTwFeNXK2a6PJVEOwyWjCbEoEoHYjqQ=");
});

test("salt, 100 iterations, 16 bytes", async () => {
  assert.equal(await deriveKey(secret, { salt: "salt123", iterations: 100, keylen: 16 }), "9j3hBe5TKFYw/OTKoO56/w==");
});

test("non-ASCII secrets and challenges are UTF-8", async () => {
  const crypto = await import("node:crypto");
  const want = crypto.createHmac("sha256", "sécret😀").update('{"a":"é"}').digest("base64");
  assert.equal(await signChallenge("sécret😀", '{"a":"é"}'), want);
});
