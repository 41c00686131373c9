/* portfolios.c - portfolio use cases: paper portfolios in EUR or USD, their positions, trades and
 * equity history (written by paper trading), and performance from core/metrics over that history. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "core/timeframe.h"
#include "app/ids.h"
#include "core/metrics.h"

#define MAX_BODY (1u << 20)
#define MAX_NAME 100           /* characters, spec 4.2.5 */
#define MAX_DESCRIPTION 2000   /* characters */
#define MAX_BALANCE (INT64_C(1000000000) * APEX_DEC_SCALE) /* 1e9: sums of balances stay far from overflow */
#define CENTS (APEX_DEC_SCALE / 100) /* balances are NUMERIC(15, 2) in the spec: at most 2 places */
#define SCAN_PAGE 1000         /* rows read at a time when computing performance */

static apex_err not_found(apex_app_error *e, const char *id)
{
  return apex_app_raise(e, APEX_E_NOT_FOUND, "no portfolio %.40s", id);
}

static apex_err oom(apex_app_error *e) { return apex_app_raise(e, APEX_E_INTERNAL, "out of memory"); }

/* Characters of valid UTF-8 (jansson only hands out valid UTF-8): bytes that start one. */
static size_t utf8_len(const char *s)
{
  size_t n = 0;
  for (; *s; s++)
    n += ((unsigned char)*s & 0xC0) != 0x80;
  return n;
}

static bool blank(const char *s)
{
  for (; *s; s++)
    if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
      return false;
  return true;
}

/* A balance: a decimal string or a JSON number, > 0, at most 1e9, at most 2 decimal places. */
static bool read_balance(const apex_json *v, const char *ptr, apex_dec *out, apex_problems *pr)
{
  apex_dec d;
  const char *s = apex_json_string_value(v);
  if (s ? apex_dec_from_str(s, &d) != APEX_OK
        : !apex_json_is_number(v) || apex_dec_from_double(apex_json_number_value(v), &d) != APEX_OK) {
    apex_problems_add(pr, ptr, "must be a decimal number (string or number)");
    return false;
  }
  if (d <= 0 || d > MAX_BALANCE) {
    apex_problems_add(pr, ptr, "must be greater than 0 and at most 1000000000");
    return false;
  }
  if (d % CENTS) {
    apex_problems_add(pr, ptr, "must have at most 2 decimal places");
    return false;
  }
  *out = d;
  return true;
}

/* Lower-case letters, digits, '-' and '_', 1-50 characters ("binance", "alpaca", "paper"). */
static bool broker_ok(const char *s)
{
  size_t n = strlen(s);
  if (n < 1 || n > 50)
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
      return false;
  return true;
}

/* Applies the fields of body to r; create: the creation rules (name and initial_balance required,
 * no live portfolio), else the update rules (balances and is_paper cannot change). Every problem
 * goes to e->problems. */
