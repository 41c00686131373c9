/* Rule engine: every operator on hand-made slot data with hand-computed answers, groups, offsets,
 * NaN and warm-up, dependency dedupe, and validation reporting every problem with its pointer. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/rule/rule.h"

#define MAXT 16

/* Adds one rule given as JSON text; returns its index or -1, problems in *pr. */
static int add(apex_ruleset *rs, const char *text, const char *where, apex_problems *pr)
{
  apex_json *doc = NULL;
  apex_error err = {0};
  cr_assert_eq(apex_json_parse_strict(text, strlen(text), 1 << 20, &doc, &err), APEX_OK, "bad test JSON: %s\n%s",
               err.msg, text);
  memset(pr, 0, sizeof *pr);
  int r = apex_ruleset_add(rs, doc, where, pr);
  apex_json_free(doc);
  return r;
}

static void dump(const apex_problems *pr)
{
  for (size_t i = 0; i < pr->n; i++) {
    char buf[512];
    apex_problems_format(pr, i, buf, sizeof buf);
    cr_log_info("  %s", buf);
  }
}

/* Slot of output 0 of the dependency named name (first one if several), or -1. */
static int slot_named(const apex_ruleset *rs, const char *name)
{
  for (size_t k = 0; k < apex_ruleset_ndeps(rs); k++)
    if (!strcmp(apex_ruleset_dep(rs, k)->ind->name, name))
      return (int)apex_ruleset_dep(rs, k)->first_slot;
  return -1;
}

/* Price series by name for a test; slots are filled from them after compiling. */
typedef struct series_in {
  const char *name;
  double v[MAXT];
} series_in;

typedef struct slots {
  double *col[32];
  const double *ro[32];
} slots;

static void fill_slots(const apex_ruleset *rs, const series_in *in, size_t nin, slots *s)
{
  size_t n = apex_ruleset_nslots(rs);
  cr_assert_leq(n, 32);
  for (size_t k = 0; k < n; k++) {
    s->col[k] = calloc(MAXT, sizeof(double));
    for (size_t i = 0; i < MAXT; i++)
      s->col[k][i] = NAN;
    s->ro[k] = s->col[k];
  }
  for (size_t j = 0; j < nin; j++) {
    int sl = slot_named(rs, in[j].name);
    if (sl >= 0)
      memcpy(s->col[sl], in[j].v, sizeof in[j].v);
  }
}

static void free_slots(const apex_ruleset *rs, slots *s)
{
  for (size_t k = 0; k < apex_ruleset_nslots(rs); k++)
    free(s->col[k]);
}

/* Compiles text alone and checks its truth at candles 0..n-1 against want ("TF..."). */
static void expect_truth(const char *what, const char *text, const series_in *in, size_t nin, const char *want)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  int r = add(rs, text, "", &pr);
  if (r < 0)
    dump(&pr);
  cr_assert_eq(r, 0, "%s: rule rejected (%zu problems): %s", what, pr.total, pr.n ? pr.item[0].message : "");
  slots s;
  fill_slots(rs, in, nin, &s);
  for (size_t t = 0; want[t]; t++) {
    bool got = apex_ruleset_eval(rs, 0, s.ro, t);
    cr_expect_eq(got, want[t] == 'T', "%s: at t=%zu got %s, want %c", what, t, got ? "true" : "false", want[t]);
  }
  free_slots(rs, &s);
  apex_ruleset_free(rs);
}

#define RULE1(cond) "{\"signal\": \"BUY\", \"conditions\": [" cond "]}"

