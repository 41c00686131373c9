/* poll.c - subscriptions and closed-candle delivery for REST-polling adapters (see poll.h). */
#include "market/poll.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timeframe.h"

#define SUBS_MAX 64

typedef struct sub {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  char timeframe[8];
  apex_timeframe tf;
  int64_t next_open; /* open time of the first candle not yet delivered */
  int64_t due;       /* when to poll: that candle's close, or a re-poll after it */
} sub;

struct apex_market_poll {
  apex_market_clock clock;
  int repoll_ms;
  const char *venue;
  apex_market_fetch fetch;
  void *impl;
  sub subs[SUBS_MAX];
  size_t n_subs;
  apex_market_event *queue; /* closed candles fetched, not yet delivered */
  size_t q_head, q_len, q_cap;
};

static int64_t real_now_ms(void *ctx)
{
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void real_sleep_ms(void *ctx, int64_t ms)
{
  (void)ctx;
  if (ms <= 0)
    return;
  struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
    ;
}

apex_market_clock apex_market_clock_real(void)
{
  return (apex_market_clock){.now_ms = real_now_ms, .sleep_ms = real_sleep_ms};
}

apex_err apex_market_poll_new(const apex_market_clock *clock, int repoll_ms, const char *venue,
                              apex_market_fetch fetch, void *impl, apex_market_poll **out, apex_error *err)
{
  apex_market_poll *p;
  *out = NULL;
  if (repoll_ms <= 0 || !venue || !fetch || (clock && (!clock->now_ms || !clock->sleep_ms)))
    return apex_error_set(err, APEX_EINVAL, "poll: invalid options");
  if (!(p = calloc(1, sizeof *p)))
    return apex_error_set(err, APEX_ENOMEM, "%s: out of memory", venue);
  p->clock = clock ? *clock : apex_market_clock_real();
  p->repoll_ms = repoll_ms;
  p->venue = venue;
  p->fetch = fetch;
  p->impl = impl;
  *out = p;
  return APEX_OK;
}

void apex_market_poll_free(apex_market_poll *p)
{
  if (!p)
    return;
  free(p->queue);
  free(p);
}

int64_t apex_market_poll_now(const apex_market_poll *p)
{
  return p->clock.now_ms(p->clock.ctx);
}

/* A candle's close: its length after its open (Yahoo's hourly candles open at :30), or the next
 * calendar month. */
static int64_t close_of(apex_timeframe tf, int64_t open)
{
  int64_t ms = apex_timeframe_ms(tf);
  return ms > 0 ? open + ms : apex_timeframe_start(tf, apex_timeframe_index(tf, open) + 1);
}

apex_err apex_market_poll_subscribe(apex_market_poll *p, const char *symbol, const char *timeframe, apex_error *err)
{
  apex_timeframe tf;
  if (!symbol || strlen(symbol) > APEX_MARKET_SYMBOL_MAX || !timeframe || strlen(timeframe) >= sizeof p->subs[0].timeframe ||
      apex_timeframe_parse(timeframe, &tf, NULL))
    return apex_error_set(err, APEX_EINVAL, "%s: cannot subscribe to '%s' '%s'", p->venue, symbol ? symbol : "",
                          timeframe ? timeframe : "");
  for (size_t i = 0; i < p->n_subs; i++)
    if (!strcmp(p->subs[i].symbol, symbol) && !strcmp(p->subs[i].timeframe, timeframe))
      return APEX_OK;
  if (p->n_subs == SUBS_MAX)
    return apex_error_set(err, APEX_ETOOBIG, "%s: more than %d subscriptions", p->venue, SUBS_MAX);
  sub *s = &p->subs[p->n_subs];
  *s = (sub){.tf = tf};
  memcpy(s->symbol, symbol, strlen(symbol) + 1);
  memcpy(s->timeframe, timeframe, strlen(timeframe) + 1);
  s->next_open = apex_timeframe_floor(tf, apex_market_poll_now(p));
  s->due = close_of(tf, s->next_open);
  p->n_subs++;
  return APEX_OK;
}

static apex_err enqueue(apex_market_poll *p, const apex_market_event *ev, apex_error *err)
{
  if (p->q_head > 0 && p->q_head + p->q_len == p->q_cap) { /* compact before growing */
    memmove(p->queue, p->queue + p->q_head, p->q_len * sizeof *p->queue);
    p->q_head = 0;
  }
  if (p->q_len == p->q_cap) {
    size_t cap = p->q_cap ? p->q_cap * 2 : 16;
    apex_market_event *q = realloc(p->queue, cap * sizeof *q);
    if (!q)
      return apex_error_set(err, APEX_ENOMEM, "%s: out of memory", p->venue);
    p->queue = q;
    p->q_cap = cap;
  }
  p->queue[p->q_head + p->q_len++] = *ev;
  return APEX_OK;
}

/* Fetches s's candles closed by now from next_open on, queues them, and sets the next poll. */
static apex_err poll_sub(apex_market_poll *p, sub *s, int64_t now, apex_error *err)
{
  apex_series *got = apex_series_new(16);
  apex_err rc = APEX_OK;
  size_t fresh = 0;
  if (!got)
    return apex_error_set(err, APEX_ENOMEM, "%s: out of memory", p->venue);
  if ((rc = p->fetch(p->impl, s->symbol, s->timeframe, s->next_open, got, err)))
    goto out;
  for (size_t i = 0; i < got->n; i++) {
    apex_bar bar = apex_series_bar(got, i);
    if (bar.time < s->next_open || close_of(s->tf, bar.time) > now)
      continue; /* delivered already, or still open */
    apex_market_event ev = {.kind = APEX_MARKET_CANDLE, .bar = bar};
    memcpy(ev.symbol, s->symbol, sizeof ev.symbol);
    memcpy(ev.timeframe, s->timeframe, sizeof ev.timeframe);
    if ((rc = enqueue(p, &ev, err)))
      goto out;
    s->next_open = close_of(s->tf, bar.time);
    fresh++;
  }
  /* Nothing new although a candle closed: the venue is late; ask again shortly. */
  s->due = fresh || close_of(s->tf, s->next_open) > now ? close_of(s->tf, s->next_open) : now + p->repoll_ms;
out:
  apex_series_free(got);
  return rc;
}

apex_err apex_market_poll_next(apex_market_poll *p, int timeout_ms, apex_market_event *ev, apex_error *err)
{
  int64_t start = apex_market_poll_now(p);
  if (!p->n_subs)
    return apex_error_set(err, APEX_EINVAL, "%s: next() before any subscribe()", p->venue);
  for (;;) {
    if (p->q_len) {
      *ev = p->queue[p->q_head++];
      if (!--p->q_len)
        p->q_head = 0;
      return APEX_OK;
    }
    int64_t now = apex_market_poll_now(p);
    sub *first = &p->subs[0];
    for (size_t i = 1; i < p->n_subs; i++)
      if (p->subs[i].due < first->due)
        first = &p->subs[i];
    if (now >= first->due) {
      apex_err rc = poll_sub(p, first, now, err);
      if (rc)
        return rc;
      continue;
    }
    int64_t until = first->due;
    if (timeout_ms >= 0) {
      if (now >= start + timeout_ms)
        return apex_error_set(err, APEX_ETIMEOUT, "%s: no candle closed within %d ms", p->venue, timeout_ms);
      if (start + timeout_ms < until)
        until = start + timeout_ms;
    }
    p->clock.sleep_ms(p->clock.ctx, until - now);
  }
}
