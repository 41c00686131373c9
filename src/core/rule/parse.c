/* parse.c - one rule's JSON to a checked preorder tree, reporting every problem with its JSON
 * Pointer. Checks everything the compiler relies on, so compiling a clean tree cannot fail but
 * for memory. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "core/rule/rule_int.h"

const char *const apex_rule_op_names[RULE_NOPS] = {
    "less_than", "greater_than", "less_equal", "greater_equal",
    "equals",    "between",      "crosses_above", "crosses_below",
};

static const char *const PRICE_FIELDS[] = {"open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4"};
#define PRICE_LIST "open, high, low, close, volume, hl2, hlc3, ohlc4"
#define OP_LIST "less_than, greater_than, less_equal, greater_equal, equals, between, crosses_above, crosses_below"

static const char *const TOP_KEYS[] = {"id", "name", "signal", "logic", "conditions"};
static const char *const GROUP_KEYS[] = {"logic", "conditions"};
static const char *const COND_KEYS[] = {"indicator", "price", "params", "output", "offset",
                                        "operator", "value", "tolerance"};
static const char *const OPERAND_KEYS[] = {"indicator", "price", "params", "output", "offset"};

typedef struct ctx {
  apex_problems *probs;
  rule_tree *t;
  size_t len;
  char ptr[512]; /* the JSON Pointer of what is being checked */
} ctx;

/* --- JSON Pointer building: push returns the length to pop back to --- */

static size_t push_key(ctx *c, const char *key)
{
  size_t old = c->len;
  if (c->len + 1 < sizeof c->ptr)
    c->ptr[c->len++] = '/';
  for (const char *s = key; *s && c->len + 2 < sizeof c->ptr; s++) {
    if (*s == '~' || *s == '/') { /* RFC 6901 escapes */
      c->ptr[c->len++] = '~';
      c->ptr[c->len++] = *s == '~' ? '0' : '1';
    } else {
      c->ptr[c->len++] = *s;
    }
  }
  c->ptr[c->len] = '\0';
  return old;
}

static size_t push_index(ctx *c, size_t i)
{
  size_t old = c->len;
  int w = snprintf(c->ptr + c->len, sizeof c->ptr - c->len, "/%zu", i);
  if (w > 0)
    c->len = c->len + (size_t)w < sizeof c->ptr ? c->len + (size_t)w : sizeof c->ptr - 1;
  return old;
}

static void pop(ctx *c, size_t old)
{
  c->len = old;
  c->ptr[old] = '\0';
}

__attribute__((format(printf, 2, 3))) static void problem(ctx *c, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  apex_problems_add(c->probs, c->ptr, "%s", msg);
}

/* A problem at member `key` of the current object. */
__attribute__((format(printf, 3, 4))) static void problem_at(ctx *c, const char *key, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  size_t old = push_key(c, key);
  apex_problems_add(c->probs, c->ptr, "%s", msg);
  pop(c, old);
}

static void check_keys(ctx *c, const apex_json *obj, const char *const *allowed, size_t n)
{
  char list[160] = "";
  size_t len = 0;
  for (size_t i = 0; i < n && len < sizeof list; i++)
    len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", allowed[i]);
  apex_json_iter it = apex_json_object_iter(obj);
  const char *key;
  const apex_json *val;
  while (apex_json_object_next(&it, &key, &val)) {
    size_t i = 0;
    while (i < n && strcmp(key, allowed[i]) != 0)
      i++;
    if (i == n)
      problem_at(c, key, "unknown field '%.64s' (allowed: %s)", key, list);
  }
}

/* Index of s in names (case-insensitive), -1 if absent. */
static int lookup(const char *s, const char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(s, names[i]))
      return (int)i;
  return -1;
}

/* --- operands --- */

