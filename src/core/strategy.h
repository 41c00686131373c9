/* strategy.h - a strategy (spec 3.2.2) and a backtest configuration (spec 3.2.3), read from the JSON
 * a user writes, with every problem reported at once. Pure: the caller reads the file.
 *
 * One document holds a strategy with its rules:
 *   {"id": "...", "name": "RSI mean reversion", "description": "...", "asset": "BTC/USDT", "timeframe": "1h",
 *    "rules": [RULE, ...],                          (rules referred to by id; see core/rule/rule.h)
 *    "entry_rules": ["rsi_buy" | RULE, ...],       (ids of rules above, or inline rule objects)
 *    "exit_rules":  ["rsi_sell" | RULE, ...],
 *    "risk_management": {"stop_loss_pct": 2, "take_profit_pct": 5, "max_position_size": 0.1,
 *                        "max_drawdown_pct": 20, "max_trades_per_day": 5, "max_open_positions": 3},
 *    "backtest": {"initial_capital": 10000, "commission_pct": 0.1, "slippage_pct": 0.05,
 *                 "start_date": "2024-01-01", "end_date": "2025-01-01"}}     (optional defaults)
 * Long-only for now: entry rules must signal BUY and exit rules SELL. Any entry rule opens a position
 * when flat; any exit rule closes it. Percentages are percent (0.1 means 0.1 %). */
#ifndef APEX_CORE_STRATEGY_H
#define APEX_CORE_STRATEGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/json.h"
#include "core/problems.h"
#include "core/rule/rule.h"
#include "core/timeframe.h"

#define APEX_STRATEGY_MAX_RULES 32
#define APEX_STRATEGY_MAX_COLUMNS 256 /* distinct indicator outputs over all rules */

typedef struct apex_risk {
  double stop_loss_pct;     /* 0: none; else 0 < x < 100, below the entry price */
  double take_profit_pct;   /* 0: none; else > 0, above the entry price */
  double max_position_size; /* fraction of equity per entry, 0 < x <= 1 (default 0.1) */
  double max_drawdown_pct;  /* 0: none; else 0 < x <= 100: halt entries and close when exceeded */
  uint32_t max_trades_per_day; /* 0: none; else entries per UTC day, 1..1000 (the order-rate check) */
  uint32_t max_open_positions; /* 0: none; else positions open at once in the portfolio the strategy
                                * trades, 1..1000 (a runner's check: one strategy holds at most one) */
} apex_risk;

typedef struct apex_backtest_config {
  int64_t start_ms, end_ms; /* candles with start_ms <= time < end_ms; INT64_MIN / INT64_MAX when open */
  double initial_capital;   /* > 0, default 10000 */
  double commission_pct;    /* of each fill's notional, default 0.1, at most APEX_COST_PCT_MAX */
  double slippage_pct;      /* market and stop fills move against the trader, default 0.05, at most APEX_COST_PCT_MAX */
} apex_backtest_config;

#define APEX_COST_PCT_MAX 10.0 /* commission_pct and slippage_pct, in percent */

typedef struct apex_strategy {
  char id[65], name[129], asset[33];
  char timeframe_text[8];
  apex_timeframe timeframe; /* unit NONE when the document gave none */
  apex_ruleset *rules;      /* owned */
  size_t n_entry, n_exit;
  int entry[APEX_STRATEGY_MAX_RULES], exit[APEX_STRATEGY_MAX_RULES]; /* rule indices in rules */
  apex_risk risk;
  apex_backtest_config backtest; /* the document's "backtest" block over the defaults */
} apex_strategy;

/* Defaults (spec 5): open dates, capital 10000, commission 0.1 %, slippage 0.05 %. */
void apex_backtest_config_defaults(apex_backtest_config *c);

/* Reads a strategy document. On success *out is a new strategy (free with apex_strategy_free).
 * On problems returns APEX_EINVAL with every problem in probs (*out NULL); APEX_EPARSE when the text
 * is not JSON (one problem says where); APEX_ENOMEM. */
apex_err apex_strategy_parse(const char *text, size_t len, apex_strategy **out, apex_problems *probs);
/* The same from an already parsed document (the API will pass its request body). */
apex_err apex_strategy_from_json(const apex_json *doc, apex_strategy **out, apex_problems *probs);
void apex_strategy_free(apex_strategy *s); /* NULL is a no-op */

/* Reads a "backtest" object over the values already in c; problems under `where`. */
void apex_backtest_config_read(const apex_json *obj, const char *where, apex_backtest_config *c,
                               apex_problems *probs);
/* "2024-01-01", "2024-01-01T09:30:00Z", "2024-01-01 09:30" (UTC) -> ms. APEX_EPARSE otherwise. */
apex_err apex_parse_date_ms(const char *s, int64_t *out);

#endif
