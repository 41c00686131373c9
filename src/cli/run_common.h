/* run_common.h - what `apextrade backtest` and `apextrade paper` share: option parsing, the capital
 * and cost options, loading the strategy and the candles, and writing the result. Every function
 * prints its one-line error naming cmd ("apextrade CMD: ...") and returns an exit code (cli.h). */
#ifndef APEX_CLI_RUN_COMMON_H
#define APEX_CLI_RUN_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/backtest.h"
#include "core/series.h"
#include "core/strategy.h"
#include "io/load.h"

/* One option: "--flag VALUE" stores VALUE (a const char *) at off in the caller's struct;
 * a boolean one takes no value and stores true (a bool). missing: the error when a required
 * option is absent ("missing --data FILE"); NULL for an optional one. */
typedef struct apex_cli_flag {
  const char *flag;
  size_t off;
  bool boolean;
  const char *missing;
} apex_cli_flag;

/* The capital and cost options, as given (NULL: the strategy's default). */
typedef struct apex_cli_costs {
  const char *capital, *commission, *slippage;
} apex_cli_costs;

/* The rows of apex_cli_costs inside struct T at member M, for a flag table. */
#define APEX_CLI_COST_FLAGS(T, M)                                                                      \
  {"--capital", offsetof(T, M.capital), false, NULL},                                                    \
      {"--commission", offsetof(T, M.commission), false, NULL}, {"--slippage", offsetof(T, M.slippage), false, NULL}

/* Their help lines. */
#define APEX_CLI_COST_USAGE                                                                            \
  "  --capital N         initial capital (default 10000)\n"                                           \
  "  --commission PCT    commission per fill in percent of its value (0.1 means 0.1 %%; default 0.1)\n" \
  "  --slippage PCT      slippage of market and stop fills in percent (default 0.05)\n"

double apex_cli_now_s(void);
/* Prints "apextrade CMD: <fmt with arg> (see 'apextrade CMD --help')"; returns APEX_EXIT_USAGE. */
int apex_cli_usage_error(const char *cmd, const char *fmt, const char *arg);
/* argv[1..argc) against flags into dst (zeroed by the caller). --help/-h prints usage and returns
 * -1; errors (unknown option, no value, a required option missing) APEX_EXIT_USAGE; 0 otherwise. */
int apex_cli_parse_flags(const char *cmd, const char *usage, int argc, char **argv, const apex_cli_flag *flags,
                         size_t n, void *dst);
/* A number option in [lo, hi]. */
int apex_cli_number_opt(const char *cmd, const char *flag, const char *text, double lo, double hi, double *out);
/* The given capital and cost options into c. */
int apex_cli_apply_costs(const char *cmd, const apex_cli_costs *k, apex_backtest_config *c);
/* Reads and checks a strategy file, every problem on its own line. */
int apex_cli_load_strategy(const char *cmd, const char *path, apex_strategy **out);
/* Loads a candle file and brings it to st's timeframe; a warning about gaps (also printed) goes to
 * warn, "" when none. */
int apex_cli_load_candles(const char *cmd, const char *path, bool lenient, const apex_strategy *st, apex_series **s,
                          apex_load_report *rep, char *warn, size_t cap);
/* Equity samples to keep for a JSON result over n candles (its curve has at most 2000 points). */
size_t apex_cli_json_equity_every(size_t n);
/* stdout for "-"; NULL (said on stderr) when it cannot be opened. */
FILE *apex_cli_open_out(const char *cmd, const char *path);
int apex_cli_close_out(const char *cmd, FILE *f, const char *path);
/* A finished run over a candle file, as the commands report it. */
typedef struct apex_cli_run {
  const apex_strategy *st;
  const char *data; /* the candle file's path */
  const apex_series *s;
  const apex_load_report *rep;
  const apex_backtest_opts *o;
  const apex_backtest_result *res; /* valid when e == APEX_OK */
  apex_err e;
  const apex_error *err;
  double load_s, engine_s;
  const char *warning;
} apex_cli_run;

/* The run's error on stderr (exit 2 for APEX_EDATA: no candles to trade; else 1), or its result:
 * the JSON (the spec's Backtest Result plus our fields) to json ("-": stdout) when json is not NULL,
 * and the readable summary on stdout unless the JSON went there. */
int apex_cli_report(const char *cmd, const apex_cli_run *r, const char *json);

#endif
