/* market/kraken_trade_codec.c on Kraken's private replies (the files are the fuzz seeds in
 * tests/fuzz/corpus/kraken_trade/) and on broken ones. add_order.json, balance.json and
 * dead_man.json are the examples of venues README 2.5 verbatim (balance.json without the
 * example's elided tail); cancel.json and dead_man_disarmed.json are the documented shapes with
 * the documented values; query_orders.json, open_orders.json and closed_orders.json were written
 * from the field list of README 2.5 (QueryOrders; OpenOrders nests the same objects under "open";
 * ClosedOrders under "closed" beside "count", the shape of Kraken's ClosedOrders docs, not in the
 * README) with made-up ids and amounts; error_*.json carry messages of README 2.7 in the shape of
 * 2.1. Expected values are worked out by hand from the replies' text. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "market/kraken_trade_codec.h"
#include "support/files.h"

#define DIR APEX_SOURCE_DIR "/tests/fuzz/corpus/kraken_trade/"
#define E8 INT64_C(100000000) /* 1.0 as an apex_dec */

static char *slurp(const char *name, size_t *len)
{
  char path[512];
  snprintf(path, sizeof path, DIR "%s", name);
  char *buf = apex_test_slurp(path, len);
  cr_assert(buf, "cannot read %s", path);
  return buf;
}

/* base with its one occurrence of from replaced by to (malloc'd). */
static char *with(const char *base, const char *from, const char *to)
{
  const char *at = strstr(base, from);
  cr_assert(at, "\"%s\" not in the base reply", from);
  cr_assert(!strstr(at + 1, from), "\"%s\" occurs twice in the base reply", from);
  size_t head = (size_t)(at - base), n = strlen(base) - strlen(from) + strlen(to) + 1;
  char *s = malloc(n);
  cr_assert(s);
  snprintf(s, n, "%.*s%s%s", (int)head, base, to, at + strlen(from));
  return s;
}

/* One order alone in a QueryOrders reply, for the broken-order cases. */
static const char *const ONE_ORDER =
    "{\"error\":[],\"result\":{\"OUF4EM-FRGI2-MQMWZD\":{\"refid\":null,\"userref\":0,"
    "\"cl_ord_id\":\"apex-1\",\"status\":\"open\",\"opentm\":1688666559.8974,\"starttm\":0,\"expiretm\":0,"
    "\"descr\":{\"pair\":\"XBTUSD\",\"type\":\"buy\",\"ordertype\":\"limit\",\"price\":\"25000.1\","
    "\"price2\":\"0\",\"leverage\":\"none\",\"order\":\"buy 1.25000000 XBTUSD @ limit 25000.1\",\"close\":\"\"},"
    "\"vol\":\"1.25000000\",\"vol_exec\":\"0.25000000\",\"cost\":\"6250.02500\",\"fee\":\"16.25007\","
    "\"price\":\"25000.1\",\"stopprice\":\"0.00000\",\"limitprice\":\"0.00000\",\"misc\":\"\",\"oflags\":\"fciq\"}}}";

/* --- AddOrder --- */

