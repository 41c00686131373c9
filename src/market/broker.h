/* broker.h - the trading port: what the app layer asks of a venue's private API (orders, fills,
 * balances), whatever answers it (binance, kraken, coinbase, alpaca, or a test's fake). Like
 * market.h, an adapter is a pure codec (<venue>_codec.c, fuzzed) and a signed transport
 * (<venue>_trade.c, through market/http.c and market/sign.c); this layer uses core and base only.
 *
 * Orders are named by their client order id, which the caller makes and stores before it calls
 * place(): after a timeout the same id is asked for with query(), never sent blindly again.
 * Amounts are exact decimals; symbols are ours ("BTC/USDT"). */
#ifndef APEX_MARKET_BROKER_H
#define APEX_MARKET_BROKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "market/market.h"

#define APEX_CLIENT_ID_MAX 36 /* Binance's ^[a-zA-Z0-9-_]{1,36}$ (venues README 1.8) */
#define APEX_VENUE_ID_MAX 63

/* Why a call failed, beside its apex_err: what the caller may do about it. */
typedef enum apex_broker_fail {
  APEX_BROKER_OK = 0,
  APEX_BROKER_REJECTED,     /* the venue refused the order for good: never retry (spec 4002) */
  APEX_BROKER_NO_FUNDS,     /* refused: the balance does not cover it (spec 4001) */
  APEX_BROKER_RATE_LIMITED, /* 429/418: wait retry_after_s (spec 5002) */
  APEX_BROKER_UNAVAILABLE,  /* 5xx, maintenance: transient (spec 4003) */
  APEX_BROKER_UNREACHABLE,  /* no connection was made: the request surely did not arrive (spec 4003) */
  APEX_BROKER_UNKNOWN,      /* sent, no answer (timeout, 5xx on an order): its fate is unknown; query it */
  APEX_BROKER_AUTH,         /* key, signature or permission refused */
  APEX_BROKER_NOT_FOUND,    /* query/cancel: the venue has no such order */
  APEX_BROKER_BAD_REPLY,    /* a reply we could not read */
} apex_broker_fail;

typedef struct apex_broker_error {
  apex_broker_fail fail;
  int http_status;   /* 0: no reply */
  long venue_code;   /* the venue's own code (Binance -2010); 0: none */
  int retry_after_s; /* RATE_LIMITED: the venue's Retry-After; -1 when absent */
} apex_broker_error;

typedef enum apex_order_state {
  APEX_ORDER_STATE_NEW = 1,      /* accepted, resting or not yet matched */
  APEX_ORDER_STATE_PARTIAL,      /* partly filled, still working */
  APEX_ORDER_STATE_FILLED,
  APEX_ORDER_STATE_CANCELED,     /* cancelled (possibly after a partial fill: see filled_qty) */
  APEX_ORDER_STATE_REJECTED,
  APEX_ORDER_STATE_EXPIRED,      /* the venue ended it (IOC remainder, expiry): like cancelled */
} apex_order_state;

typedef struct apex_broker_order_req {
  char client_id[APEX_CLIENT_ID_MAX + 1];
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  bool buy;
  apex_dec qty;   /* base asset, already a multiple of the symbol's lot step */
  apex_dec price; /* 0: a market order; else a limit order (GTC, DAY when extended_hours) at this price */
  bool extended_hours; /* a venue with market hours: may fill outside the regular session (limit only) */
} apex_broker_order_req;

/* An order as the venue reports it. Fees are summed per asset; an order paid in more than one
 * asset (rare) reports the first in fee_asset and the count of others in fee_assets_other. */
typedef struct apex_broker_order {
  char client_id[APEX_CLIENT_ID_MAX + 1];
  char venue_id[APEX_VENUE_ID_MAX + 1];
  char symbol[APEX_MARKET_SYMBOL_MAX + 1];
  bool buy;
  apex_order_state state;
  apex_dec qty, filled_qty;
  apex_dec quote_filled; /* sum of price x qty of the fills: the average price is quote/filled */
  apex_dec fee;
  char fee_asset[APEX_MARKET_ASSET_MAX + 1]; /* "" when no fee is known */
  int fee_assets_other;
  int64_t time, update_time; /* ms UTC; 0 when the venue does not say */
} apex_broker_order;

