/* Ledger: hand-computed bookings, refusals that leave the ledger unchanged, the cash cap, target
 * sizing, overflow, and a random property run (cash >= 0, equity == cash + qty x price exactly,
 * cash == start + realized net - basis). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>

#include "core/ledger.h"

#define U APEX_DEC_SCALE
#define D(x) ((apex_dec)llround((x) * 1e8))

static apex_fill fill(apex_side side, apex_dec qty, apex_dec price, apex_dec commission)
{
  return (apex_fill){.side = side, .type = APEX_ORDER_MARKET, .qty = qty, .price = price, .commission = commission};
}

static apex_ledger *mk(apex_dec cash)
{
  apex_ledger *l = NULL;
  cr_assert_eq(apex_ledger_new(cash, &l), APEX_OK);
  cr_assert_not_null(l);
  return l;
}

typedef struct {
  apex_dec cash, pos, basis, realized, comm;
  size_t fills;
} snap;

static snap take(const apex_ledger *l)
{
  return (snap){apex_ledger_cash(l), apex_ledger_position(l), apex_ledger_cost_basis(l),
                apex_ledger_realized_gross(l), apex_ledger_commission(l), apex_ledger_fills(l)};
}

static void expect_unchanged(const apex_ledger *l, snap s, const char *what)
{
  snap t = take(l);
  cr_expect(t.cash == s.cash && t.pos == s.pos && t.basis == s.basis && t.realized == s.realized &&
                t.comm == s.comm && t.fills == s.fills,
            "%s changed the ledger", what);
}

Test(ledger, new_and_free)
{
  apex_ledger *l = (apex_ledger *)0x1;
  cr_expect_eq(apex_ledger_new(-1, &l), APEX_EINVAL);
  cr_expect_eq(l, (apex_ledger *)0x1, "out set on failure");
  l = mk(1000 * U);
  cr_expect_eq(apex_ledger_start_cash(l), 1000 * U);
  cr_expect_eq(apex_ledger_cash(l), 1000 * U);
  cr_expect_eq(apex_ledger_position(l), 0);
  cr_expect_eq(apex_ledger_avg_price(l), 0);
  cr_expect_eq(apex_ledger_fills(l), 0);
  apex_ledger_free(l);
  apex_ledger_free(NULL);
}

Test(ledger, round_trip_hand_computed)
{
  apex_ledger *l = mk(1000 * U);
  apex_dec eq;

  /* Buy 2 at 100.1, commission 0.2002: cash 1000 - 200.2 - 0.2002 = 799.5998 */
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = 2 * U, .price = D(100.1),
                                                  .commission = D(0.2002)}),
               APEX_OK);
  cr_expect_eq(apex_ledger_cash(l), D(799.5998));
  cr_expect_eq(apex_ledger_position(l), 2 * U);
  cr_expect_eq(apex_ledger_cost_basis(l), D(200.2));
  cr_expect_eq(apex_ledger_avg_price(l), D(100.1));
  cr_expect_eq(apex_ledger_commission(l), D(0.2002));
  cr_expect_eq(apex_ledger_realized_gross(l), 0);
  /* Equity at 105: 799.5998 + 210 */
  cr_expect_eq(apex_ledger_equity(l, D(105), &eq), APEX_OK);
  cr_expect_eq(eq, D(1009.5998));

  /* Sell 1 at 110, commission 0.11: releases 100.1 of basis, realizes 9.9; cash 909.4898 */
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_SELL, .qty = U, .price = D(110), .commission = D(0.11)}),
               APEX_OK);
  cr_expect_eq(apex_ledger_cash(l), D(909.4898));
  cr_expect_eq(apex_ledger_position(l), U);
  cr_expect_eq(apex_ledger_cost_basis(l), D(100.1));
  cr_expect_eq(apex_ledger_realized_gross(l), D(9.9));

  /* Sell 1 at 90, commission 0.09: realizes -10.1; flat with cash 999.3998 */
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_SELL, .qty = U, .price = D(90), .commission = D(0.09)}),
               APEX_OK);
  cr_expect_eq(apex_ledger_cash(l), D(999.3998));
  cr_expect_eq(apex_ledger_position(l), 0);
  cr_expect_eq(apex_ledger_cost_basis(l), 0);
  cr_expect_eq(apex_ledger_avg_price(l), 0);
  cr_expect_eq(apex_ledger_realized_gross(l), D(-0.2));
  cr_expect_eq(apex_ledger_commission(l), D(0.4002));
  cr_expect_eq(apex_ledger_realized_net(l), D(-0.6002));
  cr_expect_eq(apex_ledger_fills(l), 3);
  cr_expect_eq(apex_ledger_equity(l, D(12345), &eq), APEX_OK);
  cr_expect_eq(eq, D(999.3998));
  apex_ledger_free(l);
}