/* The integer offset 0..RULE_MAX_OFFSET at member "offset" of obj (0 when absent). */
static bool parse_offset(ctx *c, const apex_json *obj, size_t *out)
{
  const apex_json *v = apex_json_object_get(obj, "offset");
  *out = 0;
  if (!v)
    return true;
  if (!apex_json_is_number(v)) {
    problem_at(c, "offset", "must be an integer from 0 to %d, got %s", RULE_MAX_OFFSET, apex_json_type_name(v));
    return false;
  }
  double x = apex_json_number_value(v);
  if (!(x >= 0 && x <= RULE_MAX_OFFSET && x == floor(x))) {
    problem_at(c, "offset", "must be an integer from 0 to %d, got %.17g", RULE_MAX_OFFSET, x);
    return false;
  }
  *out = (size_t)x;
  return true;
}

/* Reads "params" against ind's parameter list (ind NULL: only the types are checked). */
static bool parse_params(ctx *c, const apex_json *obj, const apex_ind_info *ind, double *p)
{
  const apex_json *params = apex_json_object_get(obj, "params");
  bool ok = true;
  if (ind)
    apex_ind_defaults(ind, p);
  if (params && !apex_json_is_object(params)) {
    problem_at(c, "params", "must be an object of parameter values, got %s", apex_json_type_name(params));
    return false;
  }
  size_t old = push_key(c, "params");
  unsigned seen = 0;
  apex_json_iter it = apex_json_object_iter(params);
  const char *key;
  const apex_json *val;
  while (apex_json_object_next(&it, &key, &val)) {
    int k = ind ? apex_ind_param_index(ind, key) : -2;
    if (k == -1) {
      ok = false;
      if (ind->n_params == 0) {
        problem_at(c, key, "unknown parameter '%.64s': %s takes none", key, ind->name);
      } else {
        char known[128] = "";
        size_t len = 0;
        for (int i = 0; i < ind->n_params && len < sizeof known; i++)
          len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", ind->params[i].name);
        problem_at(c, key, "unknown parameter '%.64s' for %s (known: %s)", key, ind->name, known);
      }
      continue;
    }
    if (!apex_json_is_number(val)) {
      problem_at(c, key, "must be a number, got %s", apex_json_type_name(val));
      ok = false;
      continue;
    }
    if (k < 0)
      continue;
    if (seen & (1u << k)) { /* names are case-insensitive, so "period" and "Period" collide */
      problem_at(c, key, "duplicate of parameter '%s'", ind->params[k].name);
      ok = false;
      continue;
    }
    seen |= 1u << k;
    /* Checked alone against the others' defaults, with the cross check off, so each bad
     * parameter gets its own problem with the registry's own message. */
    apex_ind_info alone = *ind;
    alone.check = NULL;
    double q[APEX_IND_MAX_PARAMS] = {0};
    apex_ind_defaults(ind, q);
    q[k] = apex_json_number_value(val);
    apex_error err = {0};
    if (apex_ind_validate(&alone, q, &err)) {
      size_t nl = strlen(ind->params[k].name);
      const char *msg = err.msg;
      if (!strncmp(msg, ind->params[k].name, nl) && msg[nl] == ':' && msg[nl + 1] == ' ')
        msg += nl + 2;
      problem_at(c, key, "%s", msg);
      ok = false;
      continue;
    }
    p[k] = q[k];
  }
  pop(c, old);
  if (ok && ind && ind->check) {
    apex_error err = {0};
    if (ind->check(p, &err)) {
      if (params)
        problem_at(c, "params", "%s", err.msg);
      else
        problem(c, "%s", err.msg);
      ok = false;
    }
  }
  return ok;
}

/* Reads the operand fields of obj (an operand, or a condition's left side); problems are recorded,
 * and the caller goes by their count. Keys are checked by the caller. */
