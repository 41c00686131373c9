/* Fill model: each order type on hand-made candles, gaps filled at the open, slippage against the
 * trader, commission rounding, stop and target in one candle, and invalid input. Expected prices
 * are computed by hand from the rules in core/fill.h. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "core/fill.h"

#define U APEX_DEC_SCALE
/* d(100.1) = 10010000000: literal prices with up to 8 places, exact because the literal is */
#define D(x) ((apex_dec)llround((x) * 1e8))

static const apex_fill_costs COSTS = {.slippage_pct = 10000000, .commission_pct = 10000000}; /* 0.1 %, 0.1 % */
static const apex_fill_costs FREE = {0, 0};

static apex_bar bar(double o, double h, double l, double c)
{
  return (apex_bar){.time = 1700000000000, .open = o, .high = h, .low = l, .close = c, .volume = 1};
}

static apex_order order(apex_side side, apex_order_type type, apex_dec qty, apex_dec price)
{
  return (apex_order){.id = 42, .side = side, .type = type, .qty = qty, .price = price, .created_bar = 4};
}

typedef struct {
  const char *name;
  apex_order o;
  apex_bar b;
  bool filled;
  apex_dec price, commission;
  bool at_open;
} fill_case;

static void run_cases(const fill_case *cases, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    bool filled = !cases[i].filled;
    apex_fill f;
    apex_err rc = apex_fill_eval(&cases[i].o, &cases[i].b, 5, &COSTS, &filled, &f);
    cr_expect_eq(rc, APEX_OK, "%s: rc %d", cases[i].name, rc);
    cr_expect_eq(filled, cases[i].filled, "%s: filled %d", cases[i].name, filled);
    if (!filled || !cases[i].filled)
      continue;
    cr_expect_eq(f.price, cases[i].price, "%s: price %lld, want %lld", cases[i].name, (long long)f.price,
                 (long long)cases[i].price);
    cr_expect_eq(f.commission, cases[i].commission, "%s: commission %lld, want %lld", cases[i].name,
                 (long long)f.commission, (long long)cases[i].commission);
    cr_expect_eq(f.at_open, cases[i].at_open, "%s: at_open", cases[i].name);
    cr_expect_eq(f.qty, cases[i].o.qty, "%s: qty", cases[i].name);
    cr_expect_eq(f.side, cases[i].o.side, "%s: side", cases[i].name);
    cr_expect_eq(f.type, cases[i].o.type, "%s: type", cases[i].name);
    cr_expect_eq(f.order_id, 42, "%s: order id", cases[i].name);
    cr_expect_eq(f.bar_index, 5, "%s: bar index", cases[i].name);
    cr_expect_eq(f.time, cases[i].b.time, "%s: time", cases[i].name);
  }
}

Test(fill, market_orders_slip_against_the_trader)
{
  const fill_case CASES[] = {
      /* 100 * 1.001 = 100.1; notional 200.2; commission 0.2002 */
      {"buy: open moved up", order(APEX_SIDE_BUY, APEX_ORDER_MARKET, 2 * U, 0), bar(100, 110, 90, 105), true,
       D(100.1), D(0.2002), true},
      /* 100 * 0.999 = 99.9; notional 199.8; commission 0.1998 */
      {"sell: open moved down", order(APEX_SIDE_SELL, APEX_ORDER_MARKET, 2 * U, 0), bar(100, 110, 90, 105), true,
       D(99.9), D(0.1998), true},
  };
  run_cases(CASES, APEX_ARRAY_LEN(CASES));
}

