/* replay.c - the replay adapter (replay.h): stored candles delivered as a feed, paced by the
 * monotonic clock. The only OS calls are the clock and the sleep. */
#include "market/replay.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeframe.h"

typedef struct replay {
  const apex_series *s;
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  char timeframe[8];
  double interval_ms; /* between deliveries; 0: none */
  size_t next;        /* candles delivered */
  double start_ms;    /* monotonic time of the first delivery */
  bool subscribed;
} replay;

static double mono_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static void sleep_ms(double ms)
{
  struct timespec ts = {(time_t)(ms / 1e3), (long)(fmod(ms, 1e3) * 1e6)};
  while (nanosleep(&ts, &ts) && errno == EINTR)
    ;
}

static apex_err check_pair(const replay *r, const char *symbol, const char *timeframe, apex_error *err)
{
  if (strcmp(symbol, r->symbol) || (timeframe && strcmp(timeframe, r->timeframe)))
    return apex_error_set(err, APEX_EINVAL, "replay: %s%s%s: not the replayed pair (%s %s)", symbol,
                          timeframe ? " " : "", timeframe ? timeframe : "", r->symbol, r->timeframe);
  return APEX_OK;
}

static apex_err rp_symbols(void *impl, apex_market_symbol *out, size_t cap, size_t *n, apex_error *err)
{
  replay *r = impl;
  *n = 0;
  if (!cap)
    return apex_error_set(err, APEX_ETOOBIG, "replay: no room for its one symbol");
  memset(out, 0, sizeof *out);
  memcpy(out->symbol, r->symbol, sizeof out->symbol);
  memcpy(out->venue_symbol, r->symbol, sizeof out->venue_symbol);
  if (apex_market_split(r->symbol, out->base, out->quote)) /* a bare ticker such as "ORCL" */
    snprintf(out->base, sizeof out->base, "%.*s", (int)sizeof out->base - 1, r->symbol);
  out->active = true;
  *n = 1;
  return APEX_OK;
}

static apex_err rp_candles(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, size_t limit,
                           apex_series *out, apex_error *err)
{
  replay *r = impl;
  apex_err rc = check_pair(r, symbol, timeframe, err);
  if (rc)
    return rc;
  size_t i = 0;
  while (i < r->next && r->s->time[i] < since_ms)
    i++;
  for (size_t k = 0; i < r->next && k < limit; i++, k++) {
    apex_bar b = apex_series_bar(r->s, i);
    if ((rc = apex_series_append(out, &b)))
      return apex_error_set(err, rc, "replay: candles: %s", apex_strerror(rc));
  }
  return APEX_OK;
}

static apex_err rp_ticker(void *impl, const char *symbol, apex_ticker *out, apex_error *err)
{
  replay *r = impl;
  apex_err rc = check_pair(r, symbol, NULL, err);
  if (rc)
    return rc;
  if (!r->next)
    return apex_error_set(err, APEX_ENOTFOUND, "replay: %s: no candle delivered yet", symbol);
  memset(out, 0, sizeof *out);
  memcpy(out->symbol, r->symbol, sizeof out->symbol);
  out->time = r->s->time[r->next - 1];
  if ((rc = apex_dec_from_double(r->s->close[r->next - 1], &out->last)))
    return apex_error_set(err, rc, "replay: %s: close out of range", symbol);
  return APEX_OK;
}

static apex_err rp_orderbook(void *impl, const char *symbol, size_t depth, apex_orderbook *out, apex_error *err)
{
  (void)impl;
  (void)depth;
  (void)out;
  return apex_error_set(err, APEX_EINVAL, "replay: %s: a replay of candles has no order book", symbol);
}

/* A coarser timeframe that the replayed one divides is accepted too: the replay delivers its own
 * candles, from which the subscriber builds the coarser ones. */
static apex_err rp_subscribe(void *impl, const char *symbol, const char *timeframe, apex_error *err)
{
  replay *r = impl;
  apex_timeframe mine, want;
  bool coarser = !strcmp(symbol, r->symbol) && !apex_timeframe_parse(r->timeframe, &mine, NULL) &&
                 !apex_timeframe_parse(timeframe, &want, NULL) && apex_timeframe_divides(mine, want);
  apex_err rc = coarser ? APEX_OK : check_pair(r, symbol, timeframe, err);
  if (!rc)
    r->subscribed = true;
  return rc;
}

static apex_err rp_next(void *impl, int timeout_ms, apex_market_event *ev, apex_error *err)
{
  replay *r = impl;
  if (!r->subscribed)
    return apex_error_set(err, APEX_EINVAL, "replay: next() before subscribe()");
  if (r->next == r->s->n)
    return apex_error_set(err, APEX_ENOTFOUND, "replay: played to its last candle");
  if (r->next == 0) {
    r->start_ms = mono_ms();
  } else if (r->interval_ms > 0) {
    double wait = r->start_ms + (double)r->next * r->interval_ms - mono_ms();
    if (timeout_ms >= 0 && wait > timeout_ms) {
      sleep_ms(timeout_ms);
      return apex_error_set(err, APEX_ETIMEOUT, "replay: no candle within %d ms", timeout_ms);
    }
    if (wait > 0)
      sleep_ms(wait);
  }
  memset(ev, 0, sizeof *ev);
  ev->kind = APEX_MARKET_CANDLE;
  memcpy(ev->symbol, r->symbol, sizeof ev->symbol);
  memcpy(ev->timeframe, r->timeframe, sizeof ev->timeframe);
  ev->bar = apex_series_bar(r->s, r->next++);
  return APEX_OK;
}

static void rp_free(void *impl) { free(impl); }

static const apex_market_ops REPLAY_OPS = {
    .name = "replay",
    .symbols = rp_symbols,
    .candles = rp_candles,
    .ticker = rp_ticker,
    .orderbook = rp_orderbook,
    .subscribe = rp_subscribe,
    .next = rp_next,
    .free = rp_free,
};

apex_err apex_replay_new(const apex_series *s, const char *symbol, const char *timeframe, double speed,
                         apex_market *out, apex_error *err)
{
  apex_timeframe tf;
  replay *r;

  *out = (apex_market){0};
  if (!*symbol || strlen(symbol) > APEX_MARKET_SYMBOL_MAX)
    return apex_error_set(err, APEX_EINVAL, "replay: symbol '%s': 1 to %d bytes", symbol, APEX_MARKET_SYMBOL_MAX);
  if (strlen(timeframe) >= sizeof r->timeframe || apex_timeframe_parse(timeframe, &tf, err) ||
      !apex_timeframe_valid(tf))
    return apex_error_set(err, APEX_EINVAL, "replay: timeframe '%s' is not one", timeframe);
  if (!isfinite(speed) || speed < 0)
    return apex_error_set(err, APEX_EINVAL, "replay: speed %g: must be 0 (no waiting) or positive", speed);
  if (!(r = calloc(1, sizeof *r)))
    return apex_error_set(err, APEX_ENOMEM, "replay: out of memory");
  r->s = s;
  memcpy(r->symbol, symbol, strlen(symbol) + 1);
  memcpy(r->timeframe, timeframe, strlen(timeframe) + 1);
  int64_t tf_ms = apex_timeframe_ms(tf);
  if (!tf_ms) /* months vary: a replay paces them as 30 days */
    tf_ms = (int64_t)tf.n * 30 * 86400000;
  r->interval_ms = speed > 0 ? (double)tf_ms / speed : 0;
  *out = (apex_market){&REPLAY_OPS, r};
  return APEX_OK;
}
