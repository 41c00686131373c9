/* Rule engine properties over random valid rules on random slot data: the compiled program agrees
 * with a direct recursive reading of the rule's definition, and evaluating at t gives the same
 * answer whether the slot arrays end at t or go on (no look-ahead). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/rule/rule.h"

#define T 48
#define MAXN 128

static unsigned long long rng = 12345;
static unsigned rnd(unsigned n)
{
  rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
  return (unsigned)((rng >> 33) % n);
}

/* A random rule kept as a tree, so the test can read it directly. */
typedef struct operand {
  int field;  /* index in FIELDS */
  int period; /* sma period, 0 for a price field */
  int offset;
} operand;

typedef struct gnode {
  int kind; /* 0 AND, 1 OR, 2 NOT, 3 condition */
  int nchild;
  int child[4];
  int op;
  operand a, b;
  int b_const;
  double k1, k2, tol;
} gnode;

static const char *const FIELDS[] = {"open", "high", "low", "close", "volume", "hl2", "hlc3", "ohlc4", "sma"};
static const char *const OPS[] = {"less_than", "greater_than", "less_equal", "greater_equal",
                                  "equals",    "between",      "crosses_above", "crosses_below"};
static const char *const LOGIC[] = {"AND", "OR", "NOT"};

static gnode nodes[MAXN];
static int nnodes;

static double rnd_value(void) { return (double)rnd(5) - 2; }

static operand rnd_operand(void)
{
  operand o = {(int)rnd(9), 0, rnd(3) == 0 ? (int)rnd(4) : 0};
  if (o.field == 8)
    o.period = 2 + (int)rnd(3);
  return o;
}

static int gen(int depth)
{
  int i = nnodes++;
  gnode *g = &nodes[i];
  memset(g, 0, sizeof *g);
  if (depth < 4 && nnodes < 48 && rnd(3) == 0) {
    g->kind = (int)rnd(3);
    g->nchild = 1 + (int)rnd(3);
    for (int k = 0; k < g->nchild; k++) {
      int c = gen(depth + 1);
      nodes[i].child[k] = c;
    }
    return i;
  }
  g->kind = 3;
  g->op = (int)rnd(8);
  g->a = rnd_operand();
  g->b_const = g->op == 5 || rnd(2);
  if (g->op == 5) {
    g->k1 = rnd_value();
    g->k2 = g->k1 + (double)rnd(3);
  } else if (g->b_const) {
    g->k1 = rnd_value();
  } else {
    g->b = rnd_operand();
  }
  g->tol = g->op == 4 && rnd(2) ? (double)rnd(2) : 1e-9;
  return i;
}

static char buf[1 << 16];
static size_t blen;
__attribute__((format(printf, 1, 2))) static void out(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int w = vsnprintf(buf + blen, sizeof buf - blen, fmt, ap);
  va_end(ap);
  cr_assert(w >= 0 && (size_t)w < sizeof buf - blen);
  blen += (size_t)w;
}

static void render_operand_fields(const operand *o)
{
  if (o->period)
    out("\"indicator\": \"sma\", \"params\": {\"period\": %d}", o->period);
  else
    out("\"price\": \"%s\"", FIELDS[o->field]);
  if (o->offset)
    out(", \"offset\": %d", o->offset);
}

static void render(int i)
{
  const gnode *g = &nodes[i];
  if (g->kind == 3) {
    out("{");
    render_operand_fields(&g->a);
    out(", \"operator\": \"%s\", \"value\": ", OPS[g->op]);
    if (g->op == 5)
      out("[%g, %g]", g->k1, g->k2);
    else if (g->b_const)
      out("%g", g->k1);
    else {
      out("{");
      render_operand_fields(&g->b);
      out("}");
    }
    if (g->op == 4 && g->tol != 1e-9)
      out(", \"tolerance\": %g", g->tol);
    out("}");
    return;
  }
  out("{\"logic\": \"%s\", \"conditions\": [", LOGIC[g->kind]);
  for (int k = 0; k < g->nchild; k++) {
    if (k)
      out(", ");
    render(g->child[k]);
  }
  out("]}");
}

/* --- the reference: the definitions in rule.h, read directly --- */

static const apex_ruleset *RS;
static double data[32][T];

static int slot(const operand *o)
{
  const char *name = o->period ? "sma" : FIELDS[o->field];
  for (size_t k = 0; k < apex_ruleset_ndeps(RS); k++) {
    const apex_rule_dep *d = apex_ruleset_dep(RS, k);
    if (!strcmp(d->ind->name, name) && (!o->period || d->params[0] == o->period))
      return (int)d->first_slot;
  }
  cr_assert_fail("no slot for %s", name);
  return -1;
}

static double at(const operand *o, int t) { return data[slot(o)][t - o->offset]; }

static int lookback(const operand *o) { return o->period ? o->period - 1 : 0; }