Test(market_kraken_trade, add_order_of_the_docs)
{
  size_t len;
  char *buf = slurp("add_order.json", &len);
  char txid[APEX_VENUE_ID_MAX + 1] = "x";
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_add_order(buf, len, txid, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(txid, "OUF4EM-FRGI2-MQMWZD");
  free(buf);
}

Test(market_kraken_trade, broken_add_order_refused)
{
  static const struct {
    const char *doc, *msg;
    apex_err rc;
  } CASES[] = {
      {"{\"error\":[],\"result\":{\"descr\":{\"order\":\"buy 1 XBTUSD @ market\"}}}",
       "kraken AddOrder txid: expected a non-empty array, got missing", APEX_EPARSE}, /* validate=true */
      {"{\"error\":[],\"result\":{\"txid\":[]}}", "kraken AddOrder txid: expected a non-empty array, got an empty one",
       APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"txid\":\"OUF4EM-FRGI2-MQMWZD\"}}",
       "kraken AddOrder txid: expected a non-empty array, got \"OUF4EM", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"txid\":[7]}}", "kraken AddOrder txid[0]: integer is not an order id", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"txid\":[\"\"]}}", "kraken AddOrder txid[0]: \"\" is not an order id", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"txid\":[\"A\", null]}}", "kraken AddOrder txid[1]: null is not an order id",
       APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"txid\":[\"a\\nb\"]}}", "kraken AddOrder txid[0]: ", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"descr\":[],\"txid\":[\"A\"]}}", "kraken AddOrder descr: expected an object, got array",
       APEX_EPARSE},
      {"{\"error\":[],\"result\":[]}", "kraken AddOrder result: expected an object, got array", APEX_EPARSE},
      {"{\"result\":{\"txid\":[\"A\"]}}", "kraken AddOrder error: expected an array, got missing", APEX_EPARSE},
      {"[]", "kraken AddOrder: expected an object, got array", APEX_EPARSE},
      {"{\"error\":[", "kraken AddOrder: line 1", APEX_EPARSE},
      {"{\"error\":[\"EOrder:Insufficient funds\"],\"result\":{}}", "kraken AddOrder: EOrder:Insufficient funds",
       APEX_ENOFUNDS},
      {"{\"error\":[\"EAPI:Invalid nonce\"],\"result\":{}}", "kraken AddOrder: EAPI:Invalid nonce", APEX_EINVAL},
      {"{\"error\":[\"EGeneral:Internal error\"]}", "kraken AddOrder: EGeneral:Internal error", APEX_ETIMEOUT},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char txid[APEX_VENUE_ID_MAX + 1] = "x";
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_add_order(CASES[i].doc, strlen(CASES[i].doc), txid, &e), CASES[i].rc,
                 "case %zu: %s", i, e.msg);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_str_eq(txid, "", "case %zu: txid emptied on error", i);
  }
  /* A txid of 64 bytes does not fit APEX_VENUE_ID_MAX. */
  char doc[256], txid[APEX_VENUE_ID_MAX + 1];
  apex_error e = {0};
  snprintf(doc, sizeof doc, "{\"error\":[],\"result\":{\"txid\":[\"%064d\"]}}", 0);
  cr_expect_eq(apex_kraken_decode_add_order(doc, strlen(doc), txid, &e), APEX_EPARSE);
  snprintf(doc, sizeof doc, "{\"error\":[],\"result\":{\"txid\":[\"%063d\"]}}", 0);
  cr_expect_eq(apex_kraken_decode_add_order(doc, strlen(doc), txid, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(strlen(txid), 63);
}

/* --- QueryOrders, OpenOrders --- */

Test(market_kraken_trade, query_orders)
{
  size_t len, n = 99;
  char *buf = slurp("query_orders.json", &len);
  apex_broker_order o[8];
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_orders(buf, len, o, 8, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 5);

  /* a market buy, closed with vol_exec == vol */
  cr_expect_str_eq(o[0].venue_id, "OUF4EM-FRGI2-MQMWZD");
  cr_expect_str_eq(o[0].client_id, "apex-7f3a-0001");
  cr_expect_str_eq(o[0].symbol, "BTC/USD");
  cr_expect(o[0].buy);
  cr_expect_eq(o[0].state, APEX_ORDER_STATE_FILLED);
  cr_expect_eq(o[0].qty, 125000000);
  cr_expect_eq(o[0].filled_qty, 125000000);
  cr_expect_eq(o[0].quote_filled, 37526 * E8 + 20000000); /* 37526.2 */
  cr_expect_eq(o[0].fee, 9756812000);                     /* 97.56812 */
  cr_expect_str_eq(o[0].fee_asset, "USD");
  cr_expect_eq(o[0].fee_assets_other, 0);
  cr_expect_eq(o[0].time, 1688666559897);        /* 1688666559.8974 s, cut to the ms */
  cr_expect_eq(o[0].update_time, 1688666559901); /* closetm 1688666559.9012 */

  /* open with a part filled */
  cr_expect_str_eq(o[1].venue_id, "OB5VMB-B4U2U-DK2WRW");
  cr_expect_str_eq(o[1].symbol, "ETH/USDT");
  cr_expect_not(o[1].buy);
  cr_expect_eq(o[1].state, APEX_ORDER_STATE_PARTIAL);
  cr_expect_eq(o[1].qty, 2 * E8);
  cr_expect_eq(o[1].filled_qty, E8 / 2);
  cr_expect_eq(o[1].quote_filled, 975 * E8);
  cr_expect_eq(o[1].fee, 253500000); /* 2.535 */
  cr_expect_str_eq(o[1].fee_asset, "USDT");
  cr_expect_eq(o[1].time, 1688669085041);
  cr_expect_eq(o[1].update_time, 0, "no closetm");

  /* closed short of vol: an IOC remainder */
  cr_expect_str_eq(o[2].symbol, "BTC/USDT");
  cr_expect_eq(o[2].state, APEX_ORDER_STATE_CANCELED);
  cr_expect_eq(o[2].filled_qty, E8 / 10);
  cr_expect_eq(o[2].qty, 4 * E8 / 10);
  cr_expect_eq(o[2].time, 1688670123500);
  cr_expect_eq(o[2].update_time, 1688670123500); /* 1688670123.5001 */

  /* cancelled, placed without cl_ord_id (on the website, say) */
  cr_expect_str_eq(o[3].venue_id, "OGTT3Y-C6I3P-XRI6HX");
  cr_expect_str_eq(o[3].client_id, "");
  cr_expect_str_eq(o[3].symbol, "DOGE/USD"); /* XDG, as ccxt names it */
  cr_expect_eq(o[3].state, APEX_ORDER_STATE_CANCELED);
  cr_expect_eq(o[3].qty, 1000 * E8);
  cr_expect_eq(o[3].filled_qty, 0);
  cr_expect_eq(o[3].time, 1688671000123);
  cr_expect_eq(o[3].update_time, 1688671100000); /* 1688671100.0 */

  /* expired; whole seconds as integers; fcib: the fee in the base asset */
  cr_expect_str_eq(o[4].symbol, "ETH/BTC");
  cr_expect_eq(o[4].state, APEX_ORDER_STATE_EXPIRED);
  cr_expect_str_eq(o[4].fee_asset, "ETH");
  cr_expect_eq(o[4].time, 1688672000000);
  cr_expect_eq(o[4].update_time, 1688675600000);

  n = 99;
  cr_expect_eq(apex_kraken_decode_orders(buf, len, o, 2, &n, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 2, "out full on APEX_ETOOBIG");
  cr_expect_str_eq(o[1].venue_id, "OB5VMB-B4U2U-DK2WRW");
  cr_expect(strstr(e.msg, "kraken QueryOrders: more than 2 orders"), "%s", e.msg);
  free(buf);
}

Test(market_kraken_trade, open_orders)
{
  size_t len, n = 99;
  char *buf = slurp("open_orders.json", &len);
  apex_broker_order o[4];
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_orders(buf, len, o, 4, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 2);
  cr_expect_str_eq(o[0].venue_id, "OB5VMB-B4U2U-DK2WRW");
  cr_expect_eq(o[0].state, APEX_ORDER_STATE_PARTIAL);
  cr_expect_str_eq(o[1].venue_id, "OTI672-HJFAO-XOIPPK");
  cr_expect_str_eq(o[1].client_id, "6d1b345e-2821-40e2-ad83-4ecb18a06876"); /* a long UUID: 36 bytes */
  cr_expect_str_eq(o[1].symbol, "BTC/USD");
  cr_expect(o[1].buy);
  cr_expect_eq(o[1].state, APEX_ORDER_STATE_NEW); /* "pending" */
  cr_expect_eq(o[1].qty, E8 / 100);
  cr_expect_str_eq(o[1].fee_asset, "USD"); /* "fciq,post" */
  cr_expect_eq(o[1].time, 1688669101200);

  n = 99;
  cr_expect_eq(apex_kraken_decode_orders(buf, len, o, 0, &n, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 0);
  cr_expect(strstr(e.msg, "kraken OpenOrders: more than 0 orders"), "%s", e.msg);
  free(buf);

  /* No orders at all, either shape. */
  const char *none[] = {"{\"error\":[],\"result\":{\"open\":{}}}", "{\"error\":[],\"result\":{}}"};
  for (size_t i = 0; i < APEX_ARRAY_LEN(none); i++) {
    n = 99;
    cr_expect_eq(apex_kraken_decode_orders(none[i], strlen(none[i]), o, 0, &n, &e), APEX_OK, "%s", none[i]);
    cr_expect_eq(n, 0);
  }
}

Test(market_kraken_trade, closed_orders)
{
  size_t len, n = 99;
  char *buf = slurp("closed_orders.json", &len);
  apex_broker_order o[2];
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_orders(buf, len, o, 2, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 1);
  cr_expect_str_eq(o[0].venue_id, "OQCLML-BW3P3-BUCMWZ");
  cr_expect_str_eq(o[0].client_id, "apex-7f3a-0003");
  cr_expect_eq(o[0].state, APEX_ORDER_STATE_CANCELED);
  n = 99;
  cr_expect_eq(apex_kraken_decode_orders(buf, len, o, 0, &n, &e), APEX_ETOOBIG);
  cr_expect(strstr(e.msg, "kraken ClosedOrders: more than 0 orders"), "%s", e.msg);
  free(buf);

  static const struct {
    const char *doc, *msg;
  } CASES[] = {
      {"{\"error\":[],\"result\":{\"closed\":[],\"count\":0}}", "kraken ClosedOrders closed: expected an object"},
      {"{\"error\":[],\"result\":{\"closed\":{},\"count\":0,\"x\":1}}", "kraken ClosedOrders closed: expected an object"},
      {"{\"error\":[],\"result\":{\"closed\":{},\"count\":\"0\"}}", "kraken ClosedOrders count: expected an integer"},
      {"{\"error\":[],\"result\":{\"closed\":{},\"count\":-1}}", "kraken ClosedOrders count: -1 is negative"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    n = 99;
    cr_expect_eq(apex_kraken_decode_orders(CASES[i].doc, strlen(CASES[i].doc), o, 2, &n, &e), APEX_EPARSE, "case %zu", i);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(n, 0);
  }
  const char *empty = "{\"error\":[],\"result\":{\"closed\":{},\"count\":0}}";
  cr_expect_eq(apex_kraken_decode_orders(empty, strlen(empty), o, 2, &n, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(n, 0);
}

Test(market_kraken_trade, statuses_map_to_states)
{
  static const struct {
    const char *status, *vol_exec;
    apex_order_state want;
  } CASES[] = {
      {"pending", "0.00000000", APEX_ORDER_STATE_NEW},       {"open", "0.00000000", APEX_ORDER_STATE_NEW},
      {"open", "0.00000001", APEX_ORDER_STATE_PARTIAL},      {"pending", "1.00000000", APEX_ORDER_STATE_PARTIAL},
      {"closed", "1.25000000", APEX_ORDER_STATE_FILLED},     {"closed", "1.24999999", APEX_ORDER_STATE_CANCELED},
      {"closed", "0.00000000", APEX_ORDER_STATE_CANCELED},   {"canceled", "0.00000000", APEX_ORDER_STATE_CANCELED},
      {"canceled", "0.25000000", APEX_ORDER_STATE_CANCELED}, {"expired", "0.25000000", APEX_ORDER_STATE_EXPIRED},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char st[48], ve[48];
    snprintf(st, sizeof st, "\"status\":\"%s\"", CASES[i].status);
    snprintf(ve, sizeof ve, "\"vol_exec\":\"%s\"", CASES[i].vol_exec);
    char *a = with(ONE_ORDER, "\"status\":\"open\"", st);
    char *doc = with(a, "\"vol_exec\":\"0.25000000\"", ve);
    apex_broker_order o;
    size_t n = 0;
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_orders(doc, strlen(doc), &o, 1, &n, &e), APEX_OK, "case %zu: %s", i, e.msg);
    cr_expect_eq(o.state, CASES[i].want, "case %zu (%s, %s): %s", i, CASES[i].status, CASES[i].vol_exec,
                 apex_order_state_name(o.state));
    free(doc);
    free(a);
  }
}

Test(market_kraken_trade, pairs_split_at_known_quotes)
{
  static const struct {
    const char *pair, *symbol, *fee_asset;
  } CASES[] = {
      {"XBTUSD", "BTC/USD", "USD"},     {"XBTUSDT", "BTC/USDT", "USDT"}, {"ETHUSDC", "ETH/USDC", "USDC"},
      {"USDTUSD", "USDT/USD", "USD"},   {"USDCUSDT", "USDC/USDT", "USDT"}, {"ETHEUR", "ETH/EUR", "EUR"},
      {"XBTGBP", "BTC/GBP", "GBP"},     {"ETHXBT", "ETH/BTC", "BTC"},     {"SOLBTC", "SOL/BTC", "BTC"},
      {"LINKETH", "LINK/ETH", "ETH"},   {"XDGUSD", "DOGE/USD", "USD"},    {"XBTCAD", "BTC/CAD", "CAD"},
      {"XXBTZUSD", "BTC/USD", "USD"},   {"XETHZEUR", "ETH/EUR", "EUR"},   {"XTZUSD", "XTZ/USD", "USD"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char to[64];
    snprintf(to, sizeof to, "\"pair\":\"%s\"", CASES[i].pair);
    char *doc = with(ONE_ORDER, "\"pair\":\"XBTUSD\"", to);
    apex_broker_order o;
    size_t n = 0;
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_orders(doc, strlen(doc), &o, 1, &n, &e), APEX_OK, "%s: %s", CASES[i].pair, e.msg);
    cr_expect_str_eq(o.symbol, CASES[i].symbol, "%s", CASES[i].pair);
    cr_expect_str_eq(o.fee_asset, CASES[i].fee_asset, "%s", CASES[i].pair);
    free(doc);
  }
}

/* Each broken order is refused with APEX_EPARSE and a message naming the txid and field. */
Test(market_kraken_trade, broken_orders_refused_naming_the_field)
{
  static const struct {
    const char *from, *to, *msg;
  } CASES[] = {
      {"\"vol\":\"1.25000000\"", "\"vol\":1.25", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol: expected a decimal string, got number"},
      {"\"vol\":\"1.25000000\",", "", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol: expected a decimal string, got missing"},
      {"\"vol\":\"1.25000000\"", "\"vol\":\"-1.25\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol: negative"},
      {"\"vol\":\"1.25000000\"", "\"vol\":\"1,25\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol: \"1,25\" is not a decimal"},
      {"\"vol_exec\":\"0.25000000\"", "\"vol_exec\":\"1.25000001\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol_exec: above vol"},
      {"\"vol_exec\":\"0.25000000\"", "\"vol_exec\":\"-0.1\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD vol_exec: negative"},
      {"\"cost\":\"6250.02500\"", "\"cost\":\"-1\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD cost: negative"},
      {"\"fee\":\"16.25007\"", "\"fee\":null", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD fee: expected a decimal string, got null"},
      {"\"fee\":\"16.25007\"", "\"fee\":\"-0.01\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD fee: negative"},
      {"\"status\":\"open\"", "\"status\":\"OPEN\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD status: \"OPEN\" is not an order status"},
      {"\"status\":\"open\",", "", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD status: expected a string, got missing"},
      {"\"type\":\"buy\"", "\"type\":\"BUY\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr type: \"BUY\", expected \"buy\" or \"sell\""},
      {"\"type\":\"buy\",", "", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr type: expected a string, got missing"},
      {"\"pair\":\"XBTUSD\"", "\"pair\":\"XBTXYZ\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr pair: \"XBTXYZ\" is not a pair of known assets"},
      {"\"pair\":\"XBTUSD\"", "\"pair\":\"USD\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr pair: \"USD\" is not a pair"},
      {"\"pair\":\"XBTUSD\"", "\"pair\":\"xbt/usd\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr pair: \"xbt/usd\" is not a pair"},
      {"\"pair\":\"XBTUSD\"", "\"pair\":5", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr pair: expected a string, got integer"},
      {"\"descr\":{", "\"descr\":7,\"x\":{", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD descr: expected an object, got integer"},
      {"\"cl_ord_id\":\"apex-1\"", "\"cl_ord_id\":\"\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD cl_ord_id: \"\" is not a client order id"},
      {"\"cl_ord_id\":\"apex-1\"", "\"cl_ord_id\":7", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD cl_ord_id: integer is not a client order id"},
      {"\"cl_ord_id\":\"apex-1\"", "\"cl_ord_id\":\"6d1b345e-2821-40e2-ad83-4ecb18a068761\"",
       "kraken QueryOrders OUF4EM-FRGI2-MQMWZD cl_ord_id: \"6d1b345e-2821-40e2-ad83-4ecb18a068761\" is not a client order id"},
      {"\"cl_ord_id\":\"apex-1\"", "\"cl_ord_id\":\"caf\\u00e9\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD cl_ord_id: "},
      {"\"opentm\":1688666559.8974", "\"opentm\":null", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD opentm: expected seconds, got null"},
      {"\"opentm\":1688666559.8974,", "", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD opentm: expected seconds, got missing"},
      {"\"opentm\":1688666559.8974", "\"opentm\":-1.5", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD opentm: negative"},
      {"\"opentm\":1688666559.8974", "\"opentm\":true", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD opentm: expected seconds, got true"},
      {"\"opentm\":1688666559.8974", "\"opentm\":\"soon\"", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD opentm: \"soon\" is not a time in seconds"},
      {"\"opentm\":1688666559.8974", "\"opentm\":1e300", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD opentm: 1e+300 is out of range"},
      {"\"starttm\":0", "\"closetm\":\"x\",\"starttm\":0", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD closetm: \"x\" is not a time"},
      {"\"oflags\":\"fciq\"", "\"oflags\":[\"fciq\"]", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD oflags: expected a string, got array"},
      {"\"OUF4EM-FRGI2-MQMWZD\":{", "\"OUF4EM-FRGI2-MQMWZD\":[{", "kraken QueryOrders OUF4EM-FRGI2-MQMWZD: expected an object, got array"},
      {"\"OUF4EM-FRGI2-MQMWZD\"", "\"\"", "kraken QueryOrders: txid \"\" is not an order id"},
      {"\"OUF4EM-FRGI2-MQMWZD\"", "\"O\\u0007X\"", "kraken QueryOrders: txid \"O?X\" is not an order id"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char *doc = with(ONE_ORDER, CASES[i].from, CASES[i].to);
    /* The array case swaps { for [{, so the order needs its closing bracket. */
    if (strstr(CASES[i].to, "[{")) {
      char *fixed = with(doc, "\"fciq\"}}}", "\"fciq\"}]}}");
      free(doc);
      doc = fixed;
    }
    apex_broker_order o[2];
    memset(o, 0x5a, sizeof o);
    size_t n = 99;
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_orders(doc, strlen(doc), o, 2, &n, &e), APEX_EPARSE, "case %zu: %s", i, e.msg);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(n, 0, "case %zu", i);
    cr_expect_eq(o[0].state, 0, "case %zu: the failed order is zeroed", i);
    free(doc);
  }
}

Test(market_kraken_trade, orders_reply_shapes)
{
  static const struct {
    const char *doc, *msg;
    apex_err rc;
  } CASES[] = {
      {"{\"error\":[],\"result\":{\"open\":[]}}", "kraken OpenOrders open: expected the only member, an object, got array",
       APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"open\":{},\"count\":0}}", "kraken OpenOrders open: expected the only member", APEX_EPARSE},
      {"{\"error\":[],\"result\":[]}", "kraken orders result: expected an object, got array", APEX_EPARSE},
      {"{\"error\":{},\"result\":{}}", "kraken orders error: expected an array, got object", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"OUF4EM-FRGI2-MQMWZD\":\"closed\"}}",
       "kraken QueryOrders OUF4EM-FRGI2-MQMWZD: expected an object, got \"closed\"", APEX_EPARSE},
      {"", "kraken orders: ", APEX_EPARSE},
      {"{\"error\":[\"EOrder:Invalid order\"],\"result\":{}}", "kraken orders: EOrder:Invalid order", APEX_EINVAL},
      {"{\"error\":[\"EAPI:Rate limit exceeded\"]}", "kraken orders: EAPI:Rate limit exceeded", APEX_ERATELIMIT},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_broker_order o[2];
    size_t n = 99;
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_orders(CASES[i].doc, strlen(CASES[i].doc), o, 2, &n, &e), CASES[i].rc,
                 "case %zu: %s", i, e.msg);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(n, 0, "case %zu", i);
  }
  /* An order broken after a good one: nothing is returned. */
  size_t len;
  char *buf = slurp("query_orders.json", &len);
  char *doc = with(buf, "\"pair\": \"XDGUSD\"", "\"pair\": \"XDG\"");
  apex_broker_order o[8];
  size_t n = 99;
  apex_error e = {0};
  cr_expect_eq(apex_kraken_decode_orders(doc, strlen(doc), o, 8, &n, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "kraken QueryOrders OGTT3Y-C6I3P-XRI6HX descr pair: \"XDG\""), "%s", e.msg);
  cr_expect_eq(n, 0);
  /* The reply cut anywhere is refused, never half-read. */
  for (size_t cut = 0; cut + 2 < len; cut += 11) {
    n = 99;
    cr_expect_eq(apex_kraken_decode_orders(buf, cut, o, 8, &n, &e), APEX_EPARSE, "cut at %zu", cut);
    cr_expect_eq(n, 0);
  }
  free(doc);
  free(buf);
}

Test(market_kraken_trade, opentm_read_exactly)
{
  static const struct {
    const char *opentm;
    int64_t want;
  } CASES[] = {
      {"1688666559.8974", 1688666559897}, {"1688666559.897", 1688666559897}, /* exact ms, no double cut below */
      {"1688666559.999", 1688666559999},  {"1688666559.0001", 1688666559000}, {"1688666559.9999", 1688666559999},
      {"1688666559", 1688666559000},      {"0", 0},                         {"0.0015", 1},
      {"\"1688666559.8974\"", 1688666559897}, {"\"1688666559.99999999999\"", 1688666559999}, /* text: cut, not rounded */
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    char to[64];
    snprintf(to, sizeof to, "\"opentm\":%s", CASES[i].opentm);
    char *doc = with(ONE_ORDER, "\"opentm\":1688666559.8974", to);
    apex_broker_order o;
    size_t n = 0;
    apex_error e = {0};
    cr_expect_eq(apex_kraken_decode_orders(doc, strlen(doc), &o, 1, &n, &e), APEX_OK, "%s: %s", CASES[i].opentm, e.msg);
    cr_expect_eq(o.time, CASES[i].want, "%s: %lld", CASES[i].opentm, (long long)o.time);
    free(doc);
  }
}

/* --- Balance --- */

Test(market_kraken_trade, balance_of_the_docs)
{
  size_t len, n = 99;
  char *buf = slurp("balance.json", &len);
  apex_broker_balance b[8];
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_balances(buf, len, b, 8, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 5);
  cr_expect_str_eq(b[0].asset, "USD");
  cr_expect_eq(b[0].free, 17128861580000); /* 171288.6158 */
  cr_expect_eq(b[0].locked, 0);
  cr_expect_str_eq(b[1].asset, "EUR");
  cr_expect_eq(b[1].free, 50486189460000);
  cr_expect_str_eq(b[2].asset, "BTC");
  cr_expect_eq(b[2].free, 101119088779); /* 1011.1908877900: 10 decimals, the last two 0 */
  cr_expect_str_eq(b[3].asset, "ETH");
  cr_expect_eq(b[3].free, 81855000000);
  cr_expect_str_eq(b[4].asset, "USDT");
  cr_expect_eq(b[4].free, 500000 * E8);

  n = 99;
  cr_expect_eq(apex_kraken_decode_balances(buf, len, b, 2, &n, &e), APEX_ETOOBIG);
  cr_expect_eq(n, 2);
  cr_expect_str_eq(b[1].asset, "EUR");
  cr_expect(strstr(e.msg, "kraken Balance: more than 2 non-zero balances"), "%s", e.msg);
  free(buf);
}

Test(market_kraken_trade, balance_cut_down_to_8_places_and_names)
{
  const char *doc = "{\"error\":[],\"result\":{\"XXBT\":\"1.9999999999\",\"ZEUR\":\"0.0000000099\","
                    "\"XXDG\":\"12.5\",\"XTZ\":\"3\",\"XBT.F\":\"0.5\",\"ZUSD\":\"0.0000000000\","
                    "\"DOT\":\"0.00000001\",\"KFEE\":\"100\",\"USDC\":\"-0\"}}";
  apex_broker_balance b[8];
  size_t n = 99;
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_balances(doc, strlen(doc), b, 8, &n, &e), APEX_OK, "%s", e.msg);
  cr_assert_eq(n, 6);
  cr_expect_str_eq(b[0].asset, "BTC");
  cr_expect_eq(b[0].free, 199999999, "1.9999999999 cut to 1.99999999, never rounded up to 2");
  /* ZEUR 0.0000000099 is 0 at 8 places: left out as zero */
  cr_expect_str_eq(b[1].asset, "DOGE");
  cr_expect_eq(b[1].free, 1250000000);
  cr_expect_str_eq(b[2].asset, "XTZ"); /* three letters: no prefix to strip */
  cr_expect_str_eq(b[3].asset, "BTC.F");
  cr_expect_eq(b[3].free, E8 / 2);
  cr_expect_str_eq(b[4].asset, "DOT");
  cr_expect_eq(b[4].free, 1);
  cr_expect_str_eq(b[5].asset, "KFEE");

  static const struct {
    const char *doc, *msg;
  } CASES[] = {
      {"{\"error\":[],\"result\":{\"XXBT\":1.5}}", "kraken Balance XXBT: expected a decimal string, got number"},
      {"{\"error\":[],\"result\":{\"XXBT\":\"-1.5\"}}", "kraken Balance XXBT: negative"},
      {"{\"error\":[],\"result\":{\"XXBT\":\"1.5e3\"}}", "kraken Balance XXBT: \"1.5e3\" is not a plain decimal"},
      {"{\"error\":[],\"result\":{\"XXBT\":\"1.99999999x9\"}}", "kraken Balance XXBT: \"1.99999999x9\" is not a plain decimal"},
      {"{\"error\":[],\"result\":{\"XXBT\":\"abc\"}}", "kraken Balance XXBT: \"abc\" is not a plain decimal"},
      {"{\"error\":[],\"result\":{\"XXBT\":\"99999999999999\"}}", "kraken Balance XXBT: \"99999999999999\" is out of range"},
      {"{\"error\":[],\"result\":{\"A-VERY-LONG-ASSET-NAME\":\"1\"}}",
       "kraken Balance: \"A-VERY-LONG-ASSET-NAME\" is not an asset"},
      {"{\"error\":[],\"result\":{\"\":\"1\"}}", "kraken Balance: \"\" is not an asset"},
      {"{\"error\":[],\"result\":{\".F\":\"1\"}}", "kraken Balance: \".F\" is not an asset"},
      {"{\"error\":[],\"result\":[]}", "kraken Balance result: expected an object, got array"},
      {"{\"error\":[\"EAPI:Invalid key\"],\"result\":{}}", "kraken Balance: EAPI:Invalid key"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    n = 99;
    cr_expect_neq(apex_kraken_decode_balances(CASES[i].doc, strlen(CASES[i].doc), b, 8, &n, &e), APEX_OK, "case %zu", i);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(n, 0, "case %zu", i);
  }
  /* Kraken's legacy 4-letter X/Z codes lose their first letter. */
  const char *legacy = "{\"error\":[],\"result\":{\"XXRP\":\"1\",\"ZGBP\":\"2\"}}";
  cr_assert_eq(apex_kraken_decode_balances(legacy, strlen(legacy), b, 8, &n, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(b[0].asset, "XRP");
  cr_expect_str_eq(b[1].asset, "GBP");
}

/* --- CancelOrder, CancelAllOrdersAfter --- */

Test(market_kraken_trade, cancel)
{
  size_t len;
  char *buf = slurp("cancel.json", &len);
  int count = -1;
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_cancel(buf, len, &count, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(count, 1);
  free(buf);
  const char *two = "{\"error\":[],\"result\":{\"count\":2}}";
  cr_expect_eq(apex_kraken_decode_cancel(two, strlen(two), &count, &e), APEX_OK, "pending may be absent");
  cr_expect_eq(count, 2);

  static const struct {
    const char *doc, *msg;
    apex_err rc;
  } CASES[] = {
      {"{\"error\":[],\"result\":{\"count\":\"1\",\"pending\":false}}", "kraken CancelOrder count: expected an integer, got \"1\"",
       APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"pending\":false}}", "kraken CancelOrder count: expected an integer, got missing", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"count\":-1,\"pending\":false}}", "kraken CancelOrder count: -1 is out of range", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"count\":4294967296}}", "kraken CancelOrder count: 4294967296 is out of range", APEX_EPARSE},
      {"{\"error\":[],\"result\":{\"count\":1,\"pending\":\"false\"}}", "kraken CancelOrder pending: expected a boolean",
       APEX_EPARSE},
      {"{\"error\":[\"EOrder:Unknown order\"],\"result\":{}}", "kraken CancelOrder: EOrder:Unknown order", APEX_ENOTFOUND},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    count = 5;
    cr_expect_eq(apex_kraken_decode_cancel(CASES[i].doc, strlen(CASES[i].doc), &count, &e), CASES[i].rc, "case %zu", i);
    cr_expect(strstr(e.msg, CASES[i].msg), "case %zu: got \"%s\"", i, e.msg);
    cr_expect_eq(count, 0, "case %zu", i);
  }
}

Test(market_kraken_trade, dead_man_switch)
{
  size_t len;
  char *buf = slurp("dead_man.json", &len);
  int64_t ms = -1;
  apex_error e = {0};
  cr_assert_eq(apex_kraken_decode_dead_man(buf, len, &ms, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(ms, 1679679776000); /* 2023-03-24T17:42:56Z */
  free(buf);
  buf = slurp("dead_man_disarmed.json", &len);
  ms = -1;
  cr_assert_eq(apex_kraken_decode_dead_man(buf, len, &ms, &e), APEX_OK, "%s", e.msg);
  cr_expect_eq(ms, 0);
  free(buf);

  static const struct {
    const char *trigger;
    int64_t want;
  } GOOD[] = {
      {"2023-03-24T17:42:56.789Z", 1679679776789}, {"2023-03-24T17:42:56.7Z", 1679679776700},
      {"2023-03-24T17:42:56.78912Z", 1679679776789}, {"2023-03-24T19:42:56+02:00", 1679679776000},
      {"2023-03-24T15:42:56-02:00", 1679679776000}, {"2024-02-29T23:59:59Z", 1709251199000},
      {"2023-03-24t17:42:56z", 1679679776000},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(GOOD); i++) {
    char doc[160];
    snprintf(doc, sizeof doc, "{\"error\":[],\"result\":{\"currentTime\":\"2023-03-24T17:41:56Z\",\"triggerTime\":\"%s\"}}",
             GOOD[i].trigger);
    cr_expect_eq(apex_kraken_decode_dead_man(doc, strlen(doc), &ms, &e), APEX_OK, "%s: %s", GOOD[i].trigger, e.msg);
    cr_expect_eq(ms, GOOD[i].want, "%s: %lld", GOOD[i].trigger, (long long)ms);
  }
  static const char *const BAD[] = {
      "2023-02-29T17:42:56Z", "2023-13-01T00:00:00Z", "2023-03-24T24:00:00Z", "2023-03-24 17:42:56Z",
      "2023-03-24T17:42:56",  "2023-03-24T17:42:56.Z", "2023-03-24T17:42Z",   "1679679776",
      "",                     "00",                    "1969-12-31T23:59:59Z", "2023-03-24T17:42:56+0200",
      "2023-03-24T17:42:56Zx",
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++) {
    char doc[160];
    snprintf(doc, sizeof doc, "{\"error\":[],\"result\":{\"currentTime\":\"2023-03-24T17:41:56Z\",\"triggerTime\":\"%s\"}}",
             BAD[i]);
    ms = 5;
    cr_expect_eq(apex_kraken_decode_dead_man(doc, strlen(doc), &ms, &e), APEX_EPARSE, "%s", BAD[i]);
    cr_expect(strstr(e.msg, "kraken CancelAllOrdersAfter triggerTime: "), "%s: %s", BAD[i], e.msg);
    cr_expect_eq(ms, 0, "%s", BAD[i]);
  }
  const char *cur = "{\"error\":[],\"result\":{\"currentTime\":\"0\",\"triggerTime\":\"0\"}}";
  cr_expect_eq(apex_kraken_decode_dead_man(cur, strlen(cur), &ms, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "kraken CancelAllOrdersAfter currentTime: \"0\" is not an RFC 3339 time"), "%s", e.msg);
  const char *num = "{\"error\":[],\"result\":{\"currentTime\":\"2023-03-24T17:41:56Z\",\"triggerTime\":0}}";
  cr_expect_eq(apex_kraken_decode_dead_man(num, strlen(num), &ms, &e), APEX_EPARSE);
  cr_expect(strstr(e.msg, "kraken CancelAllOrdersAfter triggerTime: expected a string, got integer"), "%s", e.msg);
}

/* --- errors --- */

Test(market_kraken_trade, error_classification_table)
{
  static const struct {
    int status;
    const char *body;
    apex_broker_fail fail;
    apex_err rc;
    long code;
  } CASES[] = {
      {200, "{\"error\":[\"EOrder:Insufficient funds\"],\"result\":{}}", APEX_BROKER_NO_FUNDS, APEX_ENOFUNDS, 0},
      {200, "{\"error\":[\"EOrder:Order minimum not met\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EOrder:Cost minimum not met\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EOrder:Tick size check failed\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EGeneral:Invalid arguments\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EGeneral:Invalid arguments:volume\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EQuery:Unknown asset pair\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EOrder:Invalid order\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EService:Deadline elapsed\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EAPI:Invalid nonce\"],\"result\":{}}", APEX_BROKER_REJECTED, APEX_EINVAL, APEX_KRAKEN_NONCE_CODE},
      {200, "{\"error\":[\"EOrder:Unknown order\"]}", APEX_BROKER_NOT_FOUND, APEX_ENOTFOUND, 0},
      {200, "{\"error\":[\"EAPI:Invalid key\"],\"result\":{}}", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EAPI:Invalid signature\"]}", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EGeneral:Permission denied\"]}", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {200, "{\"error\":[\"EAPI:Rate limit exceeded\"]}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {200, "{\"error\":[\"EOrder:Rate limit exceeded\"]}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {200, "{\"error\":[\"EGeneral:Temporary lockout\"]}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {200, "{\"error\":[\"EGeneral:Too many requests\"]}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {200, "{\"error\":[\"EService:Unavailable\"]}", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {200, "{\"error\":[\"EService:Busy\"]}", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {200, "{\"error\":[\"EService:Market in cancel_only mode\"]}", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {200, "{\"error\":[\"EService:Market in post_only mode\"]}", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {200, "{\"error\":[\"EGeneral:Internal error\"]}", APEX_BROKER_UNKNOWN, APEX_ETIMEOUT, 0},
      {200, "{\"error\":[\"EOrder:Orders limit exceeded\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0}, /* unlisted */
      {200, "{\"error\":[\"EOrder:Insufficient fundsX\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},  /* not a prefix */
      {200, "{\"error\":[\"EAPI:Invalid nonce\",\"EGeneral:Internal error\"]}", APEX_BROKER_REJECTED, APEX_EINVAL,
       APEX_KRAKEN_NONCE_CODE}, /* the first decides */
      {200, "{\"error\":[7]}", APEX_BROKER_BAD_REPLY, APEX_EPARSE, 0},
      {200, "{\"result\":{}}", APEX_BROKER_BAD_REPLY, APEX_EPARSE, 0},
      {200, "<html>", APEX_BROKER_BAD_REPLY, APEX_EPARSE, 0},
      {200, "", APEX_BROKER_BAD_REPLY, APEX_EPARSE, 0},
      {500, "{\"error\":[\"EGeneral:Internal error\"]}", APEX_BROKER_UNKNOWN, APEX_ETIMEOUT, 0},
      {503, "{\"error\":[\"EService:Unavailable\"]}", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {500, "", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {502, "<html>Bad Gateway</html>", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {520, "{\"error\":[]}", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
      {429, "", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {429, "{\"error\":[\"EOrder:Insufficient funds\"]}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {429, "{\"error\":[\"EAPI:Invalid nonce\"]}", APEX_BROKER_RATE_LIMITED, APEX_ERATELIMIT, 0},
      {401, "", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {403, "<html>Cloudflare</html>", APEX_BROKER_AUTH, APEX_EINVAL, 0},
      {404, "<html>Not Found</html>", APEX_BROKER_REJECTED, APEX_EINVAL, 0}, /* never NOT_FOUND */
      {400, "{\"error\":[\"EGeneral:Invalid arguments\"]}", APEX_BROKER_REJECTED, APEX_EINVAL, 0},
      {0, "", APEX_BROKER_UNAVAILABLE, APEX_EIO, 0},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(CASES); i++) {
    apex_broker_error be;
    apex_error e = {0};
    memset(&be, 0x5a, sizeof be);
    apex_err rc = apex_kraken_decode_trade_error(CASES[i].status, CASES[i].body, strlen(CASES[i].body), &be, &e);
    cr_expect_eq(rc, CASES[i].rc, "case %zu (%d %s): rc %d", i, CASES[i].status, CASES[i].body, rc);
    cr_expect_eq(e.code, CASES[i].rc, "case %zu", i);
    cr_expect_eq(be.fail, CASES[i].fail, "case %zu (%d %s): fail %s", i, CASES[i].status, CASES[i].body,
                 apex_broker_fail_name(be.fail));
    cr_expect_eq(be.http_status, CASES[i].status, "case %zu", i);
    cr_expect_eq(be.venue_code, CASES[i].code, "case %zu", i);
    cr_expect_eq(be.retry_after_s, -1, "case %zu", i);
  }
}

Test(market_kraken_trade, error_messages)
{
  apex_broker_error be;
  apex_error e = {0};
  const char *body = "{\"error\":[\"EOrder:Insufficient funds\"],\"result\":{}}";
  apex_kraken_decode_trade_error(200, body, strlen(body), &be, &e);
  cr_expect_str_eq(e.msg, "kraken: EOrder:Insufficient funds");

  body = "{\"error\":[\"EService:Unavailable\",\"EGeneral:Internal error\"]}";
  apex_kraken_decode_trade_error(503, body, strlen(body), &be, &e);
  cr_expect_str_eq(e.msg, "kraken: EService:Unavailable, HTTP 503 (+1 more)");

  apex_kraken_decode_trade_error(503, "", 0, &be, &e);
  cr_expect_str_eq(e.msg, "kraken: HTTP 503 (body is not a Kraken reply)");
  apex_kraken_decode_trade_error(520, "{\"error\":[]}", 12, &be, &e);
  cr_expect_str_eq(e.msg, "kraken: HTTP 520 (empty error array)");
  apex_kraken_decode_trade_error(200, "{\"error\":[null]}", 16, &be, &e);
  cr_expect_str_eq(e.msg, "kraken: error[0] is null, not a Kraken error");

  /* The venue's text is cut and cleaned before it reaches a log line. */
  char big[1200];
  int k = snprintf(big, sizeof big, "{\"error\":[\"EGeneral:Invalid arguments:line\\nbreak ");
  memset(big + k, 'x', 800);
  snprintf(big + k + 800, sizeof big - (size_t)k - 800, "\"]}");
  apex_kraken_decode_trade_error(200, big, strlen(big), &be, &e);
  cr_expect(strstr(e.msg, "kraken: EGeneral:Invalid arguments:line?break xxx"), "%s", e.msg);
  cr_expect_lt(strlen(e.msg), 330);
  cr_expect_eq(be.fail, APEX_BROKER_REJECTED);

  /* 2xx with an empty error array: OK, err left alone, whatever the size of the reply. */
  apex_error untouched = {.code = APEX_EIO, .msg = "before"};
  size_t len;
  char *buf = slurp("query_orders.json", &len);
  cr_expect_eq(apex_kraken_decode_trade_error(200, buf, len, &be, &untouched), APEX_OK);
  cr_expect_eq(be.fail, APEX_BROKER_OK);
  cr_expect_eq(be.http_status, 200);
  cr_expect_str_eq(untouched.msg, "before");
  free(buf);
  size_t n = 70000;
  char *huge = malloc(n + 64);
  cr_assert(huge);
  int h = snprintf(huge, n + 64, "{\"error\":[],\"result\":{\"pad\":\"");
  memset(huge + h, 'y', n);
  snprintf(huge + h + n, 64, "\"}}");
  cr_expect_eq(apex_kraken_decode_trade_error(200, huge, strlen(huge), &be, &untouched), APEX_OK,
               "a long success is no error");
  /* An error body over 64 KiB is not the venue's error shape: by status alone. */
  cr_expect_eq(apex_kraken_decode_trade_error(400, huge, strlen(huge), &be, &e), APEX_EINVAL);
  cr_expect_str_eq(e.msg, "kraken: HTTP 400 (body is not a Kraken reply)");
  free(huge);
  /* NULL body and be are allowed. */
  cr_expect_eq(apex_kraken_decode_trade_error(502, NULL, 0, NULL, &e), APEX_EIO);
  cr_expect_eq(apex_kraken_decode_trade_error(200, NULL, 0, NULL, NULL), APEX_EPARSE);
}
