/* poll.h - next() for adapters that poll a REST API for candles (kraken.c, yahoo.c): the
 * subscriptions, when each one's next candle closes on an injectable clock, and a queue of closed
 * candles fetched but not yet delivered. It does no I/O itself: the adapter's fetch does. */
#ifndef APEX_MARKET_POLL_H
#define APEX_MARKET_POLL_H

#include <stdint.h>

#include "base/err.h"
#include "market/market.h"

/* The adapter's candles(): closed candles of symbol/timeframe from since_ms on, oldest first,
 * appended to out. A candle still open must not be among them. */
typedef apex_err (*apex_market_fetch)(void *impl, const char *symbol, const char *timeframe, int64_t since_ms,
                                      apex_series *out, apex_error *err);

typedef struct apex_market_poll apex_market_poll; /* opaque */

/* The real clock (CLOCK_REALTIME, nanosleep). */
apex_market_clock apex_market_clock_real(void);

/* clock NULL: the real one (copied either way). venue names the adapter in messages. repoll_ms
 * (> 0) is the delay before asking again for a candle the venue has not published after its
 * close. APEX_EINVAL, APEX_ENOMEM. Free with apex_market_poll_free. */
apex_err apex_market_poll_new(const apex_market_clock *clock, int repoll_ms, const char *venue,
                              apex_market_fetch fetch, void *impl, apex_market_poll **out, apex_error *err);
void apex_market_poll_free(apex_market_poll *p); /* NULL is a no-op */

/* The clock's now, ms UTC. */
int64_t apex_market_poll_now(const apex_market_poll *p);

/* Adds symbol/timeframe (the adapter has checked the venue offers them), starting with the candle
 * open now; a pair already there is APEX_OK. APEX_EINVAL (timeframe), APEX_ETOOBIG past 64 pairs. */
apex_err apex_market_poll_subscribe(apex_market_poll *p, const char *symbol, const char *timeframe, apex_error *err);

/* apex_market_ops.next: each closed candle once, oldest first per pair; fetches a pair just after
 * its candle's close (a candle closes at open + its length, calendar months at the next month).
 * APEX_ETIMEOUT after timeout_ms (< 0: wait as long as needed), APEX_EINVAL before any subscribe,
 * else fetch's error. */
apex_err apex_market_poll_next(apex_market_poll *p, int timeout_ms, apex_market_event *ev, apex_error *err);

#endif