Test(rule, comparisons_with_a_number)
{
  const series_in close[] = {{"close", {1, 2, 3, NAN, 5}}};
  static const struct { const char *cond, *want; } C[] = {
      {"{\"price\": \"close\", \"operator\": \"less_than\", \"value\": 2.5}", "TTFFF"},
      {"{\"price\": \"close\", \"operator\": \"greater_than\", \"value\": 2}", "FFTFT"},
      {"{\"price\": \"close\", \"operator\": \"less_equal\", \"value\": 2}", "TTFFF"},
      {"{\"price\": \"close\", \"operator\": \"greater_equal\", \"value\": 2}", "FTTFT"},
      {"{\"price\": \"close\", \"operator\": \"equals\", \"value\": 2}", "FTFFF"},
      {"{\"price\": \"close\", \"operator\": \"equals\", \"value\": 2, \"tolerance\": 1}", "TTTFF"},
      {"{\"price\": \"close\", \"operator\": \"equals\", \"value\": 2.0000000001}", "FTFFF"}, /* default 1e-9 */
      {"{\"price\": \"close\", \"operator\": \"equals\", \"value\": 2.00001}", "FFFFF"},
      {"{\"price\": \"close\", \"operator\": \"equals\", \"value\": 2, \"tolerance\": 0}", "FTFFF"},
      {"{\"price\": \"close\", \"operator\": \"between\", \"value\": [2, 3]}", "FTTFF"}, /* inclusive */
      {"{\"price\": \"close\", \"operator\": \"between\", \"value\": [5, 5]}", "FFFFT"},
      {"{\"indicator\": \"CLOSE\", \"operator\": \"less_than\", \"value\": 2.5}", "TTFFF"},
      {"{\"indicator\": \"close\", \"output\": \"close\", \"operator\": \"GREATER_THAN\", \"value\": 2}", "FFTFT"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(C); i++) {
    char text[512];
    snprintf(text, sizeof text, "{\"signal\": \"BUY\", \"conditions\": [%s]}", C[i].cond);
    expect_truth(C[i].cond, text, close, 1, C[i].want);
  }
}

Test(rule, comparisons_between_operands)
{
  const series_in in[] = {{"close", {1, 2, 3, 4, NAN}}, {"open", {2, 2, 2, NAN, 2}}};
  static const struct { const char *op, *want; } C[] = {
      {"less_than", "TFFFF"}, {"greater_than", "FFTFF"}, {"less_equal", "TTFFF"},
      {"greater_equal", "FTTFF"}, {"equals", "FTFFF"},
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(C); i++) {
    char text[512];
    snprintf(text, sizeof text,
             RULE1("{\"price\": \"close\", \"operator\": \"%s\", \"value\": {\"price\": \"open\"}}"), C[i].op);
    expect_truth(C[i].op, text, in, 2, C[i].want);
  }
  expect_truth("equals with tolerance between operands",
               RULE1("{\"price\": \"close\", \"operator\": \"equals\", \"tolerance\": 1, \"value\": {\"price\": \"open\"}}"),
               in, 2, "TTTFF");
}

Test(rule, crosses_with_a_number)
{
  /* t:       0  1  2  3  4  5 */
  const series_in in[] = {{"close", {1, 3, 2, 2, 3, 1}}};
  /* above 2: a[t-1] <= 2 && a[t] > 2: t1 (1 -> 3), t4 (2 -> 3); t0 is warm-up (no previous). */
  expect_truth("crosses_above 2", RULE1("{\"price\": \"close\", \"operator\": \"crosses_above\", \"value\": 2}"), in, 1,
               "FTFFTF");
  /* below 2: a[t-1] >= 2 && a[t] < 2: only t5 (3 -> 1); 3 -> 2 stays at 2, not below. */
  expect_truth("crosses_below 2", RULE1("{\"price\": \"close\", \"operator\": \"crosses_below\", \"value\": 2}"), in, 1,
               "FFFFFT");
  const series_in gap[] = {{"close", {1, NAN, 3, 1}}};
  expect_truth("NaN before the cross", RULE1("{\"price\": \"close\", \"operator\": \"crosses_above\", \"value\": 2}"),
               gap, 1, "FFFF");
}

Test(rule, crosses_between_operands)
{
  const series_in in[] = {{"close", {1, 2, 3, 2, 1, 3}}, {"open", {2, 2, 2, 2, 2, 2}}};
  /* above: close[t-1] <= open[t-1] && close[t] > open[t]: t2 (2 <= 2, 3 > 2), t5 (1 <= 2, 3 > 2). */
  expect_truth("crosses_above open",
               RULE1("{\"price\": \"close\", \"operator\": \"crosses_above\", \"value\": {\"price\": \"open\"}}"), in,
               2, "FFTFFT");
  /* below: close[t-1] >= open[t-1] && close[t] < open[t]: t4 (2 >= 2, 1 < 2). */
  expect_truth("crosses_below open",
               RULE1("{\"price\": \"close\", \"operator\": \"crosses_below\", \"value\": {\"price\": \"open\"}}"), in,
               2, "FFFFTF");
}

Test(rule, offsets_read_back_and_never_before_candle_0)
{
  const series_in in[] = {{"close", {1, 3, 2, 4, 1}}};
  /* close[t] > close[t-1]; t0 has no previous candle */
  expect_truth("rising",
               RULE1("{\"price\": \"close\", \"operator\": \"greater_than\", \"value\": {\"price\": \"close\", \"offset\": 1}}"),
               in, 1, "FTFTF");
  /* close[t-2] < 2.5: t0, t1 read before candle 0; t2 reads 1, t3 reads 3, t4 reads 2 */
  expect_truth("left offset", RULE1("{\"price\": \"close\", \"offset\": 2, \"operator\": \"less_than\", \"value\": 2.5}"),
               in, 1, "FFTFT");
  /* close[t-1] crosses above 2: warm-up is offset + 1 = 2; t2: c0=1 <= 2, c1=3 > 2; t4: c2=2 <= 2, c3=4 > 2 */
  expect_truth("crosses with offset",
               RULE1("{\"price\": \"close\", \"offset\": 1, \"operator\": \"crosses_above\", \"value\": 2}"), in, 1,
               "FFTFT");
}

/* A = close > 0, B = open > 0, C = high > 0; at t, A is bit 0 of t, B bit 1, C bit 2. */
static const series_in ABC[] = {
    {"close", {-1, 1, -1, 1, -1, 1, -1, 1}},
    {"open", {-1, -1, 1, 1, -1, -1, 1, 1}},
    {"high", {-1, -1, -1, -1, 1, 1, 1, 1}},
};
#define A "{\"price\": \"close\", \"operator\": \"greater_than\", \"value\": 0}"
#define B "{\"price\": \"open\", \"operator\": \"greater_than\", \"value\": 0}"
#define C "{\"price\": \"high\", \"operator\": \"greater_than\", \"value\": 0}"

Test(rule, groups_and_or_not_nested)
{
  /* t:        0 1 2 3 4 5 6 7 (ABC) */
  expect_truth("AND", "{\"signal\": \"BUY\", \"logic\": \"AND\", \"conditions\": [" A ", " B "]}", ABC, 3, "FFFTFFFT");
  expect_truth("default is AND", "{\"signal\": \"BUY\", \"conditions\": [" A ", " B "]}", ABC, 3, "FFFTFFFT");
  expect_truth("OR", "{\"signal\": \"BUY\", \"logic\": \"OR\", \"conditions\": [" A ", " B "]}", ABC, 3, "FTTTFTTT");
  expect_truth("NOT: none holds", "{\"signal\": \"SELL\", \"logic\": \"NOT\", \"conditions\": [" A ", " B "]}", ABC, 3,
               "TFFFTFFF");
  expect_truth("NOT of one", "{\"signal\": \"SELL\", \"logic\": \"not\", \"conditions\": [" C "]}", ABC, 3, "TTTTFFFF");
  expect_truth("AND[A, OR[B, C]]",
               "{\"signal\": \"BUY\", \"conditions\": [" A ", {\"logic\": \"OR\", \"conditions\": [" B ", " C "]}]}",
               ABC, 3, "FFFTFTFT");
  expect_truth("OR[NOT[A], AND[B, NOT[C]]]",
               "{\"signal\": \"BUY\", \"logic\": \"OR\", \"conditions\": [{\"logic\": \"NOT\", \"conditions\": [" A
               "]}, {\"conditions\": [" B ", {\"logic\": \"NOT\", \"conditions\": [" C "]}]}]}",
               ABC, 3, "TFTTTFTF");
  expect_truth("NOT[OR[A, B], C] = !(A||B) && !C",
               "{\"signal\": \"BUY\", \"logic\": \"NOT\", \"conditions\": [{\"logic\": \"OR\", \"conditions\": [" A
               ", " B "]}, " C "]}",
               ABC, 3, "TFFFFFFF");
}

Test(rule, nan_makes_a_comparison_false_and_warmup_makes_a_rule_false)
{
  const series_in in[] = {{"close", {1, NAN, 1, NAN}}};
  expect_truth("NaN comparison", RULE1("{\"price\": \"close\", \"operator\": \"greater_than\", \"value\": 0}"), in, 1,
               "TFTF");
  expect_truth("NaN between", RULE1("{\"price\": \"close\", \"operator\": \"between\", \"value\": [0, 2]}"), in, 1,
               "TFTF");
  /* NOT of a false comparison is true, also when the comparison is false because of NaN */
  expect_truth("NOT NaN",
               "{\"signal\": \"BUY\", \"logic\": \"NOT\", \"conditions\": [{\"price\": \"close\", \"operator\": "
               "\"greater_than\", \"value\": 0}]}",
               in, 1, "FTFT");
  /* ...but never during warm-up: NOT[close[t-2] > 0] is false at t0 and t1 */
  const series_in ones[] = {{"close", {-1, -1, -1, 1, 1}}};
  expect_truth("NOT during warm-up",
               "{\"signal\": \"BUY\", \"logic\": \"NOT\", \"conditions\": [{\"price\": \"close\", \"offset\": 2, "
               "\"operator\": \"greater_than\", \"value\": 0}]}",
               ones, 1, "FFTTT");
}

Test(rule, warmup_is_lookback_plus_offset_plus_one_for_crosses)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  /* sma(3): lookback 2 */
  cr_assert_eq(add(rs, RULE1("{\"indicator\": \"sma\", \"params\": {\"period\": 3}, \"operator\": \"less_than\", \"value\": 1}"), "", &pr), 0);
  cr_expect_eq(apex_ruleset_rule_warmup(rs, 0), 2);
  cr_assert_eq(add(rs, RULE1("{\"price\": \"close\", \"operator\": \"crosses_above\", \"value\": {\"indicator\": \"sma\", "
                             "\"params\": {\"period\": 3}, \"offset\": 2}}"), "", &pr), 1);
  cr_expect_eq(apex_ruleset_rule_warmup(rs, 1), 2 + 2 + 1);
  cr_assert_eq(add(rs, RULE1("{\"price\": \"close\", \"offset\": 3, \"operator\": \"less_than\", \"value\": 1}"), "", &pr), 2);
  cr_expect_eq(apex_ruleset_rule_warmup(rs, 2), 3);
  cr_expect_eq(apex_ruleset_warmup(rs), 5);
  cr_expect_eq(apex_ruleset_ndeps(rs), 2, "sma(3) is shared");
  apex_ruleset_free(rs);
}