Test(ledger, average_price_and_partial_release_round_once)
{
  apex_ledger *l = mk(10000 * U);
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = U, .price = 100 * U}), APEX_OK);
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = 2 * U, .price = 101 * U}), APEX_OK);
  cr_expect_eq(apex_ledger_cost_basis(l), 302 * U);
  cr_expect_eq(apex_ledger_avg_price(l), D(100.66666667), "302 / 3 rounded");
  /* Selling a third releases round(302 / 3) = 100.66666667; the rest keeps 201.33333333 */
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_SELL, .qty = U, .price = 110 * U}), APEX_OK);
  cr_expect_eq(apex_ledger_cost_basis(l), D(201.33333333));
  cr_expect_eq(apex_ledger_realized_gross(l), D(9.33333333));
  /* Closing the rest releases the whole remaining basis: the round trip realizes exactly
   * exit notionals 110 + 220 minus entry notionals 302 = 28 */
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_SELL, .qty = 2 * U, .price = 110 * U}), APEX_OK);
  cr_expect_eq(apex_ledger_realized_gross(l), 28 * U);
  cr_expect_eq(apex_ledger_cost_basis(l), 0);
  cr_expect_eq(apex_ledger_cash(l), 10028 * U);
  apex_ledger_free(l);
}

Test(ledger, refusals_leave_the_ledger_unchanged)
{
  apex_ledger *l = mk(1000 * U);
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = 2 * U, .price = 100 * U, .commission = D(0.2)}),
               APEX_OK);
  snap s = take(l); /* cash 799.8 */

  apex_fill f = fill(APEX_SIDE_SELL, 2 * U + 1, 100 * U, 0);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EINVAL, "sell beyond the long position (no shorts yet)");
  expect_unchanged(l, s, "oversell");
  /* Buying for exactly the cash is fine; one unit more is not. */
  f = fill(APEX_SIDE_BUY, 7 * U, 114 * U, D(1.8)); /* 798 + 1.8 = 799.8 */
  f.commission = D(1.80000001);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_ENOFUNDS, "cash would be -0.00000001");
  expect_unchanged(l, s, "unaffordable buy");
  f = fill(APEX_SIDE_BUY, 0, 100 * U, 0);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EINVAL, "qty 0");
  f = fill(APEX_SIDE_BUY, U, 0, 0);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EINVAL, "price 0");
  f = fill(APEX_SIDE_BUY, U, U, -1);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EINVAL, "negative commission");
  f = fill((apex_side)0, U, U, 0);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EINVAL, "side 0");
  /* A sell whose commission exceeds what it yields and what is left */
  f = fill(APEX_SIDE_SELL, 1, U, 800 * U);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_ENOFUNDS, "sell commission beyond the cash");
  expect_unchanged(l, s, "invalid fills");

  f = fill(APEX_SIDE_BUY, 7 * U, 114 * U, D(1.8));
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_OK, "buy for exactly the cash");
  cr_expect_eq(apex_ledger_cash(l), 0);
  apex_ledger_free(l);
}

Test(ledger, overflow_is_refused_unchanged)
{
  apex_ledger *l = mk(APEX_DEC_MAX - 5 * U);
  cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = U, .price = U}), APEX_OK);
  snap s = take(l);
  apex_fill f = fill(APEX_SIDE_BUY, 1000000 * U, 1000000 * U, 0);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EOVERFLOW, "notional beyond the range");
  f = fill(APEX_SIDE_SELL, U, 10 * U, 0);
  cr_expect_eq(apex_ledger_apply(l, &f), APEX_EOVERFLOW, "cash beyond the range");
  expect_unchanged(l, s, "overflow");
  apex_dec eq;
  cr_expect_eq(apex_ledger_equity(l, 10 * U, &eq), APEX_EOVERFLOW);
  apex_ledger_free(l);
}

