// End to end against a real server (server.mjs) in Debian's Chromium (browser.mjs): what a new user
// does after `make run`. Screenshots go to APEX_SHOTS (default build/web-e2e), one per page.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launch, watchedPage } from "./browser.mjs";
import { repo, startServer } from "./server.mjs";

const shots = process.env.APEX_SHOTS ?? join(repo, "build/web-e2e");
mkdirSync(shots, { recursive: true });

let srv, browser, context, page, problems;
const email = `e2e-${Date.now()}@example.com`;
const password = "E2e-password-2026!";

before(async () => {
  srv = await startServer();
  browser = await launch();
  context = await browser.newContext({ baseURL: srv.base, viewport: { width: 1280, height: 860 } });
  ({ page, problems } = await watchedPage(context));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

/** A test whose failure leaves a screenshot of the page as it was (FAILED-<n>.png). */
let n = 0;
function step(name, fn) {
  const k = ++n;
  test(name, async () => {
    try {
      await fn();
    } catch (e) {
      await page?.screenshot({ path: join(shots, `FAILED-${k}.png`), fullPage: true }).catch(() => {});
      throw e;
    }
  });
}

step("the root serves the app with its security headers; unknown API paths stay JSON", async () => {
  const r = await fetch(`${srv.base}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type"), /^text\/html/);
  assert.equal(r.headers.get("cache-control"), "no-store");
  assert.equal(r.headers.get("content-security-policy"), "default-src 'self'");
  assert.equal(r.headers.get("x-frame-options"), "DENY");
  const html = await r.text();
  const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];
  assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, "no inline script");
  const a = await fetch(srv.base + asset);
  assert.equal(a.status, 200);
  assert.equal(a.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const deep = await fetch(`${srv.base}/market?symbol=ORCL`);
  assert.equal(deep.status, 200, "a client route gets index.html");
  assert.equal(deep.headers.get("cache-control"), "no-store");
  const api = await fetch(`${srv.base}/api/v1/nothing-here`);
  assert.equal(api.status, 404);
  assert.equal(api.headers.get("content-type"), "application/problem+json");
  const missing = await fetch(`${srv.base}/assets/missing-1234.js`);
  assert.equal(missing.status, 404);
});

step("a visitor is sent to log in, signs up and lands on the dashboard", async () => {
  await page.goto("/");
  await page.waitForURL("**/login");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("First name").fill("Ada");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password", { exact: true }).fill("short");
  await page.getByLabel("Password again").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByText("At least 10 characters").first().waitFor();
  await page.getByLabel("Password", { exact: true }).fill(password);
  await page.getByLabel("Password again").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  await page.getByText("No portfolio yet").waitFor();
  await page.getByText("No trade yet.").waitFor();
  await shot("dashboard-empty");
  assert.deepEqual(problems, []);
});

step("a reload keeps the session (the refresh cookie), and the market page draws candles", async () => {
  await page.goto("/market?symbol=ORCL");
  await page.getByRole("heading", { name: "Market" }).waitFor();
  await page.locator(".chart canvas").first().waitFor();
  await page.getByRole("button", { name: "1w", exact: true }).click();
  await page.waitForURL(/timeframe=1w/);
  await page.locator(".chart canvas").first().waitFor();
  const price = await page.getByTestId("last-price").textContent();
  assert.match(price ?? "", /^\d+(\.\d+)?$/, "the last stored close");
  await page.selectOption("select", "BTC/USDT");
  await page.getByRole("button", { name: "5m", exact: true }).click();
  await page.locator(".chart canvas").first().waitFor();
  await shot("market");
  assert.deepEqual(problems, []);
});

step("settings: the profile's timezone changes how times read; an API key shows only its hint", async () => {
  await page.getByRole("link", { name: "Settings" }).click();
  await page.getByLabel("Timezone").selectOption("Asia/Tokyo");
  await page.getByRole("button", { name: "Save" }).click();
  await page.getByText("Saved.").waitFor();
  await page.getByLabel("Label").fill("testnet");
  await page.getByLabel("API key").fill("abcdefghijklmnop1234");
  await page.getByLabel("API secret").fill("the-secret-value-5678");
  await page.getByRole("button", { name: "Store the key" }).click();
  const row = page.locator("tr", { hasText: "testnet" });
  await row.waitFor();
  const text = await row.textContent();
  assert.doesNotMatch(text, /abcdefghijklmnop1234|the-secret-value-5678/);
  assert.match(text, /1234/);
  await shot("settings");
  assert.deepEqual(problems, []);
});

step("log out ends the session: a reload asks to log in again, and logging in works", async () => {
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL("**/login");
  await page.goto("/settings");
  await page.waitForURL("**/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong-password-123");
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("alert").waitFor();
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await shot("login-back-to-settings");
  assert.deepEqual(problems, []);
});

step("at 375 px wide the dashboard still reads", async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto("/");
  await page.getByRole("heading", { name: "Dashboard" }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await shot("dashboard-375");
});
