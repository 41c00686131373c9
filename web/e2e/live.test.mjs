// Live trading in the browser against a local Binance stub (tests/stubs/binance_stub.py, which
// checks every signature as Binance would): a key stored in Settings, the strategy started live
// with a per-order limit after the explicit confirmation, its orders at the venue, the drift
// report, and the kill switch in the header. Nothing leaves 127.0.0.1.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { launch, watchedPage } from "./browser.mjs";
import { repo, startServer } from "./server.mjs";

const shots = process.env.APEX_SHOTS ?? join(repo, "build/web-e2e");
mkdirSync(shots, { recursive: true });
// Binance's documented example key pair (the stub accepts only these).
const KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A";
const SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j";
const email = `live-${Date.now()}@example.com`;
const password = "Live-password-2026!";

let stub, stubDir, srv, browser, page, problems;

async function startStub() {
  stubDir = mkdtempSync(join(tmpdir(), "apex-stub-"));
  const proc = spawn("/usr/bin/python3", [join(repo, "tests/stubs/binance_stub.py"), "--port", "0", "--state", join(stubDir, "state.json"),
                                          "--api-key", KEY, "--api-secret", SECRET], { stdio: ["ignore", "pipe", "inherit"] });
  const line = await new Promise((ok, fail) => {
    createInterface({ input: proc.stdout }).once("line", ok);
    proc.once("exit", (c) => fail(new Error(`the Binance stub exited (${c})`)));
  });
  assert.match(line, /^listening \d+$/);
  const url = `http://127.0.0.1:${line.split(" ")[1]}`;
  const ctl = async (method, path, body) => {
    const r = await fetch(url + path, { method, headers: { "content-type": "application/json" }, body: body && JSON.stringify(body) });
    const text = await r.text();
    assert.equal(r.status, 200, `${path}: ${text}`);
    return JSON.parse(text);
  };
  return { proc, url, ctl };
}

before(async () => {
  stub = await startStub();
  await stub.ctl("POST", "/_stub/price", { symbol: "BTCUSDT", price: "0.0025" }); // the sample's prices are 0.0016-0.0027
  await stub.ctl("POST", "/_stub/config", { filters: { BTCUSDT: { maxQty: "100000000", tickSize: "0.00000001" } } });
  await stub.ctl("POST", "/_stub/balances", { USDT: "10000", BTC: "0" });
  srv = await startServer({
    FEATURE_LIVE_TRADING: "true",
    BINANCE_TRADE_URL: stub.url,
    MARKET_REPLAY_FILE: join(repo, "data/btc-usdt-1m.json"),
    MARKET_REPLAY_SYMBOL: "BTC/USDT",
    MARKET_REPLAY_TIMEFRAME: "1m",
    MARKET_REPLAY_SPEED: "1500", // 25 candles a second: the strategy still runs when the switch is thrown
    MARKET_REPLAY_FROM: "2017-11-13",
  });
  browser = await launch();
  const context = await browser.newContext({ baseURL: srv.base, viewport: { width: 1280, height: 860 } });
  ({ page, problems } = await watchedPage(context));
});