static void parse_operand(ctx *c, const apex_json *obj, rule_operand *o)
{
  const apex_json *ind_v = apex_json_object_get(obj, "indicator");
  const apex_json *price_v = apex_json_object_get(obj, "price");
  const apex_ind_info *ind = NULL;

  memset(o, 0, sizeof *o);
  if (ind_v && price_v) {
    problem_at(c, "price", "give either 'indicator' or 'price', not both");
  } else if (price_v) {
    const char *s = apex_json_string_value(price_v);
    int k = s ? lookup(s, PRICE_FIELDS, APEX_ARRAY_LEN(PRICE_FIELDS)) : -1;
    if (!s) {
      problem_at(c, "price", "must be a string (one of " PRICE_LIST "), got %s", apex_json_type_name(price_v));
    } else if (k < 0) {
      problem_at(c, "price", "unknown price field '%.64s' (valid: " PRICE_LIST ")", s);
    } else {
      ind = apex_ind_find(PRICE_FIELDS[k]);
    }
    if (apex_json_object_get(obj, "params")) {
      problem_at(c, "params", "not allowed with 'price' (a price field takes no parameters)");
    }
    if (apex_json_object_get(obj, "output")) {
      problem_at(c, "output", "not allowed with 'price' (a price field has one output)");
    }
  } else if (ind_v) {
    const char *s = apex_json_string_value(ind_v);
    if (!s) {
      problem_at(c, "indicator", "must be a string naming an indicator, got %s", apex_json_type_name(ind_v));
    } else if (!(ind = apex_ind_find(s))) {
      problem_at(c, "indicator", "unknown indicator '%.64s'", s);
    }
  } else {
    problem_at(c, "indicator", "missing; name an indicator (\"indicator\": \"RSI\") or a price (\"price\": \"close\")");
  }

  if (!price_v) {
    (void)parse_params(c, obj, ind, o->params);
    const apex_json *out_v = apex_json_object_get(obj, "output");
    if (out_v) {
      const char *s = apex_json_string_value(out_v);
      if (!s) {
        problem_at(c, "output", "must be a string naming an output, got %s", apex_json_type_name(out_v));
      } else if (ind && (o->output = apex_ind_output_index(ind, s)) < 0) {
        char list[128] = "";
        size_t len = 0;
        for (int i = 0; i < ind->n_outputs && len < sizeof list; i++)
          len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", ind->outputs[i]);
        problem_at(c, "output", "unknown output '%.64s' for %s (valid: %s)", s, ind->name, list);
      }
    }
  }
  (void)parse_offset(c, obj, &o->offset);
  o->ind = ind;
}

/* --- conditions and groups --- */

static rule_pnode *add_node(ctx *c, size_t *idx)
{
  rule_tree *t = c->t;
  if (t->n == t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 16;
    rule_pnode *p = realloc(t->node, cap * sizeof *p);
    if (!p) {
      if (!t->oom)
        apex_problems_add(c->probs, "", "out of memory");
      t->oom = true;
      return NULL;
    }
    t->node = p;
    t->cap = cap;
  }
  *idx = t->n++;
  rule_pnode *nd = &t->node[*idx];
  memset(nd, 0, sizeof *nd);
  nd->size = 1;
  return nd;
}

