/* The SQLite backend of store.h against a fresh database file per test (see store_cases.h), plus
 * what only SQLite has: the file's pragmas and the "sqlite:" URL prefix. */
#include "store_cases.h"

static char db_path[256];
static apex_store *st;

static void setup(void)
{
  apex_error err = {0};
  snprintf(db_path, sizeof db_path, "%s/store-test-%d.db", APEX_BINARY_DIR, (int)getpid());
  unlink(db_path);
  cr_assert_eq(apex_store_open(db_path, 0, &st, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(apex_store_backend(st), "sqlite");
  cr_assert_eq(apex_store_migrate(st, &err), APEX_OK, "%s", err.msg);
}

static void teardown(void)
{
  char p[300];
  apex_store_close(st);
  st = NULL;
  unlink(db_path);
  snprintf(p, sizeof p, "%s-wal", db_path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db_path);
  unlink(p);
}

TestSuite(store_sqlite, .init = setup, .fini = teardown);

Test(store_sqlite, migrate_twice) { case_migrate_twice(st); }
Test(store_sqlite, users) { case_users(st); }
Test(store_sqlite, tokens) { case_tokens(st); }
Test(store_sqlite, strategies) { case_strategies(st); }
Test(store_sqlite, decimals_exact) { case_decimals(st); }
Test(store_sqlite, backtests) { case_backtests(st); }
Test(store_sqlite, ohlcv) { case_ohlcv(st); }
Test(store_sqlite, threads) { case_threads(st); }
Test(store_sqlite, portfolios) { case_portfolios(st); }
Test(store_sqlite, bad_ids) { case_bad_ids(st); }
Test(store_sqlite, api_keys) { case_api_keys(st); }
Test(store_sqlite, leases) { case_leases(st); }
Test(store_sqlite, rules) { case_rules(st); }
Test(store_sqlite, stmt_cache) { case_stmt_cache(st); }
Test(store_sqlite, unified_ids) { case_unified_ids(st); }
Test(store_sqlite, backtest_cap) { case_backtest_cap(st); }
Test(store_sqlite, fx_rates) { case_fx(st); }
Test(store_sqlite, live_orders) { case_live_orders(st); }

Test(store_sqlite, status_before_migrating_is_pending)
{
  apex_error err = {0};
  apex_store *s2 = NULL;
  char path[300], buf[256];
  snprintf(path, sizeof path, "sqlite:%s.fresh", db_path);
  cr_assert_eq(apex_store_open(path, 0, &s2, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(apex_store_migration_status(s2, buf, sizeof buf, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(buf, "0001_init pending\n0002_api_key_secrets pending\n0003_leases_rules_catalog pending\n"
                        "0004_users_email_lower pending\n0005_paper_runs pending\n0006_fx_rates pending\n0007_run_progress pending\n"
                        "0008_live_orders pending\n0009_live_venues pending\n");
  apex_store_close(s2);
  unlink(path + 7);
}

Test(store_sqlite, bad_urls)
{
  apex_error err = {0};
  apex_store *s2 = NULL;
  cr_assert_eq(apex_store_open("", 0, &s2, &err), APEX_EINVAL);
  cr_assert_eq(apex_store_open("sqlite:", 0, &s2, &err), APEX_EINVAL);
  cr_assert_eq(apex_store_open("/nonexistent-dir/x/y.db", 0, &s2, &err), APEX_EIO);
  cr_assert_null(s2);
  /* other schemes are refused, naming what is accepted, never taken as a file name */
  const char *bad[] = {"mysql://u:p@db/x", "redis://localhost:6379", "foo:", "postgresql+://h/db", "sqlite3:x.db"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_assert_eq(apex_store_open(bad[i], 0, &s2, &err), APEX_EINVAL, "%s", bad[i]);
    cr_assert_null(s2);
    cr_assert(strstr(err.msg, "postgresql") && strstr(err.msg, "sqlite"), "%s: %s", bad[i], err.msg);
  }
  /* postgresql+DRIVER:// goes to PostgreSQL (here: nothing listens, so it cannot connect) */
  cr_assert_eq(apex_store_open("postgresql+asyncpg://nobody@127.0.0.1:1/none?connect_timeout=2", 1, &s2, &err),
               APEX_EIO);
  cr_assert(strstr(err.msg, "pg: cannot connect"), "%s", err.msg);
  apex_store_close(NULL);
}

Test(store_sqlite, sqlalchemy_url)
{
  apex_error err = {0};
  apex_store *s2 = NULL;
  char url[400];
  /* sqlite:////abs/path: SQLAlchemy's absolute form (three slashes, then the path's own) */
  snprintf(url, sizeof url, "sqlite:///%s.sa", db_path);
  cr_assert_eq(db_path[0], '/');
  cr_assert_eq(apex_store_open(url, 0, &s2, &err), APEX_OK, "%s", err.msg);
  cr_assert_str_eq(apex_store_backend(s2), "sqlite");
  cr_assert_eq(apex_store_migrate(s2, &err), APEX_OK, "%s", err.msg);
  apex_store_close(s2);
  cr_assert_eq(access(url + 10, F_OK), 0, "%s was not created", url + 10);
  char p[420];
  unlink(url + 10);
  snprintf(p, sizeof p, "%s-wal", url + 10);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", url + 10);
  unlink(p);
}

/* Every login looks its user up by lower(email): SQLite must search the expression's index, not
 * scan the users table (the column's NOCASE index cannot answer lower()). */
Test(store_sqlite, email_lookup_uses_index)
{
  apex_error err = {0};
  apex_sql_res *r = NULL;
  char sql[600];
  bool searched = false;
  snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN %s", apex_sql__user_by_email);
  void *c = apex_sql__acquire(st);
  cr_assert_eq(SQL(st, c, sql, &r, &err, A_TEXT("Someone@Example.com")), APEX_OK, "%s", err.msg);
  for (int i = 0; i < st->sql->rows(r); i++) {
    const char *detail = st->sql->text(r, i, 3); /* "SEARCH users USING INDEX ..." or "SCAN users" */
    cr_assert(!strstr(detail, "SCAN"), "%s", detail);
    searched |= strstr(detail, "USING INDEX idx_users_email") != NULL;
  }
  cr_assert(searched, "the lookup does not use idx_users_email");
  st->sql->res_free(r);
  apex_sql__release(st, c);
}
