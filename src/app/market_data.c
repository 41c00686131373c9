/* market_data.c - downloads candles from a venue (the market port) into the store: resumable, page
 * by page, each page upserted as it arrives. Used by `apextrade data download` and, with its cancel
 * flag, by a market-data job. No venue or database is known here, only the two ports. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app/app.h"
#include "core/timeframe.h"

#define PAGE 1000 /* candles asked per request; adapters cut it to what their venue allows */

static int64_t now_ms(const apex_app *app)
{
  if (app->now_ms)
    return app->now_ms();
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Open time of the candle after the one open at t (months vary in length). */
static int64_t next_open(apex_timeframe tf, int64_t t)
{
  return apex_timeframe_start(tf, apex_timeframe_index(tf, t) + 1);
}

/* A venue's failure as the API's error; the venue's own message is safe to show. */
static apex_err market_failed(apex_app_error *e, const char *venue, const char *symbol, const apex_error *err)
{
  switch (err->code) {
  case APEX_ENOTFOUND:
    return apex_app_raise(e, APEX_E_MARKET_SYMBOL_NOT_FOUND, "unknown symbol '%s' at %s (%s)", symbol, venue, err->msg);
  case APEX_ERATELIMIT:
    return apex_app_raise(e, APEX_E_MARKET_RATE_LIMITED, "%s", err->msg);
  case APEX_EINVAL:
    return apex_app_raise(e, APEX_E_VALIDATION, "%s", err->msg);
  case APEX_ENOMEM:
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  default: /* EIO, ETIMEOUT, and replies that could not be read */
    return apex_app_raise(e, APEX_E_UNAVAILABLE, "%s is unavailable: %s", venue, err->msg);
  }
}

/* The open time to start from: after the newest stored candle in [since, until), else since. */
static apex_err resume_point(apex_app *app, const char *symbol, const char *tfs, apex_timeframe tf, int64_t since,
                             int64_t until, int64_t *from, apex_app_error *e)
{
  apex_series *last = NULL;
  apex_error err = {0};
  *from = since;
  if (apex_store_ohlcv_last(app->store, symbol, tfs, since, until, 1, &last, &err))
    return apex_app_store_failed(e, &err);
  if (last->n)
    *from = next_open(tf, last->time[last->n - 1]);
  apex_series_free(last);
  return APEX_OK;
}

apex_err apex_app_market_download(apex_app *app, apex_market *m, const char *symbol, const char *timeframe,
                                  int64_t since_ms, int64_t until_ms, apex_app_download_progress progress, void *ctx,
                                  const atomic_int *cancel, size_t *stored, apex_app_error *e)
{
  apex_series *page = NULL;
  apex_error err = {0};
  apex_timeframe tf;
  char tfs[8];
  int64_t from, now = now_ms(app);
  apex_err rc = APEX_OK;

  *stored = 0;
  if (!m || !m->ops || !m->ops->candles)
    return apex_app_raise(e, APEX_E_INTERNAL, "no market to download from");
  if (!symbol || !*symbol || strlen(symbol) > APEX_MARKET_SYMBOL_MAX)
    return apex_app_raise(e, APEX_E_VALIDATION, "symbol: 1 to %d characters, like BTC/USDT", APEX_MARKET_SYMBOL_MAX);
  if (!timeframe || apex_timeframe_parse(timeframe, &tf, &err))
    return apex_app_raise(e, APEX_E_VALIDATION, "%s", timeframe ? err.msg : "timeframe: required");
  apex_timeframe_str(tf, tfs, sizeof tfs);
  if (until_ms <= 0)
    until_ms = now;
  if (since_ms < 0 || since_ms >= until_ms)
    return apex_app_raise(e, APEX_E_VALIDATION, "the start must be before the end (and not before 1970)");
  if ((rc = resume_point(app, symbol, tfs, tf, since_ms, until_ms, &from, e)))
    return rc;
  if (!(page = apex_series_new(PAGE)))
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  if (progress)
    progress(ctx, from, until_ms, 0);
  while (from < until_ms) {
    if (cancel && atomic_load(cancel)) {
      apex_app_raise(e, APEX_E_UNAVAILABLE, "the download was cancelled after storing %zu candles", *stored);
      rc = APEX_ECANCELED;
      goto out;
    }
    page->n = 0;
    if (m->ops->candles(m->impl, symbol, tfs, from, PAGE, page, &err)) {
      rc = market_failed(e, m->ops->name, symbol, &err);
      goto out;
    }
    /* Keep [a, b): on or after from (a venue may repeat the last candle), before until, closed. */
    size_t a = 0, b;
    while (a < page->n && page->time[a] < from)
      a++;
    for (b = a; b < page->n && page->time[b] < until_ms && next_open(tf, page->time[b]) <= now; b++)
      ;
    if (b > a) {
      apex_series view = {.n = b - a, .cap = b - a, .time = page->time + a, .open = page->open + a,
                          .high = page->high + a, .low = page->low + a, .close = page->close + a,
                          .volume = page->volume + a};
      if (apex_store_ohlcv_put(app->store, symbol, tfs, &view, m->ops->name, &err)) {
        rc = apex_app_store_failed(e, &err);
        goto out;
      }
      *stored += b - a;
      from = next_open(tf, page->time[b - 1]);
    }
    if (progress)
      progress(ctx, from, until_ms, *stored);
    if (b == a || b < page->n) /* an empty page, or one reaching past the end or into the open candle */
      break;
  }
out:
  apex_series_free(page);
  return rc;
}
