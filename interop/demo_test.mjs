// demo_test.mjs drives tagwamp's demo page (package web) in Debian's
// Chromium with playwright-core; TestDemo (demo_test.go) runs it against a
// real server and checks the JSON object of its last line. It never
// downloads a browser.
//
// Environment: TAGWAMP_PAGE_URL (the page), TAGWAMP_CONTROL_URL (the Go
// test: POST /go-publish {topic, event} publishes from a Go client, POST
// /restart restarts the server on the same port), TAGWAMP_CHROMIUM,
// TAGWAMP_SCREENSHOT and TAGWAMP_SCREENSHOT_PHONE (PNG paths).
import { chromium } from "playwright-core";

const env = (k) => {
  if (!process.env[k]) throw new Error(`${k} is not set`);
  return process.env[k];
};
const pageURL = env("TAGWAMP_PAGE_URL"), control = env("TAGWAMP_CONTROL_URL");
const step = (s) => console.log(`step: ${s}`);
const fail = (msg) => { throw new Error(msg); };

// The whole run is bounded; Go's timeout is the backstop.
const watchdog = setTimeout(() => {
  console.log("demo_test.mjs: timed out after 75s");
  process.exit(2);
}, 75_000);

async function post(url, body) {
  const r = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) fail(`POST ${url}: ${r.status} ${text}`);
  return text;
}

