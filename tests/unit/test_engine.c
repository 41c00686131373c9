/* The streaming engine on its own: the intents it answers with, worked out by hand; a run that is
 * snapshotted, dropped and restored halfway trades exactly as the uninterrupted backtest; images
 * from another strategy or cut short are refused. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "core/backtest.h"
#include "core/engine.h"
#include "core/simbroker.h"
#include "core/strategy.h"
#include "support/ref.h"

#define T0 INT64_C(1577836800000)
#define DAY INT64_C(86400000)

static apex_strategy *parse(const char *doc)
{
  apex_strategy *st = NULL;
  apex_problems p = {0};
  cr_assert_eq(apex_strategy_parse(doc, strlen(doc), &st, &p), APEX_OK, "%s: %s", p.item[0].pointer,
               p.item[0].message);
  return st;
}

static apex_dec D(const char *s)
{
  apex_dec d;
  cr_assert_eq(apex_dec_from_str(s, &d), APEX_OK, "%s", s);
  return d;
}

static const char BAND[] =
    "{\"name\": \"t\", \"asset\": \"TEST\", \"timeframe\": \"1d\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
    "   {\"indicator\": \"close\", \"operator\": \"between\", \"value\": [10.5, 11.2]}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"close\", \"operator\": \"greater_than\", \"value\": 12}]}],"
    " \"risk_management\": {\"max_position_size\": 0.5, \"stop_loss_pct\": 5, \"take_profit_pct\": 5}}";

static apex_bar bar(int day, double close)
{
  return (apex_bar){T0 + day * DAY, close, close, close, close, 100};
}

Test(engine, intents_for_entry_protection_and_exit)
{
  apex_strategy *st = parse(BAND);
  apex_engine *e = NULL;
  apex_error err = {0};
  apex_engine_out out;
  cr_assert_eq(apex_engine_new(st, D("1000"), &e, &err), APEX_OK, "%s", err.msg);

  apex_bar b0 = bar(0, 10), b1 = bar(1, 11), b2 = bar(2, 11);
  cr_assert_eq(apex_engine_on_bar(e, &b0, &out), APEX_OK);
  cr_expect_eq(out.n, 0, "close 10 is outside the band");
  cr_assert_eq(apex_engine_on_bar(e, &b1, &out), APEX_OK);
  cr_assert_eq(out.n, 1);
  const apex_order buy = out.intent[0].order;
  cr_expect_eq(out.intent[0].kind, APEX_INTENT_SUBMIT);
  cr_expect_eq(buy.side, APEX_SIDE_BUY);
  cr_expect_eq(buy.type, APEX_ORDER_MARKET);
  cr_expect_eq(buy.qty, D("45.45454545"), "0.5 x 1000 / 11 = 45.454545454..., rounded to 8 places");
  cr_expect_eq(buy.created_bar, 1);
  cr_assert_eq(apex_engine_on_bar(e, &b2, &out), APEX_OK);
  cr_expect_eq(out.n, 0, "no second entry while the first is waiting");

  /* The broker fills it at 12 with no commission: the stop and target follow. */
  apex_fill f = {buy.id, APEX_SIDE_BUY, APEX_ORDER_MARKET, buy.qty, D("12"), 0, 2, T0 + 2 * DAY, true};
  cr_assert_eq(apex_engine_on_fill(e, &f, &out), APEX_OK);
  cr_expect_eq(apex_engine_cash(e), D("454.5454546"), "1000 - 45.45454545 x 12");
  cr_assert_eq(out.n, 2);
  cr_expect_eq(out.intent[0].order.type, APEX_ORDER_STOP_LOSS);
  cr_expect_eq(out.intent[0].order.price, D("11.4"), "12 x 0.95");
  cr_expect_eq(out.intent[0].order.created_bar, 1, "live on the entry candle");
  cr_expect_eq(out.intent[1].order.type, APEX_ORDER_TAKE_PROFIT);
  cr_expect_eq(out.intent[1].order.price, D("12.6"), "12 x 1.05");
  cr_expect_eq(out.intent[1].order.qty, buy.qty);
  const apex_order stop = out.intent[0].order, target = out.intent[1].order;

  /* A fill of an order the engine never made is refused and changes nothing. */
  apex_fill bogus = f;
  bogus.order_id = 999;
  cr_expect_eq(apex_engine_on_fill(e, &bogus, &out), APEX_EINVAL);
  cr_expect_eq(apex_engine_cash(e), D("454.5454546"));

  /* The target fills: the trade closes and the stop is cancelled. */
  apex_fill tp = {target.id, APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, buy.qty, D("12.6"), 0, 3, T0 + 3 * DAY, false};
  cr_assert_eq(apex_engine_on_fill(e, &tp, &out), APEX_OK);
  cr_assert(out.closed);
  cr_expect_eq(out.trade.reason, APEX_EXIT_TAKE_PROFIT);
  cr_expect_eq(out.trade.entry_bar, 2);
  cr_expect_eq(out.trade.exit_bar, 3);
  cr_expect_eq(out.trade.gross_pnl, D("27.27272727"), "45.45454545 x 12.6 = 572.72727267, less 545.4545454");
  cr_assert_eq(out.n, 1);
  cr_expect_eq(out.intent[0].kind, APEX_INTENT_CANCEL);
  cr_expect_eq(out.intent[0].order.id, stop.id);
  cr_expect_eq(apex_engine_position(e), 0);
  cr_expect_eq(apex_engine_cash(e), D("1027.27272727"));

  /* Flat: close_all has nothing to do. */
  apex_engine_close_all(e, APEX_EXIT_END_OF_DATA, &out);
  cr_expect_eq(out.n, 0);
  apex_engine_free(e);
  apex_strategy_free(st);
}