after(async () => {
  await browser?.close();
  await srv?.stop();
  stub?.proc.kill("SIGTERM");
  if (stubDir) rmSync(stubDir, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

async function until(what, fn, ms = 60_000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test("a strategy started live from its page trades at the venue, shows its drift, and the kill switch stops it", async () => {
  try {
    // An account and a strategy through the API; everything live happens in the browser.
    const call = async (method, path, body, token) => {
      const r = await fetch(`${srv.base}/api/v1${path}`, {
        method,
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body && JSON.stringify(body),
      });
      return { status: r.status, body: r.status === 204 ? null : await r.json() };
    };
    assert.equal((await call("POST", "/auth/register", { email, password })).status, 201);
    const token = (await call("POST", "/auth/login", { email, password })).body.access_token;
    const doc = { ...JSON.parse(readFileSync(join(repo, "examples/mean_reversion_btc.json"), "utf8")), timeframe: "1m" };
    const sid = (await call("POST", "/strategies", doc, token)).body.id;

    await page.goto("/login");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();

    // Without a key the live form says where to get one.
    await page.goto(`/strategies/${sid}`);
    await page.getByRole("button", { name: "Live", exact: true }).click();
    await page.getByRole("link", { name: "store one in Settings" }).click();
    await page.getByLabel("Label").fill("Binance testnet");
    await page.getByLabel("API key").fill(KEY);
    await page.getByLabel("API secret").fill(SECRET);
    await page.getByRole("button", { name: "Store the key" }).click();
    await page.locator("tr", { hasText: "Binance testnet" }).waitFor();

    await page.goto(`/strategies/${sid}`);
    await page.getByRole("button", { name: "Live", exact: true }).click();
    await page.getByLabel("Broker key").waitFor();
    const start = page.getByRole("button", { name: "Start live trading" });
    assert.ok(await start.isDisabled(), "nothing starts before the user confirms real orders");
    await page.getByLabel("Largest order").fill("-5");
    await page.getByRole("checkbox").check();
    await start.click();
    await page.getByRole("alert").filter({ hasText: "greater than 0" }).waitFor(); // the API's own words
    // A per-order limit far below what the strategy buys: its orders fail before the venue, and
    // the live orders page says why.
    await page.getByLabel("Largest order").fill("100");
    await shot("live-activate");
    await start.click();
    await page.getByText("active · live").waitFor();
    let run = (await call("GET", `/strategies/${sid}/run`, null, token)).body;
    assert.equal(run.mode, "live");
    assert.equal(String(run.max_order_notional), "100");
    await page.getByRole("link", { name: "Live orders and positions" }).click();
    await page.getByText("above the strategy's maximum order value").first().waitFor({ timeout: 60_000 });
    assert.equal((await stub.ctl("GET", "/_stub/orders")).length, 0, "nothing refused reached the venue");
    await shot("live-refused");
    await page.goBack();
    await page.getByRole("button", { name: "Pause trading" }).click();
    await page.getByRole("button", { name: "Live", exact: true }).click();
    await page.getByLabel("Capital").fill("1000");
    await page.getByLabel("Largest order").fill("2000");
    await page.getByRole("checkbox").check();
    await start.click();
    await page.getByText("active · live").waitFor();
    run = (await call("GET", `/strategies/${sid}/run`, null, token)).body;
    assert.equal(String(run.capital), "1000");

    // Its orders reach the venue under our client order ids; the header offers the kill switch.
    await until("an order at the stub", async () => (await stub.ctl("GET", "/_stub/orders")).length > 0);
    const kill = page.getByRole("button", { name: "Kill switch" });
    await kill.waitFor();
    await page.getByRole("link", { name: "Live orders and positions" }).click();
    await page.locator("tbody tr", { hasText: "filled" }).first().waitFor();
    await page.goBack();
    await page.getByRole("heading", { name: /Drift: live fills against the backtest/ }).waitFor();
    await shot("live-strategy");

    page.once("dialog", (d) => d.accept());
    await kill.click();
    await page.getByRole("status").filter({ hasText: "Stopped 1 live strategy" }).waitFor();
    assert.equal((await call("GET", `/strategies/${sid}`, null, token)).body.status, "paused");
    assert.equal((await call("GET", `/strategies/${sid}/run`, null, token)).body.status, "stopped");
    assert.equal((await call("GET", "/trading/status", null, token)).body.live_strategies, 0);
    await page.getByRole("button", { name: "Live", exact: true }).waitFor(); // it can be started again
    await shot("live-killed");
    // The one 422 is the limit of -5 above, refused on purpose.
    assert.deepEqual(problems.filter((p) => !/status of 422/.test(p)), []);
  } catch (e) {
    await page?.screenshot({ path: join(shots, "FAILED-live.png"), fullPage: true }).catch(() => {});
    throw e;
  }
});
