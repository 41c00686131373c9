/* The in-process verified-token cache (jobs/tokencache_inproc.c): a hit returns exactly what was
 * put under exactly that key; entries end at their own expiry; the bound holds (least recently
 * used out first); keys in one bucket, with a common prefix or differing only past where a
 * fixed-size key would be cut, never answer for one another (the cache it replaces kept one
 * token per hash slot); many threads at once lose nothing and corrupt nothing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "jobs/tokencache.h"

#define NOW 1700000000

typedef struct claims {
  char sub[40];
  int64_t exp;
} claims;

static claims val(const char *sub, int64_t exp)
{
  claims c = {.exp = exp};
  snprintf(c.sub, sizeof c.sub, "%s", sub);
  return c;
}

Test(tokencache, hit_returns_what_was_put_and_miss_otherwise)
{
  apex_tokencache tc;
  claims in = val("user-1", NOW + 900), out = {0};
  cr_assert_eq(apex_tokencache_inproc_new(16, &tc), APEX_OK);
  cr_expect_not(apex_tokencache_get(&tc, "a.b.c", NOW, &out, sizeof out), "empty cache");
  cr_assert_eq(apex_tokencache_put(&tc, "a.b.c", in.exp, NOW, &in, sizeof in), APEX_OK);
  cr_assert(apex_tokencache_get(&tc, "a.b.c", NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "user-1");
  cr_expect_eq(out.exp, NOW + 900);
  cr_expect_not(apex_tokencache_get(&tc, "a.b.d", NOW, &out, sizeof out), "another token");
  cr_expect_not(apex_tokencache_get(&tc, "a.b.c", NOW, &out, sizeof out - 1), "another value size");
  /* put again: the new value wins */
  in = val("user-1b", NOW + 1000);
  cr_assert_eq(apex_tokencache_put(&tc, "a.b.c", in.exp, NOW, &in, sizeof in), APEX_OK);
  cr_assert(apex_tokencache_get(&tc, "a.b.c", NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "user-1b");
  apex_tokencache_free(&tc);
  apex_tokencache_free(&tc); /* zeroed: a no-op */
}

Test(tokencache, entries_end_at_their_own_expiry)
{
  apex_tokencache tc;
  claims a = val("short", NOW + 10), b = val("long", NOW + 1000), out;
  cr_assert_eq(apex_tokencache_inproc_new(16, &tc), APEX_OK);
  cr_assert_eq(apex_tokencache_put(&tc, "tok-short", a.exp, NOW, &a, sizeof a), APEX_OK);
  cr_assert_eq(apex_tokencache_put(&tc, "tok-long", b.exp, NOW, &b, sizeof b), APEX_OK);
  cr_expect(apex_tokencache_get(&tc, "tok-short", NOW + 9, &out, sizeof out), "last second");
  cr_expect_not(apex_tokencache_get(&tc, "tok-short", NOW + 10, &out, sizeof out), "expires at exp");
  cr_expect(apex_tokencache_get(&tc, "tok-long", NOW + 999, &out, sizeof out), "the other one lives on");
  cr_expect_not(apex_tokencache_get(&tc, "tok-long", NOW + 1000, &out, sizeof out));
  cr_expect_eq(apex_tokencache_put(&tc, "tok-dead", NOW, NOW, &a, sizeof a), APEX_EINVAL, "already expired");
  cr_expect_not(apex_tokencache_get(&tc, "tok-dead", NOW - 5, &out, sizeof out), "never stored");
  apex_tokencache_free(&tc);
}

Test(tokencache, bound_holds_and_the_least_recently_used_goes_first)
{
  apex_tokencache tc;
  claims c = val("u", NOW + 900), out;
  char key[32];
  cr_assert_eq(apex_tokencache_inproc_new(4, &tc), APEX_OK);
  for (int i = 0; i < 4; i++) {
    snprintf(key, sizeof key, "tok-%d", i);
    cr_assert_eq(apex_tokencache_put(&tc, key, c.exp, NOW, &c, sizeof c), APEX_OK);
  }
  cr_assert(apex_tokencache_get(&tc, "tok-0", NOW, &out, sizeof out)); /* 0 is now the most recent */
  cr_assert_eq(apex_tokencache_put(&tc, "tok-4", c.exp, NOW, &c, sizeof c), APEX_OK);
  cr_expect_not(apex_tokencache_get(&tc, "tok-1", NOW, &out, sizeof out), "least recently used: out");
  int held = 0;
  for (int i = 0; i < 5; i++) {
    snprintf(key, sizeof key, "tok-%d", i);
    held += apex_tokencache_get(&tc, key, NOW, &out, sizeof out);
  }
  cr_expect_eq(held, 4, "never more than the bound");
  cr_expect(apex_tokencache_get(&tc, "tok-0", NOW, &out, sizeof out));
  cr_expect(apex_tokencache_get(&tc, "tok-4", NOW, &out, sizeof out));

  /* A flood of new keys keeps it at the bound. */
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof key, "flood-%d", i);
    cr_assert_eq(apex_tokencache_put(&tc, key, c.exp, NOW, &c, sizeof c), APEX_OK);
  }
  held = 0;
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof key, "flood-%d", i);
    held += apex_tokencache_get(&tc, key, NOW, &out, sizeof out);
  }
  cr_expect_eq(held, 4, "the last four");
  apex_tokencache_free(&tc);
}