const server = await chromium.launchServer({
  executablePath: env("TAGWAMP_CHROMIUM"),
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
// The Go test ends Chromium's process group by this pid too.
console.log(`browser-pid ${server.process().pid}`);
const browser = await chromium.connect(server.wsEndpoint());

const consoleErrors = [];
let restarting = false;
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("console", (m) => {
    if (m.type() !== "error" && m.type() !== "warning") return;
    // While the server restarts, a reconnect attempt may find the port
    // closed: Chromium logs that failed WebSocket, which is expected then.
    if (restarting && /WebSocket connection to .* failed/.test(m.text())) return;
    consoleErrors.push(`${m.type()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`pageerror: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) consoleErrors.push(`HTTP ${r.status()} ${r.url()}`);
  });

  step("load");
  await page.goto(pageURL);
  await page.waitForSelector('#conn[data-state="open"]');
  const firstId = (await page.textContent("#session-id")).trim();
  const fav = await page.evaluate(async () => {
    const r = await fetch("/favicon.ico");
    return `${r.status} ${r.headers.get("content-type")}`;
  });
  if (fav !== "200 image/svg+xml") fail(`favicon: ${fav}`);

  // setTags replaces the rows of a form's tag fieldset.
  async function setTags(which, pairs) {
    const rows = page.locator(`#${which}-tags .tag-row`);
    while (await rows.count() > 0) await rows.first().locator("button.remove").click();
    for (const [k, v] of pairs) {
      await page.click(`#${which}-add-tag`);
      await rows.last().locator(".tag-key").fill(k);
      await rows.last().locator(".tag-value").fill(v);
    }
  }
  // call calls a procedure from the page's form and returns the result's text.
  async function call(uri) {
    await page.fill("#call-uri", uri);
    await page.fill("#call-args", "[]");
    await page.evaluate(() => { document.getElementById("call-result").dataset.status = "none"; });
    await page.click("#call");
    await page.waitForSelector('#call-result[data-status="ok"], #call-result[data-status="error"]');
    return { status: await page.getAttribute("#call-result", "data-status"), text: await page.textContent("#call-result") };
  }

  step("subscribe to news?lang=FR&user=42 through the form");
  const sub = "news?lang=FR&user=42";
  await page.fill("#sub-base", "news");
  await setTags("sub", [["lang", "FR"], ["user", "42"]]);
  if ((await page.textContent("#sub-topic")) !== sub) fail(`topic preview ${await page.textContent("#sub-topic")}`);
  await page.click("#subscribe");
  const subLi = page.locator(`#subs li.sub[data-topic="${sub}"]`);
  await subLi.waitFor();
  // The session's messages are handled in order: once this call is
  // answered, the SUBSCRIBE is in.
  const info = await call("http://tagwamp.dev/procedure#server-info");
  if (info.status !== "ok" || !info.text.includes('"subscriptions": 1')) fail(`server-info: ${info.status} ${info.text}`);
  const nope = await call("http://example.com/nope");
  if (nope.status !== "error" || !nope.text.includes("CALLERROR http://api.wamp.ws/error#NoSuchRPCEndpoint")) fail(`CALLERROR: ${nope.text}`);
  const callText = (await call("http://tagwamp.dev/procedure#server-info")).text;

  const event = (from) => subLi.locator(`li.event[data-event='${JSON.stringify({ from })}']`);
  async function received(from) {
    await event(from).waitFor();
    const text = await event(from).textContent();
    if (!text.includes(`topic ${sub}`)) fail(`event ${from} shows no matched topic: ${text}`);
  }

  step("a Go client publishes to news?lang=FR");
  await post(`${control}/go-publish`, { topic: "news?lang=FR", event: { from: "go" } });
  await received("go");

  step("POST /api/publish to news?lang=FR, then news?lang=EN");
  const api = new URL("/api/publish", pageURL).href;
  let r = JSON.parse(await post(api, { topic: "news?lang=FR", event: { from: "api" } }));
  if (r.receivers !== 1) fail(`api publish: ${JSON.stringify(r)}`);
  await received("api");
  r = JSON.parse(await post(api, { topic: "news?lang=EN", event: { from: "en" } }));
  if (r.receivers !== 0) fail(`news?lang=EN reached ${JSON.stringify(r)}`);

  step("P ⊆ S panel follows the publication's tags");
  await page.fill("#pub-base", "news");
  await setTags("pub", [["lang", "EN"]]);
  const matchLi = page.locator(`#match-list li[data-topic="${sub}"]`);
  if ((await matchLi.getAttribute("data-match")) !== "false") fail("lang=EN shown as a match");
  await page.locator("#pub-tags .tag-row .tag-value").last().fill("FR");
  if ((await matchLi.getAttribute("data-match")) !== "true") fail("lang=FR not shown as a match");

  step("publish from the page: exclude me, then eligible me");
  await page.fill("#pub-event", JSON.stringify({ from: "page-excluded" }));
  await page.fill("#pub-exclude", "");
  await page.click("#exclude-me");
  if ((await page.inputValue("#pub-exclude")) !== firstId) fail(`exclude field ${await page.inputValue("#pub-exclude")}`);
  await page.click("#publish");
  await page.fill("#pub-event", JSON.stringify({ from: "page-eligible" }));
  await page.fill("#pub-exclude", "");
  await page.click("#eligible-me");
  await page.click("#publish");
  await received("page-eligible"); // published after page-excluded: that one is out, or lost
  if (await event("page-excluded").count() !== 0) fail("received its own event though it excluded itself");
  if (await event("en").count() !== 0) fail("received news?lang=EN");

  step("the server restarts; the page reconnects");
  restarting = true;
  await post(`${control}/restart`, {});
  await page.waitForSelector('#conn[data-state="open"]');
  await page.waitForFunction(() => document.getElementById("reconnects").textContent === "1");
  restarting = false;
  const secondId = (await page.textContent("#session-id")).trim();
  const again = await call("http://tagwamp.dev/procedure#server-info"); // the SUBSCRIBE sent again is in
  if (!again.text.includes('"subscriptions": 1')) fail(`after restart: ${again.text}`);
  await post(`${control}/go-publish`, { topic: "news?lang=FR", event: { from: "go-after-restart" } });
  await received("go-after-restart");

  step("screenshots");
  // The published and exclude fields as a reader would leave them.
  await page.fill("#pub-eligible", secondId);
  await page.locator("#pub-eligible").blur();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: env("TAGWAMP_SCREENSHOT"), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) fail(`on a phone the page scrolls sideways by ${overflow}px`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: env("TAGWAMP_SCREENSHOT_PHONE"), fullPage: false });

  const reconnects = await page.textContent("#reconnects");
  const receivedList = await subLi.locator("li.event").evaluateAll((els) => els.map((e) => JSON.parse(e.dataset.event).from).reverse());
  await context.close();
  console.log(JSON.stringify({
    ok: true, consoleErrors, received: receivedList, sessions: [firstId, secondId],
    call: callText, reconnects,
  }));
} catch (e) {
  console.log(`demo_test.mjs: ${e.stack ?? e}`);
  console.log(JSON.stringify({ ok: false, consoleErrors, error: String(e) }));
  process.exitCode = 1;
} finally {
  await browser.close();
  await server.close();
  clearTimeout(watchdog);
}
