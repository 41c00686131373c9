/* ruleset.c - a set of compiled rules: lifecycle, adding a rule (check, then compile), and the
 * accessors the strategy runtime and the API use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rule/rule_int.h"

apex_ruleset *apex_ruleset_new(void)
{
  return calloc(1, sizeof(apex_ruleset));
}

void apex_ruleset_free(apex_ruleset *rs)
{
  if (!rs)
    return;
  for (size_t i = 0; i < rs->nrules; i++) {
    free(rs->rule[i].id);
    free(rs->rule[i].name);
  }
  free(rs->rule);
  free(rs->code);
  free(rs->dep);
  free(rs);
}

int apex_ruleset_add(apex_ruleset *rs, const apex_json *rule, const char *where, apex_problems *probs)
{
  apex_problems scratch; /* callers that only want the verdict may pass NULL */
  rule_tree t;
  int idx = -1;

  if (!probs) {
    scratch.n = scratch.total = 0;
    probs = &scratch;
  }
  bool ok = apex_rule_parse(rule, where, probs, &t);
  if (t.id && apex_ruleset_find(rs, t.id) >= 0) {
    char ptr[sizeof probs->item[0].pointer];
    snprintf(ptr, sizeof ptr, "%s/id", where ? where : "");
    apex_problems_add(probs, ptr, "duplicate rule id '%s'", t.id);
    ok = false;
  }
  if (!ok)
    goto out;
  apex_err rc = apex_rule_compile(rs, &t);
  if (rc) {
    apex_problems_add(probs, where ? where : "", "%s", rc == APEX_ENOMEM ? "out of memory" : "rule cannot be compiled");
    goto out;
  }
  idx = (int)(rs->nrules - 1);
out:
  apex_rule_tree_free(&t);
  return idx;
}

size_t apex_ruleset_count(const apex_ruleset *rs) { return rs->nrules; }

const char *apex_ruleset_id(const apex_ruleset *rs, size_t r)
{
  return r < rs->nrules && rs->rule[r].id ? rs->rule[r].id : "";
}

const char *apex_ruleset_name(const apex_ruleset *rs, size_t r)
{
  return r < rs->nrules && rs->rule[r].name ? rs->rule[r].name : "";
}

apex_signal apex_ruleset_signal(const apex_ruleset *rs, size_t r)
{
  return r < rs->nrules ? rs->rule[r].signal : APEX_SIGNAL_HOLD;
}

int apex_ruleset_find(const apex_ruleset *rs, const char *id)
{
  for (size_t i = 0; i < rs->nrules; i++)
    if (rs->rule[i].id && !strcmp(rs->rule[i].id, id))
      return (int)i;
  return -1;
}

size_t apex_ruleset_ndeps(const apex_ruleset *rs) { return rs->ndeps; }

const apex_rule_dep *apex_ruleset_dep(const apex_ruleset *rs, size_t k)
{
  return k < rs->ndeps ? &rs->dep[k] : NULL;
}

size_t apex_ruleset_nslots(const apex_ruleset *rs) { return rs->nslots; }

size_t apex_ruleset_warmup(const apex_ruleset *rs) { return rs->warmup; }

size_t apex_ruleset_rule_warmup(const apex_ruleset *rs, size_t r)
{
  return r < rs->nrules ? rs->rule[r].warmup : 0;
}

size_t apex_ruleset_depth(const apex_ruleset *rs)
{
  size_t d = 1;
  for (size_t i = 0; i < rs->ncode; i++) {
    const rule_leaf *l = &rs->code[i];
    bool cross = l->code == RC_XABOVE_K || l->code == RC_XBELOW_K || l->code == RC_XABOVE_S || l->code == RC_XBELOW_S;
    size_t k = (size_t)(l->a_off > l->b_off ? l->a_off : l->b_off) + 1 + cross;
    if (k > d)
      d = k;
  }
  return d;
}
