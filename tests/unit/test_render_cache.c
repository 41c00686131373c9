/* Strategy list items rendered once (app/strategies.c) and spliced into the list envelope
 * (base/json.c): the reply is byte for byte what encoding everything with jansson gives, and a
 * cached item never outlives a change of any field it shows. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"

static int64_t clock_ms = 1700000000000;
static int64_t now(void) { return clock_ms; }

static apex_json *item(const char *name, double x)
{
  apex_json *o = apex_json_new_object();
  apex_json_object_set(o, "name", apex_json_new_string(name));
  apex_json_object_set(o, "x", apex_json_new_number(x));
  apex_json_object_set(o, "none", apex_json_new_null());
  return o;
}

static apex_json *envelope(apex_json *items)
{
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "items", items ? items : apex_json_new_null());
  apex_json_object_set(j, "total", apex_json_new_integer(42));
  apex_json_object_set(j, "page", apex_json_new_integer(3));
  return j;
}

Test(render_cache, splicing_gives_what_jansson_gives)
{
  const char *names[] = {"plain", "quote \" and \\ back", "tab\tnew\nline \x01", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x88",
                         ""};
  for (size_t n = 0; n <= 5; n++) {
    apex_json *arr = apex_json_new_array();
    char *text[5];
    size_t len[5];
    for (size_t i = 0; i < n; i++) {
      apex_json *it = item(names[i], 0.1 * (double)i - 1e300 * (double)(i == 3));
      text[i] = apex_json_dump(it, false);
      len[i] = strlen(text[i]);
      apex_json_array_append(arr, it);
    }
    apex_json *want_doc = envelope(arr), *shell = envelope(NULL);
    char *want = apex_json_dump(want_doc, false);
    size_t got_len = 0;
    char *got = apex_json_dump_with_items(shell, (const char *const *)text, len, n, &got_len);
    cr_assert_not_null(got);
    cr_expect_str_eq(got, want, "%zu items", n);
    cr_expect_eq(got_len, strlen(want));
    for (size_t i = 0; i < n; i++)
      free(text[i]);
    free(want);
    free(got);
    apex_json_free(want_doc);
    apex_json_free(shell);
  }
}

Test(render_cache, splicing_refuses_what_it_cannot_do_exactly)
{
  size_t len = 7;
  apex_json *j = apex_json_new_object();
  apex_json_object_set(j, "items", apex_json_new_array()); /* not null: nothing marks the place */
  cr_expect_null(apex_json_dump_with_items(j, NULL, NULL, 0, &len));
  cr_expect_eq(len, 0);
  apex_json_free(j);
  j = apex_json_new_object();
  apex_json_object_set(j, "it\"ems", apex_json_new_null()); /* a key that needs escaping */
  cr_expect_null(apex_json_dump_with_items(j, NULL, NULL, 0, &len));
  apex_json_free(j);
  apex_json *arr = apex_json_new_array();
  cr_expect_null(apex_json_dump_with_items(arr, NULL, NULL, 0, &len), "not an object");
  apex_json_free(arr);
}

static apex_strategy_row row(void)
{
  apex_strategy_row r = {.version = 3, .stop_loss_pct = 20000, .take_profit_pct = -1,
                         .max_position_size_pct = 950000, .max_drawdown_pct = -1,
                         .created_at = 1700000000123, .updated_at = 1700000100456, .activated_at = 0};
  strcpy(r.id, "067ba7b7-ff75-499e-9835-a8cfe604ded9");
  strcpy(r.user_id, "5048d287-8458-4ec8-b145-c020839f7400");
  strcpy(r.name, "RSI mean reversion");
  r.description = strdup("Buy below 30, sell above 70.");
  strcpy(r.symbol, "ORCL");
  strcpy(r.timeframe, "1d");
  strcpy(r.status, "draft");
  return r;
}

