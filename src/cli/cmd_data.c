/* cmd_data.c - `apextrade data inspect|resample|import|download`: what is in a candle file, the
 * file at a higher timeframe, and the file loaded into the database (download: cmd_download.c). Prints; the loading, detection,
 * resampling and storing live in io/, core/ and store/. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "core/resample.h"
#include "core/timeframe.h"
#include "io/load.h"

static const char INSPECT_USAGE[] =
    "usage: apextrade data inspect FILE [--lenient] [--timeframe TF]\n"
    "\n"
    "Reads a candle file (header CSV, Binance kline CSV, JSON arrays; gzip of any) and prints its\n"
    "format, row count, first and last time, timeframe, gaps and problems.\n"
    "\n"
    "  --timeframe TF  count gaps at TF (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M) instead of\n"
    "                  the detected timeframe\n"
    "  --lenient       say how many rows loading with --lenient drops (inspect always reads the whole\n"
    "                  file and counts every bad row; without --lenient it also says that strict\n"
    "                  loading, the default of other commands, stops at the first)\n"
    "\n"
    "Gaps are buckets of the timeframe with no candle between the first and the last; they are\n"
    "counted, never filled. Markets that close (stocks: weekends, holidays) show those closures as\n"
    "gaps, because a gap is measured against a market that trades around the clock.\n"
    "Exit status: 0 inspected (even with problems), 2 unreadable or not a candle file.\n";

static const char RESAMPLE_USAGE[] =
    "usage: apextrade data resample FILE --timeframe TF [--lenient]\n"
    "\n"
    "Aggregates candles into TF buckets (calendar-aligned in UTC: days start at 00:00, weeks on\n"
    "Monday, months on the 1st): first open, highest high, lowest low, last close, summed volume.\n"
    "TF must be a whole multiple of the file's timeframe. Empty buckets yield no candle (gaps are\n"
    "not filled). Writes CSV to stdout: time,open,high,low,close,volume, times written as in the\n"
    "input file.\n"
    "\n"
    "  --lenient  drop bad rows (counted on stderr) instead of stopping at the first\n";

static const char IMPORT_USAGE[] =
    "usage: apextrade data import FILE --symbol SYM --timeframe TF [--source NAME] [--lenient]\n"
    "\n"
    "Loads a candle file (any format 'data inspect' reads) into the database `apextrade serve` uses,\n"
    "as SYM at TF: DATABASE_URL when set (postgresql://..., postgresql+DRIVER://..., sqlite:///PATH\n"
    "or sqlite:PATH; other schemes are refused), otherwise\n"
    "$APEX_DATA_DIR/apextrade.db (APEX_DATA_DIR defaults to ./var). Pending migrations are applied\n"
    "first. Candles already stored at the same times are replaced (upsert); the whole file goes in\n"
    "one transaction, so a failure stores nothing. Prints the rows imported and rows per second.\n"
    "\n"
    "  --symbol SYM    market symbol as the API shows it (e.g. BTC/USDT), 1-32 characters\n"
    "  --timeframe TF  the file's candle timeframe (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M)\n"
    "  --source NAME   where the candles came from (stored with each row; default: file)\n"
    "  --lenient       drop bad rows (counted on stderr) instead of stopping at the first\n"
    "  --database-url U  the database, instead of DATABASE_URL\n"
    "  --data-dir DIR    the data directory, instead of APEX_DATA_DIR\n";

static const char DATA_USAGE[] = "usage: apextrade data inspect FILE [--lenient] [--timeframe TF]\n"
                                 "       apextrade data resample FILE --timeframe TF [--lenient]\n"
                                 "       apextrade data import FILE --symbol SYM --timeframe TF [--source NAME] [--lenient]\n"
                                 "       apextrade data download --venue NAME --symbol SYM --timeframe TF --since DATE [--until DATE]\n"
                                 "Run 'apextrade data SUBCOMMAND --help' for details.\n";

typedef struct {
  const char *file, *tf_text, *symbol, *source;
  bool lenient, help;
  char *store_flags[4]; /* import: --database-url / --data-dir and their values, for sys/config */
  int n_store_flags;
} data_args;

