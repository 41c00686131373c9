/* rule_int.h - what the rule engine's files share and nobody else sees: the checked tree the parser
 * builds, the compiled leaf program, and the ruleset's layout. Not installed, not for other modules. */
#ifndef APEX_CORE_RULE_INT_H
#define APEX_CORE_RULE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/rule/rule.h"

#define RULE_MAX_DEPTH 16       /* groups nested deeper are rejected */
#define RULE_MAX_OFFSET 10000   /* "offset" upper bound */
#define RULE_ID_MAX 64          /* characters in "id" */
#define RULE_NAME_MAX 256       /* characters in "name" */
#define RULE_DEFAULT_TOLERANCE 1e-9

enum rule_op {
  RULE_LT, RULE_GT, RULE_LE, RULE_GE, RULE_EQ, RULE_BETWEEN, RULE_XABOVE, RULE_XBELOW, RULE_NOPS
};
extern const char *const apex_rule_op_names[RULE_NOPS];

enum rule_kind { RULE_AND, RULE_OR, RULE_NOT, RULE_COND };

/* One side of a comparison: an indicator instance's output, read `offset` candles back. */
typedef struct rule_operand {
  const apex_ind_info *ind;
  double params[APEX_IND_MAX_PARAMS]; /* defaults filled in; unused entries 0 */
  int output;
  size_t offset;
} rule_operand;

/* A node of the checked tree, stored in preorder: a group's children follow it. */
typedef struct rule_pnode {
  enum rule_kind kind;
  size_t size;     /* nodes in this subtree, itself included */
  size_t nchild;   /* groups: direct children */
  size_t leaves;   /* conditions in this subtree */
  /* conditions only */
  enum rule_op op;
  rule_operand a, b;
  bool b_const;    /* b is the number k1 */
  double k1, k2;   /* constant b, or between's low/high (k1/k2), or equals' tolerance (k2) */
} rule_pnode;

/* A rule as the parser leaves it; valid for compiling only when the parser found no problem. */
typedef struct rule_tree {
  rule_pnode *node;
  size_t n, cap;
  char *id, *name; /* malloc'd, NULL when absent */
  apex_signal signal;
  bool oom;
} rule_tree;

/* One compiled condition. Leaves run in order from 0; after each, the next leaf is on_true or
 * on_false, and a negative target ends the rule with that answer. */
#define RULE_END_TRUE (-1)
#define RULE_END_FALSE (-2)
enum rule_code {
  RC_LT_K, RC_GT_K, RC_LE_K, RC_GE_K, RC_EQ_K, RC_BETWEEN, RC_XABOVE_K, RC_XBELOW_K,
  RC_LT_S, RC_GT_S, RC_LE_S, RC_GE_S, RC_EQ_S, RC_XABOVE_S, RC_XBELOW_S,
};
typedef struct rule_leaf {
  uint32_t code;          /* enum rule_code: _K compares with the constant k, _S with slot b */
  uint32_t a_slot, b_slot;
  uint32_t a_off, b_off;
  int32_t on_true, on_false;
  double k, k2;           /* constant (or low), and tolerance (or high) */
} rule_leaf;

typedef struct rule_entry {
  char *id, *name;
  apex_signal signal;
  size_t start, n;        /* leaves rs->code[start .. start + n) */
  size_t warmup;
} rule_entry;

struct apex_ruleset {
  rule_entry *rule;
  size_t nrules, caprules;
  rule_leaf *code;
  size_t ncode, capcode;
  apex_rule_dep *dep;
  size_t ndeps, capdeps;
  size_t nslots;
  size_t warmup;
};

/* parse.c: checks one rule object, adding every problem (pointers prefixed by where). Returns true
 * when there was none; *t is filled either way and released with apex_rule_tree_free. */
bool apex_rule_parse(const apex_json *rule, const char *where, apex_problems *probs, rule_tree *t);
void apex_rule_tree_free(rule_tree *t);

/* compile.c: appends a checked tree to rs as a new rule, sharing dependencies; takes t's id and
 * name. APEX_ENOMEM leaves rs as it was. */
apex_err apex_rule_compile(apex_ruleset *rs, rule_tree *t);

#endif
