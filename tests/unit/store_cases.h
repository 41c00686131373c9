/* store_cases.h - the store.h contract checked against one backend: included by test_store_sqlite.c
 * and test_store_pg.c, which each define store_open_fresh() and the Criterion tests that call these.
 * Every run makes new random ids, symbols and emails, so a shared PostgreSQL database needs no reset. */
#ifndef APEX_TEST_STORE_CASES_H
#define APEX_TEST_STORE_CASES_H

#include <criterion/criterion.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/sql.h" /* case_stmt_cache talks to the driver under store.h */
#include "store/store.h"

#define OK(expr)                                                                                   \
  do {                                                                                             \
    apex_error e_ = {0};                                                                           \
    (void)e_;                                                                                      \
    apex_err rc_ = (expr);                                                                         \
    cr_assert_eq(rc_, APEX_OK, "%s: %s", #expr, apex_err_name(rc_));                               \
  } while (0)
#define ERR(want, expr)                                                                            \
  do {                                                                                             \
    apex_err rc_ = (expr);                                                                         \
    cr_assert_eq(rc_, (want), "%s: got %s, wanted %s", #expr, apex_err_name(rc_), apex_err_name(want)); \
  } while (0)

static _Thread_local uint64_t case_rng; /* threads in case_threads draw their own */

static uint64_t case_rand(void)
{
  if (!case_rng) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    case_rng = ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)ts.tv_sec ^ ((uint64_t)getpid() << 40) ^ 0x9E3779B97F4A7C15ULL ^
               (uint64_t)(uintptr_t)&case_rng;
  }
  case_rng ^= case_rng << 13;
  case_rng ^= case_rng >> 7;
  case_rng ^= case_rng << 17;
  return case_rng;
}

static void new_id(apex_id id)
{
  uint64_t a = case_rand(), b = case_rand();
  snprintf(id, APEX_ID_LEN, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64,
           a >> 32, (a >> 16) & 0xffff, a & 0xfff, b >> 52, b & UINT64_C(0xffffffffffff));
}

