/* rule.h - trading rules: parse and validate the JSON form, compile once into a flat program over
 * indicator slots, evaluate per candle without allocating. Pure: no I/O, no clock.
 *
 * A rule (spec 3.2.1, extended):
 *   {"id": "rsi_buy", "name": "RSI oversold", "signal": "BUY"|"SELL"|"HOLD", "logic": "AND"|"OR"|"NOT",
 *    "conditions": [CONDITION | GROUP, ...]}
 *   GROUP     = {"logic": "AND"|"OR"|"NOT", "conditions": [...]}        (nestable; NOT: none holds)
 *   CONDITION = {"indicator": "RSI", "params": {"period": 14}, "output": "rsi", "offset": 0,
 *                "operator": OP, "value": NUMBER | [LOW, HIGH] | OPERAND, "tolerance": 1e-9}
 *   OPERAND   = {"indicator": ..., "params": ..., "output": ..., "offset": k} | {"price": "close", "offset": k}
 *   OP        = less_than greater_than less_equal greater_equal equals between crosses_above crosses_below
 * "offset": k >= 0 reads the value k candles back; nothing can read ahead.
 *
 * Semantics and checks (every problem is reported at once, each at its JSON Pointer):
 * - Names are case-insensitive: indicators, outputs, parameters, price fields, operators, "logic"
 *   and "signal" ("BUY", "buy"). "signal" is required; "id" (1..64 characters, unique in the set)
 *   and "name" (1..256 characters) are optional; "logic" defaults to AND; NOT holds when none of
 *   its conditions does; "conditions" must be a non-empty array; groups nest at most 16 levels
 *   deep, the rule itself being the first. Unknown fields anywhere are errors.
 * - An operand names an indicator (or a price field: {"price": "close"} is {"indicator": "close"}),
 *   on the left side or in "value". "output" defaults to the indicator's first output; "params" is
 *   an object of numbers, each checked against the registry's range (problem at .../params/NAME),
 *   then the indicator's cross-parameter check (problem at .../params). "offset" is an integer
 *   0..10000.
 * - less_than greater_than less_equal greater_equal compare with a number or an operand; equals
 *   holds when |a - b| <= "tolerance" (a number >= 0, only with equals, default 1e-9); between
 *   takes [LOW, HIGH] numbers, LOW <= HIGH, inclusive; crosses_above(a, b) at t is
 *   a[t-1] <= b[t-1] && a[t] > b[t], crosses_below mirrored, b a number or an operand.
 * - A comparison involving NaN is false. A rule is false at every candle before its warm-up
 *   (max over its operands of lookback + offset, plus 1 for operands of crosses), so NOT cannot
 *   turn a warming-up comparison into a signal, and no read falls before candle 0.
 * - Evaluation runs the rule's conditions as a flat program of leaves in document order, each
 *   jumping to the next leaf or ending the rule (short-circuit AND/OR/NOT). */
#ifndef APEX_CORE_RULE_H
#define APEX_CORE_RULE_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "base/json.h"
#include "core/ind/ind.h"
#include "core/problems.h"

typedef enum { APEX_SIGNAL_HOLD = 0, APEX_SIGNAL_BUY = 1, APEX_SIGNAL_SELL = 2 } apex_signal;

/* One indicator instance the rules need; RSI(14) used three times is one dependency. */
typedef struct apex_rule_dep {
  const apex_ind_info *ind;
  double params[APEX_IND_MAX_PARAMS]; /* every parameter, defaults filled in */
  size_t first_slot;                  /* slot of output 0; output k is first_slot + k */
} apex_rule_dep;

typedef struct apex_ruleset apex_ruleset; /* opaque: rules compiled over shared dependencies */

/* NULL on OOM. */
apex_ruleset *apex_ruleset_new(void);
/* NULL is a no-op. */
void apex_ruleset_free(apex_ruleset *rs);

/* Validates and compiles one rule object. Every problem found is added to probs with its JSON
 * Pointer prefixed by `where` ("" or e.g. "/rules/2"). Returns the new rule's index, or -1 when
 * the rule had problems (rs keeps its earlier rules) or on OOM (a problem says so). probs may be
 * NULL when only the verdict matters. A rule whose id is already in rs is a problem at where/id. */
int apex_ruleset_add(apex_ruleset *rs, const apex_json *rule, const char *where, apex_problems *probs);

size_t apex_ruleset_count(const apex_ruleset *rs);
const char *apex_ruleset_id(const apex_ruleset *rs, size_t r);   /* "" if the rule had none */
const char *apex_ruleset_name(const apex_ruleset *rs, size_t r); /* "" if none */
apex_signal apex_ruleset_signal(const apex_ruleset *rs, size_t r);
/* Index of the rule with this id, -1 if none. */
int apex_ruleset_find(const apex_ruleset *rs, const char *id);

/* Deduplicated dependencies over all rules, and the slots they fill (one per output). */
size_t apex_ruleset_ndeps(const apex_ruleset *rs);
const apex_rule_dep *apex_ruleset_dep(const apex_ruleset *rs, size_t k);
size_t apex_ruleset_nslots(const apex_ruleset *rs);
/* Candles before every operand of every rule can have a value (lookbacks plus offsets plus one
 * for crosses): signals before this index are always false. */
size_t apex_ruleset_warmup(const apex_ruleset *rs);
/* The same for rule r alone (0 if r is out of range). */
size_t apex_ruleset_rule_warmup(const apex_ruleset *rs, size_t r);

/* Candles any rule reads back from the current one, the current one included: max over leaves of
 * offset + 1, plus 1 for crosses. A streaming caller keeps this many values per slot. */
size_t apex_ruleset_depth(const apex_ruleset *rs);

/* True when rule r holds at candle t. slots[k][i] is slot k's value at candle i for every i <= t
 * (NaN during warm-up). A comparison involving NaN, or reading before candle 0, is false.
 * Never allocates; reads nothing after t. */
bool apex_ruleset_eval(const apex_ruleset *rs, size_t r, const double *const *slots, size_t t);
/* The same over windows instead of whole columns: slots[k][t - j] is slot k's value j candles back
 * for j < apex_ruleset_depth, and `bar` is the current candle's number in the whole history (the
 * warm-up is judged on it). The streaming engine's ring buffers use this. */
bool apex_ruleset_eval_at(const apex_ruleset *rs, size_t r, const double *const *slots, size_t t, size_t bar);

#endif