Test(fill, limit_orders)
{
  const fill_case CASES[] = {
      {"buy limit touched: at the limit, no slippage", order(APEX_SIDE_BUY, APEX_ORDER_LIMIT, 2 * U, D(95)),
       bar(100, 110, 90, 105), true, D(95), D(0.19), false},
      {"buy limit at the low: touched", order(APEX_SIDE_BUY, APEX_ORDER_LIMIT, 2 * U, D(90)),
       bar(100, 110, 90, 105), true, D(90), D(0.18), false},
      {"buy limit below the low: not filled", order(APEX_SIDE_BUY, APEX_ORDER_LIMIT, 2 * U, D(89.99999999)),
       bar(100, 110, 90, 105), false, 0, 0, false},
      {"buy limit above the open (gap): at the better open", order(APEX_SIDE_BUY, APEX_ORDER_LIMIT, 2 * U, D(105)),
       bar(100, 110, 90, 105), true, D(100), D(0.2), true},
      {"sell limit touched: at the limit", order(APEX_SIDE_SELL, APEX_ORDER_LIMIT, 2 * U, D(108)),
       bar(100, 110, 90, 105), true, D(108), D(0.216), false},
      {"sell limit below the open (gap): at the better open", order(APEX_SIDE_SELL, APEX_ORDER_LIMIT, 2 * U, D(95)),
       bar(100, 110, 90, 105), true, D(100), D(0.2), true},
      {"sell limit above the high: not filled", order(APEX_SIDE_SELL, APEX_ORDER_LIMIT, 2 * U, D(110.00000001)),
       bar(100, 110, 90, 105), false, 0, 0, false},
  };
  run_cases(CASES, APEX_ARRAY_LEN(CASES));
}

Test(fill, stop_loss_orders)
{
  const fill_case CASES[] = {
      /* 92 * 0.999 = 91.908; commission 0.1 % of 183.816 = 0.183816 */
      {"sell stop touched: at the stop, slipped down", order(APEX_SIDE_SELL, APEX_ORDER_STOP_LOSS, 2 * U, D(92)),
       bar(100, 110, 90, 105), true, D(91.908), D(0.183816), false},
      /* gap down: min(85, 92) = 85; 85 * 0.999 = 84.915; commission 0.16983 */
      {"sell stop gapped through: at the worse open", order(APEX_SIDE_SELL, APEX_ORDER_STOP_LOSS, 2 * U, D(92)),
       bar(85, 88, 80, 86), true, D(84.915), D(0.16983), true},
      {"sell stop below the low: not triggered", order(APEX_SIDE_SELL, APEX_ORDER_STOP_LOSS, 2 * U, D(89)),
       bar(100, 110, 90, 105), false, 0, 0, false},
      /* short's stop: 108 * 1.001 = 108.108; commission 0.216216 */
      {"buy stop touched: at the stop, slipped up", order(APEX_SIDE_BUY, APEX_ORDER_STOP_LOSS, 2 * U, D(108)),
       bar(100, 110, 90, 105), true, D(108.108), D(0.216216), false},
      /* gap up: max(112, 108) = 112; 112 * 1.001 = 112.112; commission 0.224224 */
      {"buy stop gapped through: at the worse open", order(APEX_SIDE_BUY, APEX_ORDER_STOP_LOSS, 2 * U, D(108)),
       bar(112, 113, 111, 112), true, D(112.112), D(0.224224), true},
      {"buy stop above the high: not triggered", order(APEX_SIDE_BUY, APEX_ORDER_STOP_LOSS, 2 * U, D(111)),
       bar(100, 110, 90, 105), false, 0, 0, false},
  };
  run_cases(CASES, APEX_ARRAY_LEN(CASES));
}

Test(fill, take_profit_orders)
{
  const fill_case CASES[] = {
      {"sell target touched: at the target, no slippage", order(APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, 2 * U, D(108)),
       bar(100, 110, 90, 105), true, D(108), D(0.216), false},
      {"sell target gapped over: at the better open", order(APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, 2 * U, D(108)),
       bar(115, 120, 114, 118), true, D(115), D(0.23), true},
      {"sell target above the high: not filled", order(APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, 2 * U, D(111)),
       bar(100, 110, 90, 105), false, 0, 0, false},
      {"buy target (short) touched", order(APEX_SIDE_BUY, APEX_ORDER_TAKE_PROFIT, 2 * U, D(92)),
       bar(100, 110, 90, 105), true, D(92), D(0.184), false},
      {"buy target (short) gapped under: at the better open", order(APEX_SIDE_BUY, APEX_ORDER_TAKE_PROFIT, 2 * U, D(92)),
       bar(85, 88, 80, 86), true, D(85), D(0.17), true},
  };
  run_cases(CASES, APEX_ARRAY_LEN(CASES));
}

