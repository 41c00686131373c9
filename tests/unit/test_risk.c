/* Pre-trade risk refusals worked out by hand on tiny hourly series, through the session the
 * backtest and the paper runner both step: the order rate (max_trades_per_day), the drawdown halt,
 * nothing affordable, and a stale candle after a restart. Each refused entry is recorded with its
 * reason and the candle it came on; no order is placed for it. */
#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/backtest.h"
#include "core/engine.h"
#include "core/session.h"
#include "core/strategy.h"

#define T0 INT64_C(1704067200000) /* 2024-01-01T00:00Z */
#define HOUR INT64_C(3600000)

/* Buys when the close is in [10.5, 11.2], sells above 12; no costs, so prices are the fills. */
static apex_strategy *strategy(const char *risk_extra, double capital)
{
  char doc[1024];
  snprintf(doc, sizeof doc,
           "{\"name\": \"t\", \"asset\": \"TEST/USD\", \"timeframe\": \"1h\","
           " \"entry_rules\": [{\"signal\": \"BUY\", \"conditions\": ["
           "   {\"indicator\": \"close\", \"operator\": \"between\", \"value\": [10.5, 11.2]}]}],"
           " \"exit_rules\": [{\"signal\": \"SELL\", \"conditions\": ["
           "   {\"indicator\": \"close\", \"operator\": \"greater_than\", \"value\": 12}]}],"
           " \"risk_management\": {\"max_position_size\": 0.5%s},"
           " \"backtest\": {\"initial_capital\": %.8f, \"commission_pct\": 0, \"slippage_pct\": 0}}",
           risk_extra, capital);
  apex_strategy *st = NULL;
  apex_problems p = {0};
  cr_assert_eq(apex_strategy_parse(doc, strlen(doc), &st, &p), APEX_OK, "%s: %s", p.item[0].pointer,
               p.item[0].message);
  return st;
}

static apex_bar bar(int hour, double open, double close)
{
  double hi = open > close ? open : close, lo = open < close ? open : close;
  return (apex_bar){T0 + hour * HOUR, open, hi, lo, close, 100};
}

static apex_session *session(const apex_strategy *st)
{
  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  apex_session *ss = NULL;
  cr_assert_eq(apex_session_new(st, &o, &ss, NULL), APEX_OK);
  return ss;
}

static void step(apex_session *ss, apex_bar b, apex_session_out *out)
{
  apex_error err = {0};
  cr_assert_eq(apex_session_step(ss, &b, false, out, &err), APEX_OK, "%s", err.msg);
}

static const apex_refusal *refusal(apex_session *ss, uint64_t seq)
{
  const apex_refusal *r = apex_engine_refusal(apex_session_engine(ss), seq);
  cr_assert_not_null(r, "refusal %llu", (unsigned long long)seq);
  return r;
}

Test(risk, the_order_rate_refuses_a_second_entry_the_same_utc_day)
{
  apex_strategy *st = strategy(", \"max_trades_per_day\": 1", 1000);
  apex_session *ss = session(st);
  apex_session_out out;
  step(ss, bar(0, 11, 11), &out); /* entry signal: BUY 0.5 x 1000 / 11 */
  cr_assert_eq(out.orders.n, 1);
  step(ss, bar(1, 11, 13), &out); /* filled at 11; close 13 > 12: SELL */
  step(ss, bar(2, 13, 11), &out); /* sold at 13; the close asks for a second entry today */
  cr_expect_eq(out.orders.n, 0, "no order for a refused entry");
  step(ss, bar(3, 11, 11), &out);
  cr_expect_eq(out.orders.n, 0);
  cr_assert_eq(apex_engine_refusal_count(apex_session_engine(ss)), 2);
  cr_expect_eq(refusal(ss, 0)->kind, APEX_REFUSE_ORDER_RATE);
  cr_expect_eq(refusal(ss, 0)->time, T0 + 2 * HOUR);
  /* cash 1000 - 45.45454545 x 11 + 45.45454545 x 13 = 1090.9090909; half of it over 11 */
  apex_dec want;
  cr_assert_eq(apex_dec_from_str("49.58677686", &want), APEX_OK);
  cr_expect_eq(refusal(ss, 0)->qty, want, "%lld", (long long)refusal(ss, 0)->qty);
  cr_expect_eq(refusal(ss, 1)->time, T0 + 3 * HOUR);
  step(ss, bar(24, 11, 11), &out); /* the next UTC day: allowed again */
  cr_expect_eq(out.orders.n, 1);
  cr_expect_eq(apex_engine_refusal_count(apex_session_engine(ss)), 2);
  apex_session_free(ss);
  apex_strategy_free(st);
}

