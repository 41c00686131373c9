/* market.h - the market-data port: what the app layer asks of a venue or data provider, whatever
 * answers it (binance, kraken, yahoo, replay of stored candles, ...). An adapter is a pure codec
 * (<venue>_codec.c: the venue's bytes -> these types, fuzzed) plus a transport (<venue>.c, through
 * market/http.c); the composition root picks adapters and hands their ops tables to app/. This
 * layer may use core and base only (never store, app or api).
 *
 * Conventions are ccxt's: symbols "BASE/QUOTE" ("BTC/USDT", "AAPL/USD"), timeframes "1m".."1M",
 * candles [open time ms UTC, o, h, l, c, v]. Prices, sizes and steps are exact decimals; candle
 * fields are doubles as core/series keeps them. Private calls (orders, balances) come with live
 * trading: new members at the end of apex_market_ops, NULL where an adapter has none. */
#ifndef APEX_MARKET_MARKET_H
#define APEX_MARKET_MARKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "core/fx.h"
#include "core/series.h"

#define APEX_MARKET_SYMBOL_MAX 32 /* bytes of "BASE/QUOTE" without the NUL */
#define APEX_MARKET_ASSET_MAX 15
#define APEX_BOOK_MAX 100         /* levels per side kept from an order book */

/* A tradable pair and the venue's rules for orders in it. */
typedef struct apex_market_symbol {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];       /* ours: "BTC/USDT" */
  char venue_symbol[APEX_MARKET_SYMBOL_MAX + 1]; /* the venue's: "BTCUSDT", "XXBTZUSD" */
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  apex_dec lot_step;     /* quantity increment; 0: none stated */
  apex_dec tick_size;    /* price increment; 0: none stated */
  apex_dec min_notional; /* smallest price x quantity; 0: none stated */
  bool active;           /* trading now (not halted, not delisted) */
} apex_market_symbol;

typedef struct apex_ticker {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  int64_t time;          /* ms UTC of the venue's figures */
  apex_dec last, bid, ask; /* bid/ask 0 when the venue gives none (daily stock quotes) */
  apex_dec volume_24h;   /* base asset */
  double change_24h_pct; /* percent: 2.5 means +2.5 % */
} apex_ticker;

typedef struct apex_book_level {
  apex_dec price, qty;
} apex_book_level;

typedef struct apex_orderbook {
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  int64_t time; /* ms UTC; 0 when the venue does not say */
  size_t n_bids, n_asks;
  apex_book_level bids[APEX_BOOK_MAX]; /* best (highest) first */
  apex_book_level asks[APEX_BOOK_MAX]; /* best (lowest) first */
} apex_orderbook;

/* What a feed delivers: a candle that has closed, or a ticker. */
typedef enum apex_market_event_kind { APEX_MARKET_CANDLE = 1, APEX_MARKET_TICKER = 2 } apex_market_event_kind;

typedef struct apex_market_event {
  apex_market_event_kind kind;
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  char timeframe[8];  /* CANDLE only */
  apex_bar bar;       /* CANDLE: closed, bar.time its open time */
  apex_ticker ticker; /* TICKER */
} apex_market_event;

typedef struct apex_market_ops {
  const char *name; /* "binance", "kraken", "yahoo", "replay" */
  /* Up to cap symbols into out, *n of them; APEX_ETOOBIG when the venue has more (out is full). */
  apex_err (*symbols)(void *impl, apex_market_symbol *out, size_t cap, size_t *n, apex_error *err);
  /* Closed candles of symbol/timeframe with open time >= since_ms, oldest first, at most limit of
   * them, appended to out (one page: call again from the last time + 1 for the next). */
  apex_err (*candles)(void *impl, const char *symbol, const char *timeframe, int64_t since_ms, size_t limit,
                      apex_series *out, apex_error *err);
  apex_err (*ticker)(void *impl, const char *symbol, apex_ticker *out, apex_error *err);
  /* depth levels per side at most (<= APEX_BOOK_MAX). */
  apex_err (*orderbook)(void *impl, const char *symbol, size_t depth, apex_orderbook *out, apex_error *err);
  /* Adds symbol/timeframe to what next() delivers. */
  apex_err (*subscribe)(void *impl, const char *symbol, const char *timeframe, apex_error *err);
  /* The next event of the subscribed pairs: APEX_OK with *ev, APEX_ETIMEOUT when none came within
   * timeout_ms, APEX_ENOTFOUND when the feed has ended (a replay played to its last candle). */
  apex_err (*next)(void *impl, int timeout_ms, apex_market_event *ev, apex_error *err);
  void (*free)(void *impl);
} apex_market_ops;

typedef struct apex_market {
  const apex_market_ops *ops;
  void *impl;
} apex_market;

/* Frees m's implementation and zeroes m; a zeroed m is a no-op. */
static inline void apex_market_free(apex_market *m)
{
  if (m && m->ops)
    m->ops->free(m->impl);
  if (m)
    *m = (apex_market){0};
}

/* The clock a polling adapter's next() runs by (binance, kraken, yahoo): real time unless a test
 * scripts it. sleep_ms advances a scripted clock instead of sleeping. */
typedef struct apex_market_clock {
  int64_t (*now_ms)(void *ctx); /* ms UTC */
  void (*sleep_ms)(void *ctx, int64_t ms);
  void *ctx;
} apex_market_clock;

/* --- symbols (symbol.c) --- */
/* Splits "BTC/USDT" into its assets. APEX_EINVAL unless it is exactly BASE/QUOTE, each 1 to
 * APEX_MARKET_ASSET_MAX of A-Z, 0-9 (and '.', '-' for stocks such as "BRK.B"). */
apex_err apex_market_split(const char *symbol, char base[static APEX_MARKET_ASSET_MAX + 1],
                           char quote[static APEX_MARKET_ASSET_MAX + 1]);
/* "BTC/USDT" -> "BTCUSDT" (Binance's form: the assets joined). APEX_EINVAL as apex_market_split. */
apex_err apex_market_joined(const char *symbol, char out[static APEX_MARKET_SYMBOL_MAX + 1]);

/* --- euro reference exchange rates --- */
/* A provider's file of euro reference rates (1 EUR = rate units of currency) decoded into rows,
 * *rows malloc'd (the caller frees it), sorted by date then currency; on error *rows NULL, *n 0.
 * market/ecb_codec.c's apex_ecb_decode is one; the composition root hands it to app/
 * (apex_app.fx_decode) as it hands adapters' ops tables, so app/ never links a codec. */
typedef apex_err (*apex_fx_decode_fn)(const char *buf, size_t len, apex_fx_rate **rows, size_t *n, apex_error *err);

#endif
