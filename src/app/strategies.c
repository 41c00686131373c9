/* strategies.c - strategy use cases: validated by the rule engine exactly as the CLI validates a
 * strategy file, stored as the user wrote it, versioned on every change. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/timeframe.h"
#include "app/ids.h"
#include "core/strategy.h"

#define MAX_BODY (1u << 20)

static apex_err not_found(apex_app_error *e, const char *id)
{
  return apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %s", id);
}

static apex_dec pct_or_none(double x)
{
  apex_dec d;
  return x > 0 && apex_dec_from_double(x, &d) == APEX_OK ? d : -1;
}

/* A copy of object o without the keys in skip (NULL-terminated). NULL on OOM. */
static apex_json *without(const apex_json *o, const char *const *skip)
{
  apex_json *c = apex_json_new_object();
  apex_json_iter it = apex_json_object_iter(o);
  const char *k;
  const apex_json *v;
  while (c && apex_json_object_next(&it, &k, &v)) {
    bool drop = false;
    for (size_t i = 0; skip[i]; i++)
      drop |= !strcmp(k, skip[i]);
    if (!drop && apex_json_object_set(c, k, apex_json_copy(v))) {
      apex_json_free(c);
      c = NULL;
    }
  }
  return c;
}

/* Spec 7.5's request shape: "asset_symbol" for "asset", and "stop_loss_pct"/"take_profit_pct" at
 * the top level for those of "risk_management". *doc is replaced by the document in the engine's
 * shape (*changed set) when any alias was used; giving both names of one field is a problem. */
static apex_err apply_aliases(apex_json **doc, bool *changed, apex_problems *probs)
{
  static const char *const ALIASES[] = {"asset_symbol", "stop_loss_pct", "take_profit_pct", NULL};
  apex_json *d = *doc;
  bool any = false;
  if (!apex_json_is_object(d))
    return APEX_OK;
  for (size_t i = 0; ALIASES[i]; i++)
    any |= apex_json_object_get(d, ALIASES[i]) != NULL;
  if (!any)
    return APEX_OK;
  apex_json *n = without(d, ALIASES);
  if (!n)
    return APEX_ENOMEM;
  apex_err rc = APEX_OK;
  const apex_json *sym = apex_json_object_get(d, "asset_symbol");
  if (sym && apex_json_object_get(d, "asset"))
    apex_problems_add(probs, "/asset_symbol", "give asset or asset_symbol, not both");
  else if (sym)
    rc = apex_json_object_set(n, "asset", apex_json_copy(sym));
  const apex_json *risk = apex_json_object_get(d, "risk_management");
  apex_json *nrisk = risk && apex_json_is_object(risk) ? apex_json_copy(risk) : risk ? NULL : apex_json_new_object();
  for (size_t i = 1; !rc && nrisk && ALIASES[i]; i++) {
    const apex_json *v = apex_json_object_get(d, ALIASES[i]);
    char ptr[32];
    snprintf(ptr, sizeof ptr, "/%s", ALIASES[i]);
    if (!v)
      continue;
    if (apex_json_object_get(nrisk, ALIASES[i]))
      apex_problems_add(probs, ptr, "given twice: here and in /risk_management");
    else
      rc = apex_json_object_set(nrisk, ALIASES[i], apex_json_copy(v));
  }
  if (!rc && nrisk)
    rc = apex_json_object_set(n, "risk_management", nrisk);
  else
    apex_json_free(nrisk);
  if (rc) {
    apex_json_free(n);
    return APEX_ENOMEM;
  }
  apex_json_free(d);
  *doc = n;
  *changed = true;
  return APEX_OK;
}

/* Validates body and fills the row's derived fields; on problems e carries every one of them.
 * Rules named by library id are resolved (apex_app_rules_resolve) and their text kept in the
 * stored definition, so this version keeps them as they are now. */