Test(risk, a_halted_strategy_records_each_entry_signal_it_refuses)
{
  apex_strategy *st = strategy(", \"max_drawdown_pct\": 10", 1000);
  apex_session *ss = session(st);
  apex_session_out out;
  step(ss, bar(0, 11, 11), &out);
  step(ss, bar(1, 11, 8), &out); /* 45.45454545 bought at 11; equity 500.00000005 + 363.6363636 =
                                  * 863.63636365: 13.6 % below the peak 1000: halt, sell */
  cr_assert(apex_engine_halted(apex_session_engine(ss), NULL));
  step(ss, bar(2, 8, 9), &out);   /* sold at 8 */
  cr_expect(!apex_engine_in_market(apex_session_engine(ss)));
  cr_expect_eq(apex_engine_refusal_count(apex_session_engine(ss)), 0, "no signal yet");
  step(ss, bar(3, 9, 11), &out); /* entry signal while halted */
  cr_expect_eq(out.orders.n, 0);
  cr_assert_eq(apex_engine_refusal_count(apex_session_engine(ss)), 1);
  cr_expect_eq(refusal(ss, 0)->kind, APEX_REFUSE_DRAWDOWN);
  cr_expect_eq(refusal(ss, 0)->time, T0 + 3 * HOUR);
  cr_expect_str_eq(apex_refusal_name(refusal(ss, 0)->kind), "drawdown_halt");
  apex_session_free(ss);
  apex_strategy_free(st);
}

Test(risk, nothing_affordable_is_refused_as_insufficient_cash)
{
  apex_strategy *st = strategy("", 0.00000010); /* 0.5 x 0.0000001 / 11 rounds to 0 */
  apex_session *ss = session(st);
  apex_session_out out;
  step(ss, bar(0, 11, 11), &out);
  cr_expect_eq(out.orders.n, 0);
  cr_assert_eq(apex_engine_refusal_count(apex_session_engine(ss)), 1);
  cr_expect_eq(refusal(ss, 0)->kind, APEX_REFUSE_CASH);
  cr_expect_str_eq(apex_refusal_name(APEX_REFUSE_CASH), "insufficient_cash");
  apex_session_free(ss);
  apex_strategy_free(st);
}

Test(risk, a_stale_candle_moves_the_account_but_places_nothing)
{
  apex_strategy *st = strategy("", 1000);
  apex_session *ss = session(st);
  apex_session_out out;
  apex_bar b = bar(0, 11, 11);
  cr_assert_eq(apex_session_step_stale(ss, &b, &out, NULL), APEX_OK);
  cr_expect_eq(out.orders.n, 0);
  cr_assert_eq(apex_engine_refusal_count(apex_session_engine(ss)), 1);
  cr_expect_eq(refusal(ss, 0)->kind, APEX_REFUSE_STALE);
  step(ss, bar(1, 11, 11), &out); /* a fresh candle with the signal: the entry is made now */
  cr_expect_eq(out.orders.n, 1);
  cr_expect_eq(out.orders.intent[0].order.created_bar, 1);
  apex_session_free(ss);
  apex_strategy_free(st);
}

Test(risk, counts_must_be_whole_and_in_range)
{
  const char *bad[] = {"{\"name\":\"t\",\"asset\":\"A/B\",\"timeframe\":\"1h\",\"entry_rules\":[],\"exit_rules\":[],"
                       "\"risk_management\":{\"max_trades_per_day\":1.5}}",
                       "{\"name\":\"t\",\"asset\":\"A/B\",\"timeframe\":\"1h\",\"entry_rules\":[],\"exit_rules\":[],"
                       "\"risk_management\":{\"max_open_positions\":1001}}"};
  for (size_t i = 0; i < 2; i++) {
    apex_strategy *st = NULL;
    apex_problems p = {0};
    cr_expect_eq(apex_strategy_parse(bad[i], strlen(bad[i]), &st, &p), APEX_EINVAL);
    bool named = false;
    for (size_t k = 0; k < p.n; k++)
      named |= strstr(p.item[k].pointer, "/risk_management/max_") != NULL;
    cr_expect(named, "case %zu: no problem at /risk_management/max_...", i);
    apex_strategy_free(st);
  }
}