Test(engine, a_rejected_entry_can_be_made_again)
{
  apex_strategy *st = parse(BAND);
  apex_engine *e = NULL;
  apex_engine_out out;
  cr_assert_eq(apex_engine_new(st, D("1000"), &e, NULL), APEX_OK);
  apex_bar b1 = bar(0, 11), b2 = bar(1, 11);
  cr_assert_eq(apex_engine_on_bar(e, &b1, &out), APEX_OK);
  cr_assert_eq(out.n, 1);
  apex_engine_on_reject(e, out.intent[0].order.id, APEX_REFUSE_CASH);
  cr_assert_eq(apex_engine_on_bar(e, &b2, &out), APEX_OK);
  cr_expect_eq(out.n, 1, "the refused entry is forgotten, so the signal acts again");
  cr_expect_eq(out.intent[0].order.created_bar, 1);
  apex_engine_free(e);
  apex_strategy_free(st);
}

/* A backtest driven by hand through the public pieces, optionally snapshotting at candle k into
 * a brand-new engine (the old one freed, as after a restart). */
typedef struct log {
  apex_bt_trade t[4096];
  size_t n;
} log;

static apex_err keep(void *ctx, const apex_bt_trade *t)
{
  log *l = ctx;
  cr_assert_lt(l->n, 4096);
  l->t[l->n++] = *t;
  return APEX_OK;
}

static apex_dec drive(const apex_strategy *st, const apex_series *s, size_t k, log *l)
{
  apex_engine *e = NULL;
  apex_sim_broker b;
  apex_fill_costs c;
  apex_dec cap;
  apex_engine_out out;
  cr_assert_eq(apex_dec_from_double(st->backtest.initial_capital, &cap), APEX_OK);
  cr_assert_eq(apex_dec_from_double(st->backtest.commission_pct, &c.commission_pct), APEX_OK);
  cr_assert_eq(apex_dec_from_double(st->backtest.slippage_pct, &c.slippage_pct), APEX_OK);
  cr_assert_eq(apex_sim_broker_init(&b, &c), APEX_OK);
  cr_assert_eq(apex_engine_new(st, cap, &e, NULL), APEX_OK);
  for (size_t t = 0; t < s->n; t++) {
    if (t == k) {
      size_t n = apex_engine_snapshot_size(e);
      void *img = malloc(n);
      apex_engine_snapshot(e, img);
      apex_engine_free(e);
      cr_assert_eq(apex_engine_new(st, cap, &e, NULL), APEX_OK);
      cr_assert_eq(apex_engine_restore(e, img, n), APEX_OK);
      cr_expect_eq(apex_engine_bars_seen(e), k);
      free(img);
    }
    apex_bar bar = apex_series_bar(s, t);
    cr_assert_eq(apex_sim_broker_bar(&b, e, &bar, t, keep, l), APEX_OK);
    if (t + 1 == s->n)
      cr_assert_eq(apex_sim_broker_close(&b, e, APEX_EXIT_END_OF_DATA, s->close[t], t, s->time[t], keep, l), APEX_OK);
    cr_assert_eq(apex_engine_on_bar(e, &bar, &out), APEX_OK);
    if (t + 1 < s->n)
      apex_sim_broker_take(&b, &out);
  }
  apex_dec cash = apex_engine_cash(e);
  apex_engine_free(e);
  return cash;
}

static bool trade_eq(const apex_bt_trade *x, const apex_bt_trade *y)
{
  return x->entry_bar == y->entry_bar && x->exit_bar == y->exit_bar && x->entry_time == y->entry_time &&
         x->exit_time == y->exit_time && x->qty == y->qty && x->entry_price == y->entry_price &&
         x->exit_price == y->exit_price && x->entry_commission == y->entry_commission &&
         x->exit_commission == y->exit_commission && x->gross_pnl == y->gross_pnl && x->net_pnl == y->net_pnl &&
         x->reason == y->reason;
}