Test(fill, never_on_or_before_the_creation_bar)
{
  apex_order o = order(APEX_SIDE_BUY, APEX_ORDER_MARKET, U, 0);
  apex_bar b = bar(100, 110, 90, 105);
  apex_fill f = {.price = 777};
  bool filled = true;
  cr_expect_eq(apex_fill_eval(&o, &b, 4, &COSTS, &filled, &f), APEX_OK);
  cr_expect_not(filled, "filled on its own signal bar (look-ahead)");
  cr_expect_eq(apex_fill_eval(&o, &b, 3, &COSTS, &filled, &f), APEX_OK);
  cr_expect_not(filled);
  cr_expect_eq(f.price, 777, "out written without a fill");
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &COSTS, &filled, &f), APEX_OK);
  cr_expect(filled);
}

Test(fill, commission_and_slippage_round_half_away_from_zero)
{
  apex_fill f;
  bool filled;
  /* notional 5e-8 at 10 %: 5e-9 is a tie, rounded up to 1e-8 (truncation would give 0) */
  apex_fill_costs c = {.slippage_pct = 0, .commission_pct = 10 * U};
  apex_order o = order(APEX_SIDE_BUY, APEX_ORDER_MARKET, 5, 0);
  apex_bar b = bar(1, 1, 1, 1);
  cr_assert_eq(apex_fill_eval(&o, &b, 5, &c, &filled, &f), APEX_OK);
  cr_expect_eq(f.commission, 1);
  /* notional 123.456789 at 0.1 %: 0.123456789 -> 0.12345679 */
  o.qty = D(1.23456789);
  b = bar(100, 100, 100, 100);
  cr_assert_eq(apex_fill_eval(&o, &b, 5, &COSTS, &filled, &f), APEX_OK);
  cr_expect_eq(f.price, D(100.1));
  /* 1.23456789 * 100.1 = 123.580245789 -> 123.58024579; 0.1 % = 0.12358024579 -> 0.12358025 */
  cr_expect_eq(f.commission, D(0.12358025));
  apex_dec comm;
  cr_expect_eq(apex_fill_commission(D(1.23456789), D(100.1), 10000000, &comm), APEX_OK);
  cr_expect_eq(comm, D(0.12358025));
  /* slippage 50 % on an open of 3e-8: the move 1.5e-8 rounds to 2e-8 for both sides */
  c = (apex_fill_costs){.slippage_pct = 50 * U, .commission_pct = 0};
  b = bar(3e-8, 3e-8, 3e-8, 3e-8);
  o = order(APEX_SIDE_BUY, APEX_ORDER_MARKET, U, 0);
  cr_assert_eq(apex_fill_eval(&o, &b, 5, &c, &filled, &f), APEX_OK);
  cr_expect_eq(f.price, 5);
  o.side = APEX_SIDE_SELL;
  cr_assert_eq(apex_fill_eval(&o, &b, 5, &c, &filled, &f), APEX_OK);
  cr_expect_eq(f.price, 1);
}

Test(fill, bar_prices_are_rounded_to_eight_places_before_comparing)
{
  apex_order o = order(APEX_SIDE_BUY, APEX_ORDER_LIMIT, U, D(100));
  apex_bar b = bar(101, 102, 100.000000004, 101); /* rounds to 100.00000000 */
  apex_fill f;
  bool filled;
  cr_assert_eq(apex_fill_eval(&o, &b, 5, &FREE, &filled, &f), APEX_OK);
  cr_expect(filled);
  cr_expect_eq(f.price, D(100));
  b.low = 100.000000006; /* rounds to 100.00000001 */
  cr_assert_eq(apex_fill_eval(&o, &b, 5, &FREE, &filled, &f), APEX_OK);
  cr_expect_not(filled);
}