Test(rule, dependencies_are_deduplicated_and_slots_consecutive)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  int r = add(rs,
              "{\"id\": \"a\", \"signal\": \"BUY\", \"logic\": \"OR\", \"conditions\": ["
              "{\"indicator\": \"RSI\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 30},"
              "{\"indicator\": \"rsi\", \"params\": {\"period\": 14.0}, \"operator\": \"crosses_above\", \"value\": 30},"
              "{\"indicator\": \"Rsi\", \"params\": {\"PERIOD\": 14}, \"operator\": \"greater_than\", \"value\": {\"indicator\": \"rsi\"}},"
              "{\"indicator\": \"rsi\", \"params\": {\"period\": 7}, \"operator\": \"greater_than\", \"value\": 70}]}",
              "", &pr);
  dump(&pr);
  cr_assert_eq(r, 0);
  cr_assert_eq(apex_ruleset_ndeps(rs), 2, "RSI(14) four ways is one dependency, RSI(7) another");
  const apex_rule_dep *d0 = apex_ruleset_dep(rs, 0), *d1 = apex_ruleset_dep(rs, 1);
  cr_expect_str_eq(d0->ind->name, "rsi");
  cr_expect_eq(d0->params[0], 14);
  cr_expect_eq(d0->first_slot, 0);
  cr_expect_eq(d1->params[0], 7);
  cr_expect_eq(d1->first_slot, 1);
  /* A second rule reuses RSI(14); MACD signal and hist share one instance with three slots. */
  r = add(rs,
          "{\"id\": \"b\", \"signal\": \"SELL\", \"conditions\": ["
          "{\"indicator\": \"rsi\", \"operator\": \"greater_than\", \"value\": 70},"
          "{\"indicator\": \"macd\", \"output\": \"hist\", \"operator\": \"crosses_below\", \"value\": {\"indicator\": \"macd\", "
          "\"output\": \"signal\", \"params\": {\"fast\": 12}}}]}",
          "", &pr);
  dump(&pr);
  cr_assert_eq(r, 1);
  cr_assert_eq(apex_ruleset_ndeps(rs), 3);
  const apex_rule_dep *d2 = apex_ruleset_dep(rs, 2);
  cr_expect_str_eq(d2->ind->name, "macd");
  cr_expect_eq(d2->params[0], 12);
  cr_expect_eq(d2->params[1], 26, "defaults are filled in");
  cr_expect_eq(d2->params[2], 9);
  cr_expect_eq(d2->first_slot, 2);
  cr_expect_eq(apex_ruleset_nslots(rs), 5);
  cr_expect_null(apex_ruleset_dep(rs, 3));
  /* accessors */
  cr_expect_eq(apex_ruleset_count(rs), 2);
  cr_expect_eq(apex_ruleset_find(rs, "b"), 1);
  cr_expect_eq(apex_ruleset_find(rs, "zz"), -1);
  cr_expect_eq(apex_ruleset_signal(rs, 1), APEX_SIGNAL_SELL);
  cr_expect_str_eq(apex_ruleset_name(rs, 0), "");
  apex_ruleset_free(rs);
}

