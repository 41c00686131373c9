/* cmd_backtest.c - `apextrade backtest --strategy FILE.json --data CANDLES ...`: one strategy over one
 * candle file; a readable summary, or the spec's Backtest Result as JSON, plus trade and equity CSVs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/json.h"
#include "cli/cli.h"
#include "core/backtest.h"
#include "sys/bigbuf.h"
#include "core/backtest_json.h"
#include "core/resample.h"
#include "core/strategy.h"
#include "core/timeframe.h"
#include "io/load.h"

#define MAX_STRATEGY_BYTES (4u << 20)
#define MAX_CURVE_POINTS 2000

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
    "  --capital N         initial capital (default 10000)\n"
    "  --commission PCT    commission per fill in percent of its value (0.1 means 0.1 %%; default 0.1)\n"
    "  --slippage PCT      slippage of market and stop fills in percent (default 0.05)\n"
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
  const char *strategy, *data, *json, *trades, *equity;
  const char *capital, *commission, *slippage, *start, *end;
  bool lenient;
} args;

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int usage_error(const char *fmt, const char *arg)
{
  fputs("apextrade backtest: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs(" (see 'apextrade backtest --help')\n", stderr);
  return APEX_EXIT_USAGE;
}

static int parse_args(int argc, char **argv, args *a)
{
  static const struct { const char *flag; size_t off; } OPTS[] = {
      {"--strategy", offsetof(args, strategy)}, {"--data", offsetof(args, data)},
      {"--json", offsetof(args, json)},         {"--trades", offsetof(args, trades)},
      {"--equity", offsetof(args, equity)},     {"--capital", offsetof(args, capital)},
      {"--commission", offsetof(args, commission)}, {"--slippage", offsetof(args, slippage)},
      {"--start", offsetof(args, start)},       {"--end", offsetof(args, end)},
  };
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      return -1;
    }
    if (!strcmp(argv[i], "--lenient")) {
      a->lenient = true;
      continue;
    }
    size_t k = 0;
    while (k < sizeof OPTS / sizeof OPTS[0] && strcmp(argv[i], OPTS[k].flag))
      k++;
    if (k == sizeof OPTS / sizeof OPTS[0])
      return usage_error(argv[i][0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'", argv[i]);
    if (i + 1 >= argc)
      return usage_error("%s needs a value", argv[i]);
    *(const char **)((char *)a + OPTS[k].off) = argv[++i];
  }
  if (!a->strategy)
    return usage_error("%s", "missing --strategy FILE.json");
  if (!a->data)
    return usage_error("%s", "missing --data FILE");
  return 0;
}

/* A number option in [lo, hi]. */
static int number_opt(const char *flag, const char *text, double lo, double hi, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end || errno || !isfinite(v) || v < lo || v > hi) {
    fprintf(stderr, "apextrade backtest: %s: must be a number from %g to %g, got '%s'\n", flag, lo, hi, text);
    return APEX_EXIT_USAGE;
  }
  *out = v;
  return 0;
}