static apex_err read_fields(const char *body, size_t len, bool create, apex_portfolio_row *r, apex_app_error *e)
{
  apex_json *doc = NULL;
  apex_error perr;
  apex_problems *pr = &e->problems;
  bool name_seen = false, balance_seen = false;
  apex_err rc = APEX_EINVAL;

  if (apex_json_parse_strict(body, len, MAX_BODY, &doc, &perr))
    return apex_app_raise(e, APEX_E_BAD_REQUEST, "%s", perr.msg);
  if (!apex_json_is_object(doc)) {
    apex_problems_add(pr, "", "the body must be a JSON object");
    goto done;
  }
  apex_json_iter it = apex_json_object_iter(doc);
  const char *k;
  const apex_json *v;
  while (apex_json_object_next(&it, &k, &v)) {
    char ptr[80];
    snprintf(ptr, sizeof ptr, "/%.60s", k);
    if (!strcmp(k, "name")) {
      const char *s = apex_json_string_value(v);
      name_seen = true;
      if (!s || blank(s))
        apex_problems_add(pr, ptr, "must be a non-empty string");
      else if (utf8_len(s) > MAX_NAME)
        apex_problems_add(pr, ptr, "must be at most %d characters", MAX_NAME);
      else
        snprintf(r->name, sizeof r->name, "%s", s);
    } else if (!strcmp(k, "description")) {
      const char *s = apex_json_string_value(v);
      if (!s && !apex_json_is_null(v)) {
        apex_problems_add(pr, ptr, "must be a string or null");
      } else if (s && utf8_len(s) > MAX_DESCRIPTION) {
        apex_problems_add(pr, ptr, "must be at most %d characters", MAX_DESCRIPTION);
      } else {
        free(r->description);
        r->description = s && *s ? strdup(s) : NULL;
        if (s && *s && !r->description) {
          rc = oom(e);
          goto out;
        }
      }
    } else if (!strcmp(k, "base_currency")) {
      const char *s = apex_json_string_value(v);
      if (!s || (strcmp(s, "EUR") && strcmp(s, "USD")))
        apex_problems_add(pr, ptr, "must be \"EUR\" or \"USD\"");
      else
        snprintf(r->base_currency, sizeof r->base_currency, "%s", s);
    } else if (!strcmp(k, "broker")) {
      const char *s = apex_json_string_value(v);
      if (apex_json_is_null(v))
        r->broker[0] = '\0';
      else if (!s || !broker_ok(s))
        apex_problems_add(pr, ptr, "must be null or 1-50 lower-case letters, digits, '-' or '_'");
      else
        snprintf(r->broker, sizeof r->broker, "%s", s);
    } else if (!strcmp(k, "is_active")) {
      if (!apex_json_is_bool(v))
        apex_problems_add(pr, ptr, "must be true or false");
      else
        r->is_active = apex_json_bool_value(v);
    } else if (!strcmp(k, "is_paper")) {
      if (!apex_json_is_bool(v))
        apex_problems_add(pr, ptr, "must be true or false");
      else if (!apex_json_bool_value(v))
        apex_problems_add(pr, ptr, "only paper portfolios exist for now: live portfolios arrive with live trading");
      else if (!create && !r->is_paper)
        apex_problems_add(pr, ptr, "cannot be changed");
    } else if (!strcmp(k, "initial_balance")) {
      balance_seen = true;
      if (!create)
        apex_problems_add(pr, ptr, "cannot be changed after creation");
      else if (read_balance(v, ptr, &r->initial_balance, pr))
        r->cash_balance = r->initial_balance;
    } else if (!strcmp(k, "cash_balance")) {
      apex_problems_add(pr, ptr, create ? "is set from initial_balance" : "is changed by trading only");
    } else if (strcmp(k, "id") && strcmp(k, "created_at") && strcmp(k, "updated_at")) {
      apex_problems_add(pr, ptr, "unknown field");
    }
  }
  if (create && !name_seen)
    apex_problems_add(pr, "/name", "is required");
  if (create && !balance_seen)
    apex_problems_add(pr, "/initial_balance", "is required");
done:
  if (pr->total) {
    apex_app_raise(e, APEX_E_VALIDATION, "the portfolio has %zu problem%s", pr->total,
                  pr->total == 1 ? "" : "s");
    goto out;
  }
  rc = APEX_OK;
out:
  apex_json_free(doc);
  return rc;
}

apex_err apex_app_portfolio_create(apex_app *app, const char *user_id, const char *body, size_t len,
                                   apex_portfolio_row *out, apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  snprintf(out->base_currency, sizeof out->base_currency, "EUR");
  out->is_paper = true;
  out->is_active = true;
  if (read_fields(body, len, true, out, e))
    return APEX_EINVAL;
  if (apex_app_new_id(out->id))
    return apex_app_raise(e, APEX_E_INTERNAL, "cannot make an id");
  snprintf(out->user_id, sizeof out->user_id, "%s", user_id);
  out->created_at = out->updated_at = app->now_ms();
  if (apex_store_portfolio_insert(app->store, out, &err))
    return apex_app_store_failed(e, &err);
  return APEX_OK;
}

