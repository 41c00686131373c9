/* cmd_backtest.c - `apextrade backtest --strategy FILE.json --data CANDLES ...`: one strategy over one
 * candle file; a readable summary, or the spec's Backtest Result as JSON, plus trade and equity CSVs. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run_common.h"
#include "core/backtest.h"
#include "core/strategy.h"
#include "io/load.h"
#include "sys/bigbuf.h"

#define CMD "backtest"

static const char USAGE[] =
    "usage: apextrade backtest --strategy FILE.json --data CANDLES [options]\n"
    "\n"
    "Runs a strategy (rules, entry/exit lists and risk management in one JSON file, see examples/)\n"
    "over a candle file and prints a summary. Signals are taken at each candle's close, market orders\n"
    "fill at the next open (plus slippage), stops and targets are checked against each candle's low\n"
    "and high; a position still open at the end is closed at the last close.\n"
    "\n"
    "  --strategy FILE     strategy JSON (its optional \"backtest\" block gives defaults for the options;\n"
    "                      an entry without \"max_position_size\" buys 10 %% of equity)\n"
    "  --data FILE         candles: header CSV, Binance kline CSV or JSON arrays, optionally gzipped;\n"
    "                      resampled to the strategy's timeframe when the file's is lower\n"
    APEX_CLI_COST_USAGE
    "  --start DATE        first candle to trade (YYYY-MM-DD or ISO 8601, UTC); earlier candles\n"
    "                      still warm up the indicators\n"
    "  --end DATE          stop before this candle time\n"
    "  --json OUT|-        write the result as JSON to OUT, or to stdout with -\n"
    "  --trades OUT.csv    write the trade log as CSV\n"
    "  --equity OUT.csv    write equity at every candle's close as CSV\n"
    "  --lenient           drop invalid candle rows (counted) instead of failing\n"
    "\n"
    "The JSON result has the spec's Backtest Result fields plus sortino_ratio, cagr_pct,\n"
    "monthly_returns, final_capital and stats {bars, load_seconds, engine_seconds}; its equity_curve\n"
    "holds at most 2000 evenly spaced points (--equity writes every candle). Money is written as\n"
    "decimal strings with 8 places at most.\n"
    "\n"
    "example:\n"
    "  apextrade backtest --strategy examples/rsi_mean_reversion.json --data data/orcl-1995-2014.csv\n"
    "\n"
    "exit codes: 0 ok, 1 run failed, 2 bad arguments, strategy or candle file (every strategy\n"
    "problem is listed on stderr, one per line).\n";

typedef struct args {
  const char *strategy, *data, *json, *trades, *equity, *start, *end;
  apex_cli_costs costs;
  bool lenient;
} args;

static const apex_cli_flag FLAGS[] = {
    {"--strategy", offsetof(args, strategy), false, "missing --strategy FILE.json"},
    {"--data", offsetof(args, data), false, "missing --data FILE"},
    {"--json", offsetof(args, json), false, NULL},
    {"--trades", offsetof(args, trades), false, NULL},
    {"--equity", offsetof(args, equity), false, NULL},
    {"--start", offsetof(args, start), false, NULL},
    {"--end", offsetof(args, end), false, NULL},
    {"--lenient", offsetof(args, lenient), true, NULL},
    APEX_CLI_COST_FLAGS(args, costs),
};

static int apply_overrides(const args *a, apex_backtest_config *c)
{
  int rc = apex_cli_apply_costs(CMD, &a->costs, c);
  if (rc)
    return rc;
  if (a->start && apex_parse_date_ms(a->start, &c->start_ms)) {
    fprintf(stderr, "apextrade backtest: --start: not a date like 2024-01-31: '%s'\n", a->start);
    return APEX_EXIT_USAGE;
  }
  if (a->end && apex_parse_date_ms(a->end, &c->end_ms)) {
    fprintf(stderr, "apextrade backtest: --end: not a date like 2024-01-31: '%s'\n", a->end);
    return APEX_EXIT_USAGE;
  }
  if (c->end_ms <= c->start_ms) {
    fprintf(stderr, "apextrade backtest: the end date must be after the start date\n");
    return APEX_EXIT_USAGE;
  }
  return 0;
}

static void fmt_dec(apex_dec d, char *buf, size_t cap)
{
  if (apex_dec_format(d, buf, cap))
    snprintf(buf, cap, "?");
}

typedef struct progress_state {
  double start;
  bool drawn;
} progress_state;

/* A progress bar on a terminal, once a run has taken a second. */
static void on_progress(void *ctx, double pct, int64_t time_ms)
{
  progress_state *p = ctx;
  (void)time_ms;
  if (apex_cli_now_s() - p->start < 1.0)
    return;
  int filled = (int)(pct / 2.5);
  fprintf(stderr, "\r[%-40.*s] %5.1f %%", filled, "########################################", pct);
  p->drawn = true;
}