typedef struct apex_broker_balance {
  char asset[APEX_MARKET_ASSET_MAX + 1];
  apex_dec free, locked;
} apex_broker_balance;

typedef struct apex_broker_ops {
  const char *name; /* "binance" */
  /* The venue's rules for symbol (lot step, tick, minimum notional). */
  apex_err (*rules)(void *impl, const char *symbol, apex_market_symbol *out, apex_broker_error *be, apex_error *err);
  /* Sends the order once (no retry inside: a retry is the caller's decision). APEX_OK with *out as
   * the venue acknowledged it (possibly already filled). */
  apex_err (*place)(void *impl, const apex_broker_order_req *req, apex_broker_order *out, apex_broker_error *be,
                    apex_error *err);
  /* The order with this client id; APEX_ENOTFOUND (fail NOT_FOUND) when the venue has none. */
  apex_err (*query)(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                    apex_broker_error *be, apex_error *err);
  /* Cancels it; APEX_ENOTFOUND when the venue has no open order by that id. *out as cancelled. */
  apex_err (*cancel)(void *impl, const char *symbol, const char *client_id, apex_broker_order *out,
                     apex_broker_error *be, apex_error *err);
  /* Open orders (symbol NULL: of every symbol), at most cap; APEX_ETOOBIG when more remain. */
  apex_err (*open_orders)(void *impl, const char *symbol, apex_broker_order *out, size_t cap, size_t *n,
                          apex_broker_error *be, apex_error *err);
  /* Non-zero balances, at most cap; APEX_ETOOBIG when more remain. */
  apex_err (*balances)(void *impl, apex_broker_balance *out, size_t cap, size_t *n, apex_broker_error *be,
                       apex_error *err);
  /* Whether the venue's market is open now and, when closed, when it next opens (ms UTC); NULL for
   * a venue that never closes (crypto). */
  apex_err (*clock)(void *impl, bool *open, int64_t *next_open_ms, apex_broker_error *be, apex_error *err);
  /* Keeps a venue-side dead-man's switch armed for timeout_s more seconds (0 disarms); NULL when the
   * venue has none. */
  apex_err (*heartbeat)(void *impl, int timeout_s, apex_broker_error *be, apex_error *err);
  void (*free)(void *impl);
} apex_broker_ops;

typedef struct apex_broker {
  const apex_broker_ops *ops;
  void *impl;
} apex_broker;

static inline void apex_broker_free(apex_broker *b)
{
  if (b && b->ops)
    b->ops->free(b->impl);
  if (b)
    *b = (apex_broker){0};
}

/* A private API's credentials, borrowed for the call that opens an adapter: the adapter keeps what
 * it needs to sign (in memory only, wiped when freed) and never logs it. */
typedef struct apex_broker_credentials {
  const char *api_key, *api_secret, *passphrase; /* passphrase may be NULL */
} apex_broker_credentials;

typedef struct apex_broker_options {
  const char *base_url; /* NULL: the venue's live address (or its testnet with testnet) */
  bool testnet;
  int timeout_ms;       /* per request [10000] */
  int recv_window_ms;   /* Binance: how long a signed request stays valid [5000] */
  int64_t (*now_ms)(void *ctx); /* the clock that stamps requests; NULL: real time */
  void *clock_ctx;
  /* Kraken: the key's next nonce, above every one it signed with before (a restart, another
   * process) and at least floor; NULL: the adapter's clock alone. nonce_key is copied. */
  apex_err (*nonce)(void *ctx, const char *key_ref, int64_t floor, int64_t *out, apex_error *err);
  void *nonce_ctx;
  const char *nonce_key;
} apex_broker_options;

/* The adapter for venue ("binance") into *out. APEX_EINVAL for an unknown venue or credentials of
 * the wrong shape; APEX_ENOMEM. Opening makes no request. */
apex_err apex_broker_open(const char *venue, const apex_broker_credentials *c, const apex_broker_options *o,
                          apex_broker *out, apex_error *err);

/* The wall clock in ms (an adapter's default apex_broker_options.now_ms). */
int64_t apex_broker_real_now_ms(void *ctx);
/* Zeroes a credential's text, then frees it; NULL is a no-op. */
void apex_broker_wipe_free(char *p);

/* Short text of a state ("filled") and of a failure ("rejected"). */
const char *apex_order_state_name(apex_order_state s);
const char *apex_broker_fail_name(apex_broker_fail f);

#endif