Test(rule, ids_names_and_signals)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  cr_assert_eq(add(rs, "{\"id\": \"x\", \"name\": \"RSI oversold\", \"signal\": \"hold\", \"conditions\": [" A "]}", "", &pr), 0);
  cr_expect_str_eq(apex_ruleset_id(rs, 0), "x");
  cr_expect_str_eq(apex_ruleset_name(rs, 0), "RSI oversold");
  cr_expect_eq(apex_ruleset_signal(rs, 0), APEX_SIGNAL_HOLD);
  cr_assert_eq(add(rs, "{\"signal\": \"buy\", \"conditions\": [" A "]}", "", &pr), 1);
  cr_expect_str_eq(apex_ruleset_id(rs, 1), "");
  cr_expect_eq(apex_ruleset_signal(rs, 1), APEX_SIGNAL_BUY);
  /* same id again: rejected, the set unchanged */
  cr_expect_eq(add(rs, "{\"id\": \"x\", \"signal\": \"BUY\", \"conditions\": [" B "]}", "/rules/2", &pr), -1);
  cr_assert_eq(pr.n, 1);
  cr_expect_str_eq(pr.item[0].pointer, "/rules/2/id");
  cr_expect_str_eq(pr.item[0].message, "duplicate rule id 'x'");
  cr_expect_eq(apex_ruleset_count(rs), 2);
  cr_expect_eq(apex_ruleset_ndeps(rs), 1, "the rejected rule's open price was not added");
  cr_expect_eq(apex_ruleset_nslots(rs), 1);
  cr_expect_eq(apex_ruleset_eval(rs, 7, NULL, 0), false, "unknown rule index");
  apex_ruleset_free(rs);
  apex_ruleset_free(NULL);
}

