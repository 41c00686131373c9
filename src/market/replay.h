/* replay.h - the replay adapter: candles already loaded, played as a live feed of closed candles
 * at a chosen speed or as fast as possible (paper sessions over stored data, tests). */
#ifndef APEX_MARKET_REPLAY_H
#define APEX_MARKET_REPLAY_H

#include "base/err.h"
#include "core/series.h"
#include "market/market.h"

/* A market whose one pair symbol/timeframe has the candles of s (borrowed: s must outlive the
 * market and stay unchanged). next() delivers them in order, as closed-candle events, once the pair
 * (or the symbol at a coarser timeframe that timeframe divides, which the subscriber builds from
 * these candles) is subscribed: the first at once, then one every timeframe / speed of real time (speed 1: real
 * time; 0: no waiting at all); a negative timeout_ms waits as long as the next candle needs. When
 * all are delivered next() answers APEX_ENOTFOUND at once. candles() pages through the candles
 * delivered so far (no look-ahead), ticker() gives the last delivered close (APEX_ENOTFOUND before
 * the first), symbols() the one pair; orderbook() and other pairs are APEX_EINVAL.
 * APEX_EINVAL: symbol empty or longer than APEX_MARKET_SYMBOL_MAX, timeframe not valid, speed
 * negative or not finite; APEX_ENOMEM. On success free *out with apex_market_free. */
apex_err apex_replay_new(const apex_series *s, const char *symbol, const char *timeframe, double speed,
                         apex_market *out, apex_error *err);

#endif
