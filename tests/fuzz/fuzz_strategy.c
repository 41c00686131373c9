/* fuzz_strategy.c - libFuzzer target for strategy documents (rules included): parse, validate,
 * compile, and when that succeeds run the strategy over a small fixed series, so evaluation of any
 * rule a user can write is exercised too. Must never crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>

#include "core/backtest.h"
#include "core/strategy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static apex_series *fixed_series(void)
{
  static apex_series *s;
  if (!s) {
    s = apex_series_new(300);
    double p = 100;
    for (int i = 0; i < 300; i++) {
      double c = p * (1 + ((i * 7919) % 13 - 6) * 0.003);
      apex_bar b = {(int64_t)i * 3600000, p, (p > c ? p : c) * 1.002, (p < c ? p : c) * 0.998, c, 10 + i % 7};
      apex_series_append(s, &b);
      p = c;
    }
  }
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  if (apex_strategy_parse((const char *)data, size, &st, &probs) == APEX_OK) {
    apex_backtest_opts o;
    apex_backtest_result r;
    apex_error err;
    apex_backtest_opts_init(&o, st);
    o.equity_every = 7;
    if (apex_backtest_run(st, fixed_series(), &o, &r, &err) == APEX_OK)
      apex_backtest_result_clear(&r);
    apex_strategy_free(st);
  }
  return 0;
}
