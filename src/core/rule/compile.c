/* compile.c - a checked rule tree to a flat leaf program with short-circuit jumps, over indicator
 * slots shared by every rule of the set (one dependency per distinct indicator instance). */
#include <stdlib.h>
#include <string.h>

#include "core/rule/rule_int.h"

static bool reserve(void **p, size_t *cap, size_t need, size_t size)
{
  if (need <= *cap)
    return true;
  size_t c = *cap ? *cap : 8;
  while (c < need)
    c *= 2;
  void *q = realloc(*p, c * size);
  if (!q)
    return false;
  *p = q;
  *cap = c;
  return true;
}

static bool same_instance(const apex_rule_dep *d, const rule_operand *o)
{
  if (d->ind != o->ind)
    return false;
  for (int i = 0; i < o->ind->n_params; i++)
    if (d->params[i] != o->params[i])
      return false;
  return true;
}

/* Slot of operand o, adding its dependency if new (room was reserved). */
static uint32_t slot_of(apex_ruleset *rs, const rule_operand *o)
{
  size_t k = 0;
  while (k < rs->ndeps && !same_instance(&rs->dep[k], o))
    k++;
  if (k == rs->ndeps) {
    apex_rule_dep *d = &rs->dep[rs->ndeps++];
    memset(d, 0, sizeof *d);
    d->ind = o->ind;
    memcpy(d->params, o->params, sizeof d->params);
    d->first_slot = rs->nslots;
    rs->nslots += (size_t)o->ind->n_outputs;
  }
  return (uint32_t)(rs->dep[k].first_slot + (size_t)o->output);
}

/* Candles before o has a value, plus one when the previous candle is needed too. */
static size_t operand_warmup(const rule_operand *o, bool cross)
{
  int lb = o->ind->lookback(o->params);
  return (lb > 0 ? (size_t)lb : 0) + o->offset + (cross ? 1 : 0);
}

/* Sets the jumps of the leaves under node i, whose first leaf is `first`: where to go when the
 * subtree turns out true or false. Depth is bounded by RULE_MAX_DEPTH. */
static void wire(const rule_pnode *nd, size_t i, int32_t first, int32_t on_true, int32_t on_false, rule_leaf *code)
{
  const rule_pnode *g = &nd[i];
  if (g->kind == RULE_COND) {
    code[first].on_true = on_true;
    code[first].on_false = on_false;
    return;
  }
  size_t child = i + 1;
  int32_t pos = first;
  for (size_t k = 0; k < g->nchild; k++) {
    int32_t next = pos + (int32_t)nd[child].leaves;
    bool last = k + 1 == g->nchild;
    int32_t t, f;
    switch (g->kind) {
    case RULE_AND: /* all hold: a false child ends it */
      t = last ? on_true : next;
      f = on_false;
      break;
    case RULE_OR: /* one holds: a true child ends it */
      t = on_true;
      f = last ? on_false : next;
      break;
    default: /* NOT: none holds */
      t = on_false;
      f = last ? on_true : next;
      break;
    }
    wire(nd, child, pos, t, f, code);
    pos = next;
    child += nd[child].size;
  }
}

apex_err apex_rule_compile(apex_ruleset *rs, rule_tree *t)
{
  size_t leaves = t->n ? t->node[0].leaves : 0;
  if (leaves == 0 || leaves > INT32_MAX / 2)
    return APEX_EINVAL;
  /* Everything that can fail happens first, so a failure leaves rs untouched. */
  if (!reserve((void **)&rs->dep, &rs->capdeps, rs->ndeps + 2 * leaves, sizeof *rs->dep) ||
      !reserve((void **)&rs->code, &rs->capcode, rs->ncode + leaves, sizeof *rs->code) ||
      !reserve((void **)&rs->rule, &rs->caprules, rs->nrules + 1, sizeof *rs->rule))
    return APEX_ENOMEM;

  rule_leaf *code = rs->code + rs->ncode;
  size_t warmup = 0, n = 0;
  for (size_t i = 0; i < t->n; i++) {
    const rule_pnode *p = &t->node[i];
    if (p->kind != RULE_COND)
      continue;
    rule_leaf *l = &code[n++];
    bool cross = p->op == RULE_XABOVE || p->op == RULE_XBELOW;
    memset(l, 0, sizeof *l);
    l->a_slot = slot_of(rs, &p->a);
    l->a_off = (uint32_t)p->a.offset;
    size_t w = operand_warmup(&p->a, cross);
    if (w > warmup)
      warmup = w;
    l->k = p->k1;
    l->k2 = p->k2;
    if (!p->b_const) {
      l->b_slot = slot_of(rs, &p->b);
      l->b_off = (uint32_t)p->b.offset;
      w = operand_warmup(&p->b, cross);
      if (w > warmup)
        warmup = w;
    }
    static const enum rule_code K[RULE_NOPS] = {RC_LT_K, RC_GT_K, RC_LE_K,    RC_GE_K,
                                                RC_EQ_K, RC_BETWEEN, RC_XABOVE_K, RC_XBELOW_K};
    static const enum rule_code S[RULE_NOPS] = {RC_LT_S, RC_GT_S, RC_LE_S,    RC_GE_S,
                                                RC_EQ_S, RC_BETWEEN, RC_XABOVE_S, RC_XBELOW_S};
    l->code = (uint32_t)(p->b_const ? K[p->op] : S[p->op]);
  }
  wire(t->node, 0, 0, RULE_END_TRUE, RULE_END_FALSE, code);

  rule_entry *e = &rs->rule[rs->nrules++];
  e->id = t->id;
  e->name = t->name;
  t->id = t->name = NULL;
  e->signal = t->signal;
  e->start = rs->ncode;
  e->n = n;
  e->warmup = warmup;
  rs->ncode += n;
  if (warmup > rs->warmup)
    rs->warmup = warmup;
  return APEX_OK;
}