static int warmup(int i)
{
  const gnode *g = &nodes[i];
  int w = 0;
  if (g->kind != 3) {
    for (int k = 0; k < g->nchild; k++) {
      int c = warmup(g->child[k]);
      w = c > w ? c : w;
    }
    return w;
  }
  int cross = g->op >= 6;
  w = lookback(&g->a) + g->a.offset + cross;
  if (!g->b_const) {
    int wb = lookback(&g->b) + g->b.offset + cross;
    w = wb > w ? wb : w;
  }
  return w;
}

static bool ref(int i, int t)
{
  const gnode *g = &nodes[i];
  if (g->kind != 3) {
    int n_true = 0;
    for (int k = 0; k < g->nchild; k++)
      n_true += ref(g->child[k], t);
    return g->kind == 0 ? n_true == g->nchild : g->kind == 1 ? n_true > 0 : n_true == 0;
  }
  double a = at(&g->a, t), b = g->b_const ? g->k1 : g->op == 5 ? 0 : at(&g->b, t);
  if (isnan(a) || isnan(b))
    return false;
  switch (g->op) {
  case 0: return a < b;
  case 1: return a > b;
  case 2: return a <= b;
  case 3: return a >= b;
  case 4: return fabs(a - b) <= g->tol;
  case 5: return g->k1 <= a && a <= g->k2;
  default: {
    double a0 = at(&g->a, t - 1), b0 = g->b_const ? g->k1 : at(&g->b, t - 1);
    if (isnan(a0) || isnan(b0))
      return false;
    return g->op == 6 ? a0 <= b0 && a > b : a0 >= b0 && a < b;
  }
  }
}

Test(rule_props, compiled_rules_match_the_definition_and_never_look_ahead)
{
  int checked = 0, fired = 0;
  for (int trial = 0; trial < 400; trial++) {
    nnodes = 0;
    /* the rule itself is a group */
    nodes[0].kind = (int)rnd(3);
    nnodes = 1;
    nodes[0].nchild = 1 + (int)rnd(4);
    for (int k = 0; k < nodes[0].nchild; k++) {
      int c = gen(2);
      nodes[0].child[k] = c;
    }
    blen = 0;
    out("{\"signal\": \"BUY\", \"logic\": \"%s\", \"conditions\": [", LOGIC[nodes[0].kind]);
    for (int k = 0; k < nodes[0].nchild; k++) {
      if (k)
        out(", ");
      render(nodes[0].child[k]);
    }
    out("]}");

    apex_json *doc = NULL;
    cr_assert_eq(apex_json_parse_strict(buf, blen, sizeof buf, &doc, NULL), APEX_OK, "%s", buf);
    apex_ruleset *rs = apex_ruleset_new();
    apex_problems pr = {0};
    int r = apex_ruleset_add(rs, doc, "", &pr);
    apex_json_free(doc);
    cr_assert_eq(r, 0, "random valid rule rejected: %s: %s\n%s", pr.n ? pr.item[0].pointer : "",
                 pr.n ? pr.item[0].message : "", buf);
    RS = rs;
    size_t ns = apex_ruleset_nslots(rs);
    cr_assert_leq(ns, 32);
    const double *full[32];
    for (size_t k = 0; k < ns; k++) {
      for (int t = 0; t < T; t++)
        data[k][t] = rnd(8) == 0 ? NAN : rnd_value();
      full[k] = data[k];
    }
    int w = warmup(0);
    cr_expect_eq(apex_ruleset_rule_warmup(rs, 0), (size_t)w, "%s", buf);
    for (int t = 0; t < T; t++) {
      bool want = t >= w && ref(0, t);
      bool got = apex_ruleset_eval(rs, 0, full, (size_t)t);
      cr_expect_eq(got, want, "t=%d: got %d, definition says %d\n%s", t, got, want, buf);
      /* the same with every slot array ending at t, in exactly sized copies (ASan sees overreads) */
      double *cut[32];
      const double *cutc[32];
      for (size_t k = 0; k < ns; k++) {
        cut[k] = malloc((size_t)(t + 1) * sizeof(double));
        memcpy(cut[k], data[k], (size_t)(t + 1) * sizeof(double));
        cutc[k] = cut[k];
      }
      bool got_cut = apex_ruleset_eval(rs, 0, cutc, (size_t)t);
      cr_expect_eq(got_cut, got, "t=%d: the answer changed when data ends at t\n%s", t, buf);
      for (size_t k = 0; k < ns; k++)
        free(cut[k]);
      checked++;
      fired += got;
    }
    apex_ruleset_free(rs);
  }
  /* the random rules must exercise both answers, or the test proves little */
  cr_expect_gt(fired, checked / 20, "only %d of %d evaluations were true", fired, checked);
  cr_expect_lt(fired, checked - checked / 20, "%d of %d evaluations were true", fired, checked);
}