Test(fill, stop_and_target_in_one_candle)
{
  apex_order stop = order(APEX_SIDE_SELL, APEX_ORDER_STOP_LOSS, 2 * U, D(92));
  apex_order target = order(APEX_SIDE_SELL, APEX_ORDER_TAKE_PROFIT, 2 * U, D(108));
  stop.id = 1;
  target.id = 2;
  const apex_order *which = &target;
  apex_fill f;

  /* Both touched inside the bar: the stop is assumed first, at 92 * 0.999 */
  apex_bar b = bar(100, 110, 90, 105);
  cr_assert_eq(apex_fill_exit(&stop, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &stop);
  cr_expect_eq(f.order_id, 1);
  cr_expect_eq(f.price, D(91.908));

  /* Gap down through the stop, high reaching the target: the stop, at the open 85 * 0.999 */
  b = bar(85, 115, 80, 100);
  cr_assert_eq(apex_fill_exit(&stop, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &stop);
  cr_expect_eq(f.price, D(84.915));

  /* Gap up over the target, low reaching the stop later: the open came first, target at 112 */
  b = bar(112, 113, 90, 100);
  cr_assert_eq(apex_fill_exit(&stop, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &target);
  cr_expect_eq(f.price, D(112));
  cr_expect(f.at_open);

  /* Only the target */
  b = bar(100, 110, 95, 105);
  cr_assert_eq(apex_fill_exit(&stop, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &target);
  cr_expect_eq(f.price, D(108));

  /* Only the stop */
  b = bar(100, 105, 90, 95);
  cr_assert_eq(apex_fill_exit(&stop, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &stop);

  /* Neither */
  b = bar(100, 105, 95, 100);
  cr_assert_eq(apex_fill_exit(&stop, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_null(which);

  /* Either may be absent */
  b = bar(100, 110, 90, 105);
  cr_assert_eq(apex_fill_exit(NULL, &target, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &target);
  cr_assert_eq(apex_fill_exit(&stop, NULL, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &stop);

  /* A short's pair mirrors it: buy stop 108 first, at 108 * 1.001 */
  apex_order sstop = order(APEX_SIDE_BUY, APEX_ORDER_STOP_LOSS, 2 * U, D(108));
  apex_order starget = order(APEX_SIDE_BUY, APEX_ORDER_TAKE_PROFIT, 2 * U, D(92));
  cr_assert_eq(apex_fill_exit(&sstop, &starget, &b, 5, &COSTS, &which, &f), APEX_OK);
  cr_expect_eq(which, &sstop);
  cr_expect_eq(f.price, D(108.108));

  /* Mismatched pairs are refused */
  cr_expect_eq(apex_fill_exit(&stop, &starget, &b, 5, &COSTS, &which, &f), APEX_EINVAL, "sides differ");
  cr_expect_eq(apex_fill_exit(&target, &stop, &b, 5, &COSTS, &which, &f), APEX_EINVAL, "roles swapped");
}

Test(fill, invalid_input)
{
  apex_bar b = bar(100, 110, 90, 105);
  apex_fill f;
  bool filled;
  apex_order o = order(APEX_SIDE_BUY, APEX_ORDER_MARKET, 0, 0);
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &COSTS, &filled, &f), APEX_EINVAL, "qty 0");
  o = order(APEX_SIDE_BUY, APEX_ORDER_LIMIT, U, 0);
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &COSTS, &filled, &f), APEX_EINVAL, "limit price 0");
  o = order((apex_side)0, APEX_ORDER_MARKET, U, 0);
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &COSTS, &filled, &f), APEX_EINVAL, "side 0");
  o = order(APEX_SIDE_BUY, (apex_order_type)9, U, D(1));
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &COSTS, &filled, &f), APEX_EINVAL, "unknown type");

  o = order(APEX_SIDE_BUY, APEX_ORDER_MARKET, U, 0);
  apex_fill_costs c = {.slippage_pct = -1, .commission_pct = 0};
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &c, &filled, &f), APEX_EINVAL, "negative slippage");
  c = (apex_fill_costs){.slippage_pct = 0, .commission_pct = 100 * U};
  cr_expect_eq(apex_fill_eval(&o, &b, 5, &c, &filled, &f), APEX_EINVAL, "commission 100 %");

  apex_bar bad = bar(NAN, 110, 90, 105);
  cr_expect_eq(apex_fill_eval(&o, &bad, 5, &COSTS, &filled, &f), APEX_EDATA, "NaN open");
  bad = bar(0, 110, 90, 105);
  cr_expect_eq(apex_fill_eval(&o, &bad, 5, &COSTS, &filled, &f), APEX_EDATA, "zero open");
  bad = bar(100, 110, -1, 105);
  cr_expect_eq(apex_fill_eval(&o, &bad, 5, &COSTS, &filled, &f), APEX_EDATA, "negative low");
  bad = bar(100, INFINITY, 90, 105);
  cr_expect_eq(apex_fill_eval(&o, &bad, 5, &COSTS, &filled, &f), APEX_EDATA, "infinite high");
  bad = bar(1e12, 1e12, 1e12, 1e12);
  cr_expect_eq(apex_fill_eval(&o, &bad, 5, &COSTS, &filled, &f), APEX_EOVERFLOW, "price beyond the range");
  /* A notional beyond the range: 1e6 units at 1e6 */
  o.qty = 1000000 * U;
  bad = bar(1e6, 1e6, 1e6, 1e6);
  cr_expect_eq(apex_fill_eval(&o, &bad, 5, &FREE, &filled, &f), APEX_EOVERFLOW, "notional beyond the range");
}

