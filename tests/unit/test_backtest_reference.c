/* The RSI(14) 30/70 strategy of examples/rsi_mean_reversion.json against backtrader's run of the
 * same strategy on ORCL 1995-2014 (../shared/reference/backtrader/orcl): every trade's dates, prices
 * and quantity and every candle's equity to 1e-6 relative; the final value, the commission paid and
 * the trade counts read from summary.json, the money to 1e-9 relative. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/backtest.h"
#include "core/strategy.h"
#include "io/load.h"
#include "support/ref.h"

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)n + 1);
  cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
  buf[n] = '\0';
  fclose(f);
  *len = (size_t)n;
  return buf;
}

static void day_of(int64_t t, char *buf, size_t cap)
{
  int64_t y;
  int m, d;
  apex_civil_from_days(t / 86400000, &y, &m, &d);
  snprintf(buf, cap, "%04lld-%02d-%02d", (long long)y, m, d);
}

static int rel_ok(double got, double want, double rel) { return ref_close_enough(got, want, rel, 1e-9); }

Test(backtest_reference, backtrader_rsi_orcl_trade_for_trade)
{
  size_t len;
  char *text = slurp(APEX_SOURCE_DIR "/examples/rsi_mean_reversion.json", &len);
  apex_strategy *st = NULL;
  apex_problems probs = {0};
  cr_assert_eq(apex_strategy_parse(text, len, &st, &probs), APEX_OK, "%s: %s", probs.item[0].pointer,
               probs.item[0].message);
  free(text);

  apex_series *s = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_load_candles(APEX_SHARED_DIR "/data/backtrader/orcl-1995-2014.txt", NULL, &s, NULL, &err), APEX_OK,
               "%s", err.msg);
  cr_assert_eq(s->n, 5036);

  apex_backtest_opts o;
  apex_backtest_opts_init(&o, st);
  o.equity_every = 1;
  cr_expect_eq(o.cfg.initial_capital, 10000);
  cr_expect_eq(o.cfg.commission_pct, 0.1);
  apex_backtest_result r;
  cr_assert_eq(apex_backtest_run(st, s, &o, &r, &err), APEX_OK, "%s", err.msg);

  ref_table *want = ref_table_load("reference/backtrader/orcl/trades.csv");
  cr_assert_eq(r.n_trades, want->n, "trades: %zu, backtrader %zu", r.n_trades, want->n);
  const double *ep = ref_table_col(want, "entry_price"), *sz = ref_table_col(want, "size"),
               *xp = ref_table_col(want, "exit_price"), *gp = ref_table_col(want, "gross_pnl"),
               *np = ref_table_col(want, "net_pnl"), *tc = ref_table_col(want, "total_comm");
  /* Dates are text: read them from the file directly. */
  size_t flen;
  char *csv = slurp(APEX_SHARED_DIR "/reference/backtrader/orcl/trades.csv", &flen), *save = NULL;
  char *line = strtok_r(csv, "\n", &save);
  for (size_t i = 0; i < want->n && i < r.n_trades; i++) {
    const apex_bt_trade *t = &r.trades[i];
    char entry[16], exit[16], wentry[16] = "", wexit[16] = "";
    line = strtok_r(NULL, "\n", &save);
    sscanf(line, "%*[^,],%15[^,],%*[^,],%*[^,],%15[^,]", wentry, wexit);
    day_of(t->entry_time, entry, sizeof entry);
    day_of(t->exit_time, exit, sizeof exit);
    cr_expect_str_eq(entry, wentry, "trade %zu entry date", i + 1);
    cr_expect_str_eq(exit, wexit, "trade %zu exit date", i + 1);
    cr_expect(rel_ok(apex_dec_to_double(t->entry_price), ep[i], 1e-6), "trade %zu entry price %.8f vs %.8f", i + 1,
              apex_dec_to_double(t->entry_price), ep[i]);
    cr_expect(rel_ok(apex_dec_to_double(t->exit_price), xp[i], 1e-6), "trade %zu exit price", i + 1);
    cr_expect(rel_ok(apex_dec_to_double(t->qty), sz[i], 1e-6), "trade %zu size %.10f vs %.10f", i + 1,
              apex_dec_to_double(t->qty), sz[i]);
    cr_expect(rel_ok(apex_dec_to_double(t->gross_pnl), gp[i], 1e-6), "trade %zu gross %.8f vs %.8f", i + 1,
              apex_dec_to_double(t->gross_pnl), gp[i]);
    cr_expect(rel_ok(apex_dec_to_double(t->net_pnl), np[i], 1e-6), "trade %zu net", i + 1);
    cr_expect(rel_ok(apex_dec_to_double(t->entry_commission + t->exit_commission), tc[i], 1e-6),
              "trade %zu commission", i + 1);
    cr_expect_eq(t->reason, APEX_EXIT_SIGNAL, "trade %zu exit reason", i + 1);
  }
  free(csv);
  ref_table_free(want);

  /* Equity after every candle, as backtrader's broker valued it. */
  ref_table *eq = ref_table_load("reference/backtrader/orcl/equity.csv");
  cr_assert_eq(eq->n, r.bars);
  const double *v = ref_table_col(eq, "value");
  for (size_t i = 0; i < eq->n; i++)
    if (!rel_ok(r.equity[i], v[i], 1e-6)) {
      cr_expect_fail("equity at candle %zu: %.10f, backtrader %.10f", i, r.equity[i], v[i]);
      break;
    }
  ref_table_free(eq);

  /* The run's totals as backtrader reported them. 1e-9 relative is 4e-5 on the final value: the
   * exact decimals round each of the 28 fills to 1e-8, backtrader's doubles do not. */
  size_t slen;
  char *sum = slurp(APEX_SHARED_DIR "/reference/backtrader/orcl/summary.json", &slen);
  apex_json *doc = NULL;
  cr_assert_eq(apex_json_parse(sum, slen, slen + 1, &doc, &err), APEX_OK, "summary.json: %s", err.msg);
  free(sum);
  double final_value, commission, closed, winners;
  cr_assert_eq(apex_json_number(apex_json_object_get(doc, "final_value"), &final_value), APEX_OK);
  cr_assert_eq(apex_json_number(apex_json_object_get(doc, "sum_commission_closed"), &commission), APEX_OK);
  cr_assert_eq(apex_json_number(apex_json_object_get(doc, "closed_trades"), &closed), APEX_OK);
  cr_assert_eq(apex_json_number(apex_json_object_get(doc, "winning_trades"), &winners), APEX_OK);
  apex_json_free(doc);
  cr_expect(rel_ok(apex_dec_to_double(r.final_cash), final_value, 1e-9), "final value %.8f, backtrader %.8f",
            apex_dec_to_double(r.final_cash), final_value);
  cr_expect(rel_ok(apex_dec_to_double(r.total_commission), commission, 1e-9), "commission %.8f, backtrader %.8f",
            apex_dec_to_double(r.total_commission), commission);
  cr_expect_eq(r.metrics.total_trades, (size_t)closed);
  cr_expect_eq(r.metrics.winning_trades, (size_t)winners);
  apex_backtest_result_clear(&r);
  apex_series_free(s);
  apex_strategy_free(st);
}