/* Parses FILE and options after the subcommand; prints a usage error and returns false on bad input. */
static bool parse_args(int argc, char **argv, const char *sub, data_args *a)
{
  memset(a, 0, sizeof *a);
  for (int i = 2; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      a->help = true;
    } else if (!strcmp(argv[i], "--lenient")) {
      a->lenient = true;
    } else if (!strcmp(argv[i], "--timeframe") || !strcmp(argv[i], "-t")) {
      if (i + 1 >= argc) {
        fprintf(stderr, "apextrade data %s: --timeframe needs a value (e.g. 1h)\n", sub);
        return false;
      }
      a->tf_text = argv[++i];
    } else if (!strncmp(argv[i], "--timeframe=", 12)) {
      a->tf_text = argv[i] + 12;
    } else if (!strcmp(sub, "import") && (!strcmp(argv[i], "--symbol") || !strcmp(argv[i], "--source"))) {
      if (i + 1 >= argc) {
        fprintf(stderr, "apextrade data %s: %s needs a value\n", sub, argv[i]);
        return false;
      }
      *(argv[i][3] == 'y' ? &a->symbol : &a->source) = argv[i + 1];
      i++;
    } else if (!strcmp(sub, "import") && apex_cli_is_store_flag(argv[i]) &&
               a->n_store_flags + 2 <= (int)APEX_ARRAY_LEN(a->store_flags)) {
      a->store_flags[a->n_store_flags++] = argv[i];
      if (!strchr(argv[i], '=') && i + 1 < argc)
        a->store_flags[a->n_store_flags++] = argv[++i]; /* its value; a missing one is the config's message */
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "apextrade data %s: unknown option '%s' (see --help)\n", sub, argv[i]);
      return false;
    } else if (!a->file) {
      a->file = argv[i];
    } else {
      fprintf(stderr, "apextrade data %s: one FILE only, got '%s' too\n", sub, argv[i]);
      return false;
    }
  }
  return true;
}

/* "4d", "2d15h30m", "0.25s": a duration in whole units, largest first. */
static void fmt_duration(int64_t ms, char *buf, size_t cap)
{
  static const struct { int64_t ms; char u; } U[] = {
      {APEX_MS_DAY, 'd'}, {APEX_MS_HOUR, 'h'}, {APEX_MS_MINUTE, 'm'}, {1000, 's'}};
  size_t k = 0;
  buf[0] = '\0';
  if (ms <= 0 || ms % 1000) {
    snprintf(buf, cap, "%gs", (double)ms / 1000.0);
    return;
  }
  for (size_t i = 0; i < sizeof U / sizeof U[0] && k < cap; i++)
    if (ms >= U[i].ms) {
      int w = snprintf(buf + k, cap - k, "%" PRId64 "%c", ms / U[i].ms, U[i].u);
      if (w < 0)
        return;
      k += (size_t)w;
      ms %= U[i].ms;
    }
}

/* Times as in the file, with ISO 8601 beside epochs so a person can read them. */
static void fmt_time(int64_t t, const apex_load_report *rep, char *buf, size_t cap)
{
  size_t k = apex_format_time(t, rep, buf, cap);
  if (rep->timefmt >= APEX_TIMEFMT_EPOCH_S && k + 4 < cap) {
    buf[k++] = ' ';
    buf[k++] = '(';
    k += apex_format_time(t, NULL, buf + k, cap - k);
    if (k + 1 < cap) {
      buf[k++] = ')';
      buf[k] = '\0';
    }
  }
}

static void fmt_num(double v, char *buf, size_t cap)
{
  snprintf(buf, cap, "%.15g", v);
  if (strtod(buf, NULL) != v)
    snprintf(buf, cap, "%.17g", v);
}

