/* run_common.c - what `backtest` and `paper` share (run_common.h). */
#include "cli/run_common.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "cli/cli.h"
#include "core/backtest_json.h"
#include "core/resample.h"
#include "core/timeframe.h"

#define MAX_STRATEGY_BYTES (4u << 20)
#define MAX_CURVE_POINTS 2000

double apex_cli_now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int apex_cli_usage_error(const char *cmd, const char *fmt, const char *arg)
{
  fprintf(stderr, "apextrade %s: ", cmd);
  fprintf(stderr, fmt, arg);
  fprintf(stderr, " (see 'apextrade %s --help')\n", cmd);
  return APEX_EXIT_USAGE;
}

int apex_cli_parse_flags(const char *cmd, const char *usage, int argc, char **argv, const apex_cli_flag *flags,
                         size_t n, void *dst)
{
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(usage, stdout);
      return -1;
    }
    size_t k = 0;
    while (k < n && strcmp(argv[i], flags[k].flag))
      k++;
    if (k == n)
      return apex_cli_usage_error(cmd, argv[i][0] == '-' ? "unknown option '%s'" : "unexpected argument '%s'",
                                  argv[i]);
    if (flags[k].boolean) {
      *(bool *)((char *)dst + flags[k].off) = true;
      continue;
    }
    if (i + 1 >= argc)
      return apex_cli_usage_error(cmd, "%s needs a value", argv[i]);
    *(const char **)((char *)dst + flags[k].off) = argv[++i];
  }
  for (size_t k = 0; k < n; k++)
    if (flags[k].missing && !*(const char **)((char *)dst + flags[k].off))
      return apex_cli_usage_error(cmd, "%s", flags[k].missing);
  return 0;
}

int apex_cli_number_opt(const char *cmd, const char *flag, const char *text, double lo, double hi, double *out)
{
  char *end;
  errno = 0;
  double v = strtod(text, &end);
  if (end == text || *end || errno || !isfinite(v) || v < lo || v > hi) {
    fprintf(stderr, "apextrade %s: %s: must be a number from %g to %g, got '%s'\n", cmd, flag, lo, hi, text);
    return APEX_EXIT_USAGE;
  }
  *out = v;
  return 0;
}

int apex_cli_apply_costs(const char *cmd, const apex_cli_costs *k, apex_backtest_config *c)
{
  int rc = 0;
  if (k->capital && (rc = apex_cli_number_opt(cmd, "--capital", k->capital, 1e-8, 1e10, &c->initial_capital)))
    return rc;
  if (k->commission && (rc = apex_cli_number_opt(cmd, "--commission", k->commission, 0, 99, &c->commission_pct)))
    return rc;
  if (k->slippage && (rc = apex_cli_number_opt(cmd, "--slippage", k->slippage, 0, 99, &c->slippage_pct)))
    return rc;
  return 0;
}

int apex_cli_load_strategy(const char *cmd, const char *path, apex_strategy **out)
{
  apex_problems probs = {0};
  apex_error err = {0};
  char *text = NULL;
  size_t len;
  int rc = APEX_EXIT_USAGE;

  if (apex_read_file(path, MAX_STRATEGY_BYTES, &text, &len, &err)) {
    fprintf(stderr, "apextrade %s: %s\n", cmd, err.msg);
    goto out;
  }
  if (apex_strategy_parse(text, len, out, &probs)) {
    for (size_t i = 0; i < probs.n; i++) {
      char line[512];
      apex_problems_format(&probs, i, line, sizeof line);
      fprintf(stderr, "apextrade %s: %s: %s\n", cmd, path, line);
    }
    if (probs.total > probs.n)
      fprintf(stderr, "apextrade %s: %s: ... and %zu more problems\n", cmd, path, probs.total - probs.n);
    goto out;
  }
  rc = 0;
out:
  free(text);
  return rc;
}

/* Brings the candles to the strategy's timeframe; warnings about gaps go to warn. */
static int fit_timeframe(const char *cmd, const apex_strategy *st, const char *path, apex_series **s, char *warn, size_t cap)
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
      fprintf(stderr, "apextrade %s: %s: candles are %s, the strategy trades %s: cannot build %s candles from them\n",
              cmd, path, a, b, b);
      return APEX_EXIT_USAGE;
    }
    apex_series *r = NULL;
    apex_error err;
    if (apex_resample(*s, have, st->timeframe, &r, &err)) {
      fprintf(stderr, "apextrade %s: %s: %s\n", cmd, path, err.msg);
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

int apex_cli_load_candles(const char *cmd, const char *path, bool lenient, const apex_strategy *st, apex_series **s,
                          apex_load_report *rep, char *warn, size_t cap)
{
  apex_load_opts lo = {.lenient = lenient};
  apex_error err = {0};
  int rc;

  warn[0] = '\0';
  if (apex_load_candles(path, &lo, s, rep, &err)) {
    fprintf(stderr, "apextrade %s: %s\n", cmd, err.msg);
    return APEX_EXIT_USAGE;
  }
  if (rep->dropped)
    fprintf(stderr, "apextrade %s: %s: dropped %zu invalid rows (first: %s)\n", cmd, path, rep->dropped,
            rep->first_problem);
  if ((rc = fit_timeframe(cmd, st, path, s, warn, cap)))
    return rc;
  if (warn[0])
    fprintf(stderr, "apextrade %s: warning: %s: %s\n", cmd, path, warn);
  return 0;
}

size_t apex_cli_json_equity_every(size_t n) { return (n + MAX_CURVE_POINTS - 1) / MAX_CURVE_POINTS; }

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

FILE *apex_cli_open_out(const char *cmd, const char *path)
{
  if (!strcmp(path, "-"))
    return stdout;
  FILE *f = fopen(path, "w");
  if (!f)
    fprintf(stderr, "apextrade %s: %s: %s\n", cmd, path, strerror(errno));
  return f;
}

int apex_cli_close_out(const char *cmd, FILE *f, const char *path)
{
  int bad = ferror(f);
  if (f == stdout)
    bad |= fflush(f);
  else
    bad |= fclose(f);
  if (bad) {
    fprintf(stderr, "apextrade %s: %s: write failed\n", cmd, path);
    return APEX_EXIT_FAIL;
  }
  return 0;
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

static int write_result(const char *cmd, const char *path, const apex_cli_run *r)
{
  apex_json *j = result_json(r->st, r->s, r->res, r->o, r->load_s, r->engine_s, r->warning);
  char *txt = j ? apex_json_dump(j, true) : NULL;
  FILE *f = txt ? apex_cli_open_out(cmd, path) : NULL;
  int rc;
  if (!txt)
    fprintf(stderr, "apextrade %s: out of memory\n", cmd);
  if (f) {
    fputs(txt, f);
    fputc('\n', f);
  }
  rc = !f ? APEX_EXIT_FAIL : apex_cli_close_out(cmd, f, path);
  free(txt);
  apex_json_free(j);
  return rc;
}

int apex_cli_report(const char *cmd, const apex_cli_run *r, const char *json)
{
  int rc = APEX_EXIT_OK;
  if (r->e) {
    fprintf(stderr, "apextrade %s: %s: %s\n", cmd, r->data, r->err->msg);
    return r->e == APEX_EDATA ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
  }
  if (json)
    rc = write_result(cmd, json, r);
  if (!json || strcmp(json, "-"))
    print_summary(r->st, r->data, r->s, r->res, r->o, r->rep, r->load_s, r->engine_s);
  return rc;
}