static void parse_condition(ctx *c, const apex_json *obj)
{
  rule_pnode nd = {.kind = RULE_COND, .size = 1, .leaves = 1};

  check_keys(c, obj, COND_KEYS, APEX_ARRAY_LEN(COND_KEYS));
  parse_operand(c, obj, &nd.a);

  const apex_json *op_v = apex_json_object_get(obj, "operator");
  int op = -1;
  if (!op_v) {
    problem_at(c, "operator", "missing; must be one of " OP_LIST);
  } else if (!apex_json_is_string(op_v)) {
    problem_at(c, "operator", "must be a string (one of " OP_LIST "), got %s", apex_json_type_name(op_v));
  } else if ((op = lookup(apex_json_string_value(op_v), apex_rule_op_names, RULE_NOPS)) < 0) {
    problem_at(c, "operator", "unknown operator '%.64s' (valid: " OP_LIST ")", apex_json_string_value(op_v));
  }
  nd.op = op < 0 ? RULE_LT : (enum rule_op)op;

  const apex_json *val = apex_json_object_get(obj, "value");
  if (!val) {
    problem_at(c, "value", op == RULE_BETWEEN ? "missing; between needs [low, high]"
                                              : "missing; must be a number or an operand object");
  } else if (op == RULE_BETWEEN) {
    size_t old = push_key(c, "value");
    if (!apex_json_is_array(val) || apex_json_array_size(val) != 2) {
      problem(c, "between needs [low, high], two numbers; got %s",
              apex_json_is_array(val) ? "an array of another length" : apex_json_type_name(val));
    } else {
      const apex_json *lo = apex_json_array_get(val, 0), *hi = apex_json_array_get(val, 1);
      if (!apex_json_is_number(lo) || !apex_json_is_number(hi)) {
        for (size_t i = 0; i < 2; i++) {
          const apex_json *e = apex_json_array_get(val, i);
          if (!apex_json_is_number(e)) {
            size_t o2 = push_index(c, i);
            problem(c, "must be a number, got %s", apex_json_type_name(e));
            pop(c, o2);
          }
        }
      } else {
        nd.b_const = true;
        nd.k1 = apex_json_number_value(lo);
        nd.k2 = apex_json_number_value(hi);
        if (nd.k1 > nd.k2) {
          problem(c, "low must not exceed high, got [%.17g, %.17g]", nd.k1, nd.k2);
        }
      }
    }
    pop(c, old);
  } else if (apex_json_is_number(val)) {
    nd.b_const = true;
    nd.k1 = apex_json_number_value(val);
  } else if (apex_json_is_object(val)) {
    size_t old = push_key(c, "value");
    check_keys(c, val, OPERAND_KEYS, APEX_ARRAY_LEN(OPERAND_KEYS));
    parse_operand(c, val, &nd.b);
    pop(c, old);
  } else if (apex_json_is_array(val)) {
    problem_at(c, "value", "[low, high] goes only with the between operator; use a number or an operand object");
  } else {
    problem_at(c, "value", "must be a number or an operand object ({\"indicator\": ...} or {\"price\": ...}), got %s",
               apex_json_type_name(val));
  }

  nd.k2 = op == RULE_BETWEEN ? nd.k2 : RULE_DEFAULT_TOLERANCE;
  const apex_json *tol = apex_json_object_get(obj, "tolerance");
  if (tol) {
    if (op >= 0 && op != RULE_EQ) {
      problem_at(c, "tolerance", "only applies to the equals operator");
    } else if (!apex_json_is_number(tol) || !(apex_json_number_value(tol) >= 0)) {
      if (apex_json_is_number(tol))
        problem_at(c, "tolerance", "must be a number >= 0, got %.17g", apex_json_number_value(tol));
      else
        problem_at(c, "tolerance", "must be a number >= 0, got %s", apex_json_type_name(tol));
    } else {
      nd.k2 = apex_json_number_value(tol);
    }
  }

  /* Added even when broken, so the group's child count stays right; the problems stop compiling. */
  size_t idx;
  rule_pnode *slot = add_node(c, &idx);
  if (slot)
    *slot = nd;
}

static void parse_group(ctx *c, const apex_json *obj, int depth, bool top);

static void parse_member(ctx *c, const apex_json *v, int depth)
{
  if (!apex_json_is_object(v))
    problem(c, "must be an object (a condition or a group), got %s", apex_json_type_name(v));
  else if (apex_json_object_get(v, "conditions") || apex_json_object_get(v, "logic"))
    parse_group(c, v, depth + 1, false);
  else
    parse_condition(c, v);
}