/* --- validation --- */

typedef struct want_problem {
  const char *pointer, *message;
} want_problem;

static void expect_problems(const char *text, const char *where, const want_problem *w, size_t n)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  cr_expect_eq(add(rs, text, where, &pr), -1, "rule accepted: %s", text);
  cr_expect_eq(apex_ruleset_count(rs), 0);
  cr_expect_eq(apex_ruleset_ndeps(rs), 0);
  if (pr.total != n)
    dump(&pr);
  cr_expect_eq(pr.total, n, "%zu problems, want %zu, in %s", pr.total, n, text);
  for (size_t i = 0; i < n && i < pr.n; i++) {
    cr_expect_str_eq(pr.item[i].pointer, w[i].pointer, "problem %zu", i);
    cr_expect_str_eq(pr.item[i].message, w[i].message, "problem %zu at %s", i, w[i].pointer);
  }
  apex_ruleset_free(rs);
}

Test(rule_validation, every_problem_at_once_with_pointer_and_message)
{
  const char *text =
      "{\"id\": \"r1\", \"signal\": \"BUY\", \"foo\": 1, \"conditions\": ["
      "{\"indicator\": \"RSI\", \"params\": {\"period\": 0}, \"operator\": \"less_than\", \"value\": 30},"
      "{\"indicator\": \"NOPE\", \"operator\": \"less_than\", \"value\": 1},"
      "{\"indicator\": \"macd\", \"output\": \"histo\", \"operator\": \"greater_than\", \"value\": 0},"
      "{\"indicator\": \"sma\", \"operator\": \"approx\", \"value\": 1},"
      "{\"price\": \"close\", \"offset\": -1, \"operator\": \"less_than\", \"value\": 1},"
      "{\"price\": \"close\", \"operator\": \"between\", \"value\": [5, 3]},"
      "{\"price\": \"close\", \"operator\": \"less_than\", \"value\": \"1\"},"
      "{\"indicator\": \"rsi\", \"params\": {\"length\": 3}, \"operator\": \"less_than\", \"value\": 1, \"bar\": 2}"
      "]}";
  static const want_problem W[] = {
      {"/foo", "unknown field 'foo' (allowed: id, name, signal, logic, conditions)"},
      {"/conditions/0/params/period", "must be an integer from 2 to 100000, got 0"},
      {"/conditions/1/indicator", "unknown indicator 'NOPE'"},
      {"/conditions/2/output", "unknown output 'histo' for macd (valid: macd, signal, hist)"},
      {"/conditions/3/operator", "unknown operator 'approx' (valid: less_than, greater_than, less_equal, "
                                 "greater_equal, equals, between, crosses_above, crosses_below)"},
      {"/conditions/4/offset", "must be an integer from 0 to 10000, got -1"},
      {"/conditions/5/value", "low must not exceed high, got [5, 3]"},
      {"/conditions/6/value",
       "must be a number or an operand object ({\"indicator\": ...} or {\"price\": ...}), got string"},
      {"/conditions/7/bar", "unknown field 'bar' (allowed: indicator, price, params, output, offset, operator, "
                            "value, tolerance)"},
      {"/conditions/7/params/length", "unknown parameter 'length' for rsi (known: period)"},
  };
  expect_problems(text, "", W, APEX_ARRAY_LEN(W));
}

