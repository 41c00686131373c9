/* cmd_download.c - `apextrade data download`: candles from a venue into the database `serve` uses,
 * page by page and resumable (app/market_data.c does the work; here: options, the venue and the
 * store picked, Ctrl-C turned into the cancel flag, and the progress shown). */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/app.h"
#include "cli/cli.h"
#include "core/strategy.h"
#include "core/timeframe.h"
#include "market/venue.h"

#define CMD "data download"
#define EXIT_INTERRUPTED 130 /* 128 + SIGINT, as a shell reports a command stopped by Ctrl-C */

/* Printed around the venue names, so the list is always the table's (market/venue.c). */
static const char USAGE_HEAD[] =
    "usage: apextrade data download --venue NAME --symbol SYM --timeframe TF --since DATE [--until DATE]\n"
    "                               [--base-url URL] [--quiet]\n"
    "\n"
    "Downloads closed candles of SYM at TF from a venue into the database `apextrade serve` uses\n"
    "(as 'data import': DATABASE_URL when set, otherwise $APEX_DATA_DIR/apextrade.db; pending\n"
    "migrations are applied first). Asks the venue page by page from --since and stores each page as\n"
    "it arrives (upsert, source NAME), so an interrupted download keeps what it stored; run the same\n"
    "command again and it resumes after the newest stored candle in the range. Shows a progress bar\n"
    "on stderr when stderr is a terminal, then prints one line: the candles stored and their range.\n"
    "\n";
static const char USAGE_TAIL[] =
    "  --symbol SYM      market symbol as BASE/QUOTE (e.g. BTC/USDT), 1-32 characters\n"
    "  --timeframe TF    candle timeframe (1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M)\n"
    "  --since DATE      first candle (YYYY-MM-DD or ISO 8601, UTC)\n"
    "  --until DATE      stop before this time (default: now; only closed candles are stored)\n"
    "  --base-url URL    the venue's API address instead of its public one (tests point it at a\n"
    "                    local stub such as tests/market/stub_binance.py)\n"
    "  --quiet           no progress bar and no summary line (errors are still printed)\n"
    "  --database-url U  the database, instead of DATABASE_URL\n"
    "  --data-dir DIR    the data directory, instead of APEX_DATA_DIR\n"
    "\n"
    "Ctrl-C stops after the page being fetched; what was stored is kept.\n"
    "Exit status: 0 downloaded, 1 the venue or the database failed, 2 bad arguments, 130 interrupted.\n";

typedef struct dl_args {
  const char *venue, *symbol, *tf_text, *since, *until, *base_url;
  bool quiet, help;
  char *store_flags[4]; /* --database-url / --data-dir and their values, for sys/config */
  int n_store_flags;
} dl_args;

static atomic_int g_cancel; /* set by SIGINT: the download stops after its current page */

static void on_sigint(int sig)
{
  (void)sig;
  atomic_store(&g_cancel, 1);
}

static void usage(FILE *f)
{
  fputs(USAGE_HEAD, f);
  fputs("  --venue NAME      where the candles come from:", f);
  for (size_t i = 0; apex_market_venue_name(i); i++)
    fprintf(f, "%s %s", i ? "," : "", apex_market_venue_name(i));
  fputs("\n", f);
  fputs(USAGE_TAIL, f);
}

/* The value of a "--flag VALUE" or "--flag=VALUE" option at argv[*i], or NULL when argv[*i] is not
 * flag; *missing when the value is absent. */
static const char *value_of(int argc, char **argv, int *i, const char *flag, bool *missing)
{
  size_t n = strlen(flag);
  if (strncmp(argv[*i], flag, n))
    return NULL;
  if (argv[*i][n] == '=')
    return argv[*i] + n + 1;
  if (argv[*i][n])
    return NULL;
  if (*i + 1 >= argc) {
    *missing = true;
    return NULL;
  }
  return argv[++*i];
}