static void parse_group(ctx *c, const apex_json *obj, int depth, bool top)
{
  if (depth > RULE_MAX_DEPTH) {
    problem(c, "too deeply nested (groups go at most %d levels deep)", RULE_MAX_DEPTH);
    return;
  }
  if (!top)
    check_keys(c, obj, GROUP_KEYS, APEX_ARRAY_LEN(GROUP_KEYS));

  enum rule_kind kind = RULE_AND;
  const apex_json *lg = apex_json_object_get(obj, "logic");
  if (lg) {
    static const char *const LOGIC[] = {"AND", "OR", "NOT"};
    const char *s = apex_json_string_value(lg);
    int k = s ? lookup(s, LOGIC, 3) : -1;
    if (!s)
      problem_at(c, "logic", "must be a string (AND, OR or NOT), got %s", apex_json_type_name(lg));
    else if (k < 0)
      problem_at(c, "logic", "must be AND, OR or NOT, got '%.64s'", s);
    else
      kind = (enum rule_kind)k; /* RULE_AND, RULE_OR, RULE_NOT in LOGIC's order */
  }

  size_t idx;
  if (!add_node(c, &idx))
    return;
  c->t->node[idx].kind = kind;

  const apex_json *conds = apex_json_object_get(obj, "conditions");
  size_t n = apex_json_array_size(conds);
  if (!conds)
    problem_at(c, "conditions", "missing; a group needs a non-empty array of conditions");
  else if (!apex_json_is_array(conds))
    problem_at(c, "conditions", "must be an array of conditions, got %s", apex_json_type_name(conds));
  else if (n == 0)
    problem_at(c, "conditions", "must not be empty");

  size_t old = push_key(c, "conditions");
  size_t nchild = 0;
  for (size_t i = 0; i < n && !c->t->oom; i++) {
    size_t before = c->t->n;
    size_t o2 = push_index(c, i);
    parse_member(c, apex_json_array_get(conds, i), depth);
    pop(c, o2);
    if (c->t->n > before)
      nchild++;
  }
  pop(c, old);
  /* Sizes are only meaningful when no problem was found; then every child added its nodes. */
  rule_pnode *g = &c->t->node[idx];
  g->nchild = nchild;
  g->size = c->t->n - idx;
  g->leaves = 0;
  for (size_t i = idx + 1; i < c->t->n; i++)
    if (c->t->node[i].kind == RULE_COND)
      g->leaves++;
}

static char *dup_string(ctx *c, const char *s)
{
  char *d = strdup(s);
  if (!d && !c->t->oom) {
    apex_problems_add(c->probs, "", "out of memory");
    c->t->oom = true;
  }
  return d;
}

/* "id" and "name": optional strings of bounded length. */
static char *parse_label(ctx *c, const apex_json *obj, const char *key, size_t max)
{
  const apex_json *v = apex_json_object_get(obj, key);
  if (!v)
    return NULL;
  const char *s = apex_json_string_value(v);
  if (!s) {
    problem_at(c, key, "must be a string, got %s", apex_json_type_name(v));
    return NULL;
  }
  size_t len = strlen(s);
  if (len == 0 || len > max) {
    problem_at(c, key, "must be 1 to %zu characters long, got %zu", max, len);
    return NULL;
  }
  return dup_string(c, s);
}

bool apex_rule_parse(const apex_json *rule, const char *where, apex_problems *probs, rule_tree *t)
{
  ctx c = {.probs = probs, .t = t};
  size_t before = probs->total;

  memset(t, 0, sizeof *t);
  snprintf(c.ptr, sizeof c.ptr, "%s", where ? where : "");
  c.len = strlen(c.ptr);
  if (!apex_json_is_object(rule)) {
    problem(&c, "a rule must be an object, got %s", apex_json_type_name(rule));
    return false;
  }
  check_keys(&c, rule, TOP_KEYS, APEX_ARRAY_LEN(TOP_KEYS));
  t->id = parse_label(&c, rule, "id", RULE_ID_MAX);
  t->name = parse_label(&c, rule, "name", RULE_NAME_MAX);

  const apex_json *sig = apex_json_object_get(rule, "signal");
  static const char *const SIGNALS[] = {"HOLD", "BUY", "SELL"}; /* apex_signal order */
  const char *s = apex_json_string_value(sig);
  int k = s ? lookup(s, SIGNALS, 3) : -1;
  if (!sig)
    problem_at(&c, "signal", "missing; must be BUY, SELL or HOLD");
  else if (!s)
    problem_at(&c, "signal", "must be a string (BUY, SELL or HOLD), got %s", apex_json_type_name(sig));
  else if (k < 0)
    problem_at(&c, "signal", "must be BUY, SELL or HOLD, got '%.64s'", s);
  else
    t->signal = (apex_signal)k;

  parse_group(&c, rule, 1, true);
  return probs->total == before;
}

void apex_rule_tree_free(rule_tree *t)
{
  free(t->node);
  free(t->id);
  free(t->name);
  memset(t, 0, sizeof *t);
}
