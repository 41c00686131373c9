/* rules.c - the rule library (spec 3.2.1's RuleEngineService): a user's named rules, validated by
 * the rule engine exactly as a strategy's inline rules are, listed, changed (versioned), deleted,
 * validated without storing, and asked which indicators they need. Strategies name them by id
 * (apex_app_rules_resolve), and a strategy version keeps the rule text it was saved with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/ids.h"
#include "core/rule/rule.h"

#define MAX_BODY (1u << 20)

static apex_err not_found(apex_app_error *e, const char *id)
{
  return apex_app_raise(e, APEX_E_NOT_FOUND, "no rule %.40s", id);
}

static apex_err oom(apex_app_error *e) { return apex_app_raise(e, APEX_E_INTERNAL, "out of memory"); }

/* The rule as the engine reads it: the body without the library's own fields ("description", and
 * "id", which the library assigns). NULL on OOM. */
static apex_json *engine_form(const apex_json *body)
{
  apex_json *o = apex_json_new_object();
  apex_json_iter it = apex_json_object_iter(body);
  const char *k;
  const apex_json *v;
  while (o && apex_json_object_next(&it, &k, &v))
    if (strcmp(k, "description") && strcmp(k, "id") && apex_json_object_set(o, k, apex_json_copy(v))) {
      apex_json_free(o);
      o = NULL;
    }
  return o;
}

/* Every problem of one rule body, at its JSON Pointer (code 2002). *rs (may be NULL) gets the
 * compiled rule when valid. APEX_ENOMEM only on OOM. */
static apex_err check_rule(const apex_json *body, apex_problems *probs, apex_json **form, apex_ruleset **rs)
{
  if (form)
    *form = NULL;
  if (!apex_json_is_object(body)) {
    apex_problems_add(probs, "", "a rule must be a JSON object, got %s", apex_json_type_name(body));
    return APEX_OK;
  }
  const apex_json *name = apex_json_object_get(body, "name"), *desc = apex_json_object_get(body, "description");
  const char *ns = apex_json_string_value(name);
  if (!ns || !*ns || strlen(ns) > 127)
    apex_problems_add(probs, "/name", name ? "must be a string of 1 to 127 characters" : "is required");
  if (desc && !apex_json_is_string(desc) && !apex_json_is_null(desc))
    apex_problems_add(probs, "/description", "must be a string, got %s", apex_json_type_name(desc));
  apex_json *f = engine_form(body);
  apex_ruleset *set = apex_ruleset_new();
  if (!f || !set) {
    apex_json_free(f);
    apex_ruleset_free(set);
    return APEX_ENOMEM;
  }
  (void)apex_ruleset_add(set, f, "", probs);
  for (size_t i = 0; i < probs->n; i++)
    if (!probs->item[i].code)
      probs->item[i].code = APEX_E_STRATEGY_INVALID_RULES;
  if (form)
    *form = f;
  else
    apex_json_free(f);
  if (rs)
    *rs = set;
  else
    apex_ruleset_free(set);
  return APEX_OK;
}

/* Fills r's name, description and definition from a request body; 422 (2002) with every problem. */
static apex_err read_rule(const char *body, size_t len, apex_rule_row *r, apex_app_error *e)
{
  apex_json *doc = NULL, *form = NULL;
  apex_error perr;
  if (apex_json_parse_strict(body, len, MAX_BODY, &doc, &perr))
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "%s", perr.msg);
  apex_err rc = check_rule(doc, &e->problems, &form, NULL);
  if (rc) {
    apex_json_free(doc);
    return oom(e);
  }
  if (e->problems.total) {
    apex_json_free(doc);
    apex_json_free(form);
    return apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the rule has %zu problem%s", e->problems.total,
                          e->problems.total == 1 ? "" : "s");
  }
  snprintf(r->name, sizeof r->name, "%s", apex_json_string_value(apex_json_object_get(doc, "name")));
  const char *desc = apex_json_string_value(apex_json_object_get(doc, "description"));
  free(r->description);
  free(r->definition);
  r->description = desc ? strdup(desc) : NULL;
  r->definition = apex_json_dump(form, false);
  apex_json_free(form);
  apex_json_free(doc);
  if (!r->definition || (desc && !r->description))
    return oom(e);
  return APEX_OK;
}

