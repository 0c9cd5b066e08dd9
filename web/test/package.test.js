// The package: every export is declared in tagwamp.d.ts and listed in
// README.md, and package.json points at both files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as mod from "../tagwamp.js";

const read = (f) => readFileSync(new URL("../" + f, import.meta.url), "utf8");

test("tagwamp.d.ts declares exactly the exports", () => {
  const declared = [...read("tagwamp.d.ts").matchAll(/^export (?:declare )?(?:class|function|const) (\w+)/gm)].map((m) => m[1]);
  assert.deepEqual([...new Set(declared)].sort(), Object.keys(mod).sort());
});

test("README.md lists every export", () => {
  const readme = read("README.md");
  const api = readme.slice(readme.indexOf("## API"));
  const block = api.slice(0, api.indexOf('} from "tagwamp"'));
  for (const name of Object.keys(mod)) assert.match(block, new RegExp(`\\b${name}\\b`), name);
});

test("package.json", () => {
  const pkg = JSON.parse(read("package.json"));
  assert.equal(pkg.name, "tagwamp");
  assert.equal(pkg.type, "module");
  assert.deepEqual(pkg.exports["."], { types: "./tagwamp.d.ts", default: "./tagwamp.js" });
  assert.deepEqual(pkg.files.sort(), ["README.md", "tagwamp.d.ts", "tagwamp.js"]);
  assert.equal(pkg.engines.node, ">=20");
  assert.deepEqual(pkg.dependencies ?? {}, {});
});