static const char MIXED[] =
    "{\"name\": \"m\", \"asset\": \"BTC/USDT\", \"timeframe\": \"1m\","
    " \"entry_rules\": [{\"signal\": \"BUY\", \"logic\": \"OR\", \"conditions\": ["
    "   {\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 35},"
    "   {\"indicator\": \"MACD\", \"output\": \"hist\", \"offset\": 2, \"operator\": \"crosses_above\", \"value\": 0}]}],"
    " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
    "   {\"indicator\": \"close\", \"operator\": \"crosses_above\","
    "    \"value\": {\"indicator\": \"BBANDS\", \"output\": \"upper\", \"offset\": 1}}]}],"
    " \"risk_management\": {\"max_position_size\": 0.7, \"stop_loss_pct\": 1.5, \"take_profit_pct\": 3},"
    " \"backtest\": {\"initial_capital\": 25000, \"commission_pct\": 0.1, \"slippage_pct\": 0.05}}";

Test(engine, snapshot_and_restore_midway_changes_nothing)
{
  apex_strategy *st = parse(MIXED);
  apex_series *s = ref_random_series(3000, 4242);
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  apex_backtest_result want;
  apex_error err = {0};
  cr_assert_eq(apex_backtest_run(st, s, &o, &want, &err), APEX_OK, "%s", err.msg);
  cr_assert_gt(want.n_trades, 10, "the strategy should trade: %zu", want.n_trades);

  static log l; /* large: not on the stack */
  const size_t cuts[] = {0, 1, 20, 1234, 2999};
  for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
    l.n = 0;
    apex_dec cash = drive(st, s, cuts[c], &l);
    cr_expect_eq(cash, want.final_cash, "restored at %zu", cuts[c]);
    cr_expect_eq(l.n, want.n_trades, "restored at %zu", cuts[c]);
    for (size_t i = 0; i < l.n && i < want.n_trades; i++)
      cr_expect(trade_eq(&l.t[i], &want.trades[i]), "restored at %zu: trade %zu differs", cuts[c], i);
  }
  apex_backtest_result_clear(&want);
  apex_series_free(s);
  apex_strategy_free(st);
}

Test(engine, restore_refuses_foreign_or_short_images)
{
  apex_strategy *a = parse(MIXED), *b = parse(BAND);
  apex_engine *ea = NULL, *eb = NULL;
  cr_assert_eq(apex_engine_new(a, D("1000"), &ea, NULL), APEX_OK);
  cr_assert_eq(apex_engine_new(b, D("500"), &eb, NULL), APEX_OK);
  size_t n = apex_engine_snapshot_size(ea);
  unsigned char *img = malloc(n);
  apex_engine_snapshot(ea, img);
  cr_expect_eq(apex_engine_restore(eb, img, n), APEX_EINVAL, "another strategy's image");
  cr_expect_eq(apex_engine_restore(ea, img, n - 1), APEX_EINVAL, "cut short");
  img[0] ^= 1;
  cr_expect_eq(apex_engine_restore(ea, img, n), APEX_EINVAL, "bad magic");
  cr_expect_eq(apex_engine_cash(eb), D("500"), "a refused image changes nothing");
  cr_expect_eq(apex_engine_cash(ea), D("1000"));
  free(img);
  apex_engine_free(ea);
  apex_engine_free(eb);
  apex_strategy_free(a);
  apex_strategy_free(b);
}

/* on_close is the batch columns' form of on_bar: refused without columns, the same intents with. */
Test(engine, on_close_needs_columns_and_acts_as_on_bar)
{
  apex_strategy *st = parse(BAND);
  apex_engine *e = NULL;
  apex_engine_out out;
  cr_assert_eq(apex_engine_new(st, D("1000"), &e, NULL), APEX_OK);
  cr_expect_eq(apex_engine_on_close(e, T0, 11, &out), APEX_EINVAL, "no columns to read the rules from");
  cr_expect_eq(out.n, 0);
  cr_expect_eq(apex_engine_bars_seen(e), 0, "a refused candle is not counted");

  const double close[] = {10, 11, 11};
  const double *const cols[] = {close};
  apex_engine_use_columns(e, cols);
  cr_assert_eq(apex_engine_on_close(e, T0, 10, &out), APEX_OK);
  cr_expect_eq(out.n, 0, "close 10 is outside the band");
  cr_assert_eq(apex_engine_on_close(e, T0 + DAY, 11, &out), APEX_OK);
  cr_assert_eq(out.n, 1);
  cr_expect_eq(out.intent[0].order.side, APEX_SIDE_BUY);
  cr_expect_eq(out.intent[0].order.qty, D("45.45454545"), "0.5 x 1000 / 11, as on_bar sizes it");
  cr_expect_eq(out.intent[0].order.created_bar, 1);
  cr_expect_eq(apex_engine_bars_seen(e), 2);
  apex_engine_free(e);
  apex_strategy_free(st);
}
