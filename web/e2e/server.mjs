// A real `apextrade serve` for the browser tests: its own data directory with the repository's
// sample candles imported, the built UI (web/dist), the replayed ORCL feed for paper trading,
// on a free port of 127.0.0.1. stop() ends it (SIGTERM, then SIGKILL after 10 s).
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const repo = resolve(here, "../..");
export const bin = resolve(process.env.APEX_BIN ?? join(repo, "build/apextrade"));

export async function startServer(extraEnv = {}) {
  const data = mkdtempSync(join(tmpdir(), "apex-e2e-"));
  const env = {
    ...process.env,
    APEX_DATA_DIR: data,
    APP_ENV: "development",
    APEX_WEB_DIR: join(repo, "web/dist"),
    // ORCL's daily candles replayed as the live feed, 30 a second: a strategy activated during
    // the tests trades within seconds (its indicators warm up on the stored candles before).
    MARKET_FEED: "replay",
    MARKET_REPLAY_FILE: join(repo, "data/orcl-1995-2014.csv"),
    MARKET_REPLAY_SYMBOL: "ORCL",
    MARKET_REPLAY_TIMEFRAME: "1d",
    MARKET_REPLAY_SPEED: String(30 * 86400),
    MARKET_REPLAY_FROM: "1996-01-02",
    FX_RATES_FILE: join(repo, "data/fx/eurofxref-hist-sample.xml"),
    ...extraEnv,
  };
  const run = (...args) => execFileSync(bin, args, { env, stdio: ["ignore", "ignore", "inherit"] });
  run("migrate");
  run("data", "import", join(repo, "data/orcl-1995-2014.csv"), "--symbol", "ORCL", "--timeframe", "1d");
  run("data", "import", join(repo, "data/btc-usdt-1m.json"), "--symbol", "BTC/USDT", "--timeframe", "1m");
  const proc = spawn(bin, ["serve", "--host", "127.0.0.1", "--port", "0"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const base = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start:\n${log}`)), 15_000);
    const seen = (chunk) => {
      log += chunk;
      const m = log.match(/listening on (http:\/\/[^\s]+)/);
      if (m) {
        clearTimeout(timer);
        ok(m[1].replace(/\/$/, ""));
      }
    };
    proc.stdout.on("data", seen);
    proc.stderr.on("data", seen);
    proc.on("exit", (c) => fail(new Error(`the server exited (${c}):\n${log}`)));
  });
  return {
    base,
    data,
    log: () => log,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill("SIGTERM");
        const killer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
        await new Promise((ok) => proc.once("exit", ok));
        clearTimeout(killer);
      }
      rmSync(data, { recursive: true, force: true });
    },
  };
}
