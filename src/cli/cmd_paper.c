/* cmd_paper.c - `apextrade paper --strategy FILE.json --replay CANDLES ...`: a paper session in
 * memory on a candle file played as a live feed (market/replay), stepped candle by candle through
 * core/session; it ends with the result `backtest` prints for the same file and options. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/run_common.h"
#include "core/session.h"
#include "core/strategy.h"
#include "io/load.h"
#include "market/replay.h"

#define CMD "paper"

static const char USAGE[] =
    "usage: apextrade paper --strategy FILE.json --replay CANDLES [options]\n"
    "\n"
    "Runs a paper trading session in memory: the candle file is played as a live feed of closed\n"
    "candles, the strategy trades each one as it closes (simulated fills, as in a backtest), and the\n"
    "result is printed as `apextrade backtest` prints it. With --speed max the session's trades,\n"
    "equity and metrics equal the backtest's over the same file.\n"
    "\n"
    "  --strategy FILE     strategy JSON (its optional \"backtest\" block gives defaults for the options)\n"
    "  --replay FILE       candles to play: header CSV, Binance kline CSV or JSON arrays, optionally\n"
    "                      gzipped; resampled to the strategy's timeframe when the file's is lower\n"
    "  --speed max|N       N times real time: one candle every timeframe / N (default 1, real time);\n"
    "                      max: no waiting\n"
    APEX_CLI_COST_USAGE
    "  --json OUT|-        write the result as JSON to OUT, or to stdout with -\n"
    "\n"
    "example:\n"
    "  apextrade paper --strategy examples/rsi_mean_reversion.json --replay data/orcl-1995-2014.csv \\\n"
    "      --speed max --json -\n"
    "\n"
    "exit codes: 0 ok, 1 session failed, 2 bad arguments, strategy or candle file.\n";

typedef struct args {
  const char *strategy, *replay, *speed, *json;
  apex_cli_costs costs;
} args;

static const apex_cli_flag FLAGS[] = {
    {"--strategy", offsetof(args, strategy), false, "missing --strategy FILE.json"},
    {"--replay", offsetof(args, replay), false, "missing --replay FILE"},
    {"--speed", offsetof(args, speed), false, NULL},
    {"--json", offsetof(args, json), false, NULL},
    APEX_CLI_COST_FLAGS(args, costs),
};

/* "max": no waiting (0); else a positive multiple of real time; default 1. */
static int parse_speed(const char *text, double *speed)
{
  *speed = 1;
  if (text && !strcmp(text, "max"))
    *speed = 0;
  else if (text && apex_cli_number_opt(CMD, "--speed (or max)", text, 1e-6, 1e12, speed))
    return APEX_EXIT_USAGE;
  return 0;
}

/* The feed to the end, each candle stepped as it arrives. Whether a candle is the session's last is
 * asked of the feed without waiting (a replay says at once that it has ended), so no candle is held
 * back for it. */
static apex_err drive(apex_market *m, apex_session *ss, apex_error *err)
{
  apex_market_event cur, nxt;
  apex_err rc = m->ops->next(m->impl, -1, &cur, err);
  if (rc == APEX_ENOTFOUND)
    return APEX_OK; /* no candle: finish says so */
  while (!rc) {
    apex_err peek = m->ops->next(m->impl, 0, &nxt, err);
    if (peek && peek != APEX_ENOTFOUND && peek != APEX_ETIMEOUT)
      return peek;
    if ((rc = apex_session_step(ss, &cur.bar, peek == APEX_ENOTFOUND, NULL, err)) || peek == APEX_ENOTFOUND)
      return rc;
    if (peek == APEX_OK)
      cur = nxt;
    else if ((rc = m->ops->next(m->impl, -1, &cur, err)) == APEX_ENOTFOUND)
      rc = apex_error_set(err, APEX_EDATA, "the feed ended without a last candle");
  }
  return rc;
}

int apex_cmd_paper(int argc, char **argv)
{
  args a = {0};
  double speed;
  apex_strategy *st = NULL;
  apex_series *s = NULL;
  apex_market m = {0};
  apex_session *ss = NULL;
  apex_backtest_result res = {0};
  apex_load_report rep;
  apex_error err = {0};
  char warning[256];
  apex_err e;
  int rc = apex_cli_parse_flags(CMD, USAGE, argc, argv, FLAGS, sizeof FLAGS / sizeof FLAGS[0], &a);

  if (rc)
    return rc < 0 ? APEX_EXIT_OK : rc;
  if ((rc = parse_speed(a.speed, &speed)))
    return rc;
  if ((rc = apex_cli_load_strategy(CMD, a.strategy, &st)))
    goto out;
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  if ((rc = apex_cli_apply_costs(CMD, &a.costs, &o.cfg)))
    goto out;

  double t0 = apex_cli_now_s();
  if ((rc = apex_cli_load_candles(CMD, a.replay, false, st, &s, &rep, warning, sizeof warning)))
    goto out;
  double load_s = apex_cli_now_s() - t0;
  if (a.json) /* the backtest's sampling for the same file */
    o.equity_every = apex_cli_json_equity_every(s->n);
  size_t n = 0; /* the session ends before the strategy's end date: replay only up to it */
  while (n < s->n && s->time[n] < o.cfg.end_ms)
    n++;
  apex_series_slice(s, 0, n);

  rc = APEX_EXIT_USAGE;
  if (apex_replay_new(s, st->asset, st->timeframe_text, speed, &m, &err) ||
      m.ops->subscribe(m.impl, st->asset, st->timeframe_text, &err)) {
    fprintf(stderr, "apextrade paper: %s\n", err.msg);
    goto out;
  }
  rc = APEX_EXIT_FAIL;
  if (apex_session_new(st, &o, &ss, &err)) {
    fprintf(stderr, "apextrade paper: %s\n", err.msg);
    goto out;
  }
  t0 = apex_cli_now_s();
  if (!(e = drive(&m, ss, &err)))
    e = apex_session_finish(ss, &res, &err);
  double engine_s = apex_cli_now_s() - t0;
  apex_cli_run run = {st, a.replay, s, &rep, &o, &res, e, &err, load_s, engine_s, warning};
  rc = apex_cli_report(CMD, &run, a.json);
out:
  apex_backtest_result_clear(&res);
  apex_session_free(ss);
  apex_market_free(&m);
  apex_series_free(s);
  apex_strategy_free(st);
  return rc;
}
