/* strategy.c - reading strategy documents and backtest configurations (see strategy.h). */
#include "core/strategy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/parse.h"

#define MAX_DOC_BYTES (4u << 20)

void apex_backtest_config_defaults(apex_backtest_config *c)
{
  c->start_ms = INT64_MIN;
  c->end_ms = INT64_MAX;
  c->initial_capital = 10000;
  c->commission_pct = 0.1; /* spec 5: 0.1 % commission, 0.05 % slippage when a strategy omits them */
  c->slippage_pct = 0.05;
}

apex_err apex_parse_date_ms(const char *s, int64_t *out)
{
  const char *p = s, *end = s + strlen(s);
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (apex_parse_digits(&p, end, 4, &y) || apex_parse_char(&p, end, '-') || apex_parse_digits(&p, end, 2, &mo) ||
      apex_parse_char(&p, end, '-') || apex_parse_digits(&p, end, 2, &d))
    return APEX_EPARSE;
  if (p < end && (*p == 'T' || *p == ' ')) {
    p++;
    if (apex_parse_digits(&p, end, 2, &h) || apex_parse_char(&p, end, ':') || apex_parse_digits(&p, end, 2, &mi))
      return APEX_EPARSE;
    if (p < end && *p == ':' && (p++, apex_parse_digits(&p, end, 2, &sec)))
      return APEX_EPARSE;
    if (p < end && *p == 'Z')
      p++;
  }
  if (p != end || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return APEX_EPARSE;
  int64_t days = apex_days_from_civil(y, mo, d);
  int yy;
  int64_t y64;
  int m2, d2;
  apex_civil_from_days(days, &y64, &m2, &d2);
  yy = (int)y64;
  if (yy != y || m2 != mo || d2 != d) /* 2023-02-30 */
    return APEX_EPARSE;
  *out = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)sec * 1000;
  return APEX_OK;
}

/* Checks that obj has only the keys in `known` (NULL-terminated). */
static void unknown_keys(const apex_json *obj, const char *where, const char *const *known, apex_problems *probs)
{
  apex_json_iter it = apex_json_object_iter(obj);
  const char *k;
  const apex_json *v;
  while (apex_json_object_next(&it, &k, &v)) {
    size_t i = 0;
    while (known[i] && strcmp(known[i], k))
      i++;
    if (!known[i])
      apex_problems_add(probs, where, "unknown field '%s'", k);
  }
}

/* A number field within [lo, hi]; absent leaves *out unchanged. */
static void read_number(const apex_json *obj, const char *key, const char *where, double lo, double hi,
                        bool lo_open, double *out, apex_problems *probs)
{
  const apex_json *v = apex_json_object_get(obj, key);
  char ptr[200];
  if (!v)
    return;
  snprintf(ptr, sizeof ptr, "%s/%s", where, key);
  double x = apex_json_number_value(v);
  if (!apex_json_is_number(v)) {
    apex_problems_add(probs, ptr, "must be a number, got %s", apex_json_type_name(v));
    return;
  }
  if (!(lo_open ? x > lo : x >= lo) || x > hi) {
    apex_problems_add(probs, ptr, "must be %s %g and at most %g, got %.17g", lo_open ? "greater than" : "at least",
                      lo, hi, x);
    return;
  }
  *out = x;
}

/* A whole count in [1, hi]; absent or 0 leaves *out (0: no limit). */
static void read_count(const apex_json *obj, const char *key, const char *where, double hi, uint32_t *out,
                       apex_problems *probs)
{
  double x = -1;
  char ptr[200];
  read_number(obj, key, where, 0, hi, false, &x, probs);
  if (x < 0)
    return;
  if (x != (double)(uint32_t)x) {
    snprintf(ptr, sizeof ptr, "%s/%s", where, key);
    apex_problems_add(probs, ptr, "must be a whole number, got %.17g", x);
    return;
  }
  *out = (uint32_t)x;
}

static void read_date(const apex_json *obj, const char *key, const char *where, int64_t *out, apex_problems *probs)
{
  const apex_json *v = apex_json_object_get(obj, key);
  char ptr[200];
  if (!v || apex_json_is_null(v))
    return;
  snprintf(ptr, sizeof ptr, "%s/%s", where, key);
  const char *s = apex_json_string_value(v);
  if (!s || apex_parse_date_ms(s, out))
    apex_problems_add(probs, ptr, "must be a date like \"2024-01-31\" or \"2024-01-31T09:30:00Z\"");
}

