/* random_strategy.h - test-only: valid strategies drawn at random (indicators with outputs and
 * offsets, comparisons, crosses, nested AND/OR/NOT, stop-loss, take-profit, drawdown halts, costs)
 * for the property tests, and exact equality of trades. One seeded generator per test program. */
#ifndef APEX_TEST_RANDOM_STRATEGY_H
#define APEX_TEST_RANDOM_STRATEGY_H

#include <stdbool.h>

#include "core/backtest.h"
#include "core/strategy.h"

/* A number in [0, n) from the generator. */
unsigned rs_rnd(unsigned n);
/* A 1m BTC/USDT strategy with a "backtest" block; aborts if the document is refused. Free it with
 * apex_strategy_free. */
apex_strategy *rs_random_strategy(void);
/* Every field equal, to the last 1e-8. */
bool rs_trade_eq(const apex_bt_trade *x, const apex_bt_trade *y);

#endif
