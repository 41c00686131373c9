/* fuzz_binance_trade.c - libFuzzer target for the Binance private-API codec: the same bytes go to
 * every decoder (order, openOrders with several caps and symbols, myTrades, account, server time,
 * error bodies under several statuses), which must refuse or accept them without crashing,
 * overreading or leaking, and keep what they return consistent. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/binance_trade_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const SYMBOLS[] = {"BTC/USDT", "LTC/BTC", NULL};

static bool id_ok(const char *s)
{
  size_t n = strnlen(s, APEX_CLIENT_ID_MAX + 1);
  return n >= 1 && n <= APEX_CLIENT_ID_MAX &&
         strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == n;
}

/* A decoded order as the header promises it. */
static void check_order(const apex_broker_order *o, const char *symbol)
{
  if (o->state < APEX_ORDER_STATE_NEW || o->state > APEX_ORDER_STATE_EXPIRED)
    abort();
  if (o->qty < 0 || o->filled_qty < 0 || o->quote_filled < 0 || o->fee_assets_other < 0)
    abort();
  if (o->qty > 0 && o->filled_qty > o->qty)
    abort();
  if (!id_ok(o->client_id) || !o->venue_id[0] || !o->symbol[0])
    abort();
  if (symbol && strcmp(o->symbol, symbol) != 0)
    abort();
  if (!o->fee_asset[0] && (o->fee != 0 || o->fee_assets_other != 0))
    abort(); /* no asset: nothing charged */
  if (o->time < 0 || o->update_time < 0)
    abort();
}

static bool order_zero(const apex_broker_order *o)
{
  return !o->state && !o->client_id[0] && !o->venue_id[0] && !o->symbol[0] && !o->buy && !o->qty && !o->filled_qty &&
         !o->quote_filled && !o->fee && !o->fee_asset[0] && !o->fee_assets_other && !o->time && !o->update_time;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  apex_error err;

  for (size_t s = 0; s < APEX_ARRAY_LEN(SYMBOLS); s++) {
    apex_broker_order o;
    if (apex_binance_decode_order(buf, size, SYMBOLS[s], &o, &err) == APEX_OK)
      check_order(&o, SYMBOLS[s]);
    else if (!order_zero(&o))
      abort(); /* zeroed on error */
  }

  static const size_t CAPS[] = {0, 1, 4};
  apex_broker_order *orders = malloc(4 * sizeof *orders);
  if (orders) {
    for (size_t c = 0; c < APEX_ARRAY_LEN(CAPS); c++)
      for (size_t s = 0; s < APEX_ARRAY_LEN(SYMBOLS); s++) {
        size_t n = 99;
        apex_err rc = apex_binance_decode_orders(buf, size, SYMBOLS[s], orders, CAPS[c], &n, &err);
        if (n > CAPS[c] || (rc && rc != APEX_ETOOBIG && n != 0) || (rc == APEX_ETOOBIG && n != CAPS[c]))
          abort();
        for (size_t i = 0; i < n; i++)
          check_order(&orders[i], SYMBOLS[s]);
      }
    free(orders);
  }

  for (int64_t oid = 100234; oid <= 100235; oid++) {
    apex_dec fee = 3, qty = 5, quote = 7;
    char asset[APEX_MARKET_ASSET_MAX + 1] = "";
    int other = 0;
    apex_err rc = apex_binance_decode_fills(buf, size, oid, &fee, asset, &other, &qty, &quote, &err);
    if (rc && (fee != 3 || qty != 5 || quote != 7 || other != 0 || asset[0]))
      abort(); /* left as they were on error */
    if (!rc && (qty < 5 || quote < 7 || other < 0 || strlen(asset) > APEX_MARKET_ASSET_MAX))
      abort(); /* rows' qty and quoteQty are >= 0: sums only grow */
  }

  apex_broker_balance bal[2];
  for (size_t cap = 0; cap <= 2; cap++) {
    size_t n = 99;
    apex_err rc = apex_binance_decode_account(buf, size, bal, cap, &n, &err);
    if (n > cap || (rc && rc != APEX_ETOOBIG && n != 0))
      abort();
    for (size_t i = 0; i < n; i++)
      if (!bal[i].asset[0] || bal[i].free < 0 || bal[i].locked < 0 || (bal[i].free == 0 && bal[i].locked == 0))
        abort();
  }

  int64_t ms = 5;
  apex_err trc = apex_binance_decode_server_time(buf, size, &ms, &err);
  if (ms < 0 || (trc && ms != 0))
    abort();

  static const int STATUS[] = {200, 400, 401, 404, 418, 429, 500, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++) {
    apex_broker_error be;
    apex_err rc = apex_binance_decode_trade_error(STATUS[i], buf, size, 5, &be, &err);
    if (be.http_status != STATUS[i] || (rc == APEX_OK) != (be.fail == APEX_BROKER_OK) ||
        (rc == APEX_OK) != (STATUS[i] == 200))
      abort();
    if ((STATUS[i] == 418 || STATUS[i] == 429) ? be.retry_after_s != 5 || be.fail != APEX_BROKER_RATE_LIMITED
                                               : be.retry_after_s != -1)
      abort();
    if (be.fail == APEX_BROKER_NOT_FOUND && be.venue_code != -2011 && be.venue_code != -2013)
      abort(); /* "no such order" only on the venue's word */
  }
  return 0;
}