Test(rule_validation, pointers_are_prefixed_by_where)
{
  static const want_problem W[] = {{"/rules/2/conditions/0/params/period", "must be an integer from 2 to 100000, got 1.5"}};
  expect_problems(RULE1("{\"indicator\": \"sma\", \"params\": {\"period\": 1.5}, \"operator\": \"less_than\", \"value\": 1}"),
                  "/rules/2", W, 1);
}

Test(rule_validation, missing_and_wrongly_typed_fields)
{
  static const want_problem W1[] = {
      {"/signal", "missing; must be BUY, SELL or HOLD"},
      {"/conditions", "missing; a group needs a non-empty array of conditions"},
  };
  expect_problems("{}", "", W1, 2);
  static const want_problem W2[] = {
      {"/id", "must be a string, got integer"},
      {"/name", "must be a string, got array"},
      {"/signal", "must be a string (BUY, SELL or HOLD), got integer"},
      {"/logic", "must be a string (AND, OR or NOT), got true"},
      {"/conditions", "must be an array of conditions, got object"},
  };
  expect_problems("{\"id\": 7, \"name\": [], \"signal\": 1, \"logic\": true, \"conditions\": {}}", "", W2, 5);
  static const want_problem W3[] = {
      {"/signal", "must be BUY, SELL or HOLD, got 'STRONG_BUY'"},
      {"/logic", "must be AND, OR or NOT, got 'XOR'"},
      {"/conditions", "must not be empty"},
  };
  expect_problems("{\"signal\": \"STRONG_BUY\", \"logic\": \"XOR\", \"conditions\": []}", "", W3, 3);
  static const want_problem W4[] = {{"", "a rule must be an object, got array"}};
  expect_problems("[1]", "", W4, 1);
  static const want_problem W5[] = {
      {"/conditions/0", "must be an object (a condition or a group), got integer"},
      {"/conditions/1/indicator", "must be a string naming an indicator, got integer"},
      {"/conditions/1/operator", "missing; must be one of less_than, greater_than, less_equal, greater_equal, "
                                 "equals, between, crosses_above, crosses_below"},
      {"/conditions/1/value", "missing; must be a number or an operand object"},
      {"/conditions/2/indicator", "missing; name an indicator (\"indicator\": \"RSI\") or a price (\"price\": \"close\")"},
      {"/conditions/2/operator", "must be a string (one of less_than, greater_than, less_equal, greater_equal, "
                                 "equals, between, crosses_above, crosses_below), got integer"},
  };
  expect_problems(RULE1("3, {\"indicator\": 5}, {\"operator\": 1, \"value\": 2}"), "", W5, 6);
  static const want_problem W6[] = {
      {"/id", "must be 1 to 64 characters long, got 65"},
  };
  expect_problems("{\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"signal\": \"BUY\", "
                  "\"conditions\": [" A "]}",
                  "", W6, 1);
}

