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

step("the builder: an RSI strategy on ORCL from the registry's indicators, nested groups, the JSON view and the API's errors at their field", async () => {
  await page.getByRole("link", { name: "Strategies" }).click();
  await page.getByText("No strategy yet").waitFor();
  await page.getByRole("link", { name: "New strategy" }).click();
  await page.getByLabel("Name", { exact: true }).fill("RSI on ORCL");
  await page.getByLabel("Pair or symbol").fill("ORCL");
  await page.getByLabel("Timeframe").selectOption("1d");
  const entry = page.locator("fieldset.rule").first();
  const exit = page.locator("fieldset.rule").nth(1);
  // Entry: RSI(14) < 30, picked from the registry (the blank starts elsewhere on purpose)
  await entry.getByLabel("indicator: indicator").first().selectOption("sma");
  await entry.getByLabel("indicator: indicator").first().selectOption("rsi");
  await entry.getByLabel("indicator: period").first().fill("14");
  await entry.getByLabel("operator").first().selectOption("less_than");
  await entry.getByLabel("value", { exact: true }).first().fill("30");
  // A nested OR group, then removed again: the tree edits both ways
  await entry.getByRole("button", { name: "+ Group" }).first().click();
  await entry.locator("fieldset.group").first().waitFor();
  await entry.getByRole("button", { name: "Remove this group" }).click();
  assert.equal(await entry.locator("fieldset.group").count(), 0);
  await exit.getByLabel("indicator: indicator").first().selectOption("rsi");
  await exit.getByLabel("operator").first().selectOption("greater_than");
  await exit.getByLabel("value", { exact: true }).first().fill("70");
  await page.getByLabel("Position size").fill("0.95");
  await shot("builder");
  // The JSON view holds the same document, and edits to it come back into the builder.
  await page.getByRole("tab", { name: "JSON" }).click();
  const doc = JSON.parse(await page.getByLabel("Strategy JSON").inputValue());
  assert.deepEqual(doc.rules[0].conditions, [{ indicator: "RSI", params: { period: 14 }, operator: "less_than", value: 30 }]);
  assert.deepEqual(doc.rules[1].conditions, [{ indicator: "RSI", params: { period: 14 }, operator: "greater_than", value: 70 }]);
  assert.deepEqual(doc.entry_rules, ["entry"]);
  doc.rules[0].conditions[0].params.period = 1; // below the registry's minimum: the server says so
  await page.getByLabel("Strategy JSON").fill(JSON.stringify(doc, null, 2));
  await page.getByRole("button", { name: "Use this JSON" }).click();
  assert.equal(await entry.getByLabel("indicator: period").first().inputValue(), "1");
  await page.getByRole("button", { name: "Create the strategy" }).click();
  const problem = entry.locator(".cond .node-errors").first();
  await problem.waitFor();
  assert.match(await problem.textContent(), /params\/period: must be an integer from 2/);
  assert.deepEqual(problems.splice(0), ["console: Failed to load resource: the server responded with a status of 422 (Unprocessable Content)"]);
  await entry.getByLabel("indicator: period").first().fill("14");
  await page.getByRole("button", { name: "Create the strategy" }).click();
  await page.getByText("Saved as version 1.").waitFor();
  await page.getByText("Buy when RSI(14) < 30").waitFor();
  await shot("strategy");
  assert.deepEqual(problems, []);
});

step("editing saves a new version; an old one can be read and restored", async () => {
  await page.getByRole("link", { name: "Edit", exact: true }).click();
  const entry = page.locator("fieldset.rule").first();
  await entry.getByLabel("indicator: period").first().fill("10");
  await page.getByRole("button", { name: "Save a new version" }).click();
  await page.getByText("Saved as version 2.").waitFor();
  await page.getByText("Buy when RSI(10) < 30").waitFor();
  await page.getByRole("button", { name: "v1", exact: true }).click();
  assert.match(await page.locator(".versions pre.json").first().textContent(), /"period": 14/);
  await page.getByRole("button", { name: "Restore as the newest version" }).first().click();
  await page.getByText("Buy when RSI(14) < 30").waitFor();
  await page.getByText("version 3", { exact: false }).first().waitFor();
  assert.deepEqual(problems, []);
});

