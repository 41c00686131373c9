/* eval.c - one rule at one candle: walk the leaf program, each leaf a comparison of slot values,
 * jumping on its answer. No recursion, no allocation; nothing after candle t is read. */
#include <math.h>

#include "core/rule/rule_int.h"

/* Every comparison is written so that NaN makes it false (IEEE comparisons with NaN are false). */
static inline bool leaf_holds(const rule_leaf *l, const double *const *s, size_t t)
{
  const double *a = s[l->a_slot] + (t - l->a_off);
  switch ((enum rule_code)l->code) {
  case RC_LT_K: return a[0] < l->k;
  case RC_GT_K: return a[0] > l->k;
  case RC_LE_K: return a[0] <= l->k;
  case RC_GE_K: return a[0] >= l->k;
  case RC_EQ_K: return fabs(a[0] - l->k) <= l->k2;
  case RC_BETWEEN: return a[0] >= l->k && a[0] <= l->k2;
  case RC_XABOVE_K: return a[-1] <= l->k && a[0] > l->k;
  case RC_XBELOW_K: return a[-1] >= l->k && a[0] < l->k;
  default: break;
  }
  const double *b = s[l->b_slot] + (t - l->b_off);
  switch ((enum rule_code)l->code) {
  case RC_LT_S: return a[0] < b[0];
  case RC_GT_S: return a[0] > b[0];
  case RC_LE_S: return a[0] <= b[0];
  case RC_GE_S: return a[0] >= b[0];
  case RC_EQ_S: return fabs(a[0] - b[0]) <= l->k2;
  case RC_XABOVE_S: return a[-1] <= b[-1] && a[0] > b[0];
  case RC_XBELOW_S: return a[-1] >= b[-1] && a[0] < b[0];
  default: return false;
  }
}

bool apex_ruleset_eval(const apex_ruleset *rs, size_t r, const double *const *slots, size_t t)
{
  return apex_ruleset_eval_at(rs, r, slots, t, t);
}

bool apex_ruleset_eval_at(const apex_ruleset *rs, size_t r, const double *const *slots, size_t t, size_t bar)
{
  if (r >= rs->nrules)
    return false;
  const rule_entry *e = &rs->rule[r];
  /* Past the warm-up every read (offset, and one more for crosses) lands at or after candle 0;
   * before it, NOT of a warming-up comparison would be true, so the rule is false outright. */
  if (bar < e->warmup)
    return false;
  const rule_leaf *code = rs->code + e->start;
  int32_t pc = 0;
  for (;;) {
    const rule_leaf *l = &code[pc];
    pc = leaf_holds(l, slots, t) ? l->on_true : l->on_false;
    if (pc < 0)
      return pc == RULE_END_TRUE;
  }
}