static int apply_overrides(const args *a, apex_backtest_config *c)
{
  int rc = 0;
  if (a->capital && (rc = number_opt("--capital", a->capital, 1e-8, 1e10, &c->initial_capital)))
    return rc;
  if (a->commission && (rc = number_opt("--commission", a->commission, 0, 99, &c->commission_pct)))
    return rc;
  if (a->slippage && (rc = number_opt("--slippage", a->slippage, 0, 99, &c->slippage_pct)))
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

/* Brings the candles to the strategy's timeframe; warnings about gaps go to warn. */
static int fit_timeframe(const apex_strategy *st, const char *path, apex_series **s, char *warn, size_t cap)
{
  apex_timeframe have;
  int64_t step;
  char a[16], b[16];
  warn[0] = '\0';
  if ((*s)->n < 2 || apex_timeframe_detect((*s)->time, (*s)->n, &have, &step) || have.unit == APEX_TF_NONE)
    return 0; /* irregular data: run on it as it is */
  if (st->timeframe.unit != APEX_TF_NONE && (have.n != st->timeframe.n || have.unit != st->timeframe.unit)) {
    apex_timeframe_str(have, a, sizeof a);
    apex_timeframe_str(st->timeframe, b, sizeof b);
    if (!apex_timeframe_divides(have, st->timeframe)) {
      fprintf(stderr, "apextrade backtest: %s: candles are %s, the strategy trades %s: cannot build %s candles from them\n",
              path, a, b, b);
      return APEX_EXIT_USAGE;
    }
    apex_series *r = NULL;
    apex_error err;
    if (apex_resample(*s, have, st->timeframe, &r, &err)) {
      fprintf(stderr, "apextrade backtest: %s: %s\n", path, err.msg);
      return APEX_EXIT_USAGE;
    }
    apex_series_free(*s);
    *s = r;
    have = st->timeframe;
  }
  /* Markets that close (stocks) skip nights, weekends and holidays: only a gap longer than a long
   * weekend is news there. A 24/7 market should have no gap at all. */
  apex_gaps g;
  bool always_open = apex_metrics_periods_per_year(st->asset) == 365;
  if (!apex_gaps_count((*s)->time, (*s)->n, have, &g) && g.missing &&
      (always_open || g.largest_ms > 4 * APEX_MS_DAY)) {
    char from[40];
    apex_timeframe_str(have, a, sizeof a);
    apex_time_iso(g.largest_start, from, sizeof from);
    snprintf(warn, cap, "%zu missing %s candles in %zu gaps, the largest %.1f days from %s (gaps are not filled)",
             g.missing, a, g.gaps, (double)g.largest_ms / (double)APEX_MS_DAY, from);
  }
  return 0;
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
  if (now_s() - p->start < 1.0)
    return;
  int filled = (int)(pct / 2.5);
  fprintf(stderr, "\r[%-40.*s] %5.1f %%", filled, "########################################", pct);
  p->drawn = true;
}

static void fmt_dec(apex_dec d, char *buf, size_t cap)
{
  if (apex_dec_format(d, buf, cap))
    snprintf(buf, cap, "?");
}

static apex_json *num(double x) { return apex_json_new_number(x); }
static apex_json *result_json(const apex_strategy *st, const apex_series *s, const apex_backtest_result *r,
                              const apex_backtest_opts *o, double load_s, double engine_s, const char *warning)
{
  apex_json *j = apex_json_new_object(), *a;
  char tb[40];
  if (!j)
    return NULL;
  apex_json_object_set(j, "backtest_id", apex_json_new_null());
  apex_json_object_set(j, "strategy", apex_json_new_string(st->name));
  apex_json_object_set(j, "asset", apex_json_new_string(st->asset));
  apex_json_object_set(j, "timeframe", apex_json_new_string(st->timeframe_text));
  apex_time_iso(s->time[r->first_bar], tb, sizeof tb);
  apex_json_object_set(j, "start_date", apex_json_new_string(tb));
  apex_time_iso(s->time[r->first_bar + r->bars - 1], tb, sizeof tb);
  apex_json_object_set(j, "end_date", apex_json_new_string(tb));
  apex_json_object_set(j, "initial_capital", num(o->cfg.initial_capital));
  apex_json_object_set(j, "commission_pct", num(o->cfg.commission_pct));
  apex_json_object_set(j, "slippage_pct", num(o->cfg.slippage_pct));
  if (apex_backtest_json_fill(j, r, s, o, MAX_CURVE_POINTS)) {
    apex_json_free(j);
    return NULL;
  }

  a = apex_json_new_array();
  for (size_t i = 0; i < r->n_trades; i++)
    apex_json_array_append(a, apex_backtest_trade_json(&r->trades[i]));
  apex_json_object_set(j, "trades", a);

  a = apex_json_new_array();
  if (warning && *warning)
    apex_json_array_append(a, apex_json_new_string(warning));
  apex_json_object_set(j, "warnings", a);

  apex_json *stats = apex_json_new_object();
  apex_json_object_set(stats, "bars", apex_json_new_integer((int64_t)r->bars));
  apex_json_object_set(stats, "load_seconds", num(load_s));
  apex_json_object_set(stats, "engine_seconds", num(engine_s));
  apex_json_object_set(j, "stats", stats);
  return j;
}

static FILE *open_out(const char *path)
{
  if (!strcmp(path, "-"))
    return stdout;
  FILE *f = fopen(path, "w");
  if (!f)
    fprintf(stderr, "apextrade backtest: %s: %s\n", path, strerror(errno));
  return f;
}

static int close_out(FILE *f, const char *path)
{
  int bad = ferror(f);
  if (f == stdout)
    bad |= fflush(f);
  else
    bad |= fclose(f);
  if (bad) {
    fprintf(stderr, "apextrade backtest: %s: write failed\n", path);
    return APEX_EXIT_FAIL;
  }
  return 0;
}

static int write_trades(const char *path, const apex_backtest_result *r, const apex_load_report *rep)
{
  FILE *f = open_out(path);
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
  return close_out(f, path);
}

static int write_equity(const char *path, const apex_series *s, const apex_backtest_result *r,
                        const apex_load_report *rep)
{
  FILE *f = open_out(path);
  if (!f)
    return APEX_EXIT_FAIL;
  fputs("time,equity\n", f);
  for (size_t i = 0; i < r->n_equity; i++) {
    char tb[64];
    apex_format_time(s->time[r->first_bar + i], rep, tb, sizeof tb);
    fprintf(f, "%s,%.17g\n", tb, r->equity[i]);
  }
  return close_out(f, path);
}

static void print_summary(const apex_strategy *st, const char *data, const apex_series *s,
                          const apex_backtest_result *r, const apex_backtest_opts *o, const apex_load_report *rep,
                          double load_s, double engine_s)
{
  const apex_metrics *m = &r->metrics;
  char t0[64], t1[64], fin[APEX_DEC_STR_MAX], com[APEX_DEC_STR_MAX];
  if (rep->timefmt == APEX_TIMEFMT_DATE || rep->timefmt == APEX_TIMEFMT_DATETIME) {
    apex_format_time(s->time[r->first_bar], rep, t0, sizeof t0);
    apex_format_time(s->time[r->first_bar + r->bars - 1], rep, t1, sizeof t1);
  } else { /* epoch numbers tell a person nothing */
    apex_time_iso(s->time[r->first_bar], t0, sizeof t0);
    apex_time_iso(s->time[r->first_bar + r->bars - 1], t1, sizeof t1);
  }
  fmt_dec(r->final_cash, fin, sizeof fin);
  fmt_dec(r->total_commission, com, sizeof com);
  printf("Strategy        %s (%s, %s)\n", st->name, st->asset, st->timeframe_text);
  printf("Data            %s: %zu candles, %s .. %s\n", data, r->bars, t0, t1);
  printf("Capital         %.2f -> %s (commission %g %%, slippage %g %%)\n", o->cfg.initial_capital, fin,
         o->cfg.commission_pct, o->cfg.slippage_pct);
  printf("Total return    %10.2f %%      CAGR          %10.2f %%\n", m->total_return_pct, m->cagr_pct);
  printf("Sharpe ratio    %10.2f        Sortino ratio %10.2f\n", m->sharpe_ratio, m->sortino_ratio);
  printf("Max drawdown    %10.2f %%      lasting       %10.1f days\n", m->max_drawdown_pct,
         (double)m->max_drawdown_duration_ms / 86400000.0);
  printf("Trades          %10zu        Win rate      %10.2f %%\n", m->total_trades, m->win_rate_pct);
  printf("Profit factor   %10.2f        Avg trade     %10.2f %%\n", m->profit_factor, m->avg_trade_pct);
  printf("Best trade      %10.2f %%      Worst trade   %10.2f %%\n", m->best_trade_pct, m->worst_trade_pct);
  printf("Exposure        %10.2f %%      Commission    %10s\n", m->exposure_pct, com);
  if (r->halted)
    printf("Halted          max drawdown of %g %% exceeded; no entries after that\n", st->risk.max_drawdown_pct);
  printf("Speed           %zu candles: load %.3f s, engine %.4f s (%.0f candles/s)\n", r->bars, load_s, engine_s,
         engine_s > 0 ? (double)r->bars / engine_s : 0);
}

int apex_cmd_backtest(int argc, char **argv)
{
  args a = {0};
  apex_strategy *st = NULL;
  apex_series *s = NULL;
  apex_backtest_result res = {0};
  apex_problems probs = {0};
  apex_load_report rep;
  apex_error err = {0};
  char *text = NULL, warning[256];
  size_t len;
  int rc = parse_args(argc, argv, &a);

  if (rc)
    return rc < 0 ? APEX_EXIT_OK : rc;
  rc = APEX_EXIT_USAGE;
  if (apex_read_file(a.strategy, MAX_STRATEGY_BYTES, &text, &len, &err)) {
    fprintf(stderr, "apextrade backtest: %s\n", err.msg);
    goto out;
  }
  if (apex_strategy_parse(text, len, &st, &probs)) {
    for (size_t i = 0; i < probs.n; i++) {
      char line[512];
      apex_problems_format(&probs, i, line, sizeof line);
      fprintf(stderr, "apextrade backtest: %s: %s\n", a.strategy, line);
    }
    if (probs.total > probs.n)
      fprintf(stderr, "apextrade backtest: %s: ... and %zu more problems\n", a.strategy, probs.total - probs.n);
    goto out;
  }
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.alloc = apex_bigbuf_alloc; /* huge pages: 4 KiB page faults cost more than an indicator */
  o.free = apex_bigbuf_free;
  if ((rc = apply_overrides(&a, &o.cfg)))
    goto out;
  rc = APEX_EXIT_USAGE;

  double t0 = now_s();
  apex_load_opts lo = {.lenient = a.lenient};
  if (apex_load_candles(a.data, &lo, &s, &rep, &err)) {
    fprintf(stderr, "apextrade backtest: %s\n", err.msg);
    goto out;
  }
  if (rep.dropped)
    fprintf(stderr, "apextrade backtest: %s: dropped %zu invalid rows (first: %s)\n", a.data, rep.dropped,
            rep.first_problem);
  if ((rc = fit_timeframe(st, a.data, &s, warning, sizeof warning)))
    goto out;
  if (warning[0])
    fprintf(stderr, "apextrade backtest: warning: %s: %s\n", a.data, warning);
  double load_s = now_s() - t0;

  progress_state ps = {now_s(), false};
  /* Every candle for --equity; enough for the JSON's curve otherwise; none for the summary. */
  o.equity_every = a.equity ? 1 : a.json ? (s->n + MAX_CURVE_POINTS - 1) / MAX_CURVE_POINTS : 0;
  if (isatty(STDERR_FILENO)) {
    o.progress = on_progress;
    o.progress_ctx = &ps;
  }
  t0 = now_s();
  apex_err e = apex_backtest_run(st, s, &o, &res, &err);
  double engine_s = now_s() - t0;
  if (ps.drawn)
    fputs("\r\033[K", stderr);
  if (e) {
    fprintf(stderr, "apextrade backtest: %s: %s\n", a.data, err.msg);
    rc = e == APEX_EDATA ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
    goto out;
  }

  rc = APEX_EXIT_OK;
  if (a.json) {
    apex_json *j = result_json(st, s, &res, &o, load_s, engine_s, warning);
    char *txt = j ? apex_json_dump(j, true) : NULL;
    FILE *f = txt ? open_out(a.json) : NULL;
    if (!txt)
      fprintf(stderr, "apextrade backtest: out of memory\n");
    if (f) {
      fputs(txt, f);
      fputc('\n', f);
    }
    rc = !f ? APEX_EXIT_FAIL : close_out(f, a.json);
    free(txt);
    apex_json_free(j);
  }
  if (!a.json || strcmp(a.json, "-"))
    print_summary(st, a.data, s, &res, &o, &rep, load_s, engine_s);
  if (!rc && a.trades)
    rc = write_trades(a.trades, &res, &rep);
  if (!rc && a.equity)
    rc = write_equity(a.equity, s, &res, &rep);
out:
  apex_backtest_result_clear(&res);
  apex_series_free(s);
  apex_strategy_free(st);
  free(text);
  return rc;
}