/* argv[2..) (argv[1] is "download"); prints a usage error and returns false on bad input. */
static bool parse_args(int argc, char **argv, dl_args *a)
{
  static const struct { const char *flag; size_t off; } OPTS[] = {
      {"--venue", offsetof(dl_args, venue)},       {"--symbol", offsetof(dl_args, symbol)},
      {"--timeframe", offsetof(dl_args, tf_text)}, {"--since", offsetof(dl_args, since)},
      {"--until", offsetof(dl_args, until)},       {"--base-url", offsetof(dl_args, base_url)},
  };
  memset(a, 0, sizeof *a);
  for (int i = 2; i < argc; i++) {
    bool missing = false, matched = false;
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      a->help = true;
      continue;
    }
    if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
      a->quiet = true;
      continue;
    }
    for (size_t k = 0; k < APEX_ARRAY_LEN(OPTS) && !matched; k++) {
      const char *v = value_of(argc, argv, &i, OPTS[k].flag, &missing);
      if (missing) {
        fprintf(stderr, "apextrade %s: %s needs a value\n", CMD, OPTS[k].flag);
        return false;
      }
      if (v) {
        *(const char **)((char *)a + OPTS[k].off) = v;
        matched = true;
      }
    }
    if (matched)
      continue;
    if (apex_cli_is_store_flag(argv[i]) && a->n_store_flags + 2 <= (int)APEX_ARRAY_LEN(a->store_flags)) {
      a->store_flags[a->n_store_flags++] = argv[i];
      if (!strchr(argv[i], '=') && i + 1 < argc)
        a->store_flags[a->n_store_flags++] = argv[++i]; /* its value; a missing one is the config's message */
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "apextrade %s: unknown option '%s' (see --help)\n", CMD, argv[i]);
      return false;
    } else {
      fprintf(stderr, "apextrade %s: unexpected argument '%s' (see --help)\n", CMD, argv[i]);
      return false;
    }
  }
  return true;
}

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct progress_state {
  bool bar;       /* stderr is a terminal and not --quiet */
  bool drawn;     /* the bar is on screen: end it with a newline */
  int64_t start;  /* where the download started (after the stored candles when resuming) */
  int64_t done;   /* where the next page starts */
  int64_t until;
  size_t candles;
} progress_state;

static void draw(const progress_state *p)
{
  char when[40];
  double span = (double)(p->until - p->start);
  double pct = span > 0 ? 100.0 * (double)(p->done - p->start) / span : 100.0;
  pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
  apex_time_iso(p->done, when, sizeof when);
  fprintf(stderr, "\r[%-40.*s] %5.1f %% %zu candles, up to %s ", (int)(pct / 2.5),
          "########################################", pct, p->candles, when);
  fflush(stderr);
}

static void on_progress(void *ctx, int64_t done_ms, int64_t until_ms, size_t candles)
{
  progress_state *p = ctx;
  if (p->start == INT64_MIN)
    p->start = done_ms; /* the first call says where the download starts */
  p->done = done_ms;
  p->until = until_ms;
  p->candles = candles;
  if (p->bar) {
    draw(p);
    p->drawn = true;
  }
}

/* "N candles of SYM TF from VENUE, FIRST to LAST": the open times of the first and the last candle
 * stored in [start, done), read back from the store. */
static void summary(apex_store *st, const dl_args *a, const char *tfs, const progress_state *p, size_t stored,
                    const char *where, bool resumed)
{
  apex_series *first = NULL, *last = NULL;
  char t0[40], t1[40];
  if (!stored || apex_store_ohlcv_get(st, a->symbol, tfs, p->start, p->done, 1, &first, NULL) ||
      apex_store_ohlcv_last(st, a->symbol, tfs, p->start, p->done, 1, &last, NULL) || !first->n || !last->n) {
    apex_time_iso(p->start, t0, sizeof t0);
    printf("stored %zu candles of %s %s from %s: none new from %s, into %s\n", stored, a->symbol, tfs, a->venue, t0,
           where);
  } else {
    apex_time_iso(first->time[0], t0, sizeof t0);
    apex_time_iso(last->time[last->n - 1], t1, sizeof t1);
    printf("stored %zu candles of %s %s from %s, %s to %s, into %s%s\n", stored, a->symbol, tfs, a->venue, t0, t1,
           where, resumed ? " (resumed after the candles already stored)" : "");
  }
  apex_series_free(first);
  apex_series_free(last);
}

/* The venue named by the options; prints its error. */
static int open_venue(const dl_args *a, apex_market *m)
{
  apex_market_venue_opts vo = {.base_url = a->base_url};
  apex_error err = {0};
  if (apex_market_venue_open(a->venue, &vo, m, &err) == APEX_OK)
    return APEX_EXIT_OK;
  fprintf(stderr, "apextrade %s: --venue: %s\n", CMD, err.msg);
  return err.code == APEX_EINVAL ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
}

