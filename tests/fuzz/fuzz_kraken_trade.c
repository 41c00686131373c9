/* fuzz_kraken_trade.c - libFuzzer target for the Kraken private-API codec: the same bytes go to
 * every decoder (AddOrder, QueryOrders/OpenOrders with several caps, Balance with several caps,
 * CancelOrder, CancelAllOrdersAfter, error bodies under several statuses), which must refuse or
 * accept them without crashing, overreading or leaking, and keep what they return consistent. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/kraken_trade_codec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 1..max bytes, no control character. */
static bool text_ok(const char *s, size_t max)
{
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}

/* A decoded order as the header promises it. */
static void check_order(const apex_broker_order *o)
{
  if (o->state < APEX_ORDER_STATE_NEW || o->state > APEX_ORDER_STATE_EXPIRED || o->state == APEX_ORDER_STATE_REJECTED)
    abort();
  if (o->qty < 0 || o->filled_qty < 0 || o->quote_filled < 0 || o->fee < 0 || o->fee_assets_other != 0)
    abort();
  if (o->filled_qty > o->qty)
    abort();
  if (o->state == APEX_ORDER_STATE_FILLED && o->filled_qty != o->qty)
    abort();
  if (o->state == APEX_ORDER_STATE_PARTIAL && o->filled_qty == 0)
    abort();
  if (o->state == APEX_ORDER_STATE_NEW && o->filled_qty != 0)
    abort();
  if (!text_ok(o->venue_id, APEX_VENUE_ID_MAX) || !text_ok(o->fee_asset, APEX_MARKET_ASSET_MAX))
    abort();
  if (o->client_id[0] && !text_ok(o->client_id, APEX_CLIENT_ID_MAX))
    abort();
  const char *slash = strchr(o->symbol, '/');
  if (!slash || slash == o->symbol || !slash[1] || strlen(o->symbol) > APEX_MARKET_SYMBOL_MAX)
    abort();
  /* the fee is charged in one of the pair's assets */
  size_t bl = (size_t)(slash - o->symbol);
  if (strcmp(o->fee_asset, slash + 1) != 0 && (strlen(o->fee_asset) != bl || memcmp(o->fee_asset, o->symbol, bl) != 0))
    abort();
  if (o->time < 0 || o->update_time < 0)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *buf = (const char *)data;
  apex_error err;

  char txid[APEX_VENUE_ID_MAX + 1];
  if (apex_kraken_decode_add_order(buf, size, txid, &err) == APEX_OK) {
    if (!text_ok(txid, APEX_VENUE_ID_MAX))
      abort();
  } else if (txid[0]) {
    abort(); /* "" on error */
  }

  static const size_t CAPS[] = {0, 1, 4};
  apex_broker_order *orders = malloc(4 * sizeof *orders);
  if (orders) {
    for (size_t c = 0; c < APEX_ARRAY_LEN(CAPS); c++) {
      size_t n = 99;
      apex_err rc = apex_kraken_decode_orders(buf, size, orders, CAPS[c], &n, &err);
      if (n > CAPS[c] || (rc && rc != APEX_ETOOBIG && n != 0) || (rc == APEX_ETOOBIG && n != CAPS[c]))
        abort();
      for (size_t i = 0; i < n; i++)
        check_order(&orders[i]);
    }
    free(orders);
  }

  apex_broker_balance bal[2];
  for (size_t cap = 0; cap <= 2; cap++) {
    size_t n = 99;
    apex_err rc = apex_kraken_decode_balances(buf, size, bal, cap, &n, &err);
    if (n > cap || (rc && rc != APEX_ETOOBIG && n != 0) || (rc == APEX_ETOOBIG && n != cap))
      abort();
    for (size_t i = 0; i < n; i++)
      if (!text_ok(bal[i].asset, APEX_MARKET_ASSET_MAX) || bal[i].free <= 0 || bal[i].locked != 0)
        abort();
  }

  int count = 7;
  apex_err crc = apex_kraken_decode_cancel(buf, size, &count, &err);
  if (count < 0 || (crc && count != 0))
    abort();

  int64_t ms = 5;
  apex_err drc = apex_kraken_decode_dead_man(buf, size, &ms, &err);
  if (ms < 0 || (drc && ms != 0))
    abort();

  static const int STATUS[] = {0, 200, 400, 401, 404, 429, 500, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++) {
    apex_broker_error be;
    apex_err rc = apex_kraken_decode_trade_error(STATUS[i], buf, size, &be, &err);
    if (be.http_status != STATUS[i] || be.retry_after_s != -1 || (rc == APEX_OK) != (be.fail == APEX_BROKER_OK))
      abort();
    if (rc == APEX_OK && STATUS[i] != 200)
      abort(); /* only a 2xx succeeds */
    if (rc && err.code != rc)
      abort();
    if (STATUS[i] == 429 && be.fail != APEX_BROKER_RATE_LIMITED)
      abort();
    if (be.venue_code != 0 && be.venue_code != APEX_KRAKEN_NONCE_CODE)
      abort();
    if (be.venue_code == APEX_KRAKEN_NONCE_CODE && be.fail != APEX_BROKER_REJECTED)
      abort();
  }
  return 0;
}
