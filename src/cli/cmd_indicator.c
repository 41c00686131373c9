/* cmd_indicator.c - `apextrade indicator NAME --data FILE [--param NAME=VALUE ...]`: one indicator
 * over a candle file, CSV on stdout; `--list` prints the registry. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/ind/ind.h"
#include "io/load.h"

static const char USAGE[] =
    "usage: apextrade indicator NAME --data FILE [--param NAME=VALUE ...] [--lenient]\n"
    "       apextrade indicator --list\n"
    "\n"
    "Computes indicator NAME (case-insensitive) over the candles in FILE (header CSV, Binance kline\n"
    "CSV, or JSON arrays [time_ms, open, high, low, close, volume], optionally gzipped) and writes CSV\n"
    "to stdout: header `time,<outputs>`, one row per candle, time as in the input file, values with\n"
    "17 significant digits, empty fields during warm-up. Values equal TA-Lib's with default settings.\n"
    "\n"
    "  --data FILE          candle file to read\n"
    "  --param NAME=VALUE   set a parameter (repeatable); see --list for names, defaults, ranges\n"
    "  --lenient            drop invalid candle rows (counted on stderr) instead of failing\n"
    "  --list               list indicators with parameters, outputs and lookback\n"
    "\n"
    "examples:\n"
    "  apextrade indicator rsi --data data/orcl-1995-2014.csv --param period=14\n"
    "  apextrade indicator macd --data data/btc-usdt-1m.json --param fast=8 --param slow=21\n"
    "\n"
    "exit codes: 0 ok, 2 bad arguments or bad input file (one line on stderr says which).\n";

static void format_inputs(unsigned in, char *buf, size_t cap)
{
  static const char *const NAMES[] = {"open", "high", "low", "close", "volume", "time"};
  size_t len = 0;
  buf[0] = '\0';
  for (unsigned i = 0; i < 6 && len < cap; i++)
    if (in & (1u << i))
      len += (size_t)snprintf(buf + len, cap - len, "%s%s", len ? "," : "", NAMES[i]);
}

static int list_registry(void)
{
  size_t n;
  const apex_ind_info *const *all = apex_ind_list(&n);
  printf("%-9s %-8s %-19s %-26s %-40s %s\n", "name", "lookback", "outputs", "inputs",
         "parameters (default [range])", "title");
  for (size_t i = 0; i < n; i++) {
    const apex_ind_info *ind = all[i];
    double p[APEX_IND_MAX_PARAMS];
    char params[256] = "-", outs[128] = "", inputs[64];
    size_t len = 0;
    apex_ind_defaults(ind, p);
    for (int k = 0; k < ind->n_params; k++)
      len += (size_t)snprintf(params + len, sizeof params - len, "%s%s=%g [%g..%g]", k ? " " : "",
                              ind->params[k].name, ind->params[k].def, ind->params[k].min, ind->params[k].max);
    len = 0;
    for (int k = 0; k < ind->n_outputs; k++)
      len += (size_t)snprintf(outs + len, sizeof outs - len, "%s%s", k ? "," : "", ind->outputs[k]);
    format_inputs(ind->inputs, inputs, sizeof inputs);
    printf("%-9s %-8d %-19s %-26s %-40s %s\n", ind->name, ind->lookback(p), outs, inputs, params, ind->title);
  }
  return APEX_EXIT_OK;
}

static int fail_usage(const char *fmt, const char *arg)
{
  fputs("apextrade indicator: ", stderr);
  fprintf(stderr, fmt, arg);
  fputs(" (see 'apextrade indicator --help')\n", stderr);
  return APEX_EXIT_USAGE;
}

int apex_cmd_indicator(int argc, char **argv)
{
  const char *name = NULL, *data = NULL;
  char **params = calloc((size_t)argc, sizeof *params);
  size_t nparams = 0;
  apex_load_opts opts = {0};
  int rc = APEX_EXIT_USAGE;
  apex_series *s = NULL;
  double *outs[APEX_IND_MAX_OUTPUTS] = {0};

  if (!params)
    return APEX_EXIT_FAIL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      fputs(USAGE, stdout);
      rc = APEX_EXIT_OK;
      goto out;
    } else if (!strcmp(a, "--list")) {
      rc = list_registry();
      goto out;
    } else if (!strcmp(a, "--lenient")) {
      opts.lenient = true;
    } else if (!strcmp(a, "--data") || !strcmp(a, "--param")) {
      if (i + 1 >= argc) {
        rc = fail_usage("%s needs a value", a);
        goto out;
      }
      if (a[2] == 'd')
        data = argv[++i];
      else
        params[nparams++] = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      rc = fail_usage("unknown option '%s'", a);
      goto out;
    } else if (!name) {
      name = a;
    } else {
      rc = fail_usage("unexpected argument '%s'", a);
      goto out;
    }
  }
  if (!name) {
    rc = fail_usage("%s", "missing indicator NAME");
    goto out;
  }
  const apex_ind_info *ind = apex_ind_find(name);
  if (!ind) {
    fprintf(stderr, "apextrade indicator: unknown indicator '%s' (see 'apextrade indicator --list')\n", name);
    goto out;
  }
  double p[APEX_IND_MAX_PARAMS];
  apex_ind_defaults(ind, p);
  apex_error err = {0};
  for (size_t k = 0; k < nparams; k++) {
    char *eq = strchr(params[k], '=');
    if (!eq) {
      rc = fail_usage("--param '%s' is not NAME=VALUE", params[k]);
      goto out;
    }
    *eq = '\0';
    if (apex_ind_set_param(ind, p, params[k], eq + 1, &err)) {
      fprintf(stderr, "apextrade indicator: %s: %s\n", ind->name, err.msg);
      goto out;
    }
  }
  if (apex_ind_validate(ind, p, &err)) {
    fprintf(stderr, "apextrade indicator: %s: %s\n", ind->name, err.msg);
    goto out;
  }
  if (!data) {
    rc = fail_usage("%s", "missing --data FILE");
    goto out;
  }
  apex_load_report rep;
  if (apex_load_candles(data, &opts, &s, &rep, &err)) {
    fprintf(stderr, "apextrade indicator: %s\n", err.msg);
    goto out;
  }
  if (rep.dropped)
    fprintf(stderr, "apextrade indicator: %s: dropped %zu invalid rows (first: %s)\n", data, rep.dropped,
            rep.first_problem);

  rc = APEX_EXIT_FAIL;
  for (int k = 0; k < ind->n_outputs; k++)
    if (!(outs[k] = malloc((s->n ? s->n : 1) * sizeof(double)))) {
      fprintf(stderr, "apextrade indicator: out of memory\n");
      goto out;
    }
  ind->batch(s, p, outs);

  static char obuf[1 << 16];
  setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
  fputs("time", stdout);
  for (int k = 0; k < ind->n_outputs; k++)
    printf(",%s", ind->outputs[k]);
  putchar('\n');
  for (size_t i = 0; i < s->n; i++) {
    char tbuf[64];
    apex_format_time(s->time[i], &rep, tbuf, sizeof tbuf);
    fputs(tbuf, stdout);
    for (int k = 0; k < ind->n_outputs; k++) {
      if (isnan(outs[k][i]))
        putchar(',');
      else
        printf(",%.17g", outs[k][i]);
    }
    putchar('\n');
  }
  rc = fflush(stdout) ? APEX_EXIT_FAIL : APEX_EXIT_OK;
out:
  for (int k = 0; k < APEX_IND_MAX_OUTPUTS; k++)
    free(outs[k]);
  apex_series_free(s);
  free(params);
  return rc;
}
