/* random_strategy.c - valid strategies drawn at random (support/random_strategy.h). */
#include "support/random_strategy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static unsigned long long rng = 12345;

unsigned rs_rnd(unsigned n)
{
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)(rng >> 33) % n;
}

/* One random operand: an indicator (with an output and maybe an offset) or a price. */
static int operand(char *b, size_t cap, double *lo, double *hi)
{
  static const struct { const char *ind, *params, *out; double lo, hi; } OPS[] = {
      {"RSI", "{\"period\": 14}", NULL, 20, 80},          {"RSI", "{\"period\": 7}", NULL, 20, 80},
      {"CCI", "{}", NULL, -150, 150},                     {"WILLR", "{}", NULL, -90, -10},
      {"STOCH", "{}", "slowk", 10, 90},                   {"MFI", "{}", NULL, 20, 80},
      {"ADX", "{}", NULL, 10, 40},                        {"MACD", "{}", "hist", -0.5, 0.5},
      {"SMA", "{\"period\": 20}", NULL, 90, 110},         {"EMA", "{\"period\": 50}", NULL, 90, 110},
      {"BBANDS", "{}", "upper", 90, 110},                 {"close", "{}", NULL, 90, 110},
      {"ROC", "{}", NULL, -2, 2},                          {"STOCHRSI", "{}", "fastk", 10, 90},
  };
  unsigned k = rs_rnd(APEX_ARRAY_LEN(OPS));
  char out[48] = "", off[24] = "";
  if (OPS[k].out)
    snprintf(out, sizeof out, ", \"output\": \"%s\"", OPS[k].out);
  if (rs_rnd(4) == 0)
    snprintf(off, sizeof off, ", \"offset\": %u", rs_rnd(3));
  *lo = OPS[k].lo;
  *hi = OPS[k].hi;
  return snprintf(b, cap, "\"indicator\": \"%s\", \"params\": %s%s%s", OPS[k].ind, OPS[k].params, out, off);
}

static int condition(char *b, size_t cap, int depth)
{
  static const char *const CMP[] = {"less_than", "greater_than", "less_equal", "greater_equal", "crosses_above",
                                    "crosses_below", "between"};
  if (depth < 2 && rs_rnd(4) == 0) {
    static const char *const LOGIC[] = {"AND", "OR", "NOT"};
    int n = snprintf(b, cap, "{\"logic\": \"%s\", \"conditions\": [", LOGIC[rs_rnd(3)]);
    int m = 1 + (int)rs_rnd(2);
    for (int i = 0; i < m; i++) {
      n += i ? snprintf(b + n, cap - (size_t)n, ", ") : 0;
      n += condition(b + n, cap - (size_t)n, depth + 1);
    }
    return n + snprintf(b + n, cap - (size_t)n, "]}");
  }
  double lo, hi;
  int n = snprintf(b, cap, "{");
  n += operand(b + n, cap - (size_t)n, &lo, &hi);
  const char *op = CMP[rs_rnd(APEX_ARRAY_LEN(CMP))];
  double v = lo + (hi - lo) * rs_rnd(1000) / 1000.0;
  if (!strcmp(op, "between"))
    return n + snprintf(b + n, cap - (size_t)n, ", \"operator\": \"between\", \"value\": [%g, %g]}", lo, v);
  if (strstr(op, "crosses") && rs_rnd(2) == 0) { /* indicator against indicator */
    double l2, h2;
    n += snprintf(b + n, cap - (size_t)n, ", \"operator\": \"%s\", \"value\": {", op);
    n += operand(b + n, cap - (size_t)n, &l2, &h2);
    return n + snprintf(b + n, cap - (size_t)n, "}}");
  }
  return n + snprintf(b + n, cap - (size_t)n, ", \"operator\": \"%s\", \"value\": %g}", op, v);
}

apex_strategy *rs_random_strategy(void)
{
  static char doc[16384];
  char entry[6000], exit_[6000];
  int n = snprintf(entry, sizeof entry, "{\"signal\": \"BUY\", \"logic\": \"%s\", \"conditions\": [",
                   rs_rnd(2) ? "AND" : "OR");
  n += condition(entry + n, sizeof entry - (size_t)n, 0);
  snprintf(entry + n, sizeof entry - (size_t)n, "]}");
  n = snprintf(exit_, sizeof exit_, "{\"signal\": \"SELL\", \"conditions\": [");
  n += condition(exit_ + n, sizeof exit_ - (size_t)n, 0);
  snprintf(exit_ + n, sizeof exit_ - (size_t)n, "]}");
  char risk[200] = "{";
  size_t rl = 1;
  if (rs_rnd(2))
    rl += (size_t)snprintf(risk + rl, sizeof risk - rl, "\"stop_loss_pct\": %u, ", 1 + rs_rnd(5));
  if (rs_rnd(2))
    rl += (size_t)snprintf(risk + rl, sizeof risk - rl, "\"take_profit_pct\": %u, ", 1 + rs_rnd(8));
  if (rs_rnd(3) == 0)
    rl += (size_t)snprintf(risk + rl, sizeof risk - rl, "\"max_drawdown_pct\": %u, ", 5 + rs_rnd(20));
  snprintf(risk + rl, sizeof risk - rl, "\"max_position_size\": %g}", (1 + rs_rnd(10)) / 10.0);
  snprintf(doc, sizeof doc,
           "{\"name\": \"random\", \"asset\": \"BTC/USDT\", \"timeframe\": \"1m\", \"entry_rules\": [%s],"
           " \"exit_rules\": [%s], \"risk_management\": %s,"
           " \"backtest\": {\"initial_capital\": %u, \"commission_pct\": %g, \"slippage_pct\": %g}}",
           entry, exit_, risk, 1000 + rs_rnd(100000), rs_rnd(30) / 100.0, rs_rnd(10) / 100.0);
  apex_strategy *st = NULL;
  apex_problems p = {0};
  if (apex_strategy_parse(doc, strlen(doc), &st, &p)) {
    fprintf(stderr, "random strategy refused: %s: %s\n%s\n", p.item[0].pointer, p.item[0].message, doc);
    abort();
  }
  return st;
}

bool rs_trade_eq(const apex_bt_trade *x, const apex_bt_trade *y)
{
  return x->entry_bar == y->entry_bar && x->exit_bar == y->exit_bar && x->entry_time == y->entry_time &&
         x->exit_time == y->exit_time && x->qty == y->qty && x->entry_price == y->entry_price &&
         x->exit_price == y->exit_price && x->entry_commission == y->entry_commission &&
         x->exit_commission == y->exit_commission && x->gross_pnl == y->gross_pnl && x->net_pnl == y->net_pnl &&
         x->reason == y->reason;
}