Test(ledger, cash_cap_hand_computed)
{
  apex_dec q = -1;
  /* 1000 at 100 with 0.1 %: 9.99000999 costs 999.000999 + 0.999001 = 1000 exactly;
   * 9.99001 would cost 1000.000001 */
  cr_assert_eq(apex_ledger_max_buy_qty(1000 * U, 100 * U, 10000000, &q), APEX_OK);
  cr_expect_eq(q, D(9.99000999));
  /* no commission: 1000 / 3 -> 333.33333333 (333.33333333 * 3 = 999.99999999) */
  cr_assert_eq(apex_ledger_max_buy_qty(1000 * U, 3 * U, 0, &q), APEX_OK);
  cr_expect_eq(q, D(333.33333333));
  /* The cap is what the ledger accepts after rounding: at price 0.5, cash 2e-8 buys 4e-8
   * (notional exactly 2e-8); 5e-8 would cost round(2.5e-8) = 3e-8 */
  cr_assert_eq(apex_ledger_max_buy_qty(2, U / 2, 0, &q), APEX_OK);
  cr_expect_eq(q, 4);
  /* ... and at price 0.3, cash 1e-8 buys 4e-8: 5e-8 costs round(1.5e-8) = 2e-8, but
   * 4e-8 costs round(1.2e-8) = 1e-8 (more than the exact 1e-8 / 0.3 = 3.33e-8) */
  cr_assert_eq(apex_ledger_max_buy_qty(1, D(0.3), 0, &q), APEX_OK);
  cr_expect_eq(q, 4);
  cr_assert_eq(apex_ledger_max_buy_qty(0, U, 0, &q), APEX_OK);
  cr_expect_eq(q, 0);
  cr_assert_eq(apex_ledger_max_buy_qty(-5, U, 0, &q), APEX_OK);
  cr_expect_eq(q, 0);
  cr_expect_eq(apex_ledger_max_buy_qty(U, 0, 0, &q), APEX_EINVAL);
  cr_expect_eq(apex_ledger_max_buy_qty(U, U, -1, &q), APEX_EINVAL);
  cr_expect_eq(apex_ledger_max_buy_qty(U, U, 100 * U, &q), APEX_EINVAL);
  /* Huge cash at a tiny price: the cap is the largest representable quantity */
  cr_assert_eq(apex_ledger_max_buy_qty(APEX_DEC_MAX, 1, 0, &q), APEX_OK);
  cr_expect_eq(q, APEX_DEC_MAX);
}

Test(ledger, cash_cap_is_exactly_what_the_ledger_accepts)
{
  uint64_t s = 777;
  for (int i = 0; i < 20000; i++) {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    apex_dec cash = (apex_dec)((s >> 16) % (uint64_t)(1000000 * U));
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    apex_dec price = 1 + (apex_dec)((s >> 16) % (uint64_t)(100000 * U));
    if (i % 4 == 0)
      price = 1 + price % U; /* sub-unit prices, where rounding matters most */
    apex_dec pct = (apex_dec)(s % 3) * 10000000 * (apex_dec)(1 + i % 5); /* 0 .. 1 % */
    apex_dec q, comm;
    cr_assert_eq(apex_ledger_max_buy_qty(cash, price, pct, &q), APEX_OK);
    apex_ledger *l = mk(cash);
    if (q > 0) {
      cr_assert_eq(apex_fill_commission(q, price, pct, &comm), APEX_OK);
      cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = q, .price = price, .commission = comm}),
                   APEX_OK, "cap %lld at price %lld refused with cash %lld", (long long)q, (long long)price,
                   (long long)cash);
      cr_assert(apex_ledger_cash(l) >= 0);
    }
    apex_ledger_free(l);
    l = mk(cash);
    if (apex_fill_commission(q + 1, price, pct, &comm) == APEX_OK) {
      apex_err rc = apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_BUY, .qty = q + 1, .price = price, .commission = comm});
      cr_assert_eq(rc, APEX_ENOFUNDS, "cap + 1e-8 accepted: cap %lld price %lld cash %lld", (long long)q,
                   (long long)price, (long long)cash);
    }
    apex_ledger_free(l);
  }
}

Test(ledger, target_qty)
{
  apex_dec q;
  /* 0.95 x 10000 / 3 = 3166.666666666... -> 3166.66666667 (rounded, not floored) */
  cr_assert_eq(apex_ledger_target_qty(95000000, 10000 * U, 3 * U, &q), APEX_OK);
  cr_expect_eq(q, D(3166.66666667));
  cr_assert_eq(apex_ledger_target_qty(U, 100 * U, 4 * U, &q), APEX_OK);
  cr_expect_eq(q, 25 * U);
  cr_assert_eq(apex_ledger_target_qty(0, 100 * U, 4 * U, &q), APEX_OK);
  cr_expect_eq(q, 0);
  cr_assert_eq(apex_ledger_target_qty(U / 2, -100 * U, 4 * U, &q), APEX_OK);
  cr_expect_eq(q, 0, "no size from negative equity");
  cr_expect_eq(apex_ledger_target_qty(U + 1, 100 * U, 4 * U, &q), APEX_EINVAL);
  cr_expect_eq(apex_ledger_target_qty(-1, 100 * U, 4 * U, &q), APEX_EINVAL);
  cr_expect_eq(apex_ledger_target_qty(U, 100 * U, 0, &q), APEX_EINVAL);
  cr_expect_eq(apex_ledger_target_qty(U, 1000000 * U, 1, &q), APEX_EOVERFLOW);
}

