/* market/binance_trade_codec.c on Binance's documented private replies (venues README 1.8-1.11,
 * rest-api.md examples; the files are the fuzz seeds in tests/fuzz/corpus/binance_trade/) and on
 * broken ones. Expected values are worked out by hand from the replies' text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/binance_trade_codec.h"
#include "support/files.h"

#define DIR APEX_SOURCE_DIR "/tests/fuzz/corpus/binance_trade/"
#define E8 INT64_C(100000000) /* 1.0 as an apex_dec */

static char *slurp(const char *name, size_t *len)
{
  char path[512];
  snprintf(path, sizeof path, DIR "%s", name);
  char *buf = apex_test_slurp(path, len);
  cr_assert(buf, "cannot read %s", path);
  return buf;
}

static apex_err decode_file(const char *name, const char *symbol, apex_broker_order *o, apex_error *e)
{
  size_t len;
  char *buf = slurp(name, &len);
  apex_err rc = apex_binance_decode_order(buf, len, symbol, o, e);
  free(buf);
  return rc;
}

/* base with its one occurrence of from replaced by to (malloc'd). */
static char *with(const char *base, const char *from, const char *to)
{
  const char *at = strstr(base, from);
  cr_assert(at, "\"%s\" not in the base reply", from);
  size_t head = (size_t)(at - base), n = strlen(base) - strlen(from) + strlen(to) + 1;
  char *s = malloc(n);
  cr_assert(s);
  snprintf(s, n, "%.*s%s%s", (int)head, base, to, at + strlen(from));
  return s;
}

/* --- orders --- */

Test(market_binance_trade, full_reply_of_the_docs)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_full.json", "BTC/USDT", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(o.client_id, "6gCrw2kRUAF9CvJDGP16IP");
  cr_expect_str_eq(o.venue_id, "28");
  cr_expect_str_eq(o.symbol, "BTC/USDT");
  cr_expect_not(o.buy);
  cr_expect_eq(o.state, APEX_ORDER_STATE_FILLED);
  cr_expect_eq(o.qty, 10 * E8);
  cr_expect_eq(o.filled_qty, 10 * E8);
  cr_expect_eq(o.quote_filled, 10 * E8);
  cr_expect_eq(o.fee, 4 * E8);
  cr_expect_str_eq(o.fee_asset, "USDT");
  cr_expect_eq(o.fee_assets_other, 0);
  cr_expect_eq(o.time, 1507725176595);
  cr_expect_eq(o.update_time, 1507725176595);
}

Test(market_binance_trade, full_reply_sums_the_fees_of_every_fill)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_full_5fills.json", "BTC/USDT", &o, &e), APEX_OK, "%s", e.msg);
  /* 4 + 19.995 + 7.996 + 3.997 + 3.995 = 39.983 */
  cr_expect_eq(o.fee, 3998300000);
  cr_expect_str_eq(o.fee_asset, "USDT");
  cr_expect_eq(o.fee_assets_other, 0);
  cr_expect_eq(o.filled_qty, 10 * E8);
}

Test(market_binance_trade, recorded_adabtc_reply_of_2018)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_full_adabtc.json", "ADA/BTC", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(o.client_id, "ZkUN846GrIvvWtf9DN4bBK");
  cr_expect_str_eq(o.venue_id, "74650132");
  cr_expect(o.buy);
  cr_expect_eq(o.state, APEX_ORDER_STATE_FILLED);
  cr_expect_eq(o.qty, 377 * E8);
  cr_expect_eq(o.filled_qty, 377 * E8);
  cr_expect_eq(o.quote_filled, 401505); /* 0.00401505 */
  cr_expect_eq(o.fee, 37700000);        /* 0.112 + 0.265 ADA */
  cr_expect_str_eq(o.fee_asset, "ADA");
  cr_expect_eq(o.time, 1545743700912);
}

Test(market_binance_trade, result_reply_has_no_fee)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_result.json", "BTC/USDT", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(o.state, APEX_ORDER_STATE_FILLED);
  cr_expect_eq(o.filled_qty, 10 * E8);
  cr_expect_eq(o.fee, 0);
  cr_expect_str_eq(o.fee_asset, "");
}