static apex_err read_document(apex_app *app, const char *user_id, const char *body, size_t len,
                              apex_strategy_row *r, apex_app_error *e)
{
  apex_json *doc = NULL;
  apex_strategy *st = NULL;
  apex_error perr;
  bool changed = false;
  apex_err rc = apex_json_parse_strict(body, len, MAX_BODY, &doc, &perr);
  if (rc)
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "%s", perr.msg);
  size_t rules_before = apex_json_array_size(apex_json_object_get(doc, "rules"));
  if (apply_aliases(&doc, &changed, &e->problems)) {
    apex_json_free(doc);
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  }
  if (apex_app_rules_resolve(app, user_id, doc, e)) {
    apex_json_free(doc);
    return APEX_EINVAL;
  }
  changed |= apex_json_array_size(apex_json_object_get(doc, "rules")) != rules_before;
  rc = apex_strategy_from_json(doc, &st, &e->problems);
  if (rc == APEX_ENOMEM) {
    apex_json_free(doc);
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  }
  if (rc || e->problems.total) {
    apex_strategy_free(st);
    apex_json_free(doc);
    return apex_app_raise(e, APEX_E_STRATEGY_INVALID_RULES, "the strategy has %zu problem%s",
                         e->problems.total, e->problems.total == 1 ? "" : "s");
  }
  snprintf(r->name, sizeof r->name, "%s", st->name);
  snprintf(r->symbol, sizeof r->symbol, "%s", st->asset);
  snprintf(r->timeframe, sizeof r->timeframe, "%s", st->timeframe_text);
  const char *desc = apex_json_string_value(apex_json_object_get(doc, "description"));
  free(r->description);
  r->description = desc ? strdup(desc) : NULL;
  free(r->definition);
  r->definition = changed ? apex_json_dump(doc, false) : strndup(body, len);
  r->stop_loss_pct = pct_or_none(st->risk.stop_loss_pct);
  r->take_profit_pct = pct_or_none(st->risk.take_profit_pct);
  r->max_position_size_pct = pct_or_none(st->risk.max_position_size * 100);
  r->max_drawdown_pct = pct_or_none(st->risk.max_drawdown_pct);
  apex_strategy_free(st);
  apex_json_free(doc);
  if (!r->definition || (desc && !r->description))
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  return APEX_OK;
}

apex_err apex_app_strategy_create(apex_app *app, const char *user_id, const char *body, size_t len,
                                  apex_strategy_row *out, apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  if (read_document(app, user_id, body, len, out, e))
    return APEX_EINVAL;
  if (apex_app_new_id(out->id))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
  snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
  out->version = 1;
  snprintf(out->status, sizeof out->status, "draft");
  out->created_at = out->updated_at = app->now_ms();
  if (apex_store_strategy_insert(app->store, out, &err))
    return apex_app_store_failed(e, &err);
  return APEX_OK;
}