step("a backtest on ORCL: live progress, the equity chart and its 14 trades", async () => {
  await page.getByRole("link", { name: "Backtest", exact: true }).click();
  await page.getByRole("button", { name: "Run the backtest" }).click();
  await page.waitForURL(/\/backtests\/[0-9a-f-]{36}$/);
  await page.getByTestId("metrics").waitFor({ timeout: 60_000 });
  await page.getByRole("heading", { name: "Trades (14)" }).waitFor();
  assert.equal(await page.getByTestId("trades").locator("tbody tr").count(), 14);
  await page.getByRole("img", { name: "Equity curve" }).locator("canvas").first().waitFor();
  await page.getByRole("img", { name: "Candles with trades marked" }).locator("canvas").first().waitFor();
  // sortable: by net P&L, largest first, then again smallest first
  const pnl = async () =>
    (await page.getByTestId("trades").locator("tbody tr td:nth-child(7)").allTextContents()).map((t) => Number(t.replace(/[^0-9.-]/g, "")));
  await page.getByRole("button", { name: /Net P&L/ }).click();
  const desc = await pnl();
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
  assert.ok(desc[0] > 0 && desc[13] < 0, "winners and losers both");
  await page.getByRole("button", { name: /Net P&L/ }).click();
  assert.deepEqual(await pnl(), [...desc].reverse());
  await shot("backtest");
  assert.deepEqual(problems, []);
});

step("activated in paper mode on the replayed feed, its trade appears on the dashboard without a reload", async () => {
  await page.getByRole("link", { name: "Strategies" }).click();
  await page.getByRole("link", { name: "RSI on ORCL" }).click();
  // This server does not trade live (no FEATURE_LIVE_TRADING): the choice is there, switched off.
  assert.ok(await page.getByRole("button", { name: "Live", exact: true }).isDisabled());
  await page.getByRole("button", { name: "Activate in paper mode" }).click();
  await page.getByText("active · paper").waitFor();
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByTestId("portfolio-card").waitFor();
  const before = await page.evaluate(() => performance.getEntriesByType("navigation").length);
  await page.getByTestId("recent-trades").locator("tbody tr").first().waitFor({ timeout: 90_000 });
  const row = await page.getByTestId("recent-trades").locator("tbody tr").first().textContent();
  assert.match(row, /ORCL/);
  assert.equal(await page.evaluate(() => performance.getEntriesByType("navigation").length), before, "no reload");
  await shot("dashboard");
  assert.deepEqual(problems, []);
});

step("the portfolio page: performance, positions priced live, trades and the equity curve", async () => {
  await page.getByTestId("portfolio-card").getByRole("link").click();
  await page.getByTestId("performance").waitFor();
  await page.getByRole("heading", { name: /^Trades \([1-9]\d*\)$/ }).waitFor();
  if (await page.getByTestId("positions").count()) {
    // The replayed feed moves ORCL's price 30 times a second: the open position's price follows.
    const cell = page.getByTestId("position-price").first();
    const first = await cell.textContent();
    await page.waitForFunction((el) => el.textContent !== el.dataset.first, await cell.evaluateHandle((el, f) => ((el.dataset.first = f), el), first), { timeout: 15_000 });
  }
  await page.getByRole("img", { name: "Portfolio equity" }).locator("canvas").first().waitFor({ timeout: 30_000 });
  await shot("portfolio");
  assert.deepEqual(problems, []);
});

step("a second paper portfolio in EUR from the dashboard, its amount checked at the field", async () => {
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByRole("button", { name: "+ Paper portfolio" }).click();
  await page.getByLabel("Portfolio name").fill("Savings");
  await page.getByLabel("Currency").selectOption("EUR");
  await page.getByLabel("Starting cash").fill("12.345");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  await page.getByText("A positive amount with at most 2 decimals").waitFor();
  await page.getByLabel("Starting cash").fill("2500.50");
  await page.getByRole("button", { name: "Create", exact: true }).click();
  const card = page.getByTestId("portfolio-card").filter({ hasText: "Savings" });
  await card.waitFor();
  assert.equal(await card.getByTestId("equity").textContent(), "€2,500.50");
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
  // With the keyboard alone: into the password field, type, Enter.
  await page.getByLabel("Email").focus();
  await page.keyboard.press("Tab");
  await page.keyboard.press("Control+A");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: "Settings" }).waitFor();
  await shot("login-back-to-settings");
  assert.deepEqual(problems, []);
});

step("at 375 px wide every page still reads: nothing wider than the screen", async () => {
  await page.setViewportSize({ width: 375, height: 800 });
  for (const [path, heading, name] of [
    ["/", "Dashboard", "dashboard-375"],
    ["/strategies/new", "New strategy", "builder-375"],
    ["/backtests", "Backtests", "backtests-375"],
    ["/market?symbol=ORCL", "Market", "market-375"],
    ["/settings", "Settings", "settings-375"],
  ]) {
    await page.goto(path);
    await page.getByRole("heading", { name: heading }).waitFor();
    await page.waitForLoadState("networkidle").catch(() => {});
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await shot(name);
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
        .slice(0, 4)
        .map((e) => `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)}px)`),
    );
    assert.ok(overflow <= 0, `${path} is ${overflow}px wider than the screen: ${wide.join(", ")}`);
  }
  assert.deepEqual(problems, []);
});
