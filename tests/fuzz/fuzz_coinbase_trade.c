/* fuzz_coinbase_trade.c - libFuzzer target for the Coinbase Advanced Trade codec: the same bytes go
 * to every decoder (order, batch orders with several caps, accounts, create, cancel, error bodies
 * under several statuses), which must refuse or accept them without crashing, overreading or
 * leaking, and keep what they return consistent. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "market/coinbase_trade_codec.h"
#include "market/fields.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decoded order as the header promises it. */
static void check_order(const apex_broker_order *o)
{
  if (o->state < APEX_ORDER_STATE_NEW || o->state > APEX_ORDER_STATE_EXPIRED)
    abort();
  if (o->qty < 0 || o->filled_qty < 0 || o->quote_filled < 0 || o->fee < 0 || o->fee_assets_other != 0)
    abort();
  if (o->qty > 0 && o->filled_qty > o->qty)
    abort();
  if (!apex_field_text_ok(o->client_id, APEX_CLIENT_ID_MAX) || !apex_field_text_ok(o->venue_id, APEX_VENUE_ID_MAX))
    abort();
  const char *slash = strchr(o->symbol, '/');
  if (!slash || slash == o->symbol || (o->fee_asset[0] && strcmp(slash + 1, o->fee_asset) != 0))
    abort(); /* the fee is in the quote */
  if (!o->fee_asset[0] && o->fee != 0)
    abort();
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
  if (apex_coinbase_decode_order(buf, size, &o, &err) == APEX_OK)
    check_order(&o);
  else if (!order_zero(&o))
    abort(); /* zeroed on error */

  static const size_t CAPS[] = {0, 1, 4};
  apex_broker_order *orders = malloc(4 * sizeof *orders);
  if (orders) {
    for (size_t c = 0; c < APEX_ARRAY_LEN(CAPS); c++) {
      size_t n = 99;
      apex_err rc = apex_coinbase_decode_orders(buf, size, orders, CAPS[c], &n, &err);
      if (n > CAPS[c] || (rc && rc != APEX_ETOOBIG && n != 0))
        abort();
      for (size_t i = 0; i < n; i++)
        check_order(&orders[i]);
    }
    free(orders);
  }

  apex_broker_balance bal[2];
  for (size_t cap = 0; cap <= 2; cap++) {
    size_t n = 99;
    apex_err rc = apex_coinbase_decode_accounts(buf, size, bal, cap, &n, &err);
    if (n > cap || (rc && rc != APEX_ETOOBIG && n != 0))
      abort();
    for (size_t i = 0; i < n; i++)
      if (!apex_field_text_ok(bal[i].asset, APEX_MARKET_ASSET_MAX) || bal[i].free < 0 || bal[i].locked < 0 ||
          (bal[i].free == 0 && bal[i].locked == 0))
        abort();
  }

  char id[APEX_VENUE_ID_MAX + 1];
  apex_broker_error be;
  apex_err crc = apex_coinbase_decode_create(buf, size, id, &be, &err);
  if (crc == APEX_OK ? be.fail != APEX_BROKER_OK || !apex_field_text_ok(id, APEX_VENUE_ID_MAX) : id[0] != '\0')
    abort();
  if (crc == APEX_ENOFUNDS ? be.fail != APEX_BROKER_NO_FUNDS
      : crc == APEX_EINVAL ? be.fail != APEX_BROKER_REJECTED
      : crc != APEX_OK     ? be.fail != APEX_BROKER_BAD_REPLY
                           : false)
    abort();
  if (be.venue_code != 0 && (be.venue_code != APEX_COINBASE_DUPLICATE_CODE || crc != APEX_EINVAL))
    abort();

  static const char *const IDS[] = {"o1", ""};
  for (size_t i = 0; i < APEX_ARRAY_LEN(IDS); i++) {
    bool ok = true;
    if (apex_coinbase_decode_cancel(buf, size, IDS[i], &ok, &err) != APEX_OK && ok)
      abort();
  }

  static const int STATUS[] = {200, 400, 401, 403, 404, 429, 500, 503};
  for (size_t i = 0; i < APEX_ARRAY_LEN(STATUS); i++) {
    apex_err rc = apex_coinbase_decode_trade_error(STATUS[i], buf, size, 5, &be, &err);
    if (be.http_status != STATUS[i] || (rc == APEX_OK) != (be.fail == APEX_BROKER_OK) ||
        (rc == APEX_OK) != (STATUS[i] == 200) || be.venue_code != 0)
      abort();
    if (STATUS[i] == 429 && (be.retry_after_s != 5 || be.fail != APEX_BROKER_RATE_LIMITED))
      abort();
    if (be.fail != APEX_BROKER_RATE_LIMITED && be.retry_after_s != -1)
      abort();
    if (be.fail == APEX_BROKER_NOT_FOUND && STATUS[i] != 404)
      abort(); /* "no such order" only on a 404 with the venue's word */
  }
  return 0;
}