apex_err apex_app_strategy_get(apex_app *app, const char *user_id, const char *id, apex_strategy_row *out,
                               apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_strategy_get(app->store, user_id, id, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_strategy_update(apex_app *app, const char *user_id, const char *id, const char *body, size_t len,
                                  apex_strategy_row *out, apex_app_error *e)
{
  *out = (apex_strategy_row){0};
  apex_error err;
  if (apex_app_strategy_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  if (read_document(app, user_id, body, len, out, e))
    return APEX_EINVAL;
  out->version++;
  out->updated_at = app->now_ms();
  apex_err rc = apex_store_strategy_update(app->store, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_strategy_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e)
{
  apex_error err;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_strategy_delete(app->store, user_id, id, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_strategy_clone(apex_app *app, const char *user_id, const char *id, apex_strategy_row *out,
                                 apex_app_error *e)
{
  *out = (apex_strategy_row){0};
  apex_error err;
  if (apex_app_strategy_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  char name[sizeof out->name];
  snprintf(name, sizeof name, "%.120s (copy)", out->name);
  memcpy(out->name, name, sizeof name);
  if (apex_app_new_id(out->id))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
  out->version = 1;
  snprintf(out->status, sizeof out->status, "draft");
  out->trading_mode[0] = '\0';
  out->created_at = out->updated_at = app->now_ms();
  out->activated_at = 0;
  if (apex_store_strategy_insert(app->store, out, &err))
    return apex_app_store_failed(e, &err);
  return APEX_OK;
}

/* Every input of a list item's text (apex_app_strategy_json without the document), as bytes:
 * strings end in their NUL (rows hold no NUL), numbers are copied whole, a tag names the form. Two
 * rows with equal keys render equally, so a cached text is never stale, only evicted. A field
 * added to the item must be added here (test_render_cache.c changes each field and compares).
 * 0 when the key would not fit (a long description): that item is rendered every time. */
static size_t item_key(const apex_strategy_row *r, char *key, size_t cap)
{
  size_t n = 0;
#define PUT(p, len)                                                                                                \
  do {                                                                                                             \
    if ((len) > cap - n)                                                                                           \
      return 0;                                                                                                    \
    memcpy(key + n, (p), (len));                                                                                   \
    n += (len);                                                                                                    \
  } while (0)
#define STR(str) PUT((str), strlen(str) + 1)
  STR("strategy-item/1");
  STR(r->id);
  STR(r->name);
  PUT(r->description ? "d" : "-", 1);
  if (r->description)
    STR(r->description);
  STR(r->symbol);
  STR(r->timeframe);
  const apex_dec pcts[4] = {r->stop_loss_pct, r->take_profit_pct, r->max_position_size_pct, r->max_drawdown_pct};
  PUT(pcts, sizeof pcts);
  PUT(&r->version, sizeof r->version);
  STR(r->status);
  STR(r->trading_mode);
  const int64_t times[3] = {r->created_at, r->updated_at, r->activated_at};
  PUT(times, sizeof times);
#undef STR
#undef PUT
  return n;
}

#define ITEM_KEY_MAX 2048
#define ITEM_TEXT_MAX 4096 /* the render cache's value bound (cli/serve_app.c) */
#define RENDER_TTL_S 3600  /* a bound on memory held for rows nobody lists any more, not on staleness */

char *apex_app_strategy_item_text(apex_app *app, const apex_strategy_row *r, size_t *len)
{
  char key[ITEM_KEY_MAX], hit[ITEM_TEXT_MAX];
  size_t klen = app->renders ? item_key(r, key, sizeof key) : 0;
  int64_t now_s = app->now_ms() / 1000;
  char *text = NULL;
  if (klen && apex_cache_get(app->renders, key, klen, now_s, hit, sizeof hit, len)) {
    if ((text = malloc(*len + 1))) {
      memcpy(text, hit, *len);
      text[*len] = '\0';
    }
    return text;
  }
  apex_json *j = apex_app_strategy_json(r, false);
  text = j ? apex_json_dump(j, false) : NULL;
  apex_json_free(j);
  *len = text ? strlen(text) : 0;
  if (text && klen) /* a failed put (too long, no memory) costs only the next render */
    (void)apex_cache_put(app->renders, key, klen, now_s + RENDER_TTL_S, now_s, text, *len);
  return text;
}

apex_err apex_app_strategy_list(apex_app *app, const char *user_id, const apex_page *p, apex_app_texts *items,
                                int64_t *total, apex_app_error *e)
{
  apex_error err;
  apex_err rc = APEX_OK;
  size_t n = 0;
  *items = (apex_app_texts){0};
  *total = 0;
  apex_strategy_row *rows = calloc((size_t)p->limit, sizeof *rows);
  items->text = calloc((size_t)p->limit, sizeof *items->text);
  items->len = calloc((size_t)p->limit, sizeof *items->len);
  if (!rows || !items->text || !items->len) {
    rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
    goto out;
  }
  if (apex_store_strategy_list(app->store, user_id, p, rows, &n, total, &err)) {
    rc = apex_app_store_failed(e, &err);
    goto out;
  }
  for (; items->n < n; items->n++)
    if (!(items->text[items->n] = apex_app_strategy_item_text(app, &rows[items->n], &items->len[items->n]))) {
      rc = apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
      goto out;
    }
out:
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&rows[i]);
  free(rows);
  if (rc) {
    apex_app_texts_clear(items);
    *total = 0;
  }
  return rc;
}

apex_err apex_app_strategy_versions(apex_app *app, const char *user_id, const char *id, const apex_page *p,
                                    apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  *total = 0;
  if (!apex_app_id_ok(id))
    return apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id);
  apex_strategy_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
  apex_err rc = apex_store_strategy_versions(app->store, user_id, id, p->page, p->limit, rows, &n, total, &err);
  if (rc) {
    free(rows);
    return rc == APEX_ENOTFOUND ? apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id)
                                : apex_app_store_failed(e, &err);
  }
  /* Numbers, names and times only: GET .../versions/{version} has the document. */
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json *v = apex_json_new_object();
    apex_json_object_set(v, "version", apex_json_new_integer(rows[i].version));
    apex_json_object_set(v, "name", apex_json_new_string(rows[i].name));
    apex_json_object_set(v, "created_at", apex_app_json_time(rows[i].created_at));
    apex_json_array_append(*items, v);
    apex_strategy_row_clear(&rows[i]);
  }
  free(rows);
  return *items ? APEX_OK : apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
}

apex_err apex_app_strategy_version(apex_app *app, const char *user_id, const char *id, const char *version,
                                   apex_json **out, apex_app_error *e)
{
  apex_error err;
  apex_strategy_row r = {0};
  apex_json *doc = NULL;
  char *end = NULL;
  long v = version ? strtol(version, &end, 10) : 0;
  *out = NULL;
  if (!apex_app_id_ok(id))
    return apex_app_raise(e, APEX_E_STRATEGY_NOT_FOUND, "no strategy %.40s", id);
  if (!version || end == version || *end || v < 1 || v > 1000000000)
    return apex_app_raise(e, APEX_E_NOT_FOUND, "no version %.20s", version ? version : "");
  apex_err rc = apex_store_strategy_version(app->store, user_id, id, (int)v, &r, &err);
  if (rc)
    return rc == APEX_ENOTFOUND ? apex_app_raise(e, APEX_E_NOT_FOUND, "no version %ld of strategy %.40s", v, id)
                                : apex_app_store_failed(e, &err);
  *out = apex_json_new_object();
  apex_json_object_set(*out, "version", apex_json_new_integer(r.version));
  apex_json_object_set(*out, "name", apex_json_new_string(r.name));
  apex_json_object_set(*out, "created_at", apex_app_json_time(r.created_at));
  if (r.definition && !apex_json_parse_strict(r.definition, strlen(r.definition), MAX_BODY, &doc, &err))
    apex_json_object_set(*out, "definition", doc);
  apex_strategy_row_clear(&r);
  return *out ? APEX_OK : apex_app_raise(e, APEX_E_INTERNAL, "out of memory");
}

static apex_json *pct(apex_dec d) { return d < 0 ? apex_json_new_null() : apex_json_new_number(apex_dec_to_double(d)); }

apex_json *apex_app_strategy_json(const apex_strategy_row *r, bool full)
{
  apex_json *j = apex_json_new_object(), *doc = NULL;
  apex_error err;
  if (!j)
    return NULL;
  apex_json_object_set(j, "id", apex_json_new_string(r->id));
  apex_json_object_set(j, "name", apex_json_new_string(r->name));
  apex_json_object_set(j, "description", r->description ? apex_json_new_string(r->description) : apex_json_new_null());
  apex_json_object_set(j, "version", apex_json_new_integer(r->version));
  apex_json_object_set(j, "asset_symbol", apex_json_new_string(r->symbol));
  apex_json_object_set(j, "timeframe", apex_json_new_string(r->timeframe));
  apex_json_object_set(j, "stop_loss_pct", pct(r->stop_loss_pct));
  apex_json_object_set(j, "take_profit_pct", pct(r->take_profit_pct));
  apex_json_object_set(j, "max_position_size_pct", pct(r->max_position_size_pct));
  apex_json_object_set(j, "max_drawdown_pct", pct(r->max_drawdown_pct));
  apex_json_object_set(j, "status", apex_json_new_string(r->status));
  apex_json_object_set(j, "trading_mode", r->trading_mode[0] ? apex_json_new_string(r->trading_mode) : apex_json_new_null());
  apex_json_object_set(j, "created_at", apex_app_json_time(r->created_at));
  apex_json_object_set(j, "updated_at", apex_app_json_time(r->updated_at));
  apex_json_object_set(j, "activated_at", apex_app_json_time(r->activated_at));
  /* The document as the user wrote it, and its rule lists at the top level as the spec's model has. */
  if (full && r->definition && !apex_json_parse_strict(r->definition, strlen(r->definition), MAX_BODY, &doc, &err)) {
    const char *keys[] = {"entry_rules", "exit_rules", "rules"};
    for (size_t i = 0; i < 3; i++)
      if (apex_json_object_get(doc, keys[i]))
        apex_json_object_set(j, keys[i], apex_json_copy(apex_json_object_get(doc, keys[i])));
    apex_json_object_set(j, "definition", doc);
  }
  return j;
}