Test(rule_validation, params)
{
  static const want_problem W[] = {
      {"/conditions/0/params", "must be an object of parameter values, got array"},
      {"/conditions/1/params/period", "must be a number, got string"},
      {"/conditions/2/params/PERIOD", "duplicate of parameter 'period'"},
      {"/conditions/3/params/period", "unknown parameter 'period': close takes none"},
      {"/conditions/4/params", "not allowed with 'price' (a price field takes no parameters)"},
      {"/conditions/5/params/period", "must be an integer from 2 to 100000, got 100001"},
      {"/conditions/5/value/params/period", "must be an integer from 2 to 100000, got 1"},
  };
  expect_problems(RULE1("{\"indicator\": \"rsi\", \"params\": [14], \"operator\": \"less_than\", \"value\": 1},"
                        "{\"indicator\": \"rsi\", \"params\": {\"period\": \"14\"}, \"operator\": \"less_than\", \"value\": 1},"
                        "{\"indicator\": \"rsi\", \"params\": {\"period\": 14, \"PERIOD\": 7}, \"operator\": \"less_than\", \"value\": 1},"
                        "{\"indicator\": \"close\", \"params\": {\"period\": 14}, \"operator\": \"less_than\", \"value\": 1},"
                        "{\"price\": \"close\", \"params\": {}, \"operator\": \"less_than\", \"value\": 1},"
                        "{\"indicator\": \"sma\", \"params\": {\"period\": 100001}, \"operator\": \"less_than\", "
                        "\"value\": {\"indicator\": \"sma\", \"params\": {\"period\": 1}}}"),
                  "", W, APEX_ARRAY_LEN(W));
}

Test(rule_validation, cross_parameter_check_is_reported_at_params)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  cr_expect_eq(add(rs, RULE1("{\"indicator\": \"macd\", \"params\": {\"fast\": 30, \"slow\": 26}, \"operator\": "
                             "\"less_than\", \"value\": 1}"),
                   "", &pr),
               -1);
  cr_assert_eq(pr.total, 1);
  cr_expect_str_eq(pr.item[0].pointer, "/conditions/0/params");
  cr_expect(strstr(pr.item[0].message, "fast") != NULL, "%s", pr.item[0].message);
  apex_ruleset_free(rs);
}

Test(rule_validation, operators_values_and_tolerance)
{
  static const want_problem W[] = {
      {"/conditions/0/value", "between needs [low, high], two numbers; got integer"},
      {"/conditions/1/value", "between needs [low, high], two numbers; got an array of another length"},
      {"/conditions/2/value/1", "must be a number, got string"},
      {"/conditions/3/value", "[low, high] goes only with the between operator; use a number or an operand object"},
      {"/conditions/4/tolerance", "only applies to the equals operator"},
      {"/conditions/5/tolerance", "must be a number >= 0, got -1"},
      {"/conditions/6/price", "unknown price field 'last' (valid: open, high, low, close, volume, hl2, hlc3, ohlc4)"},
      {"/conditions/7/price", "give either 'indicator' or 'price', not both"},
      {"/conditions/8/value/foo", "unknown field 'foo' (allowed: indicator, price, params, output, offset)"},
      {"/conditions/9/value/offset", "must be an integer from 0 to 10000, got 10001"},
      {"/conditions/10/value/output", "must be a string naming an output, got integer"},
      {"/conditions/11/offset", "must be an integer from 0 to 10000, got string"},
      {"/conditions/12/value", "between needs [low, high], two numbers; got object"},
  };
  expect_problems(RULE1("{\"price\": \"close\", \"operator\": \"between\", \"value\": 3},"
                        "{\"price\": \"close\", \"operator\": \"between\", \"value\": [1, 2, 3]},"
                        "{\"price\": \"close\", \"operator\": \"between\", \"value\": [1, \"2\"]},"
                        "{\"price\": \"close\", \"operator\": \"crosses_above\", \"value\": [1, 2]},"
                        "{\"price\": \"close\", \"operator\": \"less_than\", \"value\": 1, \"tolerance\": 0.1},"
                        "{\"price\": \"close\", \"operator\": \"equals\", \"value\": 1, \"tolerance\": -1},"
                        "{\"price\": \"last\", \"operator\": \"less_than\", \"value\": 1},"
                        "{\"price\": \"close\", \"indicator\": \"sma\", \"operator\": \"less_than\", \"value\": 1},"
                        "{\"price\": \"close\", \"operator\": \"less_than\", \"value\": {\"price\": \"open\", \"foo\": 1}},"
                        "{\"price\": \"close\", \"operator\": \"less_than\", \"value\": {\"price\": \"open\", \"offset\": 10001}},"
                        "{\"price\": \"close\", \"operator\": \"less_than\", \"value\": {\"indicator\": \"sma\", \"output\": 0}},"
                        "{\"price\": \"close\", \"offset\": \"1\", \"operator\": \"less_than\", \"value\": 1},"
                        "{\"price\": \"close\", \"operator\": \"between\", \"value\": {\"price\": \"open\"}}"),
                  "", W, APEX_ARRAY_LEN(W));
}

