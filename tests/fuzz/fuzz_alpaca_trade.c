/* fuzz_alpaca_trade.c - libFuzzer target for the Alpaca trading-API codec: the same bytes go to
 * every decoder (order, orders with several caps, account, positions with several caps, clock,
 * error bodies under several statuses), which must refuse or accept them without crashing,
 * overreading or leaking, and keep what they return consistent. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/alpaca_trade_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool printable(const char *s, size_t max)
{
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

static bool ticker(const char *s, size_t n)
{
  return n >= 1 && n <= APEX_MARKET_ASSET_MAX && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") >= n;
}

/* A decoded order as the header promises it. */
static void check_order(const apex_broker_order *o)
{
  if (o->state < APEX_ORDER_STATE_NEW || o->state > APEX_ORDER_STATE_EXPIRED)
    abort();
  if (o->qty < 0 || o->filled_qty < 0 || o->quote_filled < 0)
    abort();
  if (o->qty > 0 && o->filled_qty > o->qty)
    abort();
  if (o->filled_qty == 0 && o->quote_filled != 0)
    abort();
  if (o->fee != 0 || o->fee_asset[0] || o->fee_assets_other != 0)
    abort(); /* Alpaca charges none in the order object */
  if (!printable(o->client_id, APEX_CLIENT_ID_MAX) || !printable(o->venue_id, APEX_VENUE_ID_MAX))
    abort();
  size_t n = strlen(o->symbol);
  if (n < 5 || strcmp(o->symbol + n - 4, "/USD") != 0 || !ticker(o->symbol, n - 4))
    abort(); /* "TICKER/USD" */
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

  apex_broker_order o;
  if (apex_alpaca_decode_order(buf, size, &o, &err) == APEX_OK)
    check_order(&o);
  else if (!order_zero(&o))
    abort(); /* zeroed on error */

  static const size_t CAPS[] = {0, 1, 4};
  apex_broker_order *orders = malloc(4 * sizeof *orders);
  if (orders) {
    for (size_t c = 0; c < APEX_ARRAY_LEN(CAPS); c++) {
      size_t n = 99;
      apex_err rc = apex_alpaca_decode_orders(buf, size, orders, CAPS[c], &n, &err);
      if (n > CAPS[c] || (rc && rc != APEX_ETOOBIG && n != 0) || (rc == APEX_ETOOBIG && n != CAPS[c]))
        abort();
      for (size_t i = 0; i < n; i++)
        check_order(&orders[i]);
    }
    free(orders);
  }

  apex_broker_balance usd;
  bool blocked = false;
  apex_err arc = apex_alpaca_decode_account(buf, size, &usd, &blocked, &err);
  if (arc && (!blocked || usd.free || usd.locked || usd.asset[0]))
    abort(); /* reset on error */
  if (!arc && (strcmp(usd.asset, "USD") != 0 || usd.free < 0 || usd.locked < 0))
    abort();

  apex_broker_balance bal[2];
  for (size_t cap = 0; cap <= 2; cap++) {
    size_t n = 99;
    apex_err rc = apex_alpaca_decode_positions(buf, size, bal, cap, &n, &err);
    if (n > cap || (rc && rc != APEX_ETOOBIG && n != 0) || (rc == APEX_ETOOBIG && n != cap))
      abort();
    for (size_t i = 0; i < n; i++)
      if (!ticker(bal[i].asset, strlen(bal[i].asset)) || bal[i].free < 0 || bal[i].locked < 0 ||
          (bal[i].free == 0 && bal[i].locked == 0))
        abort();
  }

  bool open = true;
  int64_t next_open = 5, next_close = 5;
  apex_err crc = apex_alpaca_decode_clock(buf, size, &open, &next_open, &next_close, &err);
  if (crc && (open || next_open || next_close))
    abort();
  if (!crc && (next_open < 0 || next_close < 0))
    abort();

  static const int STATUS[] = {200, 204, 400, 401, 403, 404, 422, 429, 500, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++) {
    apex_broker_error be;
    apex_err rc = apex_alpaca_decode_trade_error(STATUS[i], buf, size, 5, &be, &err);
    if (be.http_status != STATUS[i] || (rc == APEX_OK) != (be.fail == APEX_BROKER_OK) ||
        (rc == APEX_OK) != (STATUS[i] / 100 == 2))
      abort();
    if ((be.fail == APEX_BROKER_RATE_LIMITED) != (be.retry_after_s == 5))
      abort();
    if (STATUS[i] == 429 && be.fail != APEX_BROKER_RATE_LIMITED)
      abort();
    if (be.fail == APEX_BROKER_NOT_FOUND && be.venue_code / 100000 != 404)
      abort(); /* "no such order" only on the venue's word */
    if (STATUS[i] >= 500 && be.fail != APEX_BROKER_UNAVAILABLE && be.fail != APEX_BROKER_RATE_LIMITED)
      abort();
    if (rc && strncmp(err.msg, "alpaca: HTTP ", 13) != 0)
      abort();
  }
  return 0;
}