apex_err apex_app_portfolio_get(apex_app *app, const char *user_id, const char *id, apex_portfolio_row *out,
                                apex_app_error *e)
{
  apex_error err;
  memset(out, 0, sizeof *out);
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_portfolio_get(app->store, user_id, id, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_portfolio_list(apex_app *app, const char *user_id, const apex_page *p, apex_json **items,
                                 int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  apex_portfolio_row *rows = calloc((size_t)p->limit, sizeof *rows);
  if (!rows)
    return oom(e);
  if (apex_store_portfolio_list(app->store, user_id, p, rows, &n, total, &err)) {
    free(rows);
    return apex_app_store_failed(e, &err);
  }
  *items = apex_json_new_array();
  for (size_t i = 0; i < n; i++) {
    apex_json_array_append(*items, apex_app_portfolio_json(&rows[i]));
    apex_portfolio_row_clear(&rows[i]);
  }
  free(rows);
  return *items ? APEX_OK : oom(e);
}

apex_err apex_app_portfolio_update(apex_app *app, const char *user_id, const char *id, const char *body, size_t len,
                                   apex_portfolio_row *out, apex_app_error *e)
{
  *out = (apex_portfolio_row){0};
  apex_error err;
  if (apex_app_portfolio_get(app, user_id, id, out, e))
    return APEX_EINVAL;
  if (read_fields(body, len, false, out, e))
    return APEX_EINVAL;
  out->updated_at = app->now_ms();
  apex_err rc = apex_store_portfolio_update(app->store, out, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

apex_err apex_app_portfolio_delete(apex_app *app, const char *user_id, const char *id, apex_app_error *e)
{
  apex_error err;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_err rc = apex_store_portfolio_delete(app->store, user_id, id, &err);
  if (rc == APEX_ENOTFOUND)
    return not_found(e, id);
  return rc ? apex_app_store_failed(e, &err) : APEX_OK;
}

/* --- JSON --- */

/* Money and quantities as exact decimal strings; APEX_DEC_NONE (no value yet) as null. */
static apex_json *dec_or_null(apex_dec d) { return d == APEX_DEC_NONE ? apex_json_new_null() : apex_json_new_decimal(d); }

static apex_json *pct(apex_dec d) /* percentages: numbers, as elsewhere in the API */
{
  return d == APEX_DEC_NONE ? apex_json_new_null() : apex_json_new_number(apex_dec_to_double(d));
}

static apex_json *opt_str(const char *s) { return s && *s ? apex_json_new_string(s) : apex_json_new_null(); }

apex_json *apex_app_portfolio_json(const apex_portfolio_row *r)
{
  apex_json *j = apex_json_new_object();
  if (!j)
    return NULL;
  apex_json_object_set(j, "id", apex_json_new_string(r->id));
  apex_json_object_set(j, "name", apex_json_new_string(r->name));
  apex_json_object_set(j, "description", opt_str(r->description));
  apex_json_object_set(j, "base_currency", apex_json_new_string(r->base_currency));
  apex_json_object_set(j, "is_paper", apex_json_new_bool(r->is_paper));
  apex_json_object_set(j, "broker", opt_str(r->broker));
  apex_json_object_set(j, "initial_balance", dec_or_null(r->initial_balance));
  apex_json_object_set(j, "cash_balance", dec_or_null(r->cash_balance));
  apex_json_object_set(j, "is_active", apex_json_new_bool(r->is_active));
  apex_json_object_set(j, "created_at", apex_app_json_time(r->created_at));
  apex_json_object_set(j, "updated_at", apex_app_json_time(r->updated_at));
  return j;
}

static apex_json *position_json(const apex_position_row *p)
{
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "id", apex_json_new_string(p->id));
  apex_json_object_set(j, "portfolio_id", apex_json_new_string(p->portfolio_id));
  apex_json_object_set(j, "symbol", apex_json_new_string(p->symbol));
  apex_json_object_set(j, "quantity", dec_or_null(p->quantity));
  apex_json_object_set(j, "average_entry_price", dec_or_null(p->average_entry_price));
  apex_json_object_set(j, "current_price", dec_or_null(p->current_price));
  apex_json_object_set(j, "unrealized_pnl", dec_or_null(p->unrealized_pnl));
  apex_json_object_set(j, "unrealized_pnl_pct", pct(p->unrealized_pnl_pct));
  apex_json_object_set(j, "is_open", apex_json_new_bool(p->is_open));
  apex_json_object_set(j, "opened_at", apex_app_json_time(p->opened_at));
  apex_json_object_set(j, "closed_at", apex_app_json_time(p->closed_at));
  apex_json_object_set(j, "updated_at", apex_app_json_time(p->updated_at));
  return j;
}

static apex_json *trade_json(const apex_portfolio_trade_row *t)
{
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "id", apex_json_new_string(t->id));
  apex_json_object_set(j, "portfolio_id", apex_json_new_string(t->portfolio_id));
  apex_json_object_set(j, "strategy_id", opt_str(t->strategy_id));
  apex_json_object_set(j, "symbol", apex_json_new_string(t->symbol));
  apex_json_object_set(j, "side", apex_json_new_string(t->side));
  apex_json_object_set(j, "order_type", apex_json_new_string(t->order_type));
  apex_json_object_set(j, "quantity", dec_or_null(t->quantity));
  apex_json_object_set(j, "price", dec_or_null(t->price));
  apex_json_object_set(j, "filled_quantity", dec_or_null(t->filled_quantity));
  apex_json_object_set(j, "filled_price", dec_or_null(t->filled_price));
  apex_json_object_set(j, "commission", dec_or_null(t->commission));
  apex_json_object_set(j, "slippage", dec_or_null(t->slippage));
  apex_json_object_set(j, "status", apex_json_new_string(t->status));
  apex_json_object_set(j, "broker_order_id", opt_str(t->broker_order_id));
  apex_json_object_set(j, "realized_pnl", dec_or_null(t->realized_pnl));
  apex_json_object_set(j, "is_paper", apex_json_new_bool(t->is_paper));
  apex_json_object_set(j, "created_at", apex_app_json_time(t->created_at));
  apex_json_object_set(j, "submitted_at", apex_app_json_time(t->submitted_at));
  apex_json_object_set(j, "filled_at", apex_app_json_time(t->filled_at));
  apex_json_object_set(j, "error", opt_str(t->error));
  return j;
}

static apex_json *equity_json(const apex_equity_row *q)
{
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "time", apex_app_json_time(q->time));
  apex_json_object_set(j, "equity_value", dec_or_null(q->equity_value));
  apex_json_object_set(j, "cash_balance", dec_or_null(q->cash_balance));
  apex_json_object_set(j, "positions_value", dec_or_null(q->positions_value));
  apex_json_object_set(j, "daily_pnl", dec_or_null(q->daily_pnl));
  apex_json_object_set(j, "daily_pnl_pct", pct(q->daily_pnl_pct));
  return j;
}

/* --- sub-resources --- */

static apex_err child_failed(apex_app_error *e, apex_err rc, const char *id, const apex_error *err)
{
  return rc == APEX_ENOTFOUND ? not_found(e, id) : rc == APEX_ENOMEM ? oom(e) : apex_app_store_failed(e, err);
}

apex_err apex_app_portfolio_positions(apex_app *app, const char *user_id, const char *id, int page, int limit,
                                      apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_position_row *rows = calloc((size_t)limit, sizeof *rows);
  if (!rows)
    return oom(e);
  apex_err rc = apex_store_positions(app->store, user_id, id, true, page, limit, rows, &n, total, &err);
  if (!rc) {
    *items = apex_json_new_array();
    for (size_t i = 0; i < n; i++)
      apex_json_array_append(*items, position_json(&rows[i]));
  }
  free(rows);
  return rc ? child_failed(e, rc, id, &err) : *items ? APEX_OK : oom(e);
}

apex_err apex_app_portfolio_trades(apex_app *app, const char *user_id, const char *id, int page, int limit,
                                   apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_portfolio_trade_row *rows = calloc((size_t)limit, sizeof *rows);
  if (!rows)
    return oom(e);
  apex_err rc = apex_store_portfolio_trades(app->store, user_id, id, page, limit, rows, &n, total, &err);
  if (!rc) {
    *items = apex_json_new_array();
    for (size_t i = 0; i < n; i++)
      apex_json_array_append(*items, trade_json(&rows[i]));
  }
  free(rows);
  return rc ? child_failed(e, rc, id, &err) : *items ? APEX_OK : oom(e);
}

apex_err apex_app_portfolio_equity(apex_app *app, const char *user_id, const char *id, int page, int limit,
                                   apex_json **items, int64_t *total, apex_app_error *e)
{
  apex_error err;
  size_t n = 0;
  *items = NULL;
  if (!apex_app_id_ok(id))
    return not_found(e, id);
  apex_equity_row *rows = calloc((size_t)limit, sizeof *rows);
  if (!rows)
    return oom(e);
  apex_err rc = apex_store_equity(app->store, user_id, id, page, limit, rows, &n, total, &err);
  if (!rc) {
    *items = apex_json_new_array();
    for (size_t i = 0; i < n; i++)
      apex_json_array_append(*items, equity_json(&rows[i]));
  }
  free(rows);
  return rc ? child_failed(e, rc, id, &err) : *items ? APEX_OK : oom(e);
}

/* --- performance --- */

/* A closing trade as metrics see it. The trade row has no entry price: for a long closed by this
 * fill, entry notional = exit notional - realized P&L (commissions aside, which moves the % by a
 * hair, never the P&L itself). false for trades that closed nothing. */
static bool closed_trade(const apex_portfolio_trade_row *t, apex_metrics_trade *out)
{
  if (t->realized_pnl == APEX_DEC_NONE || strcmp(t->status, "filled") || t->filled_price == APEX_DEC_NONE)
    return false;
  double exit_notional = apex_dec_to_double(t->filled_quantity) * apex_dec_to_double(t->filled_price);
  double pnl = apex_dec_to_double(t->realized_pnl);
  double entry = exit_notional - pnl;
  if (entry < 0)
    entry = -entry;
  if (entry == 0)
    entry = exit_notional;
  if (entry == 0)
    return false;
  int64_t at = t->filled_at ? t->filled_at : t->created_at;
  *out = (apex_metrics_trade){at, at, entry, pnl};
  return true;
}

/* Every closed trade into *out (malloc'd, caller frees); *periods: 365 when a traded symbol is a
 * crypto pair (or nothing traded yet: paper trading starts on crypto), 252 when all are stocks. */
static apex_err closed_trades(apex_app *app, const char *user_id, const char *id, apex_metrics_trade **out,
                              size_t *n_out, int *periods, apex_error *err)
{
  apex_portfolio_trade_row *rows = calloc(SCAN_PAGE, sizeof *rows);
  apex_metrics_trade *v = NULL;
  size_t cap = 0, n = 0;
  int64_t total = 0;
  bool any = false, crypto = false;
  apex_err rc = APEX_OK;
  *n_out = 0;
  if (!rows) {
    rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
    goto out;
  }
  for (int page = 1;; page++) {
    if ((rc = apex_store_portfolio_trades(app->store, user_id, id, page, SCAN_PAGE, rows, &n, &total, err)))
      goto out;
    for (size_t i = 0; i < n; i++) {
      apex_metrics_trade mt;
      any = true;
      crypto = crypto || apex_metrics_periods_per_year(rows[i].symbol) == 365;
      if (!closed_trade(&rows[i], &mt))
        continue;
      if (*n_out == cap) {
        size_t nc = cap ? cap * 2 : 64;
        apex_metrics_trade *nv = realloc(v, nc * sizeof *nv);
        if (!nv) {
          rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
          goto out;
        }
        v = nv;
        cap = nc;
      }
      v[(*n_out)++] = mt;
    }
    if (n < SCAN_PAGE)
      break;
  }
  *periods = !any || crypto ? 365 : 252;
out:
  free(rows);
  if (rc) {
    free(v);
    v = NULL;
    *n_out = 0;
  }
  *out = v;
  return rc;
}

static apex_err feed_equity(apex_app *app, const char *user_id, const char *id, apex_metrics_acc *acc,
                            apex_equity_row *first, apex_equity_row *last, size_t *count, apex_error *err)
{
  apex_equity_row *rows = calloc(SCAN_PAGE, sizeof *rows);
  int64_t total = 0;
  size_t n = 0;
  apex_err rc = APEX_OK;
  *count = 0;
  if (!rows)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  for (int page = 1; !rc; page++) {
    if ((rc = apex_store_equity(app->store, user_id, id, page, SCAN_PAGE, rows, &n, &total, err)))
      break;
    for (size_t i = 0; i < n && !rc; i++) {
      if (!*count)
        *first = rows[i];
      *last = rows[i];
      (*count)++;
      rc = apex_metrics_acc_bar(acc, rows[i].time, apex_dec_to_double(rows[i].equity_value),
                                rows[i].positions_value != 0);
      if (rc == APEX_ENOMEM)
        apex_error_set(err, rc, "out of memory");
    }
    if (n < SCAN_PAGE)
      break;
  }
  free(rows);
  return rc;
}

apex_err apex_app_portfolio_performance(apex_app *app, const char *user_id, const char *id, apex_json **out,
                                        apex_app_error *e)
{
  apex_portfolio_row pf = {0};
  apex_metrics m = {0};
  apex_metrics_acc *acc = NULL;
  apex_metrics_trade *trades = NULL;
  size_t n_trades = 0;
  apex_equity_row first = {0}, last = {0};
  size_t points = 0;
  int periods = 365;
  apex_error err = {0};
  apex_err rc;

  *out = NULL;
  if (apex_app_portfolio_get(app, user_id, id, &pf, e))
    return APEX_EINVAL;
  double initial = apex_dec_to_double(pf.initial_balance);
  /* The trades decide the annualisation, so they are read before the accumulator is made. */
  if ((rc = closed_trades(app, user_id, id, &trades, &n_trades, &periods, &err))) {
    rc = child_failed(e, rc, id, &err);
    goto out;
  }
  if (!(acc = apex_metrics_acc_new(initial, periods))) {
    rc = oom(e);
    goto out;
  }
  for (size_t i = 0; i < n_trades; i++)
    (void)apex_metrics_acc_trade(acc, &trades[i]); /* one metrics refuse (not finite) is left out */
  if ((rc = feed_equity(app, user_id, id, acc, &first, &last, &points, &err)) ||
      (rc = apex_metrics_acc_finish(acc, &m))) {
    rc = child_failed(e, rc, id, &err);
    goto out;
  }
  apex_json *j = apex_json_new_object(), *months = apex_json_new_array();
  apex_json_object_set(j, "portfolio_id", apex_json_new_string(pf.id));
  apex_json_object_set(j, "base_currency", apex_json_new_string(pf.base_currency));
  apex_json_object_set(j, "initial_balance", dec_or_null(pf.initial_balance));
  apex_json_object_set(j, "cash_balance", dec_or_null(pf.cash_balance));
  /* With no history yet the equity is the cash (a new portfolio holds nothing). */
  apex_json_object_set(j, "current_equity", dec_or_null(points ? last.equity_value : pf.cash_balance));
  apex_json_object_set(j, "total_return_pct", apex_json_new_number(m.total_return_pct));
  apex_json_object_set(j, "cagr_pct", apex_json_new_number(m.cagr_pct));
  apex_json_object_set(j, "sharpe_ratio", apex_json_new_number(m.sharpe_ratio));
  apex_json_object_set(j, "sortino_ratio", apex_json_new_number(m.sortino_ratio));
  apex_json_object_set(j, "max_drawdown_pct", apex_json_new_number(m.max_drawdown_pct));
  apex_json_object_set(j, "max_drawdown_duration_days",
                       apex_json_new_number((double)m.max_drawdown_duration_ms / 86400000.0));
  apex_json_object_set(j, "total_trades", apex_json_new_integer((int64_t)m.total_trades));
  apex_json_object_set(j, "winning_trades", apex_json_new_integer((int64_t)m.winning_trades));
  apex_json_object_set(j, "losing_trades", apex_json_new_integer((int64_t)m.losing_trades));
  apex_json_object_set(j, "win_rate_pct", apex_json_new_number(m.win_rate_pct));
  /* INFINITY (profits, no losses) becomes null, as in backtest results. */
  apex_json_object_set(j, "profit_factor", apex_json_new_number(m.profit_factor));
  apex_json_object_set(j, "avg_trade_pct", apex_json_new_number(m.avg_trade_pct));
  apex_json_object_set(j, "best_trade_pct", apex_json_new_number(m.best_trade_pct));
  apex_json_object_set(j, "worst_trade_pct", apex_json_new_number(m.worst_trade_pct));
  apex_json_object_set(j, "exposure_pct", apex_json_new_number(m.exposure_pct));
  apex_json_object_set(j, "periods_per_year", apex_json_new_integer(periods));
  apex_json_object_set(j, "equity_points", apex_json_new_integer((int64_t)points));
  apex_json_object_set(j, "start", points ? apex_app_json_time(first.time) : apex_json_new_null());
  apex_json_object_set(j, "end", points ? apex_app_json_time(last.time) : apex_json_new_null());
  for (size_t i = 0; i < m.n_monthly; i++) {
    apex_json *mo = apex_json_new_object();
    char mb[16];
    snprintf(mb, sizeof mb, "%04d-%02d", m.monthly[i].year, m.monthly[i].month);
    apex_json_object_set(mo, "month", apex_json_new_string(mb));
    apex_json_object_set(mo, "return_pct", apex_json_new_number(m.monthly[i].return_pct));
    apex_json_array_append(months, mo);
  }
  apex_json_object_set(j, "monthly_returns", months);
  *out = j;
  rc = j ? APEX_OK : oom(e);
out:
  apex_metrics_clear(&m);
  apex_metrics_acc_free(acc);
  free(trades);
  apex_portfolio_row_clear(&pf);
  return rc;
}