void apex_backtest_config_read(const apex_json *obj, const char *where, apex_backtest_config *c, apex_problems *probs)
{
  static const char *const KNOWN[] = {"strategy_id", "start_date", "end_date", "initial_capital",
                                      "commission_pct", "slippage_pct", NULL};
  if (!apex_json_is_object(obj)) {
    apex_problems_add(probs, where, "must be an object, got %s", apex_json_type_name(obj));
    return;
  }
  unknown_keys(obj, where, KNOWN, probs);
  read_number(obj, "initial_capital", where, 0, 1e10, true, &c->initial_capital, probs);
  /* 10 % is above any venue's fee or a sane slippage; beyond it a typo (100 for 1.00) would only
   * fail later, in the job. */
  read_number(obj, "commission_pct", where, 0, APEX_COST_PCT_MAX, false, &c->commission_pct, probs);
  read_number(obj, "slippage_pct", where, 0, APEX_COST_PCT_MAX, false, &c->slippage_pct, probs);
  read_date(obj, "start_date", where, &c->start_ms, probs);
  read_date(obj, "end_date", where, &c->end_ms, probs);
  if (c->start_ms != INT64_MIN && c->end_ms != INT64_MAX && c->end_ms <= c->start_ms)
    apex_problems_add(probs, where, "end_date must be after start_date");
}

static void read_string(const apex_json *obj, const char *key, bool required, char *out, size_t cap,
                        apex_problems *probs)
{
  const apex_json *v = apex_json_object_get(obj, key);
  char ptr[80];
  snprintf(ptr, sizeof ptr, "/%s", key);
  if (!v) {
    if (required)
      apex_problems_add(probs, ptr, "is required");
    return;
  }
  const char *s = apex_json_string_value(v);
  if (!s)
    apex_problems_add(probs, ptr, "must be a string, got %s", apex_json_type_name(v));
  else if (strlen(s) >= cap)
    apex_problems_add(probs, ptr, "must be at most %zu characters", cap - 1);
  else if (required && !*s)
    apex_problems_add(probs, ptr, "must not be empty");
  else
    snprintf(out, cap, "%s", s);
}

static void read_risk(const apex_json *obj, apex_risk *r, apex_problems *probs)
{
  static const char *const KNOWN[] = {"stop_loss_pct",    "take_profit_pct",    "max_position_size",
                                      "max_drawdown_pct", "max_trades_per_day", "max_open_positions", NULL};
  const char *where = "/risk_management";
  if (!apex_json_is_object(obj)) {
    apex_problems_add(probs, where, "must be an object, got %s", apex_json_type_name(obj));
    return;
  }
  unknown_keys(obj, where, KNOWN, probs);
  read_number(obj, "stop_loss_pct", where, 0, 100, true, &r->stop_loss_pct, probs);
  if (r->stop_loss_pct >= 100) {
    apex_problems_add(probs, "/risk_management/stop_loss_pct", "must be below 100");
    r->stop_loss_pct = 0;
  }
  read_number(obj, "take_profit_pct", where, 0, 1e6, true, &r->take_profit_pct, probs);
  read_number(obj, "max_position_size", where, 0, 1, true, &r->max_position_size, probs);
  read_number(obj, "max_drawdown_pct", where, 0, 100, true, &r->max_drawdown_pct, probs);
  read_count(obj, "max_trades_per_day", where, 1000, &r->max_trades_per_day, probs);
  read_count(obj, "max_open_positions", where, 1000, &r->max_open_positions, probs);
}

/* Resolves one list of rule references ("entry_rules"/"exit_rules") into rule indices. */
static void read_rule_list(apex_strategy *st, const apex_json *doc, const char *key, apex_signal want,
                           int *idx, size_t *n, apex_problems *probs)
{
  const apex_json *list = apex_json_object_get(doc, key);
  char ptr[96];
  snprintf(ptr, sizeof ptr, "/%s", key);
  if (!list) {
    if (want == APEX_SIGNAL_BUY)
      apex_problems_add(probs, ptr, "is required: the rules that open a position");
    return;
  }
  if (!apex_json_is_array(list)) {
    apex_problems_add(probs, ptr, "must be an array of rule ids or rule objects, got %s", apex_json_type_name(list));
    return;
  }
  size_t len = apex_json_array_size(list);
  if (len == 0 && want == APEX_SIGNAL_BUY)
    apex_problems_add(probs, ptr, "must name at least one rule");
  if (len > APEX_STRATEGY_MAX_RULES) {
    apex_problems_add(probs, ptr, "at most %d rules", APEX_STRATEGY_MAX_RULES);
    return;
  }
  for (size_t i = 0; i < len; i++) {
    const apex_json *item = apex_json_array_get(list, i);
    char ip[112];
    int r = -1;
    snprintf(ip, sizeof ip, "%s/%zu", ptr, i);
    if (apex_json_is_string(item)) {
      r = apex_ruleset_find(st->rules, apex_json_string_value(item));
      if (r < 0) {
        apex_problems_add(probs, ip, "no rule with id '%s' in /rules", apex_json_string_value(item));
        continue;
      }
    } else if (apex_json_is_object(item)) {
      r = apex_ruleset_add(st->rules, item, ip, probs);
      if (r < 0)
        continue;
    } else {
      apex_problems_add(probs, ip, "must be a rule id or a rule object, got %s", apex_json_type_name(item));
      continue;
    }
    apex_signal sig = apex_ruleset_signal(st->rules, (size_t)r);
    if (sig != want) {
      apex_problems_add(probs, ip, "%s rules must have \"signal\": \"%s\" (long-only strategies), rule '%s' has %s",
                        want == APEX_SIGNAL_BUY ? "entry" : "exit", want == APEX_SIGNAL_BUY ? "BUY" : "SELL",
                        apex_ruleset_id(st->rules, (size_t)r),
                        sig == APEX_SIGNAL_BUY ? "BUY" : sig == APEX_SIGNAL_SELL ? "SELL" : "HOLD");
      continue;
    }
    idx[(*n)++] = r;
  }
}