Test(tokencache, expired_entries_make_room_before_live_ones)
{
  apex_tokencache tc;
  claims shortc = val("s", NOW + 5), longc = val("l", NOW + 900), out;
  cr_assert_eq(apex_tokencache_inproc_new(2, &tc), APEX_OK);
  cr_assert_eq(apex_tokencache_put(&tc, "live", longc.exp, NOW, &longc, sizeof longc), APEX_OK);
  cr_assert_eq(apex_tokencache_put(&tc, "dying", shortc.exp, NOW, &shortc, sizeof shortc), APEX_OK);
  /* "live" is the least recently used, but "dying" has expired: it goes, "live" stays. */
  cr_assert_eq(apex_tokencache_put(&tc, "new", longc.exp, NOW + 6, &longc, sizeof longc), APEX_OK);
  cr_expect(apex_tokencache_get(&tc, "live", NOW + 6, &out, sizeof out));
  cr_expect(apex_tokencache_get(&tc, "new", NOW + 6, &out, sizeof out));
  apex_tokencache_free(&tc);
}

Test(tokencache, keys_that_share_a_bucket_or_a_prefix_never_answer_for_each_other)
{
  apex_tokencache tc;
  static char a[8000], b[8000];
  claims ca = val("alice", NOW + 900), cb = val("bob", NOW + 900), out;
  /* One entry, so one bucket: every key hashes alike there. */
  cr_assert_eq(apex_tokencache_inproc_new(1, &tc), APEX_OK);
  cr_assert_eq(apex_tokencache_put(&tc, "eyJ.alice.sig", ca.exp, NOW, &ca, sizeof ca), APEX_OK);
  cr_expect_not(apex_tokencache_get(&tc, "eyJ.alice.sif", NOW, &out, sizeof out), "last byte differs");
  cr_expect_not(apex_tokencache_get(&tc, "eyJ.alice.si", NOW, &out, sizeof out), "a prefix of it");
  cr_expect_not(apex_tokencache_get(&tc, "eyJ.alice.sigX", NOW, &out, sizeof out), "it plus one byte");
  apex_tokencache_free(&tc);

  /* Long tokens that differ only near their end (past any fixed-size cut of a key). */
  cr_assert_eq(apex_tokencache_inproc_new(64, &tc), APEX_OK);
  memset(a, 'A', sizeof a - 1);
  memcpy(b, a, sizeof b);
  b[sizeof b - 2] = 'B';
  cr_assert_eq(apex_tokencache_put(&tc, a, ca.exp, NOW, &ca, sizeof ca), APEX_OK);
  cr_expect_not(apex_tokencache_get(&tc, b, NOW, &out, sizeof out), "differs in byte 7998");
  cr_assert_eq(apex_tokencache_put(&tc, b, cb.exp, NOW, &cb, sizeof cb), APEX_OK);
  cr_assert(apex_tokencache_get(&tc, a, NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "alice");
  cr_assert(apex_tokencache_get(&tc, b, NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "bob");

  /* Too long to store whole: refused, never cut. */
  static char huge[APEX_TOKENCACHE_KEY_MAX + 2];
  memset(huge, 'h', sizeof huge - 1);
  cr_expect_eq(apex_tokencache_put(&tc, huge, ca.exp, NOW, &ca, sizeof ca), APEX_EINVAL);
  huge[APEX_TOKENCACHE_KEY_MAX] = '\0'; /* the longest accepted */
  cr_expect_eq(apex_tokencache_put(&tc, huge, ca.exp, NOW, &ca, sizeof ca), APEX_OK);
  huge[APEX_TOKENCACHE_KEY_MAX] = 'h';
  cr_expect_not(apex_tokencache_get(&tc, huge, NOW, &out, sizeof out), "one byte more is not it");
  apex_tokencache_free(&tc);
}

typedef struct worker {
  apex_tokencache *tc;
  int id, wrong;
} worker;

static void *hammer(void *p)
{
  worker *w = p;
  char key[32]; /* fits claims.sub */
  claims c, out;
  for (int i = 0; i < 20000; i++) {
    int k = (i * 7 + w->id) % 300;
    snprintf(key, sizeof key, "token-%d", k);
    c = val(key, NOW + 900);
    (void)apex_tokencache_put(w->tc, key, c.exp, NOW, &c, sizeof c);
    if (apex_tokencache_get(w->tc, key, NOW, &out, sizeof out) && strcmp(out.sub, key))
      w->wrong++;
  }
  return NULL;
}

Test(tokencache, concurrent_use_never_mixes_up_values)
{
  apex_tokencache tc;
  pthread_t t[4];
  worker w[4];
  cr_assert_eq(apex_tokencache_inproc_new(128, &tc), APEX_OK); /* smaller than the key set: evictions race too */
  for (int i = 0; i < 4; i++) {
    w[i] = (worker){&tc, i, 0};
    pthread_create(&t[i], NULL, hammer, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    cr_expect_eq(w[i].wrong, 0, "thread %d got another key's value", i);
  }
  apex_tokencache_free(&tc);
}

Test(tokencache, bad_arguments)
{
  apex_tokencache tc;
  claims c = val("u", NOW + 1), out;
  cr_expect_eq(apex_tokencache_inproc_new(0, &tc), APEX_EINVAL);
  cr_expect_null(tc.ops);
  cr_assert_eq(apex_tokencache_inproc_new(2, &tc), APEX_OK);
  cr_expect_eq(apex_tokencache_put(&tc, "", c.exp, NOW, &c, sizeof c), APEX_EINVAL, "empty key");
  cr_expect_eq(apex_tokencache_put(&tc, "k", c.exp, NOW, &c, 0), APEX_EINVAL, "empty value");
  cr_expect_eq(apex_tokencache_put(&tc, "k", c.exp, NOW, &c, APEX_TOKENCACHE_VALUE_MAX + 1), APEX_EINVAL);
  cr_expect_not(apex_tokencache_get(&tc, "", NOW, &out, sizeof out));
  apex_tokencache_free(&tc);
}
