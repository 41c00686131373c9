/* events.h - the events port: publish/subscribe of typed events (backtest progress, and from the
 * paper runner prices, candles, orders, portfolios and strategy signals). Jobs and the runner
 * publish; the WebSocket hub (api/ws.c) subscribes. app/ sees
 * only this ops table; the composition root picks the implementation (events_inproc.c today,
 * Redis pub/sub when several API nodes must see one another's events). Publishing never waits
 * for a subscriber: a slow one loses its oldest events and is told how many. */
#ifndef APEX_JOBS_EVENTS_H
#define APEX_JOBS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"

typedef enum apex_event_kind {
  APEX_EVENT_BACKTEST_PROGRESS = 1, /* spec 5.7 channel "backtest_progress" */
  APEX_EVENT_BACKTEST_COMPLETED,    /* the same channel, status "completed", progress 100 */
  APEX_EVENT_BACKTEST_FAILED,       /* the same channel, status "failed" */
  APEX_EVENT_TICKER,                /* "ticker": a pair's last price; public (user_id "") */
  APEX_EVENT_CANDLE,                /* "candles": a closed or forming candle; public */
  APEX_EVENT_TRADE,                 /* "trade": an order placed, filled or cancelled */
  APEX_EVENT_PORTFOLIO,             /* "portfolio": cash, positions and equity after a change */
  APEX_EVENT_STRATEGY,              /* "strategy": a signal or a risk refusal of an active strategy */
  APEX_EVENT_SESSION_REVOKED,       /* no channel: the user's tokens were revoked (logout, reset) */
} apex_event_kind;
#define APEX_EVENT_MASK(kind) (1u << (kind))
#define APEX_EVENT_ALL 0xffffffffu

typedef struct apex_event {
  apex_event_kind kind;
  char user_id[40];     /* whose it is: a subscriber shows it to this user only */
  int64_t time_ms;      /* when it was published */
  union {
    struct {
      char backtest_id[40];
      int progress_pct;
      int64_t current_ms; /* the candle the run has reached (spec: current_date); 0 when unknown */
      char status[16];    /* running, completed, failed */
      /* completed: the summary of the spec's Backtest Result (3.2.3); zeros otherwise */
      double total_return_pct, sharpe_ratio, max_drawdown_pct, win_rate_pct, profit_factor;
      int64_t total_trades;
      /* failed: the spec's code (3001 insufficient data, 3002 timeout, ...) and a message for
       * the user (never a database's own text); 0 and "" otherwise */
      int error_code;
      char error_message[200];
    } backtest;
    struct {
      char symbol[33];
      apex_dec price;
      double change_24h_pct; /* NaN: less than a day is known */
      int64_t time_ms;       /* when the price was taken */
    } ticker;
    struct {
      char symbol[33], timeframe[8];
      int64_t time_ms; /* open time */
      double open, high, low, close, volume;
      bool closed;     /* false: the forming candle, to be replaced by later ones */
    } candle;
    struct {
      char trade_id[40], portfolio_id[40], strategy_id[40];
      char symbol[33], side[5], order_type[21], status[21];
      apex_dec quantity, price, commission; /* price APEX_DEC_NONE: a market order not filled */
      int64_t time_ms;
    } trade;
    struct {
      char portfolio_id[40], currency[8];
      apex_dec cash, positions, equity;
      int64_t time_ms;
    } portfolio;
    struct {
      char strategy_id[40], symbol[33];
      char event[12];   /* "signal" or "refused" */
      char side[5];     /* signals: BUY, SELL */
      char reason[40];  /* refusals: the risk rule */
      char detail[120];
      int64_t time_ms;
    } strategy;
  } u;
} apex_event;

/* The spec's WebSocket channel of a kind ("backtest_progress"); "" for an unknown kind. */
const char *apex_event_channel(apex_event_kind kind);

typedef struct apex_subscription apex_subscription; /* opaque, the implementation's */

typedef struct apex_events_ops {
  const char *name; /* "inproc" */
  /* Copies ev to every subscriber whose mask has its kind. Never blocks on a subscriber. */
  void (*publish)(void *impl, const apex_event *ev);
  /* A subscriber to the kinds in mask, holding at most capacity (>= 1) unread events.
   * APEX_EINVAL, APEX_ENOMEM. */
  apex_err (*subscribe)(void *impl, unsigned mask, size_t capacity, apex_subscription **out);
  /* Ends sub and frees it; no other thread may be in next() on it. NULL is a no-op. */
  void (*unsubscribe)(void *impl, apex_subscription *sub);
  /* The oldest unread event of sub, waiting up to timeout_ms (0: do not wait). False when none
   * came. *dropped (may be NULL) gets the number of events dropped (oldest first, because sub
   * was full) since the previous call. One reader per subscription. */
  bool (*next)(void *impl, apex_subscription *sub, int timeout_ms, apex_event *ev, uint64_t *dropped);
  void (*free)(void *impl); /* every subscription must be gone */
  /* Calls wake(arg) on the publisher's thread each time an event is added to sub (an epoll loop
   * writes an eventfd there), until unsubscribe. wake must not block or publish. */
  void (*watch)(void *impl, apex_subscription *sub, void (*wake)(void *arg), void *arg);
} apex_events_ops;

typedef struct apex_events {
  const apex_events_ops *ops;
  void *impl;
} apex_events;

static inline void apex_events_publish(apex_events *e, const apex_event *ev) { e->ops->publish(e->impl, ev); }
static inline apex_err apex_events_subscribe(apex_events *e, unsigned mask, size_t capacity, apex_subscription **out)
{
  return e->ops->subscribe(e->impl, mask, capacity, out);
}
static inline void apex_events_unsubscribe(apex_events *e, apex_subscription *sub) { e->ops->unsubscribe(e->impl, sub); }
static inline bool apex_events_next(apex_events *e, apex_subscription *sub, int timeout_ms, apex_event *ev,
                                    uint64_t *dropped)
{
  return e->ops->next(e->impl, sub, timeout_ms, ev, dropped);
}
static inline void apex_events_watch(apex_events *e, apex_subscription *sub, void (*wake)(void *), void *arg)
{
  e->ops->watch(e->impl, sub, wake, arg);
}
/* Frees e's implementation and zeroes e; a zeroed e is a no-op. */
static inline void apex_events_free(apex_events *e)
{
  if (e && e->ops)
    e->ops->free(e->impl);
  if (e)
    *e = (apex_events){0};
}

/* In-process fan-out: a ring of capacity events per subscriber, each behind its own lock, so a
 * publisher holds one subscriber's lock only for a copy. Thread-safe. APEX_ENOMEM. */
apex_err apex_events_inproc_new(apex_events *out);

/* Across processes through Redis (events_redis.c): publish never waits on the network (a thread
 * sends in batches); every process on the same Redis delivers every event to its subscribers.
 * While Redis is away, events reach this process's subscribers only. APEX_EINVAL (url),
 * APEX_ENOMEM; Redis need not be up yet. */
apex_err apex_events_redis_new(const char *url, apex_events *out, apex_error *err);

#endif