static int inspect(const data_args *a)
{
  apex_load_opts opts = {.lenient = true}; /* inspect reads everything to count every problem */
  apex_load_report rep;
  apex_series *s = NULL;
  apex_error err = {0};
  apex_timeframe tf = {0}, det = {0};
  int64_t step = 0;
  char t0[96], t1[96], tfs[8], dur[48], when[96];

  if (a->tf_text && apex_timeframe_parse(a->tf_text, &tf, &err)) {
    fprintf(stderr, "apextrade data inspect: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  if (apex_load_candles(a->file, &opts, &s, &rep, &err)) {
    fprintf(stderr, "apextrade data inspect: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  fmt_time(s->time[0], &rep, t0, sizeof t0);
  fmt_time(s->time[s->n - 1], &rep, t1, sizeof t1);
  printf("file:       %s\n", a->file);
  printf("format:     %s%s\n", rep.format, rep.gzip ? " (gzip)" : "");
  printf("rows:       %zu\n", rep.rows);
  printf("first:      %s\n", t0);
  printf("last:       %s\n", t1);
  if (s->n >= 2 && apex_timeframe_detect(s->time, s->n, &det, &step) == APEX_ENOMEM) {
    fprintf(stderr, "apextrade data inspect: out of memory\n");
    apex_series_free(s);
    return APEX_EXIT_FAIL;
  }
  if (det.unit != APEX_TF_NONE) {
    apex_timeframe_str(det, tfs, sizeof tfs);
    printf("timeframe:  %s (detected%s)\n", tfs, apex_timeframe_is_named(det) ? "" : ", not a standard exchange timeframe");
  } else if (s->n >= 2) {
    fmt_duration(step, dur, sizeof dur);
    printf("timeframe:  none (irregular; most common step %s)\n", dur);
  } else {
    printf("timeframe:  unknown (one candle)\n");
  }
  if (a->tf_text)
    printf("gaps at:    %s (given)\n", a->tf_text);
  else
    tf = det;
  if (tf.unit == APEX_TF_NONE) {
    printf("gaps:       n/a (no timeframe; give one with --timeframe)\n");
  } else {
    apex_gaps g;
    apex_gaps_count(s->time, s->n, tf, &g);
    apex_timeframe_str(tf, tfs, sizeof tfs);
    if (g.missing == 0) {
      printf("gaps:       none\n");
    } else {
      if (tf.unit == APEX_TF_MONTH)
        snprintf(dur, sizeof dur, "%zuM", g.largest * (size_t)tf.n);
      else
        fmt_duration(g.largest_ms, dur, sizeof dur);
      fmt_time(g.largest_start, &rep, when, sizeof when);
      printf("gaps:       %zu missing %s candle%s in %zu gap%s, largest %s from %s\n", g.missing, tfs,
             g.missing == 1 ? "" : "s", g.gaps, g.gaps == 1 ? "" : "s", dur, when);
    }
    if (g.shared)
      printf("finer:      %zu candles share a %s bucket with the one before (data finer than %s)\n", g.shared, tfs, tfs);
  }
  if (a->lenient) {
    printf("dropped:    %zu\n", rep.dropped);
    printf("problems:   %s\n", rep.dropped ? rep.first_problem : "none");
  } else {
    printf("dropped:    0\n");
    if (rep.dropped)
      printf("problems:   %zu bad row%s; loading stops at the first unless --lenient: %s\n", rep.dropped,
             rep.dropped == 1 ? "" : "s", rep.first_problem);
    else
      printf("problems:   none\n");
  }
  apex_series_free(s);
  return APEX_EXIT_OK;
}

static int resample(const data_args *a)
{
  apex_load_opts opts = {.lenient = a->lenient};
  apex_load_report rep;
  apex_series *s = NULL, *out = NULL;
  apex_error err = {0};
  apex_timeframe to, from = {0};
  int64_t step;
  int rc = APEX_EXIT_OK;
  char t[64], o[32], h[32], l[32], c[32], v[32];

  if (!a->tf_text) {
    fprintf(stderr, "apextrade data resample: --timeframe TF is required (see --help)\n");
    return APEX_EXIT_USAGE;
  }
  if (apex_timeframe_parse(a->tf_text, &to, &err)) {
    fprintf(stderr, "apextrade data resample: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  if (apex_load_candles(a->file, &opts, &s, &rep, &err)) {
    fprintf(stderr, "apextrade data resample: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  if (s->n >= 2 && apex_timeframe_detect(s->time, s->n, &from, &step) == APEX_ENOMEM) {
    fprintf(stderr, "apextrade data resample: out of memory\n");
    rc = APEX_EXIT_FAIL;
    goto out;
  }
  if (apex_resample(s, from, to, &out, &err)) {
    fprintf(stderr, "apextrade data resample: %s: %s\n", a->file, err.msg);
    rc = err.code == APEX_ENOMEM ? APEX_EXIT_FAIL : APEX_EXIT_USAGE;
    goto out;
  }
  if (rep.dropped)
    fprintf(stderr, "apextrade data resample: dropped %zu bad row%s (first: %s)\n", rep.dropped,
            rep.dropped == 1 ? "" : "s", rep.first_problem);
  printf("time,open,high,low,close,volume\n");
  for (size_t i = 0; i < out->n; i++) {
    apex_format_time(out->time[i], &rep, t, sizeof t);
    fmt_num(out->open[i], o, sizeof o);
    fmt_num(out->high[i], h, sizeof h);
    fmt_num(out->low[i], l, sizeof l);
    fmt_num(out->close[i], c, sizeof c);
    fmt_num(out->volume[i], v, sizeof v);
    printf("%s,%s,%s,%s,%s,%s\n", t, o, h, l, c, v);
  }
  if (fflush(stdout) || ferror(stdout)) {
    fprintf(stderr, "apextrade data resample: cannot write the output\n");
    rc = APEX_EXIT_FAIL;
  }
out:
  apex_series_free(out);
  apex_series_free(s);
  return rc;
}

static double seconds_since(const struct timespec *t0)
{
  struct timespec t1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int import(const data_args *a)
{
  apex_load_opts opts = {.lenient = a->lenient};
  apex_load_report rep;
  apex_series *s = NULL;
  apex_store *st = NULL;
  apex_error err = {0};
  apex_timeframe tf;
  apex_config cfg;
  char tfs[8], where[1300];
  struct timespec t0;
  int rc;

  if (!a->symbol || !*a->symbol || strlen(a->symbol) > 32) {
    fprintf(stderr, "apextrade data import: --symbol SYM (1-32 characters) is required (see --help)\n");
    return APEX_EXIT_USAGE;
  }
  if (!a->tf_text) {
    fprintf(stderr, "apextrade data import: --timeframe TF is required (see --help)\n");
    return APEX_EXIT_USAGE;
  }
  if (apex_timeframe_parse(a->tf_text, &tf, &err)) {
    fprintf(stderr, "apextrade data import: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  apex_timeframe_str(tf, tfs, sizeof tfs);
  if (apex_load_candles(a->file, &opts, &s, &rep, &err)) {
    fprintf(stderr, "apextrade data import: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  if (rep.dropped)
    fprintf(stderr, "apextrade data import: dropped %zu bad row%s (first: %s)\n", rep.dropped,
            rep.dropped == 1 ? "" : "s", rep.first_problem);
  if ((rc = apex_cli_store_config("data import", a->n_store_flags, a->store_flags, &cfg)) ||
      (rc = apex_cli_open_store("data import", &cfg, &st, where, sizeof where)))
    goto out;
  if (apex_store_migrate(st, &err)) {
    fprintf(stderr, "apextrade data import: %s\n", err.msg);
    rc = APEX_EXIT_FAIL;
    goto out;
  }
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (apex_store_ohlcv_put(st, a->symbol, tfs, s, a->source ? a->source : "file", &err)) {
    fprintf(stderr, "apextrade data import: %s\n", err.msg);
    rc = err.code == APEX_EINVAL ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
    goto out;
  }
  double secs = seconds_since(&t0);
  printf("imported %zu rows of %s %s into %s in %.3f s (%.0f rows/s)\n", s->n, a->symbol, tfs, where, secs,
         secs > 0 ? (double)s->n / secs : 0.0);
out:
  apex_store_close(st);
  apex_series_free(s);
  return rc;
}

int apex_cmd_data(int argc, char **argv)
{
  data_args a;
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(DATA_USAGE, argc < 2 ? stderr : stdout);
    return argc < 2 ? APEX_EXIT_USAGE : APEX_EXIT_OK;
  }
  const char *sub = argv[1];
  if (!strcmp(sub, "download"))
    return apex_cmd_data_download(argc, argv);
  bool is_inspect = !strcmp(sub, "inspect"), is_resample = !strcmp(sub, "resample"), is_import = !strcmp(sub, "import");
  if (!is_inspect && !is_resample && !is_import) {
    fprintf(stderr, "apextrade data: unknown subcommand '%s' (inspect, resample, import or download)\n", sub);
    return APEX_EXIT_USAGE;
  }
  if (!parse_args(argc, argv, sub, &a))
    return APEX_EXIT_USAGE;
  if (a.help) {
    fputs(is_inspect ? INSPECT_USAGE : is_resample ? RESAMPLE_USAGE : IMPORT_USAGE, stdout);
    return APEX_EXIT_OK;
  }
  if (!a.file) {
    fprintf(stderr, "apextrade data %s: FILE is required (see --help)\n", sub);
    return APEX_EXIT_USAGE;
  }
  return is_inspect ? inspect(&a) : is_resample ? resample(&a) : import(&a);
}