Test(rule_validation, nested_groups_and_depth_limit)
{
  static const want_problem W[] = {
      {"/conditions/0/signal", "unknown field 'signal' (allowed: logic, conditions)"},
      {"/conditions/0/logic", "must be AND, OR or NOT, got 'XOR'"},
      {"/conditions/0/conditions/0/operator", "unknown operator 'gt' (valid: less_than, greater_than, less_equal, "
                                              "greater_equal, equals, between, crosses_above, crosses_below)"},
      {"/conditions/1/conditions", "must not be empty"},
  };
  expect_problems("{\"signal\": \"BUY\", \"conditions\": [{\"logic\": \"XOR\", \"signal\": \"BUY\", \"conditions\": "
                  "[{\"price\": \"close\", \"operator\": \"gt\", \"value\": 1}]}, {\"logic\": \"OR\", \"conditions\": []}]}",
                  "", W, APEX_ARRAY_LEN(W));

  /* 16 levels of groups (the rule is the first) are fine; 17 are not. */
  for (int levels = 16; levels <= 17; levels++) {
    char text[4096] = "{\"signal\": \"BUY\", \"conditions\": [";
    for (int i = 1; i < levels; i++)
      strcat(text, "{\"logic\": \"NOT\", \"conditions\": [");
    strcat(text, A);
    for (int i = 1; i < levels; i++)
      strcat(text, "]}");
    strcat(text, "]}");
    apex_ruleset *rs = apex_ruleset_new();
    apex_problems pr;
    int r = add(rs, text, "", &pr);
    if (levels == 16) {
      cr_expect_eq(r, 0, "16 levels rejected");
      /* 15 NOTs around A: A at odd t is true, so the rule is true at even t */
      slots s;
      fill_slots(rs, ABC, 3, &s);
      cr_expect_eq(apex_ruleset_eval(rs, 0, s.ro, 0), true);
      cr_expect_eq(apex_ruleset_eval(rs, 0, s.ro, 1), false);
      free_slots(rs, &s);
    } else {
      cr_expect_eq(r, -1);
      cr_assert_eq(pr.total, 1);
      cr_expect_str_eq(pr.item[0].message, "too deeply nested (groups go at most 16 levels deep)");
      cr_expect(strncmp(pr.item[0].pointer, "/conditions/0/conditions/0/", 27) == 0, "%s", pr.item[0].pointer);
    }
    apex_ruleset_free(rs);
  }
}

Test(rule_validation, pointer_escapes_and_problem_cap)
{
  static const want_problem W[] = {{"/a~1b~0c", "unknown field 'a/b~c' (allowed: id, name, signal, logic, conditions)"}};
  expect_problems("{\"a/b~c\": 1, \"signal\": \"BUY\", \"conditions\": [" A "]}", "", W, 1);

  char text[8192] = "{\"signal\": \"BUY\", \"conditions\": [";
  for (int i = 0; i < 40; i++)
    strcat(text, i ? ", {\"price\": \"nope\", \"operator\": \"less_than\", \"value\": 1}"
                   : "{\"price\": \"nope\", \"operator\": \"less_than\", \"value\": 1}");
  strcat(text, "]}");
  apex_ruleset *rs = apex_ruleset_new();
  apex_problems pr;
  cr_expect_eq(add(rs, text, "", &pr), -1);
  cr_expect_eq(pr.total, 40);
  cr_expect_eq(pr.n, APEX_PROBLEMS_MAX);
  apex_ruleset_free(rs);
}

Test(rule_validation, null_problems_is_allowed)
{
  apex_ruleset *rs = apex_ruleset_new();
  apex_json *doc = NULL;
  const char *bad = "{\"signal\": \"BUY\"}";
  cr_assert_eq(apex_json_parse_strict(bad, strlen(bad), 1024, &doc, NULL), APEX_OK);
  cr_expect_eq(apex_ruleset_add(rs, doc, "", NULL), -1);
  apex_json_free(doc);
  apex_ruleset_free(rs);
}