apex_err apex_app_rule_get(apex_app *app, const char *user_id, const char *id, apex_rule_row *out, apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_rule_get(app->store, user_id, id, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_rule_create(apex_app *app, const char *user_id, const char *body, size_t len, apex_rule_row *out,
                              apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  if (read_rule(body, len, out, e))
    return APEX_EINVAL;
  if (apex_app_new_id(out->id))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
  snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
  out->version = 1;
  out->created_at = out->updated_at = app->now_ms();
  if (apex_store_rule_insert(app->store, out, &err))
    return apex_app_store_failed(e, &err);
  return APEX_OK;
}

apex_err apex_app_rule_update(apex_app *app, const char *user_id, const char *id, const char *body, size_t len,
                              apex_rule_row *out, apex_app_error *e)
{
  apex_error err;
  if (apex_app_rule_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  if (read_rule(body, len, out, e))
    return APEX_EINVAL;
  out->updated_at = app->now_ms();
  apex_err rc = apex_store_rule_update(app->store, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  if (rc)
    return apex_app_store_failed(e, &err);
  apex_rule_row_clear(out);
  return apex_app_rule_get(app, user_id, id, out, e); /* the store counted the version */
}

apex_err apex_app_rule_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e)
{
  apex_error err;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_rule_delete(app->store, user_id, id, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_rule_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items, int64_t *total,
                            apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  *total = 0;
  apex_rule_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return oom(e);
  if (apex_store_rule_list(app->store, user_id, p, rows, &n, total, &err)) {
    free(rows);
    return apex_app_store_failed(e, &err);
  }
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json_array_append(*items, apex_app_rule_json(&rows[i]));
    apex_rule_row_clear(&rows[i]);
  }
  free(rows);
  return *items ? APEX_OK : oom(e);
}

apex_err apex_app_rule_validate(apex_app *app, const char *body, size_t len, apex_json **out, apex_app_error *e)
{
  apex_json *doc = NULL;
  apex_error perr;
  apex_problems probs = {0};
  (void)app;
  *out = NULL;
  if (apex_json_parse_strict(body, len, MAX_BODY, &doc, &perr))
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "%s", perr.msg);
  apex_err rc = check_rule(doc, &probs, NULL, NULL);
  apex_json_free(doc);
  apex_json *j = apex_json_new_object(), *errs = apex_json_new_array();
  if (rc || !j || !errs) {
    apex_json_free(j);
    apex_json_free(errs);
    return oom(e);
  }
  for (size_t i = 0; i < probs.n; i++) {
    apex_json *o = apex_json_new_object();
    const char *ptr = probs.item[i].pointer;
    apex_json_object_set(o, "field", apex_json_new_string(ptr[0] == '/' ? ptr + 1 : ptr));
    apex_json_object_set(o, "pointer", apex_json_new_string(ptr));
    apex_json_object_set(o, "message", apex_json_new_string(probs.item[i].message));
    apex_json_object_set(o, "code", apex_json_new_integer(probs.item[i].code));
    apex_json_array_append(errs, o);
  }
  apex_json_object_set(j, "valid", apex_json_new_bool(probs.total == 0));
  apex_json_object_set(j, "error_count", apex_json_new_integer((int64_t)probs.total));
  apex_json_object_set(j, "errors", errs);
  *out = j;
  return APEX_OK;
}

apex_err apex_app_rule_dependencies(apex_app *app, const char *user_id, const char *id, apex_json **out,
                                    apex_app_error *e)
{
  apex_rule_row r = {0};
  apex_json *doc = NULL;
  apex_ruleset *rs = NULL;
  apex_problems probs = {0};
  apex_error err;
  apex_err rc = APEX_EINVAL;
  *out = NULL;
  if (apex_app_rule_get(app, user_id, id, &r, e))
    goto out;
  if (apex_json_parse_strict(r.definition, strlen(r.definition), MAX_BODY, &doc, &err) ||
      check_rule(doc, &probs, NULL, &rs) || probs.total) {
    apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the stored rule no longer validates");
    e->problems = probs;
    goto out;
  }
  apex_json *j = apex_json_new_object(), *deps = apex_json_new_array();
  for (size_t k = 0; j && deps && k < apex_ruleset_ndeps(rs); k++) {
    const apex_rule_dep *d = apex_ruleset_dep(rs, k);
    apex_json *o = apex_json_new_object(), *params = apex_json_new_object(), *outs = apex_json_new_array();
    for (int p = 0; p < d->ind->n_params; p++)
      apex_json_object_set(params, d->ind->params[p].name, apex_json_new_number(d->params[p]));
    for (int q = 0; q < d->ind->n_outputs; q++)
      apex_json_array_append(outs, apex_json_new_string(d->ind->outputs[q]));
    apex_json_object_set(o, "indicator", apex_json_new_string(d->ind->name));
    apex_json_object_set(o, "title", apex_json_new_string(d->ind->title));
    apex_json_object_set(o, "params", params);
    apex_json_object_set(o, "outputs", outs);
    apex_json_object_set(o, "lookback", apex_json_new_integer(d->ind->lookback(d->params)));
    apex_json_array_append(deps, o);
  }
  if (!j || !deps) {
    apex_json_free(j);
    apex_json_free(deps);
    rc = oom(e);
    goto out;
  }
  apex_json_object_set(j, "rule_id", apex_json_new_string(r.id));
  apex_json_object_set(j, "version", apex_json_new_integer(r.version));
  apex_json_object_set(j, "dependencies", deps);
  /* Candles before the rule can first hold: lookbacks plus offsets (plus one for crosses). */
  apex_json_object_set(j, "warmup_bars", apex_json_new_integer((int64_t)apex_ruleset_warmup(rs)));
  *out = j;
  rc = APEX_OK;
out:
  apex_ruleset_free(rs);
  apex_json_free(doc);
  apex_rule_row_clear(&r);
  return rc;
}

apex_json *apex_app_rule_json(const apex_rule_row *r)
{
  apex_json *j = NULL;
  apex_error err;
  /* The rule's own fields (conditions, logic, signal, ...) with the library's around them. */
  if (!r->definition || apex_json_parse_strict(r->definition, strlen(r->definition), MAX_BODY, &j, &err) ||
      !apex_json_is_object(j)) {
    apex_json_free(j);
    j = apex_json_new_object();
  }
  if (!j)
    return NULL;
  apex_json_object_set(j, "id", apex_json_new_string(r->id));
  apex_json_object_set(j, "name", apex_json_new_string(r->name));
  apex_json_object_set(j, "description", r->description ? apex_json_new_string(r->description) : apex_json_new_null());
  apex_json_object_set(j, "version", apex_json_new_integer(r->version));
  apex_json_object_set(j, "created_at", apex_app_json_time(r->created_at));
  apex_json_object_set(j, "updated_at", apex_app_json_time(r->updated_at));
  return j;
}

/* --- strategies naming library rules --- */

/* True when the document's own "rules" array has a rule with this id. */
static bool inline_rule(const apex_json *doc, const char *id)
{
  const apex_json *rules = apex_json_object_get(doc, "rules");
  for (size_t i = 0; apex_json_is_array(rules) && i < apex_json_array_size(rules); i++) {
    const char *rid = apex_json_string_value(apex_json_object_get(apex_json_array_get(rules, i), "id"));
    if (rid && !strcmp(rid, id))
      return true;
  }
  return false;
}

apex_err apex_app_rules_resolve(apex_app *app, const char *user_id, apex_json *doc, apex_app_error *e)
{
  static const char *const LISTS[] = {"entry_rules", "exit_rules"};
  apex_error err;
  if (!apex_json_is_object(doc))
    return APEX_OK; /* the strategy validator says what is wrong */
  for (size_t l = 0; l < 2; l++) {
    const apex_json *list = apex_json_object_get(doc, LISTS[l]);
    for (size_t i = 0; apex_json_is_array(list) && i < apex_json_array_size(list); i++) {
      const char *id = apex_json_string_value(apex_json_array_get(list, i));
      char ptr[64];
      if (!id || inline_rule(doc, id) || !apex_app_id_ok(id))
        continue; /* an inline rule, a rule object, or a name the validator reports */
      snprintf(ptr, sizeof ptr, "/%s/%zu", LISTS[l], i);
      apex_rule_row r = {0};
      apex_json *def = NULL;
      apex_err rc = apex_store_rule_get(app->store, user_id, id, &r, &err);
      if (rc == APEX_ENOTFOUND) {
        /* Another user's rule reads exactly like a missing one. */
        apex_problems_add(&e->problems, ptr, "no rule with id '%s' in your rule library", id);
        e->problems.item[e->problems.n - 1].code = APEX_E_STRATEGY_INVALID_RULES;
        continue;
      }
      if (rc)
        return apex_app_store_failed(e, &err);
      /* The rule's text goes into the strategy's document under its library id: the version
       * saved now keeps it, whatever later becomes of the library rule. */
      rc = apex_json_parse_strict(r.definition, strlen(r.definition), MAX_BODY, &def, &err);
      if (!rc)
        rc = apex_json_object_set(def, "id", apex_json_new_string(r.id));
      if (!rc && !apex_json_object_get(def, "name"))
        rc = apex_json_object_set(def, "name", apex_json_new_string(r.name));
      apex_rule_row_clear(&r);
      apex_json *rules = (apex_json *)apex_json_object_get(doc, "rules");
      if (!rc && !rules) {
        rc = apex_json_object_set(doc, "rules", apex_json_new_array());
        rules = (apex_json *)apex_json_object_get(doc, "rules");
      }
      if (!rc && !apex_json_is_array(rules)) {
        apex_json_free(def);
        continue; /* "rules" of the wrong type: the validator reports it */
      }
      if (rc) {
        apex_json_free(def);
        return oom(e);
      }
      if (apex_json_array_append(rules, def))
        return oom(e);
    }
  }
  if (e->problems.total)
    return apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the strategy has %zu problem%s", e->problems.total,
                          e->problems.total == 1 ? "" : "s");
  return APEX_OK;
}