/* The cached text of r equals a fresh rendering of r (an app without a render cache). */
static void expect_fresh(apex_app *cached, apex_app *plain, const apex_strategy_row *r, const char *what)
{
  size_t a_len = 0, b_len = 0;
  char *a = apex_app_strategy_item_text(cached, r, &a_len), *b = apex_app_strategy_item_text(plain, r, &b_len);
  cr_assert(a && b);
  cr_expect_str_eq(a, b, "after changing %s", what);
  cr_expect_eq(a_len, b_len);
  free(a);
  free(b);
}

Test(render_cache, a_change_of_any_field_shows)
{
  apex_cache cache;
  cr_assert_eq(apex_cache_inproc_new(64, 4096, &cache), APEX_OK);
  apex_app cached = {.now_ms = now, .renders = &cache}, plain = {.now_ms = now};
  apex_strategy_row r = row();
  expect_fresh(&cached, &plain, &r, "nothing");
  expect_fresh(&cached, &plain, &r, "nothing (a hit)");
  /* Each field the item shows, changed in place after the row was cached. */
  r.id[0] = 'f';                         expect_fresh(&cached, &plain, &r, "id");
  strcpy(r.name, "RSI mean reversion 2"); expect_fresh(&cached, &plain, &r, "name");
  free(r.description);
  r.description = NULL;                  expect_fresh(&cached, &plain, &r, "description (none)");
  r.description = strdup("");            expect_fresh(&cached, &plain, &r, "description (empty)");
  strcpy(r.symbol, "AAPL");              expect_fresh(&cached, &plain, &r, "symbol");
  strcpy(r.timeframe, "4h");             expect_fresh(&cached, &plain, &r, "timeframe");
  r.stop_loss_pct = 30000;               expect_fresh(&cached, &plain, &r, "stop_loss_pct");
  r.take_profit_pct = 50000;             expect_fresh(&cached, &plain, &r, "take_profit_pct");
  r.max_position_size_pct = 100000;      expect_fresh(&cached, &plain, &r, "max_position_size_pct");
  r.max_drawdown_pct = 250000;           expect_fresh(&cached, &plain, &r, "max_drawdown_pct");
  r.version = 4;                         expect_fresh(&cached, &plain, &r, "version");
  strcpy(r.status, "active");            expect_fresh(&cached, &plain, &r, "status");
  strcpy(r.trading_mode, "paper");       expect_fresh(&cached, &plain, &r, "trading_mode");
  r.created_at += 1;                     expect_fresh(&cached, &plain, &r, "created_at");
  r.updated_at += 1;                     expect_fresh(&cached, &plain, &r, "updated_at");
  r.activated_at = 1700000200789;        expect_fresh(&cached, &plain, &r, "activated_at");
  /* Strings that only move a boundary between two fields are different keys. */
  strcpy(r.name, "ab");
  strcpy(r.symbol, "c");
  expect_fresh(&cached, &plain, &r, "name/symbol split 1");
  strcpy(r.name, "a");
  strcpy(r.symbol, "bc");
  expect_fresh(&cached, &plain, &r, "name/symbol split 2");
  /* A description too long for a key is rendered every time, still right. */
  free(r.description);
  r.description = malloc(5000);
  memset(r.description, 'x', 4999);
  r.description[4999] = '\0';
  expect_fresh(&cached, &plain, &r, "a long description");
  apex_strategy_row_clear(&r);
  apex_cache_free(&cache);
}

/* Every field of the row struct the item shows must be in the key: a field added to the row and
 * to the JSON but not to the key would pass the test above only if it were listed there, so the
 * row's size is pinned here as a reminder to extend both. */
Test(render_cache, the_key_knows_the_row)
{
  cr_expect_eq(sizeof(apex_strategy_row), 360,
               "apex_strategy_row changed (%zu bytes): add the new field to item_key in app/strategies.c and "
               "to a_change_of_any_field_shows, then update this size",
               sizeof(apex_strategy_row));
}