static int write_trades(const char *path, const apex_backtest_result *r, const apex_load_report *rep)
{
  FILE *f = apex_cli_open_out(CMD, path);
  if (!f)
    return APEX_EXIT_FAIL;
  fputs("n,entry_time,entry_price,quantity,exit_time,exit_price,gross_pnl,entry_commission,exit_commission,"
        "net_pnl,bars,exit_reason\n", f);
  for (size_t i = 0; i < r->n_trades; i++) {
    const apex_bt_trade *t = &r->trades[i];
    char et[64], xt[64], v[7][APEX_DEC_STR_MAX];
    apex_format_time(t->entry_time, rep, et, sizeof et);
    apex_format_time(t->exit_time, rep, xt, sizeof xt);
    apex_dec vals[7] = {t->entry_price, t->qty, t->exit_price, t->gross_pnl, t->entry_commission, t->exit_commission,
                        t->net_pnl};
    for (int k = 0; k < 7; k++)
      fmt_dec(vals[k], v[k], sizeof v[k]);
    fprintf(f, "%zu,%s,%s,%s,%s,%s,%s,%s,%s,%s,%zu,%s\n", i + 1, et, v[0], v[1], xt, v[2], v[3], v[4], v[5], v[6],
            t->exit_bar - t->entry_bar, apex_exit_reason_name(t->reason));
  }
  return apex_cli_close_out(CMD, f, path);
}

static int write_equity(const char *path, const apex_series *s, const apex_backtest_result *r,
                        const apex_load_report *rep)
{
  FILE *f = apex_cli_open_out(CMD, path);
  if (!f)
    return APEX_EXIT_FAIL;
  fputs("time,equity\n", f);
  for (size_t i = 0; i < r->n_equity; i++) {
    char tb[64];
    apex_format_time(s->time[r->first_bar + i], rep, tb, sizeof tb);
    fprintf(f, "%s,%.17g\n", tb, r->equity[i]);
  }
  return apex_cli_close_out(CMD, f, path);
}

int apex_cmd_backtest(int argc, char **argv)
{
  args a = {0};
  apex_strategy *st = NULL;
  apex_series *s = NULL;
  apex_backtest_result res = {0};
  apex_load_report rep;
  apex_error err = {0};
  char warning[256];
  int rc = apex_cli_parse_flags(CMD, USAGE, argc, argv, FLAGS, sizeof FLAGS / sizeof FLAGS[0], &a);

  if (rc)
    return rc < 0 ? APEX_EXIT_OK : rc;
  if ((rc = apex_cli_load_strategy(CMD, a.strategy, &st)))
    goto out;
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.alloc = apex_bigbuf_alloc; /* huge pages: 4 KiB page faults cost more than an indicator */
  o.free = apex_bigbuf_free;
  if ((rc = apply_overrides(&a, &o.cfg)))
    goto out;

  double t0 = apex_cli_now_s();
  if ((rc = apex_cli_load_candles(CMD, a.data, a.lenient, st, &s, &rep, warning, sizeof warning)))
    goto out;
  double load_s = apex_cli_now_s() - t0;

  progress_state ps = {apex_cli_now_s(), false};
  /* Every candle for --equity; enough for the JSON's curve otherwise; none for the summary. */
  o.equity_every = a.equity ? 1 : a.json ? apex_cli_json_equity_every(s->n) : 0;
  if (isatty(STDERR_FILENO)) {
    o.progress = on_progress;
    o.progress_ctx = &ps;
  }
  t0 = apex_cli_now_s();
  apex_err e = apex_backtest_run(st, s, &o, &res, &err);
  double engine_s = apex_cli_now_s() - t0;
  if (ps.drawn)
    fputs("\r\033[K", stderr);
  apex_cli_run run = {st, a.data, s, &rep, &o, &res, e, &err, load_s, engine_s, warning};
  if ((rc = apex_cli_report(CMD, &run, a.json)) || e)
    goto out;
  if (!rc && a.trades)
    rc = write_trades(a.trades, &res, &rep);
  if (!rc && a.equity)
    rc = write_equity(a.equity, s, &res, &rep);
out:
  apex_backtest_result_clear(&res);
  apex_series_free(s);
  apex_strategy_free(st);
  return rc;
}
