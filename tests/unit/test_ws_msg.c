/* The WebSocket protocol's messages (api/ws_msg.c) against docs/websocket.md, and the handshake's
 * accept key against RFC 6455's own example (section 1.3). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/ws_msg.h"
#include "sys/secrets.h"

static apex_ws_request req;
static apex_ws_error err;

static apex_err parse(const char *text) { return apex_ws_parse(text, strlen(text), &req, &err); }

Test(ws_accept, rfc6455_example)
{
  char out[APEX_SECRETS_WS_ACCEPT_LEN];
  apex_secrets_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
  cr_expect_str_eq(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

Test(ws_parse, ticker_pairs_once_each_with_the_id)
{
  cr_assert_eq(parse("{\"action\":\"subscribe\",\"channel\":\"ticker\",\"symbols\":[\"BTC/USDT\",\"ETH/USDT\","
                     "\"BTC/USDT\"],\"id\":7}"),
               APEX_OK);
  cr_expect_eq(req.action, APEX_WS_SUBSCRIBE);
  cr_expect_eq(req.channel, APEX_WS_TICKER);
  cr_assert_eq(req.n_symbols, 2);
  cr_expect_str_eq(req.symbols[0], "BTC/USDT");
  cr_expect_str_eq(req.symbols[1], "ETH/USDT");
  size_t len = 0;
  char *ack = apex_ws_render_ack(&req, &len);
  cr_expect_str_eq(ack, "{\"channel\":\"ack\",\"data\":{\"action\":\"subscribe\",\"channel\":\"ticker\","
                        "\"symbols\":[\"BTC/USDT\",\"ETH/USDT\"],\"id\":7}}");
  cr_expect_eq(len, strlen(ack));
  free(ack);
}

Test(ws_parse, stocks_are_symbols_too)
{
  cr_assert_eq(parse("{\"action\":\"subscribe\",\"channel\":\"ticker\",\"symbols\":[\"ORCL\",\"BRK.B\",\"BTC/USDT\"]}"),
               APEX_OK);
  cr_assert_eq(req.n_symbols, 3);
  cr_expect_str_eq(req.symbols[0], "ORCL");
  cr_expect_str_eq(req.symbols[1], "BRK.B");
  cr_assert_eq(parse("{\"action\":\"subscribe\",\"channel\":\"candles\",\"symbol\":\"ORCL\",\"timeframe\":\"1d\"}"),
               APEX_OK);
  cr_expect_str_eq(req.symbols[0], "ORCL");
  const char *bad[] = {"orcl", "ABCDEFGHIJK", "1ABC", "OR CL", "ORCL$", ".A", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[160];
    snprintf(text, sizeof text, "{\"action\":\"subscribe\",\"channel\":\"ticker\",\"symbols\":[\"%s\"]}", bad[i]);
    cr_expect_neq(parse(text), APEX_OK, "%s", bad[i]);
    cr_expect_eq(err.code, 422, "%s", bad[i]);
  }
}

Test(ws_parse, refusals_name_code_and_field)
{
  struct {
    const char *text;
    int code;
    const char *field;
  } cases[] = {
      {"not json", 400, ""},
      {"[1,2]", 400, ""},
      {"{\"channel\":\"ticker\"}", 400, "action"},
      {"{\"action\":\"publish\"}", 400, "action"},
      {"{\"action\":\"subscribe\",\"channel\":\"news\"}", 400, "channel"},
      {"{\"action\":\"subscribe\",\"channel\":\"ticker\"}", 400, "symbols"},
      {"{\"action\":\"subscribe\",\"channel\":\"ticker\",\"symbols\":[]}", 422, "symbols"},
      {"{\"action\":\"subscribe\",\"channel\":\"ticker\",\"symbols\":[\"btcusdt\"]}", 422, "symbols"},
      {"{\"action\":\"subscribe\",\"channel\":\"candles\",\"symbol\":\"BTC/USDT\",\"timeframe\":\"7m\"}", 422,
       "timeframe"},
      {"{\"action\":\"subscribe\",\"channel\":\"portfolio\"}", 400, "portfolio_id"},
      {"{\"action\":\"subscribe\",\"channel\":\"portfolio\",\"portfolio_id\":\"42\"}", 422, "portfolio_id"},
      {"{\"action\":\"subscribe\",\"channel\":\"portfolio\",\"portfolio_id\":\"\"}", 422, "portfolio_id"},
      {"{\"action\":\"subscribe\",\"channel\":\"backtest_progress\",\"backtest_id\":\"\"}", 422, "backtest_id"},
      {"{\"action\":\"auth\"}", 400, "token"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    cr_assert_eq(parse(cases[i].text), APEX_EINVAL, "%s", cases[i].text);
    cr_expect_eq(err.code, cases[i].code, "%s: code %d", cases[i].text, err.code);
    cr_expect_str_eq(err.field, cases[i].field, "%s", cases[i].text);
    cr_expect(err.detail[0], "%s: a detail", cases[i].text);
  }
}

Test(ws_parse, an_error_echoes_what_was_understood)
{
  cr_assert_eq(parse("{\"action\":\"subscribe\",\"channel\":\"candles\",\"symbol\":\"BTC/USDT\",\"timeframe\":\"2x\","
                     "\"id\":\"q1\"}"),
               APEX_EINVAL);
  size_t len = 0;
  char *t = apex_ws_render_error(&err, &len);
  cr_expect(strstr(t, "\"code\":422"), "%s", t);
  cr_expect(strstr(t, "\"field\":\"timeframe\""), "%s", t);
  cr_expect(strstr(t, "\"action\":\"subscribe\",\"channel\":\"candles\",\"id\":\"q1\""), "%s", t);
  free(t);
}

Test(ws_render, events_carry_the_spec_fields)
{
  apex_event ev = {.kind = APEX_EVENT_TICKER};
  strcpy(ev.u.ticker.symbol, "BTC/USDT");
  ev.u.ticker.price = 4523050 * (APEX_DEC_SCALE / 100); /* 45230.50 */
  ev.u.ticker.change_24h_pct = NAN;
  ev.u.ticker.time_ms = 1769941800123; /* 2026-02-01T10:30:00.123Z */
  size_t len;
  char *t = apex_ws_render_event(&ev, &len);
  cr_expect_str_eq(t, "{\"channel\":\"ticker\",\"data\":{\"symbol\":\"BTC/USDT\",\"price\":\"45230.5\","
                      "\"change_24h_pct\":null,\"timestamp\":\"2026-02-01T10:30:00.123Z\"}}");
  free(t);
  apex_event bt = {.kind = APEX_EVENT_BACKTEST_PROGRESS};
  strcpy(bt.u.backtest.backtest_id, "b1");
  bt.u.backtest.progress_pct = 45;
  bt.u.backtest.current_ms = 1718409600000; /* 2024-06-15 */
  strcpy(bt.u.backtest.status, "running");
  t = apex_ws_render_event(&bt, &len);
  cr_expect_str_eq(t, "{\"channel\":\"backtest_progress\",\"data\":{\"backtest_id\":\"b1\",\"progress_pct\":45,"
                      "\"current_date\":\"2024-06-15\",\"status\":\"running\"}}");
  free(t);
  apex_event rv = {.kind = APEX_EVENT_SESSION_REVOKED};
  cr_expect_null(apex_ws_render_event(&rv, &len), "no channel: nothing to send");
}