apex_err apex_strategy_from_json(const apex_json *doc, apex_strategy **out, apex_problems *probs)
{
  static const char *const KNOWN[] = {"id", "name", "description", "asset", "timeframe", "rules", "entry_rules",
                                      "exit_rules", "risk_management", "backtest", "version", NULL};
  size_t before = probs->total;
  apex_strategy *st = calloc(1, sizeof *st);

  *out = NULL;
  if (!st || !(st->rules = apex_ruleset_new())) {
    free(st);
    return APEX_ENOMEM;
  }
  st->risk.max_position_size = 0.1; /* spec 5: 10 % of equity per entry */
  apex_backtest_config_defaults(&st->backtest);
  if (!apex_json_is_object(doc)) {
    apex_problems_add(probs, "", "a strategy must be a JSON object, got %s", apex_json_type_name(doc));
    goto fail;
  }
  unknown_keys(doc, "", KNOWN, probs);
  read_string(doc, "id", false, st->id, sizeof st->id, probs);
  read_string(doc, "name", true, st->name, sizeof st->name, probs);
  read_string(doc, "asset", true, st->asset, sizeof st->asset, probs);
  const apex_json *desc = apex_json_object_get(doc, "description");
  if (desc && !apex_json_is_string(desc))
    apex_problems_add(probs, "/description", "must be a string, got %s", apex_json_type_name(desc));
  read_string(doc, "timeframe", true, st->timeframe_text, sizeof st->timeframe_text, probs);
  if (st->timeframe_text[0]) {
    apex_error e;
    if (apex_timeframe_parse(st->timeframe_text, &st->timeframe, &e))
      apex_problems_add(probs, "/timeframe", "%s", e.msg);
  }

  const apex_json *rules = apex_json_object_get(doc, "rules");
  if (rules && !apex_json_is_array(rules))
    apex_problems_add(probs, "/rules", "must be an array of rule objects, got %s", apex_json_type_name(rules));
  for (size_t i = 0; rules && i < apex_json_array_size(rules); i++) {
    const apex_json *r = apex_json_array_get(rules, i);
    char ptr[48];
    snprintf(ptr, sizeof ptr, "/rules/%zu", i);
    if (!apex_json_is_object(r)) {
      apex_problems_add(probs, ptr, "must be a rule object, got %s", apex_json_type_name(r));
      continue;
    }
    const char *id = apex_json_string_value(apex_json_object_get(r, "id"));
    if (!id || !*id) {
      apex_problems_add(probs, ptr, "rules listed in /rules need an \"id\" to be referred to");
      continue;
    }
    if (apex_ruleset_find(st->rules, id) >= 0) {
      apex_problems_add(probs, ptr, "duplicate rule id '%s'", id);
      continue;
    }
    (void)apex_ruleset_add(st->rules, r, ptr, probs);
  }
  read_rule_list(st, doc, "entry_rules", APEX_SIGNAL_BUY, st->entry, &st->n_entry, probs);
  read_rule_list(st, doc, "exit_rules", APEX_SIGNAL_SELL, st->exit, &st->n_exit, probs);
  /* Each indicator output is a column as long as the history (a backtest's memory): 300 of them
   * on 2 M candles took 4.95 GB. */
  if (apex_ruleset_nslots(st->rules) > APEX_STRATEGY_MAX_COLUMNS)
    apex_problems_add(probs, "/rules", "the rules use %zu indicator outputs; at most %d",
                      apex_ruleset_nslots(st->rules), APEX_STRATEGY_MAX_COLUMNS);

  const apex_json *risk = apex_json_object_get(doc, "risk_management");
  if (risk)
    read_risk(risk, &st->risk, probs);
  const apex_json *bt = apex_json_object_get(doc, "backtest");
  if (bt)
    apex_backtest_config_read(bt, "/backtest", &st->backtest, probs);

  if (probs->total != before)
    goto fail;
  *out = st;
  return APEX_OK;
fail:
  apex_strategy_free(st);
  return APEX_EINVAL;
}

apex_err apex_strategy_parse(const char *text, size_t len, apex_strategy **out, apex_problems *probs)
{
  apex_json *doc = NULL;
  apex_error e;
  *out = NULL;
  apex_err rc = apex_json_parse_strict(text, len, MAX_DOC_BYTES, &doc, &e);
  if (rc) {
    apex_problems_add(probs, "", "%s", e.msg);
    return rc == APEX_EPARSE ? APEX_EPARSE : APEX_EINVAL;
  }
  rc = apex_strategy_from_json(doc, out, probs);
  apex_json_free(doc);
  return rc;
}

void apex_strategy_free(apex_strategy *s)
{
  if (!s)
    return;
  apex_ruleset_free(s->rules);
  free(s);
}