static void make_user(apex_store *s, apex_user *u)
{
  apex_error err = {0};
  memset(u, 0, sizeof *u);
  new_id(u->id);
  snprintf(u->email, sizeof u->email, "user-%" PRIx64 "@example.com", case_rand());
  strcpy(u->password_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");
  strcpy(u->first_name, "Ada");
  strcpy(u->timezone, "Europe/Paris");
  strcpy(u->preferred_currency, "EUR");
  u->is_active = true;
  u->created_at = u->updated_at = 1700000000123;
  cr_assert_eq(apex_store_user_insert(s, u, &err), APEX_OK, "%s", err.msg);
}

static void make_strategy(apex_strategy_row *r, const char *user_id, const char *symbol, const char *status,
                          int64_t created)
{
  memset(r, 0, sizeof *r);
  new_id(r->id);
  strcpy(r->user_id, user_id);
  snprintf(r->name, sizeof r->name, "strategy %" PRId64, created);
  strcpy(r->symbol, symbol);
  strcpy(r->timeframe, "1h");
  /* JSONB prints {"a": 1} back exactly like this, so the text compares equal on both backends. */
  r->definition = (char *)"{\"entry\": \"rsi(14) < 30\"}";
  r->stop_loss_pct = 2 * APEX_DEC_SCALE;
  r->take_profit_pct = -1;
  r->max_position_size_pct = 10 * APEX_DEC_SCALE;
  r->max_drawdown_pct = -1;
  r->version = 1;
  strcpy(r->status, status);
  r->created_at = r->updated_at = created;
}

static void case_migrate_twice(apex_store *s)
{
  apex_error err = {0};
  char buf[4096];
  cr_assert_eq(apex_store_migrate(s, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migrate(s, &err), APEX_OK, "second migrate: %s", err.msg);
  OK(apex_store_migration_status(s, buf, sizeof buf, &err));
  cr_assert(strstr(buf, "0001_init applied 20"), "status: %s", buf);
  cr_assert_null(strstr(buf, "pending"), "status: %s", buf);
  ERR(APEX_ETOOBIG, apex_store_migration_status(s, buf, 8, &err));
  OK(apex_store_ping(s, &err));
  int in_use = -1, size = -1;
  apex_store_pool_stats(s, &in_use, &size);
  cr_assert_eq(in_use, 0);
  cr_assert_geq(size, 1);
}

static void case_users(apex_store *s)
{
  apex_error err = {0};
  apex_user u, v, w;
  make_user(s, &u);

  w = u;
  new_id(w.id);
  ERR(APEX_ECONFLICT, apex_store_user_insert(s, &w, &err));
  for (char *p = w.email; *p; p++) /* the same address in capitals is the same user */
    *p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
  ERR(APEX_ECONFLICT, apex_store_user_insert(s, &w, &err));

  OK(apex_store_user_by_email(s, u.email, &v, &err));
  cr_assert_str_eq(v.id, u.id);
  cr_assert_str_eq(v.first_name, "Ada");
  cr_assert_str_eq(v.last_name, "");
  cr_assert(v.is_active && !v.is_verified);
  cr_assert_eq(v.created_at, 1700000000123);
  cr_assert_eq(v.last_login_at, 0);

  u.last_login_at = 1700000999456;
  u.updated_at = 1700000999456;
  u.is_verified = true;
  strcpy(u.timezone, "America/New_York");
  strcpy(u.preferred_currency, "USD");
  strcpy(u.email, "ignored@example.com"); /* update keeps the email */
  OK(apex_store_user_update(s, &u, &err));
  OK(apex_store_user_by_id(s, u.id, &v, &err));
  cr_assert_eq(v.last_login_at, 1700000999456);
  cr_assert(v.is_verified);
  cr_assert_str_eq(v.timezone, "America/New_York");
  cr_assert_str_eq(v.preferred_currency, "USD");
  cr_assert_neq(strcmp(v.email, "ignored@example.com"), 0);

  apex_id nobody;
  new_id(nobody);
  ERR(APEX_ENOTFOUND, apex_store_user_by_id(s, nobody, &v, &err));
  ERR(APEX_ENOTFOUND, apex_store_user_by_id(s, "not-a-uuid", &v, &err));
  ERR(APEX_ENOTFOUND, apex_store_user_by_email(s, "nobody@example.com", &v, &err));
  strcpy(u.id, nobody);
  ERR(APEX_ENOTFOUND, apex_store_user_update(s, &u, &err));
}

static void make_token(apex_token *t, const char *user_id, const char *family, const char *kind)
{
  memset(t, 0, sizeof *t);
  snprintf(t->hash, sizeof t->hash, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, case_rand(),
           case_rand(), case_rand(), case_rand());
  strcpy(t->user_id, user_id);
  strcpy(t->family, family);
  strcpy(t->kind, kind);
  t->expires_at = 1700604800000;
}

static void case_tokens(apex_store *s)
{
  apex_error err = {0};
  apex_user u;
  apex_token a, b, r, got;
  apex_id fam, nobody;
  make_user(s, &u);
  new_id(fam);
  make_token(&a, u.id, fam, "refresh");
  make_token(&b, u.id, fam, "refresh");
  make_token(&r, u.id, "", "reset");
  OK(apex_store_token_insert(s, &a, &err));
  OK(apex_store_token_insert(s, &b, &err));
  OK(apex_store_token_insert(s, &r, &err));
  ERR(APEX_ECONFLICT, apex_store_token_insert(s, &a, &err));
  new_id(nobody);
  apex_token orphan;
  make_token(&orphan, nobody, fam, "refresh");
  ERR(APEX_ENOTFOUND, apex_store_token_insert(s, &orphan, &err));

  OK(apex_store_token_get(s, a.hash, &got, &err));
  cr_assert_str_eq(got.user_id, u.id);
  cr_assert_str_eq(got.family, fam);
  cr_assert_str_eq(got.kind, "refresh");
  cr_assert_eq(got.expires_at, 1700604800000);
  cr_assert(!got.used && !got.revoked);

  OK(apex_store_token_use(s, a.hash, &err));
  ERR(APEX_ECONFLICT, apex_store_token_use(s, a.hash, &err)); /* reuse */
  ERR(APEX_ENOTFOUND, apex_store_token_use(s, orphan.hash, &err));
  OK(apex_store_token_get(s, a.hash, &got, &err));
  cr_assert(got.used);

  OK(apex_store_token_revoke_family(s, fam, &err));
  OK(apex_store_token_get(s, b.hash, &got, &err));
  cr_assert(got.revoked && !got.used);
  OK(apex_store_token_get(s, r.hash, &got, &err));
  cr_assert(!got.revoked, "a reset token is in no family");

  OK(apex_store_token_revoke_user(s, u.id, "reset", &err));
  OK(apex_store_token_get(s, r.hash, &got, &err));
  cr_assert(got.revoked);
  ERR(APEX_ENOTFOUND, apex_store_token_get(s, orphan.hash, &got, &err));
}

static void case_strategies(apex_store *s)
{
  apex_error err = {0};
  apex_user a, b;
  apex_strategy_row r[5], got, rows[4], vers[4];
  size_t n;
  int64_t total;
  make_user(s, &a);
  make_user(s, &b);
  static const char *const SYM[] = {"BTC/USDT", "ETH/USDT", "BTC/USDT", "BTC/USDT", "ETH/USDT"};
  static const char *const ST[] = {"draft", "draft", "active", "draft", "archived"};
  for (int i = 0; i < 5; i++) {
    make_strategy(&r[i], a.id, SYM[i], ST[i], 1700000000000 + i * 1000);
    OK(apex_store_strategy_insert(s, &r[i], &err));
  }
  r[0].description = (char *)"first";
  ERR(APEX_ECONFLICT, apex_store_strategy_insert(s, &r[0], &err));
  r[0].description = NULL;

  OK(apex_store_strategy_get(s, a.id, r[2].id, &got, &err));
  cr_assert_str_eq(got.name, r[2].name);
  cr_assert_str_eq(got.symbol, "BTC/USDT");
  cr_assert_str_eq(got.definition, r[2].definition);
  cr_assert_null(got.description);
  cr_assert_eq(got.stop_loss_pct, 2 * APEX_DEC_SCALE);
  cr_assert_eq(got.take_profit_pct, -1);
  cr_assert_eq(got.max_drawdown_pct, -1);
  cr_assert_eq(got.version, 1);
  cr_assert_str_eq(got.status, "active");
  cr_assert_str_eq(got.trading_mode, "");
  cr_assert_eq(got.created_at, 1700000002000);
  cr_assert_eq(got.activated_at, 0);
  apex_strategy_row_clear(&got);
  OK(apex_store_strategy_get(s, NULL, r[2].id, &got, &err)); /* jobs read any user's */
  apex_strategy_row_clear(&got);

  apex_page p = {.page = 1, .limit = 2};
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 5);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(rows[0].id, r[0].id);
  cr_assert_str_eq(rows[1].id, r[1].id);
  cr_assert_str_eq(rows[0].name, r[0].name);
  cr_assert_null(rows[0].definition, "a list leaves the documents out");
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&rows[i]);
  p.page = 2;
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 2);
  cr_assert_str_eq(rows[0].id, r[2].id);
  cr_assert_str_eq(rows[1].id, r[3].id);
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&rows[i]);
  p.page = 3;
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 1);
  apex_strategy_row_clear(&rows[0]);
  p.page = 4;
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 0);
  cr_assert_eq(total, 5);

  p = (apex_page){.page = 1, .limit = 4, .desc = true};
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 4);
  cr_assert_str_eq(rows[0].id, r[4].id);
  cr_assert_str_eq(rows[3].id, r[1].id);
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&rows[i]);

  p = (apex_page){.page = 1, .limit = 4, .status = "draft"};
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 3);
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&rows[i]);
  p = (apex_page){.page = 1, .limit = 4, .status = "draft", .symbol = "BTC/USDT"};
  OK(apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 2);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(rows[0].id, r[0].id);
  cr_assert_str_eq(rows[1].id, r[3].id);
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&rows[i]);
  p = (apex_page){.page = 1, .limit = 4};
  OK(apex_store_strategy_list(s, b.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 0);
  cr_assert_eq(n, 0);
  p.page = 0;
  ERR(APEX_EINVAL, apex_store_strategy_list(s, a.id, &p, rows, &n, &total, &err));

  /* update: version 2 is stored; a stale version 1 loses */
  apex_strategy_row u = r[1];
  u.version = 2;
  u.definition = (char *)"{\"entry\": \"rsi(14) < 25\"}";
  u.description = (char *)"tighter";
  strcpy(u.status, "active");
  strcpy(u.trading_mode, "paper");
  u.activated_at = u.updated_at = 1700000100000;
  OK(apex_store_strategy_update(s, &u, &err));
  OK(apex_store_strategy_get(s, a.id, u.id, &got, &err));
  cr_assert_eq(got.version, 2);
  cr_assert_str_eq(got.definition, u.definition);
  cr_assert_str_eq(got.description, "tighter");
  cr_assert_str_eq(got.trading_mode, "paper");
  cr_assert_eq(got.activated_at, 1700000100000);
  cr_assert_eq(got.created_at, r[1].created_at);
  apex_strategy_row_clear(&got);
  int64_t vtotal = 0;
  OK(apex_store_strategy_versions(s, a.id, u.id, 1, 4, vers, &n, &vtotal, &err));
  cr_assert_eq(n, 2);
  cr_assert_eq(vtotal, 2);
  cr_assert_eq(vers[0].version, 2);
  cr_assert_eq(vers[1].version, 1);
  cr_assert_null(vers[0].definition, "a page of versions carries no documents");
  cr_assert_eq(vers[0].created_at, 1700000100000);
  for (size_t i = 0; i < n; i++)
    apex_strategy_row_clear(&vers[i]);
  OK(apex_store_strategy_versions(s, a.id, u.id, 2, 1, vers, &n, &vtotal, &err)); /* page 2 of 1 a page */
  cr_assert(n == 1 && vtotal == 2 && vers[0].version == 1);
  apex_strategy_row_clear(&vers[0]);
  OK(apex_store_strategy_versions(s, a.id, u.id, 3, 1, vers, &n, &vtotal, &err)); /* past the end */
  cr_assert(n == 0 && vtotal == 2);
  OK(apex_store_strategy_version(s, a.id, u.id, 2, &vers[0], &err));
  cr_assert_str_eq(vers[0].definition, u.definition);
  apex_strategy_row_clear(&vers[0]);
  OK(apex_store_strategy_version(s, a.id, u.id, 1, &vers[0], &err));
  cr_assert_str_eq(vers[0].definition, r[1].definition);
  apex_strategy_row_clear(&vers[0]);
  ERR(APEX_ENOTFOUND, apex_store_strategy_version(s, a.id, u.id, 3, &vers[0], &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_version(s, b.id, u.id, 1, &vers[0], &err));
  apex_strategy_row stale = r[1];
  ERR(APEX_ECONFLICT, apex_store_strategy_update(s, &stale, &err));

  /* another user's id: as if it did not exist */
  apex_strategy_row theirs = u;
  strcpy(theirs.user_id, b.id);
  theirs.version = 3;
  ERR(APEX_ENOTFOUND, apex_store_strategy_get(s, b.id, u.id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_update(s, &theirs, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_versions(s, b.id, u.id, 1, 4, vers, &n, &vtotal, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_delete(s, b.id, u.id, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_get(s, a.id, "not-a-uuid", &got, &err));

  OK(apex_store_strategy_delete(s, a.id, u.id, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_get(s, a.id, u.id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_delete(s, a.id, u.id, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_versions(s, a.id, u.id, 1, 4, vers, &n, &vtotal, &err));
}

static void case_decimals(apex_store *s)
{
  apex_error err = {0};
  apex_user a;
  apex_strategy_row r, got;
  make_user(s, &a);
  make_strategy(&r, a.id, "XRP/EUR", "draft", 1700000000000);
  r.stop_loss_pct = 1;                 /* 0.00000001 */
  r.take_profit_pct = APEX_DEC_MAX;    /* 92233720368.54775807 */
  r.max_position_size_pct = 0;
  r.max_drawdown_pct = 12345678912345; /* 123456.78912345 */
  OK(apex_store_strategy_insert(s, &r, &err));
  OK(apex_store_strategy_get(s, a.id, r.id, &got, &err));
  cr_assert_eq(got.stop_loss_pct, 1);
  cr_assert_eq(got.take_profit_pct, APEX_DEC_MAX);
  cr_assert_eq(got.max_position_size_pct, 0);
  cr_assert_eq(got.max_drawdown_pct, 12345678912345);
  apex_strategy_row_clear(&got);

  apex_backtest_row b = {0}, gb;
  new_id(b.id);
  strcpy(b.user_id, a.id);
  strcpy(b.strategy_id, r.id);
  b.initial_capital = APEX_DEC_MAX;
  b.commission_pct = 1;
  b.slippage_pct = 50000;
  b.created_at = 1700000000000;
  OK(apex_store_backtest_insert(s, &b, &err));
  OK(apex_store_backtest_get(s, a.id, b.id, &gb, &err));
  cr_assert_eq(gb.initial_capital, APEX_DEC_MAX);
  cr_assert_eq(gb.commission_pct, 1);
  cr_assert_eq(gb.slippage_pct, 50000);
  apex_backtest_row_clear(&gb);

  apex_trade_row t = {.entry_time = 1, .exit_time = 2, .quantity = 1, .entry_price = APEX_DEC_MAX,
                      .exit_price = APEX_DEC_MAX - 1, .gross_pnl = APEX_DEC_MIN, .net_pnl = -1, .commission = 0,
                      .exit_reason = "signal"};
  int64_t et = 1;
  double ev = 0.00000001;
  OK(apex_store_backtest_finish(s, b.id, "{}", &t, 1, &et, &ev, 1, 1700000001000, &err));
  apex_trade_row back;
  size_t n;
  int64_t total;
  OK(apex_store_backtest_trades(s, a.id, b.id, 1, 1, &back, &n, &total, &err));
  cr_assert_eq(n, 1);
  cr_assert_eq(back.quantity, 1);
  cr_assert_eq(back.entry_price, APEX_DEC_MAX);
  cr_assert_eq(back.exit_price, APEX_DEC_MAX - 1);
  cr_assert_eq(back.gross_pnl, APEX_DEC_MIN);
  cr_assert_eq(back.net_pnl, -1);
  double v;
  OK(apex_store_backtest_equity(s, a.id, b.id, 1, 1, &et, &v, &n, &total, &err));
  cr_assert_eq(v, 0.00000001);
}

static void case_backtests(apex_store *s)
{
  apex_error err = {0};
  apex_user a, b;
  apex_strategy_row r, rb;
  make_user(s, &a);
  make_user(s, &b);
  make_strategy(&r, a.id, "BTC/USDT", "draft", 1700000000000);
  make_strategy(&rb, b.id, "ETH/USDT", "draft", 1700000000000);
  OK(apex_store_strategy_insert(s, &r, &err));
  OK(apex_store_strategy_insert(s, &rb, &err));

  apex_backtest_row bt[3];
  for (int i = 0; i < 3; i++) {
    memset(&bt[i], 0, sizeof bt[i]);
    new_id(bt[i].id);
    strcpy(bt[i].user_id, a.id);
    strcpy(bt[i].strategy_id, r.id);
    bt[i].start_date = 1600000000000;
    bt[i].initial_capital = 10000 * APEX_DEC_SCALE;
    bt[i].commission_pct = 10000000; /* 0.1 % */
    bt[i].slippage_pct = 5000000;
    strcpy(bt[i].status, "pending");
    bt[i].created_at = 1700000000000 + i;
    OK(apex_store_backtest_insert(s, &bt[i], &err));
  }
  apex_backtest_row x = bt[0];
  new_id(x.id);
  strcpy(x.strategy_id, rb.id); /* b's strategy, a's backtest */
  ERR(APEX_ENOTFOUND, apex_store_backtest_insert(s, &x, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_insert(s, &bt[0], &err));

  apex_backtest_row got;
  OK(apex_store_backtest_get(s, a.id, bt[0].id, &got, &err));
  cr_assert_str_eq(got.status, "pending");
  cr_assert_eq(got.start_date, 1600000000000);
  cr_assert_eq(got.end_date, 0);
  cr_assert_eq(got.started_at, 0);
  cr_assert_null(got.result);
  apex_backtest_row_clear(&got);
  ERR(APEX_ENOTFOUND, apex_store_backtest_get(s, b.id, bt[0].id, &got, &err));
  OK(apex_store_backtest_get(s, NULL, bt[0].id, &got, &err));
  apex_backtest_row_clear(&got);

  apex_backtest_row rows[3];
  size_t n;
  int64_t total;
  apex_page p = {.page = 1, .limit = 2, .desc = true};
  OK(apex_store_backtest_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 3);
  cr_assert_eq(n, 2);
  cr_assert_str_eq(rows[0].id, bt[2].id);
  for (size_t i = 0; i < n; i++)
    apex_backtest_row_clear(&rows[i]);
  OK(apex_store_backtest_list(s, b.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 0);

  OK(apex_store_backtest_set_status(s, bt[0].id, "running", 10, NULL, 1700000005000, &err));
  OK(apex_store_backtest_set_status(s, bt[0].id, "running", 50, NULL, 1700000006000, &err));
  OK(apex_store_backtest_get(s, a.id, bt[0].id, &got, &err));
  cr_assert_str_eq(got.status, "running");
  cr_assert_eq(got.progress_pct, 50);
  cr_assert_eq(got.started_at, 1700000005000);
  apex_backtest_row_clear(&got);
  p = (apex_page){.page = 1, .limit = 3, .status = "running"};
  OK(apex_store_backtest_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 1);
  apex_backtest_row_clear(&rows[0]);

  /* finish: 5 trades, 7 equity samples */
  apex_trade_row tr[5];
  int64_t et[7];
  double ev[7];
  for (int i = 0; i < 5; i++)
    tr[i] = (apex_trade_row){.entry_time = 1600000000000 + i * 3600000, .exit_time = 1600000000000 + i * 3600000 + 60000,
                             .quantity = 15 * APEX_DEC_SCALE / 10, .entry_price = 100 * APEX_DEC_SCALE + i,
                             .exit_price = 101 * APEX_DEC_SCALE, .gross_pnl = 150000000, .net_pnl = 120000000 - i,
                             .commission = 30000000, .exit_reason = "take_profit"};
  for (int i = 0; i < 7; i++) {
    et[i] = 1600000000000 + i * 86400000LL;
    ev[i] = 10000.0 + i * 12.25;
  }
  OK(apex_store_backtest_finish(s, bt[0].id, "{\"total_return_pct\": 1.5}", tr, 5, et, ev, 7, 1700000009000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_set_status(s, bt[0].id, "cancelled", 50, NULL, 1700000010000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_finish(s, bt[0].id, "{}", tr, 5, et, ev, 7, 1700000010000, &err));
  apex_id nobody;
  new_id(nobody);
  ERR(APEX_ENOTFOUND, apex_store_backtest_set_status(s, nobody, "running", 1, NULL, 1, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_finish(s, nobody, "{}", NULL, 0, NULL, NULL, 0, 1, &err));
  OK(apex_store_backtest_get(s, a.id, bt[0].id, &got, &err));
  cr_assert_str_eq(got.status, "completed");
  cr_assert_eq(got.progress_pct, 100);
  cr_assert_eq(got.completed_at, 1700000009000);
  cr_assert_eq(got.started_at, 1700000005000);
  cr_assert_str_eq(got.result, "{\"total_return_pct\": 1.5}");
  apex_backtest_row_clear(&got);

  apex_trade_row page[2];
  OK(apex_store_backtest_trades(s, a.id, bt[0].id, 2, 2, page, &n, &total, &err));
  cr_assert_eq(total, 5);
  cr_assert_eq(n, 2);
  cr_assert_eq(page[0].entry_price, tr[2].entry_price);
  cr_assert_eq(page[1].net_pnl, tr[3].net_pnl);
  cr_assert_eq(page[0].entry_time, tr[2].entry_time);
  cr_assert_str_eq(page[0].exit_reason, "take_profit");
  cr_assert_eq(page[0].quantity, 150000000);
  OK(apex_store_backtest_trades(s, a.id, bt[0].id, 3, 2, page, &n, &total, &err));
  cr_assert_eq(n, 1);
  ERR(APEX_ENOTFOUND, apex_store_backtest_trades(s, b.id, bt[0].id, 1, 2, page, &n, &total, &err));

  int64_t t3[3];
  double v3[3];
  OK(apex_store_backtest_equity(s, a.id, bt[0].id, 2, 3, t3, v3, &n, &total, &err));
  cr_assert_eq(total, 7);
  cr_assert_eq(n, 3);
  cr_assert_eq(t3[0], et[3]);
  cr_assert_eq(v3[0], ev[3]);
  cr_assert_eq(v3[2], ev[5]);
  ERR(APEX_ENOTFOUND, apex_store_backtest_equity(s, b.id, bt[0].id, 1, 3, t3, v3, &n, &total, &err));

  /* failure with a message; then cancellation of the third */
  OK(apex_store_backtest_set_status(s, bt[1].id, "failed", 0, "no candles", 1700000011000, &err));
  OK(apex_store_backtest_get(s, a.id, bt[1].id, &got, &err));
  cr_assert_str_eq(got.error_message, "no candles");
  cr_assert_eq(got.completed_at, 1700000011000);
  apex_backtest_row_clear(&got);
  ERR(APEX_ECONFLICT, apex_store_backtest_set_status(s, bt[1].id, "running", 0, NULL, 1, &err));

  /* Pending is claimable; completed and failed never are (claimable's own cases: case_leases). */
  apex_id *ids = NULL;
  OK(apex_store_backtest_claimable(s, 1700000011000, &ids, NULL, &n, &err));
  bool seen2 = false;
  for (size_t i = 0; i < n; i++) {
    cr_assert_neq(strcmp(ids[i], bt[0].id), 0);
    cr_assert_neq(strcmp(ids[i], bt[1].id), 0);
    seen2 |= !strcmp(ids[i], bt[2].id);
  }
  cr_assert(seen2, "pending backtest listed as claimable");
  free(ids);
  OK(apex_store_backtest_set_status(s, bt[2].id, "cancelled", 0, NULL, 1700000012000, &err));
  OK(apex_store_backtest_claimable(s, 1700000012000, &ids, NULL, &n, &err));
  for (size_t i = 0; i < n; i++)
    cr_assert_neq(strcmp(ids[i], bt[2].id), 0);
  free(ids);

  /* deleting the strategy takes its backtests with it */
  OK(apex_store_strategy_delete(s, a.id, r.id, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_get(s, a.id, bt[0].id, &got, &err));
}

static apex_series *candles(size_t n, int64_t t0, int64_t step, double base)
{
  apex_series *s = apex_series_new(n);
  cr_assert_not_null(s);
  for (size_t i = 0; i < n; i++) {
    double o = base + (double)i * 0.25;
    apex_bar b = {t0 + (int64_t)i * step, o, o + 1.5, o - 0.75, o + 0.5, 1000.125 + (double)i};
    cr_assert_eq(apex_series_append(s, &b), APEX_OK);
  }
  return s;
}

static void case_ohlcv(apex_store *st)
{
  apex_error err = {0};
  char sym[33], other[33];
  snprintf(sym, sizeof sym, "T%" PRIx64 "/USDT", case_rand() & 0xffffff);
  snprintf(other, sizeof other, "U%" PRIx64 "/USDT", case_rand() & 0xffffff);
  const int64_t t0 = 1704067200000 - 50 * 3600000LL; /* spans a month (and year) boundary */
  apex_series *s = candles(100, t0, 3600000, 42000.12345678);
  apex_series *got = NULL;

  OK(apex_store_ohlcv_put(st, sym, "1h", s, "test", &err));
  OK(apex_store_ohlcv_put(st, sym, "1h", s, "test", &err)); /* upsert: same count */
  OK(apex_store_ohlcv_put(st, other, "1d", s, NULL, &err));

  OK(apex_store_ohlcv_get(st, sym, "1h", INT64_MIN, INT64_MAX, 0, &got, &err));
  cr_assert_eq(got->n, 100);
  for (size_t i = 0; i < got->n; i++) {
    cr_assert_eq(got->time[i], s->time[i]);
    cr_assert_eq(got->open[i], s->open[i], "open %zu: %.17g vs %.17g", i, got->open[i], s->open[i]);
    cr_assert_eq(got->high[i], s->high[i]);
    cr_assert_eq(got->low[i], s->low[i]);
    cr_assert_eq(got->close[i], s->close[i]);
    cr_assert_eq(got->volume[i], s->volume[i]);
  }
  apex_series_free(got);

  /* an overlapping second import replaces the overlap and adds the rest */
  apex_series *s2 = candles(20, t0 + 90 * 3600000LL, 3600000, 50000);
  OK(apex_store_ohlcv_put(st, sym, "1h", s2, "test2", &err));
  OK(apex_store_ohlcv_get(st, sym, "1h", t0 + 90 * 3600000LL, t0 + 92 * 3600000LL, 0, &got, &err));
  cr_assert_eq(got->n, 2);
  cr_assert_eq(got->open[0], 50000);
  cr_assert_eq(got->open[1], 50000.25);
  apex_series_free(got);

  OK(apex_store_ohlcv_get(st, sym, "1h", s->time[10], s->time[20], 0, &got, &err));
  cr_assert_eq(got->n, 10);
  cr_assert_eq(got->time[0], s->time[10]);
  cr_assert_eq(got->time[9], s->time[19]);
  apex_series_free(got);
  OK(apex_store_ohlcv_get(st, sym, "1h", s->time[10], INT64_MAX, 5, &got, &err));
  cr_assert_eq(got->n, 5);
  cr_assert_eq(got->time[4], s->time[14]);
  apex_series_free(got);
  OK(apex_store_ohlcv_get(st, sym, "4h", INT64_MIN, INT64_MAX, 0, &got, &err));
  cr_assert_eq(got->n, 0);
  apex_series_free(got);
  OK(apex_store_ohlcv_get(st, sym, "1h", 0, 1000, 0, &got, &err));
  cr_assert_eq(got->n, 0);
  apex_series_free(got);

  apex_symbol_info *info = NULL;
  size_t n = 0;
  OK(apex_store_ohlcv_symbols(st, &info, &n, &err));
  int found = 0;
  for (size_t i = 0; i < n; i++) {
    if (!strcmp(info[i].symbol, sym)) {
      found++;
      cr_assert_str_eq(info[i].timeframe, "1h");
      cr_assert_eq(info[i].count, 110);
      cr_assert_eq(info[i].first, t0);
      cr_assert_eq(info[i].last, t0 + 109 * 3600000LL);
    } else if (!strcmp(info[i].symbol, other)) {
      found++;
      cr_assert_str_eq(info[i].timeframe, "1d");
      cr_assert_eq(info[i].count, 100);
    }
  }
  cr_assert_eq(found, 2);
  free(info);

  /* The catalog after more imports, by hand: 110 candles t0..t0+109h; then t0-2h..t0+2h (2 new,
   * 3 replaced) = 112 from t0-2h; then t0+200h..t0+202h (3 new, after a gap) = 115 to t0+202h;
   * the same three again change nothing. */
  apex_series *s3 = candles(5, t0 - 2 * 3600000LL, 3600000, 100), *s4 = candles(3, t0 + 200 * 3600000LL, 3600000, 7);
  OK(apex_store_ohlcv_put(st, sym, "1h", s3, "test3", &err));
  OK(apex_store_ohlcv_put(st, sym, "1h", s4, "test4", &err));
  OK(apex_store_ohlcv_put(st, sym, "1h", s4, "test4", &err));
  OK(apex_store_ohlcv_symbols(st, &info, &n, &err));
  found = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(info[i].symbol, sym)) {
      found++;
      cr_assert_eq(info[i].count, 115);
      cr_assert_eq(info[i].first, t0 - 2 * 3600000LL);
      cr_assert_eq(info[i].last, t0 + 202 * 3600000LL);
    }
  cr_assert_eq(found, 1);
  free(info);

  /* The newest N, oldest first: the last three are the s4 candles; before t0+50h, t0+48h and 49h. */
  OK(apex_store_ohlcv_last(st, sym, "1h", INT64_MIN, INT64_MAX, 3, &got, &err));
  cr_assert_eq(got->n, 3);
  cr_assert_eq(got->time[0], t0 + 200 * 3600000LL);
  cr_assert_eq(got->time[2], t0 + 202 * 3600000LL);
  cr_assert_eq(got->open[2], 7.5);
  apex_series_free(got);
  OK(apex_store_ohlcv_last(st, sym, "1h", t0, t0 + 50 * 3600000LL, 2, &got, &err));
  cr_assert_eq(got->n, 2);
  cr_assert_eq(got->time[0], t0 + 48 * 3600000LL);
  cr_assert_eq(got->time[1], t0 + 49 * 3600000LL);
  cr_assert_eq(got->close[1], s->close[49]);
  apex_series_free(got);
  OK(apex_store_ohlcv_last(st, sym, "4h", INT64_MIN, INT64_MAX, 3, &got, &err));
  cr_assert_eq(got->n, 0);
  apex_series_free(got);
  apex_series_free(s3);
  apex_series_free(s4);

  /* times must increase; nothing is stored from a rejected series */
  apex_series *bad = candles(3, t0, 0, 1);
  ERR(APEX_EINVAL, apex_store_ohlcv_put(st, sym, "5m", bad, "x", &err));
  apex_series_free(bad);
  apex_series_free(s2);
  apex_series_free(s);
}

/* A pending backtest of a's strategy r (inserted). */
static void make_backtest(apex_store *s, const char *user_id, const char *strategy_id, int64_t created, apex_id id)
{
  apex_error err = {0};
  apex_backtest_row b = {0};
  new_id(b.id);
  strcpy(b.user_id, user_id);
  strcpy(b.strategy_id, strategy_id);
  b.initial_capital = 10000 * APEX_DEC_SCALE;
  strcpy(b.status, "pending");
  b.created_at = created;
  cr_assert_eq(apex_store_backtest_insert(s, &b, &err), APEX_OK, "%s", err.msg);
  strcpy(id, b.id);
}

static bool ids_have(const apex_id *ids, size_t n, const char *id)
{
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ids[i], id))
      return true;
  return false;
}

typedef struct {
  apex_store *s;
  const char *id;
  char owner[32];
  apex_err rc;
} claim_arg;

static void *claim_body(void *p)
{
  claim_arg *a = p;
  apex_error err = {0};
  a->rc = apex_store_backtest_claim(a->s, a->id, a->owner, 1000, 61000, &err);
  return NULL;
}

static void case_leases(apex_store *s)
{
  apex_error err = {0};
  apex_user a;
  apex_strategy_row r;
  apex_id b1, b2, b3, missing;
  make_user(s, &a);
  make_strategy(&r, a.id, "BTC/USDT", "draft", 1700000000000);
  OK(apex_store_strategy_insert(s, &r, &err));
  make_backtest(s, a.id, r.id, 1700000000001, b1);
  make_backtest(s, a.id, r.id, 1700000000002, b2);
  make_backtest(s, a.id, r.id, 1700000000003, b3);
  new_id(missing);

  /* Eight workers race for b1: exactly one wins, the others see a live lease. */
  claim_arg args[8];
  pthread_t th[8];
  for (int i = 0; i < 8; i++) {
    args[i] = (claim_arg){.s = s, .id = b1};
    snprintf(args[i].owner, sizeof args[i].owner, "host:%d:0", i);
    cr_assert_eq(pthread_create(&th[i], NULL, claim_body, &args[i]), 0);
  }
  int won = -1, wins = 0;
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    if (args[i].rc == APEX_OK) {
      wins++;
      won = i;
    } else
      cr_assert_eq(args[i].rc, APEX_ECONFLICT, "worker %d: %s", i, apex_err_name(args[i].rc));
  }
  cr_assert_eq(wins, 1);
  apex_backtest_row got;
  OK(apex_store_backtest_get(s, NULL, b1, &got, &err));
  cr_assert_str_eq(got.status, "running");
  cr_assert_eq(got.started_at, 1000);
  apex_backtest_row_clear(&got);

  /* The holder renews; another owner cannot, nor claim while the lease lives (until 61000). */
  const char *holder = args[won].owner, *other = args[(won + 1) % 8].owner;
  OK(apex_store_backtest_renew(s, b1, holder, 90000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_renew(s, b1, other, 90000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_claim(s, b1, other, 89999, 150000, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_claim(s, missing, other, 1000, 2000, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_renew(s, missing, other, 2000, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_claim(s, "not-a-uuid", other, 1000, 2000, &err));

  /* claimable at 80000: b1's lease (90000) lives, so only the pending b2 and b3, oldest first,
   * each with its owner (the queue gives it its owner's turn). */
  apex_id *ids = NULL, *owners = NULL;
  size_t n = 9;
  OK(apex_store_backtest_claimable(s, 80000, &ids, &owners, &n, &err));
  cr_assert(!ids_have(ids, n, b1));
  cr_assert(ids_have(ids, n, b2) && ids_have(ids, n, b3));
  for (size_t i = 0; i < n; i++)
    if (!strcmp(ids[i], b2) || !strcmp(ids[i], b3))
      cr_assert_str_eq(owners[i], a.id);
  free(ids);
  free(owners);

  /* After 90000 the lease has expired: b1 is claimable and another owner takes it over, keeping
   * the first start time; the old holder can no longer renew. */
  OK(apex_store_backtest_claimable(s, 90001, &ids, NULL, &n, &err));
  cr_assert(ids_have(ids, n, b1));
  free(ids);
  OK(apex_store_backtest_claim(s, b1, other, 90001, 150000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_renew(s, b1, holder, 200000, &err));
  OK(apex_store_backtest_get(s, NULL, b1, &got, &err));
  cr_assert_eq(got.started_at, 1000);
  apex_backtest_row_clear(&got);

  /* Finished and cancelled backtests are never claimable. */
  OK(apex_store_backtest_set_status(s, b1, "completed", 100, NULL, 100000, &err));
  OK(apex_store_backtest_set_status(s, b2, "cancelled", 0, NULL, 100000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_claim(s, b1, other, 10000000, 10060000, &err));
  ERR(APEX_ECONFLICT, apex_store_backtest_claim(s, b2, other, 10000000, 10060000, &err));
  OK(apex_store_backtest_claimable(s, 10000000, &ids, NULL, &n, &err));
  cr_assert(!ids_have(ids, n, b1) && !ids_have(ids, n, b2) && ids_have(ids, n, b3));
  free(ids);
}

static void case_rules(apex_store *s)
{
  apex_error err = {0};
  apex_user a, b;
  make_user(s, &a);
  make_user(s, &b);
  apex_rule_row r[3];
  for (int i = 0; i < 3; i++) {
    memset(&r[i], 0, sizeof r[i]);
    new_id(r[i].id);
    strcpy(r[i].user_id, a.id);
    snprintf(r[i].name, sizeof r[i].name, "rsi oversold %d", i);
    r[i].description = i ? NULL : (char *)"buy the dip";
    /* JSONB prints {"a": 1} back exactly like this, so the text compares equal on both backends. */
    r[i].definition = (char *)"{\"id\": \"rsi_oversold\", \"signal\": \"BUY\"}";
    r[i].created_at = r[i].updated_at = 1700000000000 + i;
    OK(apex_store_rule_insert(s, &r[i], &err));
  }
  ERR(APEX_ECONFLICT, apex_store_rule_insert(s, &r[0], &err));
  apex_rule_row x = r[0];
  new_id(x.id);
  new_id(x.user_id); /* no such user */
  ERR(APEX_ENOTFOUND, apex_store_rule_insert(s, &x, &err));
  strcpy(x.id, "nope");
  ERR(APEX_EINVAL, apex_store_rule_insert(s, &x, &err));

  apex_rule_row got;
  OK(apex_store_rule_get(s, a.id, r[0].id, &got, &err));
  cr_assert_str_eq(got.name, "rsi oversold 0");
  cr_assert_str_eq(got.description, "buy the dip");
  cr_assert_str_eq(got.definition, r[0].definition);
  cr_assert_eq(got.version, 1);
  cr_assert_eq(got.created_at, 1700000000000);
  apex_rule_row_clear(&got);
  OK(apex_store_rule_get(s, a.id, r[1].id, &got, &err));
  cr_assert_null(got.description);
  apex_rule_row_clear(&got);
  /* another user's rule does not exist for b, whatever the call */
  ERR(APEX_ENOTFOUND, apex_store_rule_get(s, b.id, r[0].id, &got, &err));
  cr_assert_null(got.definition);
  ERR(APEX_ENOTFOUND, apex_store_rule_get(s, a.id, "not-a-uuid", &got, &err));
  apex_rule_row upd = r[0];
  strcpy(upd.user_id, b.id);
  ERR(APEX_ENOTFOUND, apex_store_rule_update(s, &upd, &err));
  ERR(APEX_ENOTFOUND, apex_store_rule_delete(s, b.id, r[0].id, &err));

  /* update: version counts up, created_at stays */
  upd = r[0];
  strcpy(upd.name, "renamed");
  upd.description = NULL;
  upd.definition = (char *)"{\"id\": \"rsi_oversold\", \"signal\": \"SELL\"}";
  upd.updated_at = 1800000000000;
  OK(apex_store_rule_update(s, &upd, &err));
  OK(apex_store_rule_update(s, &upd, &err));
  OK(apex_store_rule_get(s, a.id, r[0].id, &got, &err));
  cr_assert_eq(got.version, 3);
  cr_assert_str_eq(got.name, "renamed");
  cr_assert_null(got.description);
  cr_assert_str_eq(got.definition, upd.definition);
  cr_assert_eq(got.created_at, 1700000000000);
  cr_assert_eq(got.updated_at, 1800000000000);
  apex_rule_row_clear(&got);

  /* list: newest first, paged, total across pages; b sees none */
  apex_rule_row rows[2];
  size_t n;
  int64_t total;
  apex_page p = {.page = 1, .limit = 2, .desc = true};
  OK(apex_store_rule_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 2);
  cr_assert_eq(total, 3);
  cr_assert_str_eq(rows[0].id, r[2].id);
  cr_assert_str_eq(rows[1].id, r[1].id);
  for (size_t i = 0; i < n; i++)
    apex_rule_row_clear(&rows[i]);
  p.page = 2;
  OK(apex_store_rule_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 1);
  cr_assert_eq(total, 3);
  cr_assert_str_eq(rows[0].id, r[0].id);
  apex_rule_row_clear(&rows[0]);
  p.page = 1;
  p.desc = false;
  OK(apex_store_rule_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_str_eq(rows[0].id, r[0].id);
  for (size_t i = 0; i < n; i++)
    apex_rule_row_clear(&rows[i]);
  OK(apex_store_rule_list(s, b.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 0);
  cr_assert_eq(total, 0);

  OK(apex_store_rule_delete(s, a.id, r[0].id, &err));
  ERR(APEX_ENOTFOUND, apex_store_rule_delete(s, a.id, r[0].id, &err));
  ERR(APEX_ENOTFOUND, apex_store_rule_get(s, a.id, r[0].id, &got, &err));
}

/* Two threads write and read at once through one handle. */
typedef struct {
  apex_store *s;
  int failures;
} thread_arg;

static void *thread_body(void *p)
{
  thread_arg *a = p;
  apex_error err = {0};
  for (int i = 0; i < 30; i++) {
    apex_user u;
    memset(&u, 0, sizeof u);
    new_id(u.id);
    snprintf(u.email, sizeof u.email, "t-%" PRIx64 "-%d@example.com", case_rand(), i);
    strcpy(u.password_hash, "x");
    u.created_at = u.updated_at = 1;
    apex_user v;
    if (apex_store_user_insert(a->s, &u, &err) || apex_store_user_by_id(a->s, u.id, &v, &err))
      a->failures++;
  }
  return NULL;
}

static void case_threads(apex_store *s)
{
  pthread_t t[4];
  thread_arg a[4];
  for (int i = 0; i < 4; i++) {
    a[i] = (thread_arg){s, 0};
    cr_assert_eq(pthread_create(&t[i], NULL, thread_body, &a[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    cr_assert_eq(a[i].failures, 0, "thread %d", i);
  }
}

static void make_portfolio(apex_portfolio_row *r, const char *user_id, const char *name, int64_t created)
{
  memset(r, 0, sizeof *r);
  new_id(r->id);
  strcpy(r->user_id, user_id);
  snprintf(r->name, sizeof r->name, "%s", name);
  strcpy(r->base_currency, "EUR");
  r->is_paper = true;
  r->initial_balance = r->cash_balance = 10000 * APEX_DEC_SCALE;
  r->is_active = true;
  r->created_at = r->updated_at = created;
}

static void case_portfolios(apex_store *s)
{
  apex_error err = {0};
  apex_user a, b;
  apex_portfolio_row pf[3], got, page[2];
  size_t n;
  int64_t total;
  make_user(s, &a);
  make_user(s, &b);
  for (int i = 0; i < 3; i++) {
    make_portfolio(&pf[i], a.id, i == 1 ? "Größe 💶" : "paper", 1700000000000 + i);
    OK(apex_store_portfolio_insert(s, &pf[i], &err));
  }
  pf[1].description = (char *)"second";
  strcpy(pf[1].broker, "binance");
  strcpy(pf[1].base_currency, "USD");
  pf[1].cash_balance = 12345678; /* 0.12345678 */
  pf[1].is_active = false;
  pf[1].updated_at = 1700000009000;
  OK(apex_store_portfolio_update(s, &pf[1], &err));
  OK(apex_store_portfolio_get(s, a.id, pf[1].id, &got, &err));
  cr_assert_str_eq(got.name, "Größe 💶");
  cr_assert_str_eq(got.description, "second");
  cr_assert_str_eq(got.broker, "binance");
  cr_assert_str_eq(got.base_currency, "USD");
  cr_assert_eq(got.initial_balance, 10000 * APEX_DEC_SCALE);
  cr_assert_eq(got.cash_balance, 12345678);
  cr_assert(!got.is_active && got.is_paper);
  cr_assert_eq(got.created_at, 1700000000001);
  cr_assert_eq(got.updated_at, 1700000009000);
  apex_portfolio_row_clear(&got);

  apex_page p = {.page = 1, .limit = 2, .desc = true};
  OK(apex_store_portfolio_list(s, a.id, &p, page, &n, &total, &err));
  cr_assert_eq(n, 2);
  cr_assert_eq(total, 3);
  cr_assert_str_eq(page[0].id, pf[2].id);
  cr_assert_str_eq(page[1].id, pf[1].id);
  for (size_t i = 0; i < n; i++)
    apex_portfolio_row_clear(&page[i]);
  p.page = 2;
  OK(apex_store_portfolio_list(s, a.id, &p, page, &n, &total, &err));
  cr_assert_eq(n, 1);
  cr_assert_eq(total, 3);
  cr_assert_str_eq(page[0].id, pf[0].id);
  apex_portfolio_row_clear(&page[0]);
  OK(apex_store_portfolio_list(s, b.id, &p, page, &n, &total, &err));
  cr_assert_eq(n, 0);
  cr_assert_eq(total, 0);

  /* positions: inserted, replaced, listed open only or all */
  apex_position_row pos = {0}, pos2, prow[4];
  new_id(pos.id);
  strcpy(pos.portfolio_id, pf[0].id);
  strcpy(pos.symbol, "BTC/USDT");
  pos.quantity = 50000000; /* 0.5 */
  pos.average_entry_price = 4200012345678;
  pos.current_price = APEX_DEC_NONE;
  pos.unrealized_pnl = -150 * APEX_DEC_SCALE;
  pos.unrealized_pnl_pct = -7142857;
  pos.is_open = true;
  pos.opened_at = pos.updated_at = 1700000100000;
  OK(apex_store_position_put(s, &pos, &err));
  pos2 = pos;
  new_id(pos2.id);
  strcpy(pos2.symbol, "ETH/USDT");
  pos2.is_open = false;
  pos2.closed_at = 1700000200000;
  OK(apex_store_position_put(s, &pos2, &err));
  pos.current_price = 4100000000000;
  pos.updated_at = 1700000300000;
  OK(apex_store_position_put(s, &pos, &err)); /* replaces */
  OK(apex_store_positions(s, a.id, pf[0].id, true, 1, 4, prow, &n, &total, &err));
  cr_assert_eq(n, 1);
  cr_assert_eq(total, 1);
  cr_assert_str_eq(prow[0].id, pos.id);
  cr_assert_str_eq(prow[0].symbol, "BTC/USDT");
  cr_assert_eq(prow[0].quantity, 50000000);
  cr_assert_eq(prow[0].average_entry_price, 4200012345678);
  cr_assert_eq(prow[0].current_price, 4100000000000);
  cr_assert_eq(prow[0].unrealized_pnl, -150 * APEX_DEC_SCALE);
  cr_assert_eq(prow[0].unrealized_pnl_pct, -7142857);
  cr_assert_eq(prow[0].updated_at, 1700000300000);
  cr_assert_eq(prow[0].closed_at, 0);
  OK(apex_store_positions(s, a.id, pf[0].id, false, 1, 4, prow, &n, &total, &err));
  cr_assert_eq(n, 2);
  cr_assert_eq(total, 2);
  cr_assert_str_eq(prow[1].symbol, "ETH/USDT");
  cr_assert(!prow[1].is_open);
  cr_assert_eq(prow[1].closed_at, 1700000200000);
  cr_assert_eq(prow[1].current_price, APEX_DEC_NONE);
  apex_position_row moved = pos;
  strcpy(moved.portfolio_id, pf[1].id); /* an id cannot change portfolio */
  ERR(APEX_ENOTFOUND, apex_store_position_put(s, &moved, &err));
  apex_position_row orphan = pos;
  new_id(orphan.id);
  new_id(orphan.portfolio_id);
  ERR(APEX_ENOTFOUND, apex_store_position_put(s, &orphan, &err));

  /* trades: newest first, nullable amounts kept as none */
  apex_portfolio_trade_row t[2], trow[3];
  for (int i = 0; i < 2; i++) {
    memset(&t[i], 0, sizeof t[i]);
    new_id(t[i].id);
    strcpy(t[i].user_id, a.id);
    strcpy(t[i].portfolio_id, pf[0].id);
    strcpy(t[i].symbol, "BTC/USDT");
    strcpy(t[i].side, i ? "SELL" : "BUY");
    strcpy(t[i].order_type, "MARKET");
    t[i].quantity = t[i].filled_quantity = 50000000;
    t[i].price = APEX_DEC_NONE;
    t[i].filled_price = (42000 + 1000 * i) * APEX_DEC_SCALE;
    t[i].commission = 2100000000;
    t[i].slippage = 1;
    t[i].realized_pnl = i ? 479 * APEX_DEC_SCALE : APEX_DEC_NONE;
    strcpy(t[i].status, "filled");
    strcpy(t[i].broker_order_id, "paper-1");
    t[i].is_paper = true;
    t[i].created_at = t[i].filled_at = 1700000100000 + i * 1000;
    OK(apex_store_portfolio_trade_insert(s, &t[i], &err));
  }
  OK(apex_store_portfolio_trades(s, a.id, pf[0].id, 1, 3, trow, &n, &total, &err));
  cr_assert_eq(n, 2);
  cr_assert_eq(total, 2);
  cr_assert_str_eq(trow[0].id, t[1].id);
  cr_assert_str_eq(trow[0].side, "SELL");
  cr_assert_eq(trow[0].realized_pnl, 479 * APEX_DEC_SCALE);
  cr_assert_eq(trow[0].filled_price, 43000 * APEX_DEC_SCALE);
  cr_assert_eq(trow[0].commission, 2100000000);
  cr_assert_eq(trow[0].slippage, 1);
  cr_assert_eq(trow[0].filled_at, 1700000101000);
  cr_assert_eq(trow[0].submitted_at, 0);
  cr_assert_str_eq(trow[0].strategy_id, "");
  cr_assert_str_eq(trow[0].broker_order_id, "paper-1");
  cr_assert_eq(trow[1].price, APEX_DEC_NONE);
  cr_assert_eq(trow[1].realized_pnl, APEX_DEC_NONE);
  OK(apex_store_portfolio_trades(s, a.id, pf[0].id, 2, 1, trow, &n, &total, &err));
  cr_assert_eq(n, 1);
  cr_assert_str_eq(trow[0].id, t[0].id);
  apex_portfolio_trade_row theirs = t[0];
  new_id(theirs.id);
  strcpy(theirs.user_id, b.id); /* b cannot trade in a's portfolio */
  ERR(APEX_ENOTFOUND, apex_store_portfolio_trade_insert(s, &theirs, &err));

  /* equity history: across a month boundary (a new partition on PostgreSQL), upserted on time */
  apex_equity_row eq[3] = {
      {1698796800000, 10000 * APEX_DEC_SCALE, 10000 * APEX_DEC_SCALE, 0, APEX_DEC_NONE, APEX_DEC_NONE},
      {1701302400000, 10479 * APEX_DEC_SCALE, 479 * APEX_DEC_SCALE, 10000 * APEX_DEC_SCALE, 479 * APEX_DEC_SCALE,
       479000000},
      {1701388800000, 9900 * APEX_DEC_SCALE, 9900 * APEX_DEC_SCALE, 0, -579 * APEX_DEC_SCALE, -552533638},
  }, erow[3];
  OK(apex_store_equity_put(s, pf[0].id, eq, 3, &err));
  eq[2].equity_value = 9901 * APEX_DEC_SCALE;
  OK(apex_store_equity_put(s, pf[0].id, &eq[2], 1, &err));
  OK(apex_store_equity(s, a.id, pf[0].id, 1, 3, erow, &n, &total, &err));
  cr_assert_eq(n, 3);
  cr_assert_eq(total, 3);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(erow[i].time, eq[i].time);
    cr_assert_eq(erow[i].equity_value, eq[i].equity_value);
    cr_assert_eq(erow[i].cash_balance, eq[i].cash_balance);
    cr_assert_eq(erow[i].positions_value, eq[i].positions_value);
    cr_assert_eq(erow[i].daily_pnl, eq[i].daily_pnl);
    cr_assert_eq(erow[i].daily_pnl_pct, eq[i].daily_pnl_pct);
  }
  apex_equity_row backwards[2] = {eq[1], eq[0]};
  ERR(APEX_EINVAL, apex_store_equity_put(s, pf[0].id, backwards, 2, &err));
  apex_id nobody;
  new_id(nobody);
  ERR(APEX_ENOTFOUND, apex_store_equity_put(s, nobody, eq, 1, &err));

  /* another user's portfolio: as if it did not exist, everywhere */
  apex_portfolio_row their = pf[0];
  strcpy(their.user_id, b.id);
  ERR(APEX_ENOTFOUND, apex_store_portfolio_get(s, b.id, pf[0].id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_update(s, &their, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_delete(s, b.id, pf[0].id, &err));
  ERR(APEX_ENOTFOUND, apex_store_positions(s, b.id, pf[0].id, false, 1, 4, prow, &n, &total, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_trades(s, b.id, pf[0].id, 1, 3, trow, &n, &total, &err));
  ERR(APEX_ENOTFOUND, apex_store_equity(s, b.id, pf[0].id, 1, 3, erow, &n, &total, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_get(s, a.id, "not-a-uuid", &got, &err));
  OK(apex_store_equity(s, NULL, pf[0].id, 1, 1, erow, &n, &total, &err)); /* jobs: anyone's */
  cr_assert_eq(n, 1);

  /* deleting takes positions, trades and equity with it */
  OK(apex_store_portfolio_delete(s, a.id, pf[0].id, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_get(s, a.id, pf[0].id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_equity(s, NULL, pf[0].id, 1, 3, erow, &n, &total, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_delete(s, a.id, pf[0].id, &err));
  ERR(APEX_ENOTFOUND, apex_store_position_put(s, &pos, &err));
}

/* Both backends alike: a new row's id must be a UUID (EINVAL), and a text that is not one names
 * no row (ENOTFOUND), never a database error. */
static void case_bad_ids(apex_store *s)
{
  apex_error err = {0};
  apex_user a;
  apex_strategy_row st;
  apex_portfolio_row pf;
  make_user(s, &a);
  make_strategy(&st, a.id, "BTC/USDT", "draft", 1700000000000);
  OK(apex_store_strategy_insert(s, &st, &err));
  make_portfolio(&pf, a.id, "ids", 1700000000000);
  OK(apex_store_portfolio_insert(s, &pf, &err));
  const char *bad = "not-a-uuid";

  apex_backtest_row bt = {.start_date = 1600000000000, .initial_capital = APEX_DEC_SCALE, .created_at = 1};
  strcpy(bt.id, bad);
  strcpy(bt.user_id, a.id);
  strcpy(bt.strategy_id, st.id);
  ERR(APEX_EINVAL, apex_store_backtest_insert(s, &bt, &err));
  new_id(bt.id);
  strcpy(bt.strategy_id, bad);
  ERR(APEX_ENOTFOUND, apex_store_backtest_insert(s, &bt, &err));
  apex_backtest_row got;
  ERR(APEX_ENOTFOUND, apex_store_backtest_get(s, a.id, bad, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_get(s, bad, bt.id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_set_status(s, bad, "running", 1, NULL, 1, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_finish(s, bad, "{}", NULL, 0, NULL, NULL, 0, 1, &err));
  apex_trade_row tr[1];
  int64_t t[1], total;
  double v[1];
  size_t n;
  ERR(APEX_ENOTFOUND, apex_store_backtest_trades(s, a.id, bad, 1, 1, tr, &n, &total, &err));
  ERR(APEX_ENOTFOUND, apex_store_backtest_equity(s, bad, bt.id, 1, 1, t, v, &n, &total, &err));

  apex_portfolio_row p2;
  make_portfolio(&p2, a.id, "bad", 1);
  strcpy(p2.id, bad);
  ERR(APEX_EINVAL, apex_store_portfolio_insert(s, &p2, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_update(s, &p2, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_get(s, NULL, bad, &p2, &err));
  ERR(APEX_ENOTFOUND, apex_store_portfolio_delete(s, a.id, bad, &err));
  apex_position_row pos = {.quantity = 1, .average_entry_price = 1, .is_open = true, .opened_at = 1, .updated_at = 1};
  strcpy(pos.id, bad);
  strcpy(pos.portfolio_id, pf.id);
  strcpy(pos.symbol, "BTC/USDT");
  ERR(APEX_EINVAL, apex_store_position_put(s, &pos, &err));
  new_id(pos.id);
  strcpy(pos.portfolio_id, bad);
  ERR(APEX_ENOTFOUND, apex_store_position_put(s, &pos, &err));
  apex_position_row prow[1];
  ERR(APEX_ENOTFOUND, apex_store_positions(s, NULL, bad, false, 1, 1, prow, &n, &total, &err));
  apex_portfolio_trade_row ptr = {.quantity = 1, .price = APEX_DEC_NONE, .filled_price = APEX_DEC_NONE,
                                  .realized_pnl = APEX_DEC_NONE, .created_at = 1};
  strcpy(ptr.id, bad);
  strcpy(ptr.user_id, a.id);
  strcpy(ptr.portfolio_id, pf.id);
  strcpy(ptr.symbol, "BTC/USDT");
  strcpy(ptr.side, "BUY");
  strcpy(ptr.order_type, "MARKET");
  ERR(APEX_EINVAL, apex_store_portfolio_trade_insert(s, &ptr, &err));
  new_id(ptr.id);
  strcpy(ptr.strategy_id, bad);
  ERR(APEX_ENOTFOUND, apex_store_portfolio_trade_insert(s, &ptr, &err));
  apex_portfolio_trade_row trows[1];
  ERR(APEX_ENOTFOUND, apex_store_portfolio_trades(s, a.id, bad, 1, 1, trows, &n, &total, &err));
  apex_equity_row eq = {.time = 1600000000000, .equity_value = 1, .daily_pnl = APEX_DEC_NONE,
                        .daily_pnl_pct = APEX_DEC_NONE};
  ERR(APEX_ENOTFOUND, apex_store_equity_put(s, bad, &eq, 1, &err));
  ERR(APEX_ENOTFOUND, apex_store_equity(s, NULL, bad, 1, 1, &eq, &n, &total, &err));
}

static void case_api_keys(apex_store *s)
{
  apex_error err = {0};
  apex_user a, b;
  apex_api_key_row k[2], got, rows[3];
  size_t n;
  int64_t total;
  make_user(s, &a);
  make_user(s, &b);
  for (int i = 0; i < 2; i++) {
    memset(&k[i], 0, sizeof k[i]);
    new_id(k[i].id);
    strcpy(k[i].user_id, a.id);
    strcpy(k[i].exchange, i ? "kraken" : "binance");
    strcpy(k[i].label, i ? "" : "main");
    strcpy(k[i].key_hint, "abcd\xe2\x80\xa6wxyz");
    k[i].api_key_enc = (char *)"v1:a2V5";
    k[i].api_secret_enc = (char *)"v1:c2VjcmV0";
    k[i].passphrase_enc = i ? (char *)"v1:cGFzcw==" : NULL;
    k[i].is_paper = true;
    k[i].created_at = 1700000000000 + i;
    OK(apex_store_api_key_insert(s, &k[i], &err));
  }
  apex_api_key_row plain = k[0];
  new_id(plain.id);
  plain.api_secret_enc = (char *)"hunter2"; /* never stored unencrypted */
  ERR(APEX_EINVAL, apex_store_api_key_insert(s, &plain, &err));

  OK(apex_store_api_key_get(s, a.id, k[1].id, &got, &err));
  cr_assert_str_eq(got.exchange, "kraken");
  cr_assert_str_eq(got.label, "");
  cr_assert_str_eq(got.key_hint, "abcd\xe2\x80\xa6wxyz");
  cr_assert_str_eq(got.api_key_enc, "v1:a2V5");
  cr_assert_str_eq(got.api_secret_enc, "v1:c2VjcmV0");
  cr_assert_str_eq(got.passphrase_enc, "v1:cGFzcw==");
  cr_assert_eq(got.created_at, 1700000000001);
  apex_api_key_row_clear(&got);
  cr_assert_null(got.api_secret_enc);
  OK(apex_store_api_key_get(s, NULL, k[0].id, &got, &err));
  cr_assert_null(got.passphrase_enc);
  cr_assert_str_eq(got.label, "main");
  apex_api_key_row_clear(&got);

  apex_page p = {.page = 1, .limit = 3, .desc = true};
  OK(apex_store_api_key_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 2);
  cr_assert_eq(total, 2);
  cr_assert_str_eq(rows[0].id, k[1].id);
  cr_assert_null(rows[0].api_key_enc); /* lists carry no ciphertext */
  cr_assert_null(rows[0].api_secret_enc);
  OK(apex_store_api_key_list(s, b.id, &p, rows, &n, &total, &err));
  cr_assert_eq(n, 0);

  ERR(APEX_ENOTFOUND, apex_store_api_key_get(s, b.id, k[0].id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_api_key_delete(s, b.id, k[0].id, &err));
  OK(apex_store_api_key_delete(s, a.id, k[0].id, &err));
  ERR(APEX_ENOTFOUND, apex_store_api_key_get(s, a.id, k[0].id, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_api_key_delete(s, a.id, k[0].id, &err));
}

/* The driver keeps each connection's prepared statements: one text run again with other arguments,
 * more texts than the cache holds (evictions), one buffer reused for another text, and a statement
 * whose last run failed must each answer exactly as a statement prepared afresh. */
static void case_stmt_cache(apex_store *s)
{
  apex_error err = {0};
  apex_sql_res *r = NULL;
  char buf[96];
  void *c = apex_sql__acquire(s);
  for (int round = 0; round < 3; round++)
    for (int i = 0; i < 150; i++) {
      snprintf(buf, sizeof buf, "SELECT CAST($1 AS bigint) + %d, CAST($2 AS text)", i);
      cr_assert_eq(SQL(s, c, buf, &r, &err, A_I64(round * 1000), A_TEXT(i % 2 ? "odd" : NULL)), APEX_OK, "%s",
                   err.msg);
      cr_assert_eq(s->sql->rows(r), 1);
      cr_assert_eq(s->sql->i64(r, 0, 0), round * 1000 + i, "%s", buf);
      if (i % 2)
        cr_assert_str_eq(s->sql->text(r, 0, 1), "odd");
      else
        cr_assert(s->sql->is_null(r, 0, 1), "round %d: text %d kept an old binding", round, i);
      s->sql->res_free(r);
      cr_assert_eq(SQL(s, c, "SELECT CAST($1 AS bigint) * 2, CAST($2 AS text)", &r, &err, A_I64(i),
                       A_OPT(i % 3 ? "x" : "")),
                   APEX_OK, "%s", err.msg);
      cr_assert_eq(s->sql->i64(r, 0, 0), 2 * i);
      cr_assert(i % 3 ? !strcmp(s->sql->text(r, 0, 1), "x") : s->sql->is_null(r, 0, 1), "run %d", i);
      s->sql->res_free(r);
    }
  /* A column read as another type converts as the database's own text would. */
  cr_assert_eq(SQL(s, c, "SELECT CAST($1 AS bigint), 2.5, CAST($2 AS text), NULL", &r, &err, A_I64(-42),
                   A_TEXT("17")),
               APEX_OK, "%s", err.msg);
  cr_assert_str_eq(s->sql->text(r, 0, 0), "-42");
  cr_assert_str_eq(s->sql->text(r, 0, 1), "2.5");
  cr_assert_eq(s->sql->f64(r, 0, 1), 2.5);
  cr_assert_eq(s->sql->i64(r, 0, 2), 17);
  cr_assert_eq(s->sql->f64(r, 0, 0), -42.0);
  cr_assert(s->sql->is_null(r, 0, 3) && !s->sql->text(r, 0, 3) && s->sql->i64(r, 0, 3) == 0);
  s->sql->res_free(r);
  apex_sql__release(s, c);

  /* A unique key refused, then the same statement again with new values. */
  apex_user u, v, w;
  make_user(s, &u);
  for (int i = 0; i < 20; i++) {
    w = u;
    new_id(w.id);
    ERR(APEX_ECONFLICT, apex_store_user_insert(s, &w, &err));
    snprintf(w.email, sizeof w.email, "again-%d-%" PRIx64 "@example.com", i, case_rand());
    OK(apex_store_user_insert(s, &w, &err));
    OK(apex_store_user_by_id(s, w.id, &v, &err));
    cr_assert_str_eq(v.email, w.email);
    OK(apex_store_user_by_id(s, u.id, &v, &err));
    cr_assert_str_eq(v.email, u.email);
  }
}

/* Users, tokens, strategies and API keys on both backends alike: a new row's id must be a UUID
 * (EINVAL), a text that is not one names no row (ENOTFOUND), and deleting another user's
 * strategy or a missing one is ENOTFOUND and leaves the owner's strategy in place. */
static void case_unified_ids(apex_store *s)
{
  apex_error err = {0};
  const char *bad = "not-a-uuid";
  apex_user a, b, u;
  make_user(s, &a);
  make_user(s, &b);

  u = a;
  strcpy(u.id, bad);
  snprintf(u.email, sizeof u.email, "bad-id-%" PRIx64 "@example.com", case_rand());
  ERR(APEX_EINVAL, apex_store_user_insert(s, &u, &err));
  ERR(APEX_ENOTFOUND, apex_store_user_update(s, &u, &err));
  ERR(APEX_ENOTFOUND, apex_store_user_by_email(s, u.email, &u, &err));

  apex_token t;
  make_token(&t, bad, "fam", "refresh");
  ERR(APEX_ENOTFOUND, apex_store_token_insert(s, &t, &err));
  OK(apex_store_token_revoke_user(s, bad, NULL, &err));

  apex_strategy_row st, got, rows[2];
  size_t n = 9;
  int64_t total = 9;
  make_strategy(&st, a.id, "ETH/USDT", "draft", 1700000000000);
  strcpy(st.id, bad);
  ERR(APEX_EINVAL, apex_store_strategy_insert(s, &st, &err));
  new_id(st.id);
  strcpy(st.user_id, bad);
  ERR(APEX_ENOTFOUND, apex_store_strategy_insert(s, &st, &err));
  strcpy(st.user_id, a.id);
  OK(apex_store_strategy_insert(s, &st, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_get(s, bad, st.id, &got, &err));
  apex_page p = {.page = 1, .limit = 2};
  OK(apex_store_strategy_list(s, bad, &p, rows, &n, &total, &err));
  cr_assert(n == 0 && total == 0);
  ERR(APEX_ENOTFOUND, apex_store_strategy_versions(s, a.id, bad, 1, 2, rows, &n, &total, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_version(s, a.id, bad, 1, &rows[0], &err));
  apex_strategy_row up = st;
  up.version = 2;
  strcpy(up.id, bad);
  ERR(APEX_ENOTFOUND, apex_store_strategy_update(s, &up, &err));
  strcpy(up.id, st.id);
  strcpy(up.user_id, b.id);
  ERR(APEX_ENOTFOUND, apex_store_strategy_update(s, &up, &err));

  ERR(APEX_ENOTFOUND, apex_store_strategy_delete(s, b.id, st.id, &err)); /* another user's */
  ERR(APEX_ENOTFOUND, apex_store_strategy_delete(s, bad, st.id, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_delete(s, a.id, bad, &err));
  apex_id missing;
  new_id(missing);
  ERR(APEX_ENOTFOUND, apex_store_strategy_delete(s, a.id, missing, &err));
  OK(apex_store_strategy_get(s, a.id, st.id, &got, &err)); /* still the owner's */
  apex_strategy_row_clear(&got);
  OK(apex_store_strategy_delete(s, a.id, st.id, &err));
  ERR(APEX_ENOTFOUND, apex_store_strategy_get(s, NULL, st.id, &got, &err));

  apex_api_key_row k = {.is_paper = true, .created_at = 1700000000000};
  strcpy(k.id, bad);
  strcpy(k.user_id, a.id);
  strcpy(k.exchange, "binance");
  strcpy(k.key_hint, "abcd...wxyz");
  k.api_key_enc = (char *)"v1:key";
  k.api_secret_enc = (char *)"v1:secret";
  ERR(APEX_EINVAL, apex_store_api_key_insert(s, &k, &err));
  new_id(k.id);
  strcpy(k.user_id, bad);
  ERR(APEX_ENOTFOUND, apex_store_api_key_insert(s, &k, &err));
  apex_api_key_row kg;
  ERR(APEX_ENOTFOUND, apex_store_api_key_get(s, NULL, bad, &kg, &err));
  ERR(APEX_ENOTFOUND, apex_store_api_key_get(s, bad, k.id, &kg, &err));
  ERR(APEX_ENOTFOUND, apex_store_api_key_delete(s, a.id, bad, &err));
}

/* A user's pending and running backtests are capped in the store: eight submissions at once for a
 * cap of three store exactly three (the count and the insert are one transaction), finished ones
 * free their place, and another user's are not counted. */
typedef struct {
  apex_store *s;
  apex_backtest_row row;
  apex_err rc;
} capped_arg;

static void *capped_body(void *p)
{
  capped_arg *a = p;
  apex_error err = {0};
  int64_t unfinished;
  a->rc = apex_store_backtest_insert_capped(a->s, &a->row, 3, &unfinished, &err);
  return NULL;
}

static void case_backtest_cap(apex_store *s)
{
  apex_error err = {0};
  apex_user a, b;
  apex_strategy_row ra, rb;
  make_user(s, &a);
  make_user(s, &b);
  make_strategy(&ra, a.id, "BTC/USDT", "draft", 1700000000000);
  make_strategy(&rb, b.id, "BTC/USDT", "draft", 1700000000000);
  OK(apex_store_strategy_insert(s, &ra, &err));
  OK(apex_store_strategy_insert(s, &rb, &err));

  capped_arg args[8];
  pthread_t th[8];
  for (int i = 0; i < 8; i++) {
    args[i] = (capped_arg){.s = s};
    new_id(args[i].row.id);
    strcpy(args[i].row.user_id, a.id);
    strcpy(args[i].row.strategy_id, ra.id);
    args[i].row.initial_capital = 10000 * APEX_DEC_SCALE;
    args[i].row.created_at = 1700000000000 + i;
    cr_assert_eq(pthread_create(&th[i], NULL, capped_body, &args[i]), 0);
  }
  int stored = 0;
  const char *ok[8];
  for (int i = 0; i < 8; i++) {
    pthread_join(th[i], NULL);
    if (args[i].rc == APEX_OK)
      ok[stored++] = args[i].row.id;
    else
      cr_assert_eq(args[i].rc, APEX_ETOOBIG, "submission %d: %s", i, apex_err_name(args[i].rc));
  }
  cr_assert_eq(stored, 3);
  apex_page p = {.page = 1, .limit = 20};
  apex_backtest_row rows[20];
  size_t n;
  int64_t total;
  OK(apex_store_backtest_list(s, a.id, &p, rows, &n, &total, &err));
  cr_assert_eq(total, 3, "refused submissions store nothing");
  for (size_t i = 0; i < n; i++)
    apex_backtest_row_clear(&rows[i]);

  /* Running ones count; a finished one frees its place; the count comes back with the refusal. */
  apex_backtest_row more = args[0].row;
  new_id(more.id);
  int64_t unfinished = 0;
  OK(apex_store_backtest_claim(s, ok[0], "host:1:0", 1000, 61000, &err));
  ERR(APEX_ETOOBIG, apex_store_backtest_insert_capped(s, &more, 3, &unfinished, &err));
  cr_assert_eq(unfinished, 3);
  OK(apex_store_backtest_set_status(s, ok[1], "completed", 100, NULL, 2000, &err));
  OK(apex_store_backtest_insert_capped(s, &more, 3, &unfinished, &err));
  cr_assert_eq(unfinished, 2);

  /* Another user's cap is their own. */
  apex_backtest_row theirs = more;
  new_id(theirs.id);
  strcpy(theirs.user_id, b.id);
  strcpy(theirs.strategy_id, rb.id);
  OK(apex_store_backtest_insert_capped(s, &theirs, 1, &unfinished, &err));
  cr_assert_eq(unfinished, 0);
  new_id(theirs.id);
  ERR(APEX_ETOOBIG, apex_store_backtest_insert_capped(s, &theirs, 1, &unfinished, &err));
  /* Not into another user's strategy, cap or not. */
  new_id(theirs.id);
  strcpy(theirs.strategy_id, ra.id);
  ERR(APEX_ENOTFOUND, apex_store_backtest_insert_capped(s, &theirs, 10, &unfinished, &err));
}


/* Random three letters, so runs sharing a PostgreSQL database keep to their own currencies (and
 * their own stretch of days, below). */
static void fx_ccy(char out[4])
{
  for (int i = 0; i < 3; i++)
    out[i] = (char)('A' + case_rand() % 26);
  out[3] = '\0';
}

static void case_fx(apex_store *s)
{
  apex_error err = {0};
  const int64_t day = INT64_C(86400000);
  const int64_t t0 = (int64_t)(case_rand() % 1000000) * day; /* a day in the first ~2700 years */
  char a[4], b[4], c[4];
  fx_ccy(a);
  do
    fx_ccy(b);
  while (!strcmp(a, b));
  do
    fx_ccy(c);
  while (!strcmp(c, a) || !strcmp(c, b));

  /* a on days 0, 1 and 3 (day 2 a holiday), b on day 1 only; unsorted, as callers may pass them. */
  apex_fx_rate rows[4] = {{t0 + 3 * day, "", 106900000}, {t0, "", 107050000}, {t0 + day, "", 84638000},
                          {t0 + day, "", 107000000}};
  strcpy(rows[0].currency, a);
  strcpy(rows[1].currency, a);
  strcpy(rows[2].currency, b);
  strcpy(rows[3].currency, a);
  OK(apex_store_fx_put(s, rows, 4, &err));

  apex_fx_rate got;
  OK(apex_store_fx_get(s, a, t0, &got, &err));
  cr_assert_eq(got.date, t0);
  cr_assert_eq(got.rate, 107050000);
  cr_assert_str_eq(got.currency, a);
  OK(apex_store_fx_get(s, a, t0 + day - 1, &got, &err));
  cr_assert_eq(got.date, t0, "the latest dated at or before the time");
  OK(apex_store_fx_get(s, a, t0 + 2 * day + 12 * 3600000, &got, &err));
  cr_assert_eq(got.date, t0 + day, "a day without a rate falls back to the one before");
  cr_assert_eq(got.rate, 107000000);
  OK(apex_store_fx_get(s, a, t0 + 3 * day + 1, &got, &err));
  cr_assert_eq(got.rate, 106900000);
  OK(apex_store_fx_get(s, b, t0 + 9 * day, &got, &err));
  cr_assert_eq(got.date, t0 + day);
  cr_assert_eq(got.rate, 84638000);
  ERR(APEX_ENOTFOUND, apex_store_fx_get(s, a, -1, &got, &err)); /* nothing is dated before 1970 */
  ERR(APEX_ENOTFOUND, apex_store_fx_get(s, c, t0 + 9 * day, &got, &err));
  ERR(APEX_ENOTFOUND, apex_store_fx_get(s, "US", t0, &got, &err));
  ERR(APEX_EINVAL, apex_store_fx_get(s, NULL, t0, &got, &err));

  /* Loading the same rows again changes nothing; a new rate for a stored day replaces it; a key
   * given twice in one call keeps the later row. */
  OK(apex_store_fx_put(s, rows, 4, &err));
  OK(apex_store_fx_get(s, a, t0, &got, &err));
  cr_assert_eq(got.rate, 107050000);
  apex_fx_rate again[3] = {{t0, "", 108500000}, {t0 + 5 * day, "", 1}, {t0 + 5 * day, "", APEX_DEC_MAX}};
  for (int i = 0; i < 3; i++)
    strcpy(again[i].currency, a);
  OK(apex_store_fx_put(s, again, 3, &err));
  OK(apex_store_fx_get(s, a, t0, &got, &err));
  cr_assert_eq(got.rate, 108500000, "upserted");
  OK(apex_store_fx_get(s, a, t0 + 5 * day, &got, &err));
  cr_assert_eq(got.rate, APEX_DEC_MAX, "the later row wins, and the widest decimal is exact");
  again[1].rate = 1;
  again[1].date = t0 + 6 * day;
  OK(apex_store_fx_put(s, &again[1], 1, &err));
  OK(apex_store_fx_get(s, a, t0 + 6 * day, &got, &err));
  cr_assert_eq(got.rate, 1, "0.00000001 is exact");

  /* Refused whole: nothing of a bad load is written. */
  apex_fx_rate bad[2] = {{t0 + 7 * day, "", 5}, {t0 + 7 * day, "usd", 5}};
  strcpy(bad[0].currency, c);
  ERR(APEX_EINVAL, apex_store_fx_put(s, bad, 2, &err));
  strcpy(bad[1].currency, c);
  bad[1].date += day;
  bad[1].rate = 0;
  ERR(APEX_EINVAL, apex_store_fx_put(s, bad, 2, &err));
  ERR(APEX_ENOTFOUND, apex_store_fx_get(s, c, t0 + 9 * day, &got, &err));
  ERR(APEX_EINVAL, apex_store_fx_put(s, NULL, 1, &err));
  OK(apex_store_fx_put(s, NULL, 0, &err));

  /* More rows than one multi-row INSERT holds (SQLite's batches of 64). */
  apex_fx_rate many[300];
  for (int i = 0; i < 300; i++) {
    many[i] = (apex_fx_rate){t0 + i * day, "", (apex_dec)(100000000 + i)};
    strcpy(many[i].currency, c);
  }
  OK(apex_store_fx_put(s, many, 300, &err));
  OK(apex_store_fx_get(s, c, t0 + 299 * day, &got, &err));
  cr_assert_eq(got.rate, 100000299);
  OK(apex_store_fx_get(s, c, t0 + 150 * day + 1, &got, &err));
  cr_assert_eq(got.rate, 100000150);
}

#endif

/* Live orders: stored once per client order id (a candle stepped again after a crash makes the
 * same one), updated with the venue's account, listed in the order they were made (a SELL before a
 * BUY of the same close), unsettled ones apart. */
static void case_live_orders(apex_store *s)
{
  apex_error err = {0};
  apex_user u;
  apex_strategy_row st;
  apex_portfolio_row pf;
  make_user(s, &u);
  make_strategy(&st, u.id, "BTC/USDT", "active", 1700000000000);
  cr_assert_eq(apex_store_strategy_insert(s, &st, &err), APEX_OK, "%s", err.msg);
  make_portfolio(&pf, u.id, "live", 1700000000000);
  pf.is_paper = false;
  cr_assert_eq(apex_store_portfolio_insert(s, &pf, &err), APEX_OK, "%s", err.msg);
  apex_run_row run = {0};
  new_id(run.id);
  strcpy(run.strategy_id, st.id);
  strcpy(run.user_id, u.id);
  strcpy(run.portfolio_id, pf.id);
  strcpy(run.mode, "live");
  strcpy(run.symbol, "BTC/USDT");
  strcpy(run.timeframe, "1h");
  run.definition = (char *)"{\"a\": 1}";
  strcpy(run.quote_currency, "USDT");
  strcpy(run.base_currency, "USD");
  run.fx_rate = run.capital = APEX_DEC_SCALE;
  run.created_at = 1700000000000;
  new_id(run.api_key_id);
  run.max_order_notional = 500 * APEX_DEC_SCALE;
  cr_assert_eq(apex_store_run_insert(s, &run, &err), APEX_OK, "%s", err.msg);
  apex_run_row got = {0};
  cr_assert_eq(apex_store_run_latest(s, u.id, st.id, &got, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(got.api_key_id, run.api_key_id);
  cr_assert_eq(got.max_order_notional, 500 * APEX_DEC_SCALE);
  cr_assert_eq(got.max_daily_notional, 0);
  apex_run_row_clear(&got);

  apex_live_order_row o[3];
  const char *side[3] = {"BUY", "BUY", "SELL"};
  const int64_t close[3] = {1700000360000, 1700000720000, 1700000720000};
  for (int i = 0; i < 3; i++) {
    memset(&o[i], 0, sizeof o[i]);
    new_id(o[i].t.id);
    strcpy(o[i].t.user_id, u.id);
    strcpy(o[i].t.strategy_id, st.id);
    strcpy(o[i].t.portfolio_id, pf.id);
    strcpy(o[i].t.symbol, "BTC/USDT");
    strcpy(o[i].t.side, side[i]);
    strcpy(o[i].t.order_type, "MARKET");
    strcpy(o[i].t.status, "pending");
    o[i].t.quantity = (i + 1) * APEX_DEC_SCALE / 4;
    o[i].t.price = o[i].t.filled_price = o[i].t.realized_pnl = APEX_DEC_NONE;
    o[i].t.created_at = close[i];
    strcpy(o[i].client_order_id, o[i].t.id);
    strcpy(o[i].run_id, run.id);
    strcpy(o[i].api_key_id, run.api_key_id);
    strcpy(o[i].venue, "binance");
    o[i].close_position = i == 2;
    o[i].signal_time = close[i];
    o[i].updated_at = 1700000800000;
    bool added = false;
    cr_assert_eq(apex_store_live_order_add(s, &o[i], &added, &err), APEX_OK, "%s", err.msg);
    cr_assert(added);
    cr_assert_eq(apex_store_live_order_add(s, &o[i], &added, &err), APEX_OK, "%s", err.msg);
    cr_assert(!added, "the same client order id is stored once");
  }
  apex_live_order_row *rows = NULL;
  size_t n = 0;
  cr_assert_eq(apex_store_live_orders(s, run.id, true, &rows, &n, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(n, 3);
  cr_assert_str_eq(rows[0].client_order_id, o[0].client_order_id);
  cr_assert_str_eq(rows[1].t.side, "SELL", "the exit of a close goes before its entry");
  cr_assert_str_eq(rows[2].t.side, "BUY");
  cr_assert(rows[1].close_position && !rows[0].close_position);
  cr_assert_str_eq(rows[0].venue, "binance");
  cr_assert_eq(rows[0].t.quantity, APEX_DEC_SCALE / 4);
  cr_assert(!rows[0].t.is_paper);
  free(rows);

  /* The venue's account of the first: filled, with its fee in the base asset. */
  o[0].attempts = 1;
  o[0].last_attempt_at = o[0].t.submitted_at = 1700000801000;
  strcpy(o[0].t.status, "filled");
  o[0].t.filled_quantity = APEX_DEC_SCALE / 4;
  o[0].quote_filled = 10000 * APEX_DEC_SCALE;
  o[0].t.filled_price = 40000 * APEX_DEC_SCALE;
  o[0].t.commission = 25000; /* 0.00025 BTC */
  strcpy(o[0].fee_currency, "BTC");
  strcpy(o[0].t.broker_order_id, "28");
  o[0].t.filled_at = 1700000801500;
  cr_assert_eq(apex_store_live_order_update(s, &o[0], &err), APEX_OK, "%s", err.msg);
  apex_live_order_row one;
  cr_assert_eq(apex_store_live_order_get(s, o[0].client_order_id, &one, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(one.t.status, "filled");
  cr_assert_eq(one.quote_filled, 10000 * APEX_DEC_SCALE);
  cr_assert_eq(one.t.commission, 25000);
  cr_assert_str_eq(one.fee_currency, "BTC");
  cr_assert_str_eq(one.t.broker_order_id, "28");
  cr_assert_eq(one.attempts, 1);
  cr_assert_eq(one.last_attempt_at, 1700000801000);
  cr_assert_eq(one.t.filled_at, 1700000801500);
  cr_assert_eq(apex_store_live_order_get(s, "no-such-id", &one, &err), APEX_ENOTFOUND);
  cr_assert_eq(apex_store_live_orders(s, NULL, true, &rows, &n, &err), APEX_OK, "%s", err.msg);
  for (size_t i = 0; i < n; i++)
    cr_assert_str_neq(rows[i].client_order_id, o[0].client_order_id, "a filled order is settled");
  free(rows);
  /* It is a trade of the portfolio like any other. */
  apex_portfolio_trade_row t[4];
  int64_t total = 0;
  cr_assert_eq(apex_store_portfolio_trades(s, u.id, pf.id, 1, 4, t, &n, &total, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(total, 3);
  apex_portfolio_row_clear(&pf);

  /* A broker key's nonces only go up: from the caller's clock, else one above the last. */
  apex_api_key_row k = {0};
  new_id(k.id);
  strcpy(k.user_id, u.id);
  strcpy(k.exchange, "kraken");
  strcpy(k.key_hint, "abcd...wxyz");
  k.api_key_enc = (char *)"v1:x";
  k.api_secret_enc = (char *)"v1:y";
  k.created_at = 1700000000000;
  cr_assert_eq(apex_store_api_key_insert(s, &k, &err), APEX_OK, "%s", err.msg);
  int64_t nonce = 0;
  cr_assert_eq(apex_store_nonce_next(s, k.id, 1000, &nonce, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(nonce, 1000);
  cr_assert_eq(apex_store_nonce_next(s, k.id, 1000, &nonce, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(nonce, 1001, "the clock did not move: one above the last");
  cr_assert_eq(apex_store_nonce_next(s, k.id, 500, &nonce, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(nonce, 1002, "a clock set back never gives an older nonce");
  cr_assert_eq(apex_store_nonce_next(s, k.id, 5000, &nonce, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(nonce, 5000);
  char other[APEX_ID_LEN];
  new_id(other);
  cr_assert_neq(apex_store_nonce_next(s, other, 1, &nonce, &err), APEX_OK, "no key, no nonce");
}