Test(fill, fill_at_a_given_price)
{
  apex_order o = order(APEX_SIDE_SELL, APEX_ORDER_MARKET, 2 * U, 0);
  apex_fill f;
  cr_assert_eq(apex_fill_at(&o, D(105), &COSTS, &f), APEX_OK);
  cr_expect_eq(f.price, D(105), "no slippage");
  cr_expect_eq(f.commission, D(0.21));
  cr_expect_eq(f.qty, 2 * U);
  cr_expect_eq(f.side, APEX_SIDE_SELL);
  cr_expect_eq(apex_fill_at(&o, 0, &COSTS, &f), APEX_EINVAL);
}

/* Over random consistent candles: every fill lies where its rules allow. */
Test(fill, random_fills_respect_their_levels)
{
  uint64_t s = 12345;
  int fills = 0;
  for (int i = 0; i < 100000; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    double o = 50 + (double)(s >> 40) / (double)(1 << 24) * 100;
    double h = o + (double)((s >> 20) & 0xFFFFF) / 1048576.0 * 10, l = o - (double)(s & 0xFFFFF) / 1048576.0 * 10;
    apex_bar b = bar(o, h, l, o);
    apex_dec level = D(40 + (double)(s % 12000) / 100.0);
    apex_order ord = order(i & 1 ? APEX_SIDE_BUY : APEX_SIDE_SELL, (apex_order_type)(i / 2 % 4), D(0.5), level);
    apex_fill f;
    bool filled;
    cr_assert_eq(apex_fill_eval(&ord, &b, 5, &COSTS, &filled, &f), APEX_OK);
    if (!filled)
      continue;
    fills++;
    apex_dec O, H, L;
    cr_assert_eq(apex_dec_from_double(o, &O) | apex_dec_from_double(h, &H) | apex_dec_from_double(l, &L), APEX_OK);
    bool buy = ord.side == APEX_SIDE_BUY;
    switch (ord.type) {
    case APEX_ORDER_MARKET:
      cr_assert(buy ? f.price > O : f.price < O, "market fill not slipped against the trader");
      break;
    case APEX_ORDER_LIMIT:
    case APEX_ORDER_TAKE_PROFIT:
      cr_assert(f.price >= L && f.price <= H, "limit fill outside the bar");
      cr_assert(buy ? f.price <= level : f.price >= level, "limit fill worse than its limit");
      break;
    case APEX_ORDER_STOP_LOSS:
      cr_assert(buy ? f.price > level || f.price > O : f.price < level || f.price < O, "stop not slipped");
      cr_assert(buy ? level <= H : level >= L, "stop filled untouched");
      break;
    }
    apex_dec comm;
    cr_assert_eq(apex_fill_commission(f.qty, f.price, COSTS.commission_pct, &comm), APEX_OK);
    cr_assert_eq(comm, f.commission);
  }
  cr_expect(fills > 10000, "too few fills (%d) to mean anything", fills);
}