Test(market_binance_trade, ack_is_new_with_nothing_filled)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_ack.json", "BTC/USDT", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(o.state, APEX_ORDER_STATE_NEW);
  cr_expect_str_eq(o.client_id, "6gCrw2kRUAF9CvJDGP16IP");
  cr_expect_str_eq(o.venue_id, "28");
  cr_expect_eq(o.qty, 0);
  cr_expect_eq(o.filled_qty, 0);
  cr_expect_eq(o.time, 1507725176595);
  cr_expect_eq(o.update_time, 1507725176595);
}

Test(market_binance_trade, query_reply)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_get.json", "LTC/BTC", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(o.client_id, "myOrder1");
  cr_expect_str_eq(o.venue_id, "1");
  cr_expect(o.buy);
  cr_expect_eq(o.state, APEX_ORDER_STATE_NEW);
  cr_expect_eq(o.qty, E8);
  cr_expect_eq(o.filled_qty, 0);
  cr_expect_eq(o.time, 1499827319559);
  cr_expect_eq(o.update_time, 1499827319559);
}

Test(market_binance_trade, cancel_reply_names_the_order_not_the_cancel)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_cancel.json", "LTC/BTC", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(o.client_id, "myOrder1"); /* origClientOrderId, not "cancelMyOrder1" */
  cr_expect_str_eq(o.venue_id, "4");
  cr_expect_eq(o.state, APEX_ORDER_STATE_CANCELED);
  cr_expect_eq(o.qty, E8);
  /* transactTime is the cancel's: when the order changed, not when it was made. */
  cr_expect_eq(o.time, 0);
  cr_expect_eq(o.update_time, 1684804350068);
}

Test(market_binance_trade, statuses_map_to_states)
{
  static const struct {
    const char *status;
    apex_order_state want;
  } CASES[] = {
      {"NEW", APEX_ORDER_STATE_NEW},
      {"PENDING_NEW", APEX_ORDER_STATE_NEW},
      {"PARTIALLY_FILLED", APEX_ORDER_STATE_PARTIAL},
      {"FILLED", APEX_ORDER_STATE_FILLED},
      {"CANCELED", APEX_ORDER_STATE_CANCELED},
      {"PENDING_CANCEL", APEX_ORDER_STATE_CANCELED},
      {"REJECTED", APEX_ORDER_STATE_REJECTED},
      {"EXPIRED", APEX_ORDER_STATE_EXPIRED},
      {"EXPIRED_IN_MATCH", APEX_ORDER_STATE_EXPIRED},
  };
  size_t len;
  char *base = slurp("order_get.json", &len);
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char to[64];
    snprintf(to, sizeof to, "\"status\": \"%s\"", CASES[i].status);
    char *doc = with(base, "\"status\": \"NEW\"", to);
    apex_broker_order o;
    apex_error e = {0};
    cr_expect_eq(apex_binance_decode_order(doc, strlen(doc), "LTC/BTC", &o, &e), APEX_OK, "%s: %s", CASES[i].status,
                 e.msg);
    cr_expect_eq(o.state, CASES[i].want, "%s", CASES[i].status);
    free(doc);
  }
  free(base);
}