/* equity recomputed independently: cash + round_half_away(qty * mark / 1e8) */
static apex_dec ref_equity(apex_dec cash, apex_dec qty, apex_dec mark)
{
  apex_wide p = (apex_wide)qty * mark, a = p < 0 ? -p : p;
  apex_wide v = a / U + (a % U * 2 >= U ? 1 : 0);
  return cash + (apex_dec)(p < 0 ? -v : v);
}

Test(ledger, random_trading_keeps_the_books_exact)
{
  uint64_t s = 2024;
  for (int run = 0; run < 50; run++) {
    apex_dec start = (apex_dec)(1 + run) * 1000 * U;
    apex_ledger *l = mk(start);
    apex_dec price = 100 * U, pct = (apex_dec)(run % 4) * 5000000; /* 0 .. 0.15 % */
    apex_dec buys = 0, sells = 0;
    for (int step = 0; step < 2000; step++) {
      s = s * 6364136223846793005ULL + 1442695040888963407ULL;
      /* random walk of the price, +-2 %, never below 1e-4 */
      double r = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 0.04;
      apex_dec np;
      cr_assert_eq(apex_dec_from_double(apex_dec_to_double(price) * (1 + r), &np), APEX_OK);
      price = np < 10000 ? 10000 : np;
      snap before = take(l);
      apex_dec qty, comm, notional;
      apex_side side;
      if ((s >> 7) % 2) {
        side = APEX_SIDE_BUY;
        apex_dec cap;
        cr_assert_eq(apex_ledger_max_buy_qty(apex_ledger_cash(l), price, pct, &cap), APEX_OK);
        /* mostly within the cap, sometimes beyond it to exercise the refusal */
        qty = (apex_dec)((s >> 20) % (uint64_t)(cap + cap / 10 + 2));
      } else {
        side = APEX_SIDE_SELL;
        apex_dec pos = apex_ledger_position(l);
        qty = (apex_dec)((s >> 20) % (uint64_t)(pos + pos / 10 + 2));
        if ((s >> 5) % 4 == 0)
          qty = pos; /* close completely now and then */
      }
      if (qty == 0)
        continue;
      cr_assert_eq(apex_fill_commission(qty, price, pct, &comm), APEX_OK);
      cr_assert_eq(apex_dec_mul(qty, price, &notional), APEX_OK);
      apex_err rc = apex_ledger_apply(l, &(apex_fill){.side = side, .qty = qty, .price = price, .commission = comm});
      if (rc == APEX_OK) {
        if (side == APEX_SIDE_BUY)
          buys += notional;
        else
          sells += notional;
      } else {
        cr_assert(rc == APEX_ENOFUNDS || rc == APEX_EINVAL, "unexpected rc %d", rc);
        if (side == APEX_SIDE_BUY)
          cr_assert_eq(rc, APEX_ENOFUNDS);
        else
          cr_assert(rc == APEX_EINVAL && qty > before.pos);
        expect_unchanged(l, before, "refused fill");
      }
      apex_dec cash = apex_ledger_cash(l), pos = apex_ledger_position(l), eq;
      cr_assert(cash >= 0, "cash negative at run %d step %d", run, step);
      cr_assert(pos >= 0, "short position without shorts enabled");
      cr_assert_eq(apex_ledger_equity(l, price, &eq), APEX_OK);
      cr_assert_eq(eq, ref_equity(cash, pos, price), "equity != cash + qty x price");
      cr_assert_eq(cash, start + apex_ledger_realized_net(l) - apex_ledger_cost_basis(l),
                   "cash != start + realized net - basis at run %d step %d", run, step);
      cr_assert_eq(cash, start - buys + sells - apex_ledger_commission(l), "cash != start - buys + sells - fees");
      if (pos == 0)
        cr_assert_eq(apex_ledger_cost_basis(l), 0);
    }
    /* Close out: the books reduce to notionals and fees. */
    apex_dec pos = apex_ledger_position(l), notional;
    if (pos > 0) {
      cr_assert_eq(apex_ledger_apply(l, &(apex_fill){.side = APEX_SIDE_SELL, .qty = pos, .price = price}), APEX_OK);
      cr_assert_eq(apex_dec_mul(pos, price, &notional), APEX_OK);
      sells += notional;
    }
    cr_expect_eq(apex_ledger_realized_gross(l), sells - buys, "run %d: realized != sells - buys", run);
    cr_expect_eq(apex_ledger_cash(l), start + sells - buys - apex_ledger_commission(l));
    apex_ledger_free(l);
  }
}
