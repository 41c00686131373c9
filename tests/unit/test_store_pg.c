/* The PostgreSQL backend of store.h: the same checks as test_store_sqlite.c (store_cases.h) against
 * the database in APEX_TEST_PG_URL (`make test` starts a throwaway cluster); skipped when unset,
 * failed when unset but APEX_REQUIRE_PG is (as `make test` runs it). */
#include "store_cases.h"

static apex_store *st;

static void setup(void)
{
  apex_error err = {0};
  const char *url = getenv("APEX_TEST_PG_URL");
  if (!url || !*url) {
    /* make test sets APEX_REQUIRE_PG: there a missing PostgreSQL fails instead of passing silently. */
    const char *req = getenv("APEX_REQUIRE_PG");
    cr_assert(!req || !*req, "APEX_TEST_PG_URL is not set but APEX_REQUIRE_PG is");
    cr_skip_test("APEX_TEST_PG_URL is not set");
  }
  cr_assert_eq(apex_store_open(url, 3, &st, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(apex_store_backend(st), "postgresql");
  cr_assert_eq(apex_store_migrate(st, &err), APEX_OK, "%s", err.msg);
}

static void teardown(void)
{
  apex_store_close(st);
  st = NULL;
}

TestSuite(store_pg, .init = setup, .fini = teardown);

Test(store_pg, migrate_twice) { case_migrate_twice(st); }
Test(store_pg, users) { case_users(st); }
Test(store_pg, tokens) { case_tokens(st); }
Test(store_pg, strategies) { case_strategies(st); }
Test(store_pg, decimals_exact) { case_decimals(st); }
Test(store_pg, backtests) { case_backtests(st); }
Test(store_pg, ohlcv) { case_ohlcv(st); }
Test(store_pg, threads) { case_threads(st); }
Test(store_pg, portfolios) { case_portfolios(st); }
Test(store_pg, bad_ids) { case_bad_ids(st); }
Test(store_pg, api_keys) { case_api_keys(st); }
Test(store_pg, leases) { case_leases(st); }
Test(store_pg, rules) { case_rules(st); }
Test(store_pg, stmt_cache) { case_stmt_cache(st); }
Test(store_pg, unified_ids) { case_unified_ids(st); }
Test(store_pg, backtest_cap) { case_backtest_cap(st); }
Test(store_pg, fx_rates) { case_fx(st); }
Test(store_pg, live_orders) { case_live_orders(st); }

Test(store_pg, pool_size_and_bad_url)
{
  apex_error err = {0};
  apex_store *s2 = NULL;
  int in_use, size;
  apex_store_pool_stats(st, &in_use, &size);
  cr_assert_eq(size, 3);
  cr_assert_eq(in_use, 0);
  cr_assert_eq(apex_store_open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1, &s2, &err), APEX_EIO);
  cr_assert_null(s2);
  cr_assert(strstr(err.msg, "cannot connect"), "%s", err.msg);
  /* the spec's DATABASE_URL form, postgresql+asyncpg://, opens the same database */
  const char *url = getenv("APEX_TEST_PG_URL");
  char sa[600];
  cr_assert(!strncmp(url, "postgresql://", 13), "%s", url);
  snprintf(sa, sizeof sa, "postgresql+asyncpg://%s", url + 13);
  cr_assert_eq(apex_store_open(sa, 1, &s2, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(apex_store_backend(s2), "postgresql");
  cr_assert_eq(apex_store_ping(s2, &err), APEX_OK, "%s", err.msg);
  apex_store_close(s2);
}

/* Every login looks its user up by lower(email): the plan must search idx_users_email (seq scans
 * priced out, since a test table is small enough for the planner to scan it anyway). */
Test(store_pg, email_lookup_uses_index)
{
  apex_error err = {0};
  apex_sql_res *r = NULL;
  char sql[600];
  bool indexed = false;
  snprintf(sql, sizeof sql, "EXPLAIN %s", apex_sql__user_by_email);
  void *c = apex_sql__acquire(st);
  cr_assert_eq(apex_sql__exec(st, c, "BEGIN", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_sql__exec(st, c, "SET LOCAL enable_seqscan = off", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(SQL(st, c, sql, &r, &err, A_TEXT("Someone@Example.com")), APEX_OK, "%s", err.msg);
  for (int i = 0; i < st->sql->rows(r); i++)
    indexed |= strstr(st->sql->text(r, i, 0), "idx_users_email") != NULL;
  st->sql->res_free(r);
  apex_sql__rollback(st, c);
  apex_sql__release(st, c);
  cr_assert(indexed, "the lookup does not use idx_users_email");
}

/* A session that loses its prepared statements without libpq noticing (DEALLOCATE ALL, or pgbouncer
 * in transaction mode handing over another server session): a cached statement run again outside a
 * transaction is prepared afresh and answers; inside one the server has aborted the transaction, so
 * the error stands, and the rollback after it leaves the connection usable. */
Test(store_pg, stmt_cache_survives_deallocate_all)
{
  apex_error err = {0};
  apex_store *s1 = NULL;
  apex_sql_res *r = NULL;
  apex_user u, got;
  cr_assert_eq(apex_store_open(getenv("APEX_TEST_PG_URL"), 1, &s1, &err), APEX_OK, "%s", err.msg);
  make_user(s1, &u);
  OK(apex_store_user_by_id(s1, u.id, &got, &err)); /* its statement is now prepared */
  void *c = apex_sql__acquire(s1);                  /* the only connection: the one the store uses */
  cr_assert_eq(apex_sql__exec(s1, c, "DEALLOCATE ALL", &err), APEX_OK, "%s", err.msg);
  apex_sql__release(s1, c);
  cr_assert_eq(apex_store_user_by_id(s1, u.id, &got, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(got.email, u.email);

  static const char count_sql[] = "SELECT count(*) FROM users WHERE id = $1";
  c = apex_sql__acquire(s1);
  cr_assert_eq(SQL(s1, c, count_sql, NULL, &err, A_TEXT(u.id)), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_sql__begin(s1, c, &err), APEX_OK, "%s", err.msg);
  apex_sql__rollback(s1, c); /* BEGIN and ROLLBACK are cached too */
  cr_assert_eq(apex_sql__begin(s1, c, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_sql__exec(s1, c, "DEALLOCATE ALL", &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(SQL(s1, c, count_sql, NULL, &err, A_TEXT(u.id)), APEX_EIO, "inside a transaction: no retry");
  cr_assert(strstr(err.msg, "does not exist"), "%s", err.msg);
  apex_sql__rollback(s1, c);
  cr_assert_eq(SQL(s1, c, count_sql, &r, &err, A_TEXT(u.id)), APEX_OK, "%s", err.msg);
  cr_assert_eq(s1->sql->i64(r, 0, 0), 1);
  s1->sql->res_free(r);
  apex_sql__release(s1, c);
  apex_store_close(s1);
}