Test(market_binance_trade, no_symbol_takes_the_venues)
{
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(decode_file("order_get.json", NULL, &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(o.symbol, "LTCBTC");
  cr_expect_eq(decode_file("order_get.json", "LTC", &o, &e), APEX_EINVAL);
}

Test(market_binance_trade, quote_order_qty_market_order_may_fill_past_orig_qty_0)
{
  size_t len;
  char *base = slurp("order_get.json", &len);
  char *a = with(base, "\"origQty\": \"1.0\"", "\"origQty\": \"0\"");
  char *doc = with(a, "\"executedQty\": \"0.0\"", "\"executedQty\": \"0.25\"");
  apex_broker_order o;
  apex_error e = {0};
  cr_expect_eq(apex_binance_decode_order(doc, strlen(doc), "LTC/BTC", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(o.filled_qty, 25000000);
  free(doc);
  free(a);
  free(base);
}

Test(market_binance_trade, fees_in_two_assets)
{
  size_t len;
  char *base = slurp("order_full_adabtc.json", &len);
  char *doc = with(base, "\"commission\": \"0.26500000\",\n        \"commissionAsset\": \"ADA\"",
                   "\"commission\": \"0.00010000\",\n        \"commissionAsset\": \"BNB\"");
  apex_broker_order o;
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_order(doc, strlen(doc), "ADA/BTC", &o, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(o.fee, 11200000); /* the first asset's only */
  cr_expect_str_eq(o.fee_asset, "ADA");
  cr_expect_eq(o.fee_assets_other, 1);
  free(doc);
  free(base);
}

/* Each broken reply is refused with APEX_EPARSE and a message naming the field. */
Test(market_binance_trade, broken_orders_refused_naming_the_field)
{
  static const struct {
    const char *base, *from, *to, *msg;
  } CASES[] = {
      {"order_get.json", "\"orderId\": 1,", "\"orderId\": \"1\",", "binance order orderId: expected an integer, got \"1\""},
      {"order_get.json", "\"orderId\": 1,", "", "binance order orderId: expected an integer, got missing"},
      {"order_get.json", "\"orderId\": 1,", "\"orderId\": -1,", "binance order orderId: -1 is negative"},
      {"order_get.json", "\"origQty\": \"1.0\"", "\"origQty\": 1.0", "binance order origQty: expected a decimal string, got number"},
      {"order_get.json", "\"origQty\": \"1.0\"", "\"origQty\": \"-1.0\"", "binance order origQty: negative"},
      {"order_get.json", "\"origQty\": \"1.0\"", "\"origQty\": \"1,0\"", "binance order origQty: \"1,0\" is not a decimal"},
      {"order_get.json", "\"executedQty\": \"0.0\"", "\"executedQty\": \"-0.1\"", "binance order executedQty: negative"},
      {"order_get.json", "\"executedQty\": \"0.0\"", "\"executedQty\": \"1.00000001\"", "binance order executedQty: above origQty"},
      {"order_get.json", "\"cummulativeQuoteQty\": \"0.0\"", "\"cummulativeQuoteQty\": \"-1\"",
       "binance order cummulativeQuoteQty: negative"},
      {"order_get.json", "\"clientOrderId\": \"myOrder1\"", "\"clientOrderId\": \"my order\"",
       "binance order clientOrderId: \"my order\" is not a client order id"},
      {"order_get.json", "\"clientOrderId\": \"myOrder1\"", "\"clientOrderId\": \"\"",
       "binance order clientOrderId: \"\" is not a client order id"},
      {"order_get.json", "\"clientOrderId\": \"myOrder1\"", "\"clientOrderId\": \"a234567890123456789012345678901234567\"",
       "binance order clientOrderId: \"a234567890123456789012345678901234567\" is not a client order id"},
      {"order_get.json", "\"clientOrderId\": \"myOrder1\"", "\"clientOrderId\": null",
       "binance order clientOrderId: expected a string, got null"},
      {"order_cancel.json", "\"origClientOrderId\": \"myOrder1\"", "\"origClientOrderId\": 7",
       "binance order origClientOrderId: expected a string, got integer"},
      {"order_get.json", "\"side\": \"BUY\",", "", "binance order side: expected a string, got missing"},
      {"order_get.json", "\"side\": \"BUY\"", "\"side\": \"buy\"", "binance order side: \"buy\", expected \"BUY\" or \"SELL\""},
      {"order_get.json", "\"status\": \"NEW\"", "\"status\": \"OPEN\"", "binance order status: \"OPEN\" is not an order status"},
      {"order_get.json", "\"status\": \"NEW\",", "", "binance order status: expected a string, got missing"},
      {"order_get.json", "\"symbol\": \"LTCBTC\"", "\"symbol\": \"ETHBTC\"", "binance order symbol: \"ETHBTC\", expected \"LTCBTC\""},
      {"order_get.json", "\"time\": 1499827319559", "\"time\": \"1499827319559\"",
       "binance order time: expected an integer, got \"1499827319559\""},
      {"order_full.json", "\"executedQty\": \"10.00000000\"", "\"executedQty\": \"0.50000000\"",
       "binance order fills: their qty sums past executedQty"},
      {"order_full.json", "\"commissionAsset\": \"USDT\"", "\"commissionAsset\": \"\"",
       "binance order fills[0] commissionAsset: empty for a non-zero commission"},
      {"order_full.json", "\"commission\": \"4.00000000\"", "\"commission\": 4", "binance order fills[0] commission: expected a decimal string"},
      {"order_full.json", "\"qty\": \"1.00000000\"", "\"qty\": \"-1\"", "binance order fills[0] qty: negative"},
      {"order_full.json", "\"fills\": [", "\"fills\": {\"x\": [", "binance order fills: expected an array, got object"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    size_t len;
    char *base = slurp(CASES[i].base, &len);
    char *doc = with(base, CASES[i].from, CASES[i].to);
    /* The fills case swaps [ for {"x": [, so the object needs its closing brace. */
    if (strstr(CASES[i].to, "{\"x\"")) {
      char *fixed = with(doc, "    ]\n}", "    ]}\n}");
      free(doc);
      doc = fixed;
    }
    const char *sym = strstr(CASES[i].base, "full") ? "BTC/USDT" : "LTC/BTC";
    apex_broker_order o;
    memset(&o, 0x5a, sizeof o);
    apex_error e = {0};
    cr_expect_eq(apex_binance_decode_order(doc, strlen(doc), sym, &o, &e), APEX_EPARSE, "case %zu: %s", i, e.msg);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(o.state, 0, "case %zu: *out zeroed on error", i);
    cr_expect_str_eq(o.client_id, "", "case %zu", i);
    free(doc);
    free(base);
  }
}

Test(market_binance_trade, truncated_and_wrong_shapes)
{
  static const struct {
    const char *doc, *msg;
  } CASES[] = {
      {"{\"symbol\": \"LTCBTC\", \"orderId\": 1, \"clientOrderId\": \"myOrder1\", \"price\"", "binance order: line 1"},
      {"", "binance order: "},
      {"[]", "binance order: expected an object, got array"},
      {"null", "binance order: expected an object, got null"},
      {"{\"symbol\": 5}", "binance order symbol: expected a string, got integer"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_broker_order o;
    apex_error e = {0};
    cr_expect_eq(apex_binance_decode_order(CASES[i].doc, strlen(CASES[i].doc), "LTC/BTC", &o, &e), APEX_EPARSE,
                 "case %zu", i);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
  }
  /* The documented FULL reply cut anywhere is refused, never half-read. */
  size_t len;
  char *buf = slurp("order_full.json", &len);
  for (size_t cut = 0; cut + 2 < len; cut += 7) {
    apex_broker_order o;
    apex_error e = {0};
    cr_expect_eq(apex_binance_decode_order(buf, cut, "BTC/USDT", &o, &e), APEX_EPARSE, "cut at %zu", cut);
  }
  free(buf);
}

/* --- openOrders --- */

Test(market_binance_trade, open_orders_of_the_docs)
{
  size_t len, n = 99;
  char *buf = slurp("open_orders.json", &len);
  apex_broker_order o[4];
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_orders(buf, len, "LTC/BTC", o, 4, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 1);
  cr_expect_str_eq(o[0].client_id, "myOrder1");
  cr_expect_str_eq(o[0].symbol, "LTC/BTC");
  cr_expect_eq(o[0].state, APEX_ORDER_STATE_NEW);
  cr_expect_eq(o[0].qty, E8);

  cr_expect_eq(apex_binance_decode_orders(buf, len, NULL, o, 4, &n, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(o[0].symbol, "LTCBTC");

  n = 99;
  cr_expect_eq(apex_binance_decode_orders(buf, len, "LTC/BTC", o, 0, &n, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 0);
  cr_expect(strstr(e.msg, "more than 0 orders"), "%s", e.msg);
  cr_expect_eq(apex_binance_decode_orders(buf, len, "ETH/BTC", o, 4, &n, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "binance openOrders[0] symbol: \"LTCBTC\", expected \"ETHBTC\""), "%s", e.msg);
  cr_expect_eq(n, 0);
  free(buf);
}

Test(market_binance_trade, open_orders_past_cap_and_broken)
{
  size_t len, n = 99;
  char *one = slurp("order_get.json", &len);
  char *two = with(one, "\"clientOrderId\": \"myOrder1\"", "\"clientOrderId\": \"myOrder2\"");
  char *three = with(one, "\"side\": \"BUY\"", "\"side\": \"BOTH\"");
  char doc[4096];
  apex_broker_order o[2];
  apex_error e = {0};

  snprintf(doc, sizeof doc, "[%s, %s, %s]", one, two, one);
  cr_expect_eq(apex_binance_decode_orders(doc, strlen(doc), "LTC/BTC", o, 2, &n, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 2, "out full on APEX_ETOOBIG");
  cr_expect_str_eq(o[1].client_id, "myOrder2");

  snprintf(doc, sizeof doc, "[%s, %s]", one, three);
  cr_expect_eq(apex_binance_decode_orders(doc, strlen(doc), "LTC/BTC", o, 2, &n, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "binance openOrders[1] side: \"BOTH\""), "%s", e.msg);
  cr_expect_eq(n, 0);

  cr_expect_eq(apex_binance_decode_orders("{}", 2, NULL, o, 2, &n, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "binance openOrders: expected an array, got object"), "%s", e.msg);
  cr_expect_eq(apex_binance_decode_orders("[]", 2, NULL, o, 0, &n, &e), APEX_OK);
  cr_expect_eq(n, 0);
  free(one);
  free(two);
  free(three);
}

/* --- myTrades --- */

Test(market_binance_trade, my_trades_of_the_docs)
{
  size_t len;
  char *buf = slurp("my_trades.json", &len);
  apex_dec fee = 0, qty = 0, quote = 0;
  char asset[APEX_MARKET_ASSET_MAX + 1] = "";
  int other = 0;
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_fills(buf, len, 100234, &fee, asset, &other, &qty, &quote, &e), APEX_OK, "%s",
               e.msg);
  cr_expect_eq(fee, 1010000000); /* 10.1 BNB */
  cr_expect_str_eq(asset, "BNB");
  cr_expect_eq(other, 0);
  cr_expect_eq(qty, 12 * E8);
  cr_expect_eq(quote, 4800001200); /* 48.000012 */

  /* Another order's rows add nothing. */
  apex_dec fee2 = 0;
  char asset2[APEX_MARKET_ASSET_MAX + 1] = "";
  int other2 = 0;
  cr_expect_eq(apex_binance_decode_fills(buf, len, 100235, &fee2, asset2, &other2, NULL, NULL, &e), APEX_OK);
  cr_expect_eq(fee2, 0);
  cr_expect_str_eq(asset2, "");

  /* A second page adds to the first: one row in BNB again, one in USDT. */
  const char *page2 = "[{\"symbol\":\"BNBBTC\",\"id\":28458,\"orderId\":100234,\"orderListId\":-1,\"price\":\"4\","
                      "\"qty\":\"1\",\"quoteQty\":\"4\",\"commission\":\"0.5\",\"commissionAsset\":\"BNB\","
                      "\"time\":1499865549591,\"isBuyer\":true,\"isMaker\":true,\"isBestMatch\":true},"
                      "{\"symbol\":\"BNBBTC\",\"id\":28459,\"orderId\":100234,\"orderListId\":-1,\"price\":\"4\","
                      "\"qty\":\"1\",\"quoteQty\":\"4\",\"commission\":\"0.01\",\"commissionAsset\":\"USDT\","
                      "\"time\":1499865549592,\"isBuyer\":true,\"isMaker\":true,\"isBestMatch\":true}]";
  cr_assert_eq(apex_binance_decode_fills(page2, strlen(page2), 100234, &fee, asset, &other, &qty, &quote, &e), APEX_OK,
               "%s", e.msg);
  cr_expect_eq(fee, 1060000000);
  cr_expect_str_eq(asset, "BNB");
  cr_expect_eq(other, 1);
  cr_expect_eq(qty, 14 * E8);
  cr_expect_eq(quote, 5600001200);
  free(buf);
}

Test(market_binance_trade, broken_my_trades_leave_the_sums_alone)
{
  static const struct {
    const char *from, *to, *msg;
  } CASES[] = {
      {"\"qty\": \"12.00000000\"", "\"qty\": \"-12\"", "binance myTrades[0] qty: negative"},
      {"\"orderId\": 100234", "\"orderId\": 100234.5", "binance myTrades[0] orderId: expected an integer, got number"},
      {"\"isBuyer\": true", "\"isBuyer\": \"true\"", "binance myTrades[0] isBuyer: expected a boolean"},
      {"\"commissionAsset\": \"BNB\"", "\"commissionAsset\": 1", "binance myTrades[0] commissionAsset: expected a string"},
      {"\"commissionAsset\": \"BNB\"", "\"commissionAsset\": \"ABCDEFGHIJKLMNOPQ\"",
       "binance myTrades[0] commissionAsset: \"ABCDEFGHIJKLMNOPQ\" is not an asset"},
      {"\"quoteQty\": \"48.000012\",", "", "binance myTrades[0] quoteQty: expected a decimal string, got missing"},
      {"\"time\": 1499865549590", "\"time\": -1", "binance myTrades[0] time: -1 is negative"},
  };
  size_t len;
  char *base = slurp("my_trades.json", &len);
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char *doc = with(base, CASES[i].from, CASES[i].to);
    apex_dec fee = 7, qty = 8, quote = 9;
    char asset[APEX_MARKET_ASSET_MAX + 1] = "BTC";
    int other = 2;
    apex_error e = {0};
    cr_expect_eq(apex_binance_decode_fills(doc, strlen(doc), 100234, &fee, asset, &other, &qty, &quote, &e),
                 APEX_EPARSE, "case %zu", i);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect(fee == 7 && qty == 8 && quote == 9 && other == 2 && !strcmp(asset, "BTC"), "case %zu: outputs changed", i);
    free(doc);
  }
  apex_dec fee = 0;
  char asset[APEX_MARKET_ASSET_MAX + 1] = "";
  int other = 0;
  apex_error e = {0};
  cr_expect_eq(apex_binance_decode_fills("{}", 2, 1, &fee, asset, &other, NULL, NULL, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "binance myTrades: expected an array, got object"), "%s", e.msg);
  free(base);
}

/* --- account, time --- */

Test(market_binance_trade, account_of_the_docs)
{
  size_t len, n = 99;
  char *buf = slurp("account.json", &len);
  apex_broker_balance b[4];
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_account(buf, len, b, 4, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 2);
  cr_expect_str_eq(b[0].asset, "BTC");
  cr_expect_eq(b[0].free, 472384689208129); /* 4723846.89208129 */
  cr_expect_eq(b[0].locked, 0);
  cr_expect_str_eq(b[1].asset, "LTC");
  cr_expect_eq(b[1].free, 476336868006011);

  cr_expect_eq(apex_binance_decode_account(buf, len, b, 1, &n, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 1);
  cr_expect_str_eq(b[0].asset, "BTC");
  free(buf);
}

Test(market_binance_trade, account_skips_zero_balances_and_checks_every_entry)
{
  const char *doc = "{\"balances\": [{\"asset\": \"BNB\", \"free\": \"0.00000000\", \"locked\": \"0.00000000\"},"
                    "{\"asset\": \"USDT\", \"free\": \"0\", \"locked\": \"12.5\"},"
                    "{\"asset\": \"A-VERY-LONG-ASSET-NAME\", \"free\": \"0\", \"locked\": \"0\"}]}";
  apex_broker_balance b[1];
  size_t n = 99;
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_account(doc, strlen(doc), b, 1, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 1);
  cr_expect_str_eq(b[0].asset, "USDT");
  cr_expect_eq(b[0].locked, 1250000000);

  static const struct {
    const char *doc, *msg;
  } CASES[] = {
      {"{\"balances\": [{\"asset\": \"BTC\", \"free\": \"-1\", \"locked\": \"0\"}]}", "binance account balances[0] free: negative"},
      {"{\"balances\": [{\"asset\": \"BTC\", \"free\": \"1\"}]}", "binance account balances[0] locked: expected a decimal string, got missing"},
      {"{\"balances\": [{\"free\": \"1\", \"locked\": \"0\"}]}", "binance account balances[0] asset: expected a string, got missing"},
      {"{\"balances\": [{\"asset\": \"A-VERY-LONG-ASSET-NAME\", \"free\": \"1\", \"locked\": \"0\"}]}",
       "binance account balances[0] asset: \"A-VERY-LONG-ASSET-NAME\" is not an asset"},
      {"{\"balances\": [1]}", "binance account balances[0]: expected an object, got integer"},
      {"{\"balance\": []}", "binance account balances: expected an array, got missing"},
      {"[]", "binance account: expected an object, got array"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    n = 99;
    cr_expect_eq(apex_binance_decode_account(CASES[i].doc, strlen(CASES[i].doc), b, 1, &n, &e), APEX_EPARSE,
                 "case %zu", i);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(n, 0, "case %zu", i);
  }
}

Test(market_binance_trade, server_time)
{
  size_t len;
  char *buf = slurp("server_time.json", &len);
  int64_t ms = 0;
  apex_error e = {0};
  cr_assert_eq(apex_binance_decode_server_time(buf, len, &ms, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(ms, 1499827319559);
  free(buf);
  static const char *const BAD[] = {"{\"serverTime\": \"1499827319559\"}", "{\"serverTime\": 1.5e12}",
                                    "{\"serverTime\": -1}", "{}", "[1499827319559]", "{\"serverTime\": 14998"};
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++) {
    ms = 5;
    cr_expect_eq(apex_binance_decode_server_time(BAD[i], strlen(BAD[i]), &ms, &e), APEX_EPARSE, "%s", BAD[i]);
    cr_expect_eq(ms, 0, "%s", BAD[i]);
  }
}

/* --- errors --- */

Test(market_binance_trade, error_classification_table)
{
  static const struct {
    int status;
    const char *body;
    apex_broker_fail fail;
    apex_err rc;
    long code;
  } CASES[] = {
      {400, "{\"code\": -2010, \"msg\": \"Account has insufficient balance for requested action.\"}", APEX_BROKER_NO_FUNDS,
       APEX_ENOFUNDS, -2010},
      {400, "{\"code\": -2010, \"msg\": \"Duplicate order sent.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -2010},
      {400, "{\"code\": -2010, \"msg\": \"Order would immediately match and take.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -2010},
      {400, "{\"code\": -1013, \"msg\": \"Filter failure: LOT_SIZE\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -1013},
      {400, "{\"code\": -1100, \"msg\": \"Illegal characters found in a parameter.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -1100},
      {400, "{\"code\": -1106, \"msg\": \"Parameter sent when not required.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -1106},
      {400, "{\"code\": -1111, \"msg\": \"Precision is over the maximum defined for this asset.\"}", APEX_BROKER_REJECTED,
       APEX_EINVAL, -1111},
      {400, "{\"code\": -1117, \"msg\": \"Invalid side.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -1117},
      {400, "{\"code\": -1121, \"msg\": \"Invalid symbol.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -1121},
      {400, "{\"code\": -1021, \"msg\": \"Timestamp for this request is outside of the recvWindow.\"}",
       APEX_BROKER_REJECTED, APEX_EINVAL, -1021},
      {400, "{\"code\": -2011, \"msg\": \"Unknown order sent.\"}", APEX_BROKER_NOT_FOUND, APEX_ENOTFOUND, -2011},
      {400, "{\"code\": -2013, \"msg\": \"Order does not exist.\"}", APEX_BROKER_NOT_FOUND, APEX_ENOTFOUND, -2013},
      {400, "{\"code\": -1022, \"msg\": \"Signature for this request is not valid.\"}", APEX_BROKER_AUTH, APEX_EINVAL, -1022},
      {401, "{\"code\": -2014, \"msg\": \"API-key format invalid.\"}", APEX_BROKER_AUTH, APEX_EINVAL, -2014},
      {401, "{\"code\": -2015, \"msg\": \"Invalid API-key, IP, or permissions for action.\"}", APEX_BROKER_AUTH,
       APEX_EINVAL, -2015},
      {401, "", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {403, "<html>WAF</html>", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {400, "{\"code\": -1003, \"msg\": \"Too much request weight used.\"}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, -1003},
      {400, "{\"code\": -1015, \"msg\": \"Too many new orders.\"}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, -1015},
      {400, "{\"code\": -1000, \"msg\": \"An unknown error occurred while processing the request.\"}", APEX_BROKER_UNKNOWN,
       APEX_EIO, -1000},
      {400, "{\"code\": -1001, \"msg\": \"Internal error; unable to process your request. Please try again.\"}",
       APEX_BROKER_UNAVAILABLE, APEX_EIO, -1001},
      {429, "{\"code\": -1003, \"msg\": \"Too many requests.\"}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, -1003},
      {418, "", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {500, "{\"code\": -2013, \"msg\": \"Order does not exist.\"}", APEX_BROKER_UNAVAILABLE, APEX_EIO, -2013},
      {503, "<html>Service Unavailable</html>", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {503, "{\"code\": -1007, \"msg\": \"Timeout waiting for response from backend server. Send status unknown; "
            "execution status unknown.\"}", APEX_BROKER_UNKNOWN, APEX_ETIMEOUT, -1007},
      {404, "<html>Not Found</html>", APEX_BROKER_REJECTED, APEX_EINVAL, 0}, /* not NOT_FOUND: see the header */
      {409, "{\"code\": -9999, \"msg\": \"Something new.\"}", APEX_BROKER_REJECTED, APEX_EINVAL, -9999},
      {400, "{\"code\": \"-2010\", \"msg\": \"insufficient balance\"}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {400, "{\"code\": -2010}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {400, "{\"code\": -2010, \"msg\": \"Account has insufficient balance", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_broker_error be;
    apex_error e = {0};
    memset(&be, 0x5a, sizeof be);
    apex_err rc = apex_binance_decode_trade_error(CASES[i].status, CASES[i].body, strlen(CASES[i].body), 7, &be, &e);
    cr_expect_eq(rc, CASES[i].rc, "case %zu (%d %s): rc %d", i, CASES[i].status, CASES[i].body, rc);
    cr_expect_eq(e.code, CASES[i].rc, "case %zu", i);
    cr_expect_eq(be.fail, CASES[i].fail, "case %zu (%d %s): fail %s", i, CASES[i].status, CASES[i].body,
                 apex_broker_fail_name(be.fail));
    cr_expect_eq(be.http_status, CASES[i].status, "case %zu", i);
    cr_expect_eq(be.venue_code, CASES[i].code, "case %zu", i);
    cr_expect_eq(be.retry_after_s, be.fail == APEX_BROKER_RATE_LIMITED && (CASES[i].status == 429 || CASES[i].status == 418)
                                       ? 7
                                       : -1,
                 "case %zu", i);
  }
}

Test(market_binance_trade, error_messages)
{
  apex_broker_error be;
  apex_error e = {0};
  const char *body = "{\"code\": -2010, \"msg\": \"Account has insufficient balance for requested action.\"}";
  apex_binance_decode_trade_error(400, body, strlen(body), -1, &be, &e);
  cr_expect_str_eq(e.msg, "binance: HTTP 400, code -2010: Account has insufficient balance for requested action.");

  apex_binance_decode_trade_error(429, "", 0, 30, &be, &e);
  cr_expect_str_eq(e.msg, "binance: HTTP 429 (body is not a Binance error), retry after 30 s");
  cr_expect_eq(be.retry_after_s, 30);
  apex_binance_decode_trade_error(418, "", 0, -1, &be, &e);
  cr_expect_str_eq(e.msg, "binance: HTTP 418 (body is not a Binance error), no Retry-After given");
  cr_expect_eq(be.retry_after_s, -1);

  /* The venue's text is cut and cleaned before it reaches a log line. */
  char big[1200];
  int k = snprintf(big, sizeof big, "{\"code\": -1013, \"msg\": \"line\\nbreak ");
  memset(big + k, 'x', 800);
  snprintf(big + k + 800, sizeof big - (size_t)k - 800, "\"}");
  apex_binance_decode_trade_error(400, big, strlen(big), -1, &be, &e);
  cr_expect(strstr(e.msg, "code -1013: line?break xxx"), "%s", e.msg);
  cr_expect_lt(strlen(e.msg), 360);

  /* 2xx is no error: be says OK, err is left alone. */
  apex_error untouched = {.code = APEX_EIO, .msg = "before"};
  cr_expect_eq(apex_binance_decode_trade_error(200, "{}", 2, -1, &be, &untouched), APEX_OK);
  cr_expect_eq(be.fail, APEX_BROKER_OK);
  cr_expect_str_eq(untouched.msg, "before");
  /* NULL body and be are allowed. */
  cr_expect_eq(apex_binance_decode_trade_error(502, NULL, 0, -1, NULL, &e), APEX_EIO);
}

/* --- names (broker.c) --- */

Test(market_binance_trade, state_and_failure_names)
{
  cr_expect_str_eq(apex_order_state_name(APEX_ORDER_STATE_NEW), "new");
  cr_expect_str_eq(apex_order_state_name(APEX_ORDER_STATE_PARTIAL), "partially_filled");
  cr_expect_str_eq(apex_order_state_name(APEX_ORDER_STATE_FILLED), "filled");
  cr_expect_str_eq(apex_order_state_name(APEX_ORDER_STATE_CANCELED), "cancelled");
  cr_expect_str_eq(apex_order_state_name(APEX_ORDER_STATE_REJECTED), "rejected");
  cr_expect_str_eq(apex_order_state_name(APEX_ORDER_STATE_EXPIRED), "expired");
  cr_expect_str_eq(apex_order_state_name((apex_order_state)0), "invalid");
  cr_expect_str_eq(apex_broker_fail_name(APEX_BROKER_OK), "ok");
  cr_expect_str_eq(apex_broker_fail_name(APEX_BROKER_NO_FUNDS), "no_funds");
  cr_expect_str_eq(apex_broker_fail_name(APEX_BROKER_RATE_LIMITED), "rate_limited");
  cr_expect_str_eq(apex_broker_fail_name(APEX_BROKER_NOT_FOUND), "not_found");
  cr_expect_str_eq(apex_broker_fail_name(APEX_BROKER_BAD_REPLY), "bad_reply");
  cr_expect_str_eq(apex_broker_fail_name((apex_broker_fail)99), "invalid");
}