/* Checks the options that need no venue or database; fills the times and the timeframe text. */
static int check_args(const dl_args *a, int64_t *since, int64_t *until, char *tfs, size_t cap)
{
  static const struct { const char *flag; size_t off; } REQUIRED[] = {
      {"--venue NAME", offsetof(dl_args, venue)}, {"--symbol SYM", offsetof(dl_args, symbol)},
      {"--timeframe TF", offsetof(dl_args, tf_text)}, {"--since DATE", offsetof(dl_args, since)},
  };
  apex_error err = {0};
  apex_timeframe tf;
  for (size_t k = 0; k < APEX_ARRAY_LEN(REQUIRED); k++)
    if (!*(const char *const *)((const char *)a + REQUIRED[k].off)) {
      fprintf(stderr, "apextrade %s: %s is required (see --help)\n", CMD, REQUIRED[k].flag);
      return APEX_EXIT_USAGE;
    }
  if (!*a->symbol || strlen(a->symbol) > 32) {
    fprintf(stderr, "apextrade %s: --symbol: 1-32 characters, like BTC/USDT\n", CMD);
    return APEX_EXIT_USAGE;
  }
  if (apex_timeframe_parse(a->tf_text, &tf, &err)) {
    fprintf(stderr, "apextrade %s: --timeframe: %s\n", CMD, err.msg);
    return APEX_EXIT_USAGE;
  }
  apex_timeframe_str(tf, tfs, cap);
  if (apex_parse_date_ms(a->since, since) || *since < 0) {
    fprintf(stderr, "apextrade %s: --since: not a date like 2024-01-31: '%s'\n", CMD, a->since);
    return APEX_EXIT_USAGE;
  }
  *until = 0;
  if (a->until && apex_parse_date_ms(a->until, until)) {
    fprintf(stderr, "apextrade %s: --until: not a date like 2024-01-31: '%s'\n", CMD, a->until);
    return APEX_EXIT_USAGE;
  }
  if (*until ? *until <= *since : *since >= wall_ms()) {
    fprintf(stderr, "apextrade %s: --since must be before %s\n", CMD, *until ? "--until" : "now");
    return APEX_EXIT_USAGE;
  }
  return APEX_EXIT_OK;
}

static int download(const dl_args *a)
{
  apex_market m = {0};
  apex_store *st = NULL;
  apex_config cfg;
  apex_error err = {0};
  apex_app_error e = {0};
  int64_t since, until;
  size_t stored = 0;
  char tfs[8], where[1300], t1[40];
  progress_state ps = {.bar = !a->quiet && isatty(STDERR_FILENO), .start = INT64_MIN};
  apex_app app = {0};
  struct sigaction sa = {.sa_handler = on_sigint, .sa_flags = (int)SA_RESETHAND}, old_sa;
  apex_err r;
  int rc;

  if ((rc = check_args(a, &since, &until, tfs, sizeof tfs)) || (rc = open_venue(a, &m)))
    goto out;
  ps.done = since;
  if ((rc = apex_cli_store_config(CMD, a->n_store_flags, a->store_flags, &cfg)) ||
      (rc = apex_cli_open_store(CMD, &cfg, &st, where, sizeof where)))
    goto out;
  if (apex_store_migrate(st, &err)) {
    fprintf(stderr, "apextrade %s: %s\n", CMD, err.msg);
    rc = APEX_EXIT_FAIL;
    goto out;
  }
  app.store = st;
  app.now_ms = wall_ms;
  /* SA_RESETHAND: a second Ctrl-C ends the process at once, as it would without us. */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old_sa);
  r = apex_app_market_download(&app, &m, a->symbol, tfs, since, until, on_progress, &ps, &g_cancel,
                                        &stored, &e);
  sigaction(SIGINT, &old_sa, NULL);
  if (ps.drawn && r == APEX_OK) {
    ps.done = ps.until; /* the last, empty page: nothing more to fetch */
    draw(&ps);
  }
  if (ps.drawn)
    fputc('\n', stderr);
  apex_time_iso(ps.done, t1, sizeof t1);
  if (r == APEX_ECANCELED) {
    fprintf(stderr, "apextrade %s: interrupted: %zu candles stored, up to %s; run the same command again to resume\n",
            CMD, stored, t1);
    rc = EXIT_INTERRUPTED;
  } else if (r) {
    if (stored)
      fprintf(stderr, "apextrade %s: %s (the %zu candles stored up to %s are kept; run again to resume)\n", CMD,
              e.detail, stored, t1);
    else
      fprintf(stderr, "apextrade %s: %s\n", CMD, e.detail);
    rc = e.status == 422 ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
  } else {
    if (!a->quiet)
      summary(st, a, tfs, &ps, stored, where, ps.start > since);
    rc = APEX_EXIT_OK;
  }
out:
  apex_store_close(st);
  apex_market_free(&m);
  return rc;
}

int apex_cmd_data_download(int argc, char **argv)
{
  dl_args a;
  if (!parse_args(argc, argv, &a))
    return APEX_EXIT_USAGE;
  if (a.help) {
    usage(stdout);
    return APEX_EXIT_OK;
  }
  return download(&a);
}
