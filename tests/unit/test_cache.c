/* The in-process cache (jobs/cache_inproc.c), as the token cache and the render cache use it: a
 * hit returns exactly what was
 * put under exactly that key; entries end at their own expiry; the bound holds (least recently
 * used out first); keys in one bucket, with a common prefix or differing only past where a
 * fixed-size key would be cut, never answer for one another (the cache it replaces kept one
 * token per hash slot); many threads at once lose nothing and corrupt nothing. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "jobs/cache.h"

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

Test(cache, hit_returns_what_was_put_and_miss_otherwise)
{
  apex_cache tc;
  claims in = val("user-1", NOW + 900), out = {0};
  cr_assert_eq(apex_cache_inproc_new(16, 1024, &tc), APEX_OK);
  cr_expect_not(apex_cache_get_text(&tc, "a.b.c", NOW, &out, sizeof out), "empty cache");
  cr_assert_eq(apex_cache_put_text(&tc, "a.b.c", in.exp, NOW, &in, sizeof in), APEX_OK);
  cr_assert(apex_cache_get_text(&tc, "a.b.c", NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "user-1");
  cr_expect_eq(out.exp, NOW + 900);
  cr_expect_not(apex_cache_get_text(&tc, "a.b.d", NOW, &out, sizeof out), "another token");
  cr_expect_not(apex_cache_get_text(&tc, "a.b.c", NOW, &out, sizeof out - 1), "another value size");
  /* put again: the new value wins */
  in = val("user-1b", NOW + 1000);
  cr_assert_eq(apex_cache_put_text(&tc, "a.b.c", in.exp, NOW, &in, sizeof in), APEX_OK);
  cr_assert(apex_cache_get_text(&tc, "a.b.c", NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "user-1b");
  apex_cache_free(&tc);
  apex_cache_free(&tc); /* zeroed: a no-op */
}

Test(cache, entries_end_at_their_own_expiry)
{
  apex_cache tc;
  claims a = val("short", NOW + 10), b = val("long", NOW + 1000), out;
  cr_assert_eq(apex_cache_inproc_new(16, 1024, &tc), APEX_OK);
  cr_assert_eq(apex_cache_put_text(&tc, "tok-short", a.exp, NOW, &a, sizeof a), APEX_OK);
  cr_assert_eq(apex_cache_put_text(&tc, "tok-long", b.exp, NOW, &b, sizeof b), APEX_OK);
  cr_expect(apex_cache_get_text(&tc, "tok-short", NOW + 9, &out, sizeof out), "last second");
  cr_expect_not(apex_cache_get_text(&tc, "tok-short", NOW + 10, &out, sizeof out), "expires at exp");
  cr_expect(apex_cache_get_text(&tc, "tok-long", NOW + 999, &out, sizeof out), "the other one lives on");
  cr_expect_not(apex_cache_get_text(&tc, "tok-long", NOW + 1000, &out, sizeof out));
  cr_expect_eq(apex_cache_put_text(&tc, "tok-dead", NOW, NOW, &a, sizeof a), APEX_EINVAL, "already expired");
  cr_expect_not(apex_cache_get_text(&tc, "tok-dead", NOW - 5, &out, sizeof out), "never stored");
  apex_cache_free(&tc);
}

Test(cache, bound_holds_and_the_least_recently_used_goes_first)
{
  apex_cache tc;
  claims c = val("u", NOW + 900), out;
  char key[32];
  cr_assert_eq(apex_cache_inproc_new(4, 1024, &tc), APEX_OK);
  for (int i = 0; i < 4; i++) {
    snprintf(key, sizeof key, "tok-%d", i);
    cr_assert_eq(apex_cache_put_text(&tc, key, c.exp, NOW, &c, sizeof c), APEX_OK);
  }
  cr_assert(apex_cache_get_text(&tc, "tok-0", NOW, &out, sizeof out)); /* 0 is now the most recent */
  cr_assert_eq(apex_cache_put_text(&tc, "tok-4", c.exp, NOW, &c, sizeof c), APEX_OK);
  cr_expect_not(apex_cache_get_text(&tc, "tok-1", NOW, &out, sizeof out), "least recently used: out");
  int held = 0;
  for (int i = 0; i < 5; i++) {
    snprintf(key, sizeof key, "tok-%d", i);
    held += apex_cache_get_text(&tc, key, NOW, &out, sizeof out);
  }
  cr_expect_eq(held, 4, "never more than the bound");
  cr_expect(apex_cache_get_text(&tc, "tok-0", NOW, &out, sizeof out));
  cr_expect(apex_cache_get_text(&tc, "tok-4", NOW, &out, sizeof out));

  /* A flood of new keys keeps it at the bound. */
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof key, "flood-%d", i);
    cr_assert_eq(apex_cache_put_text(&tc, key, c.exp, NOW, &c, sizeof c), APEX_OK);
  }
  held = 0;
  for (int i = 0; i < 10000; i++) {
    snprintf(key, sizeof key, "flood-%d", i);
    held += apex_cache_get_text(&tc, key, NOW, &out, sizeof out);
  }
  cr_expect_eq(held, 4, "the last four");
  apex_cache_free(&tc);
}

Test(cache, expired_entries_make_room_before_live_ones)
{
  apex_cache tc;
  claims shortc = val("s", NOW + 5), longc = val("l", NOW + 900), out;
  cr_assert_eq(apex_cache_inproc_new(2, 1024, &tc), APEX_OK);
  cr_assert_eq(apex_cache_put_text(&tc, "live", longc.exp, NOW, &longc, sizeof longc), APEX_OK);
  cr_assert_eq(apex_cache_put_text(&tc, "dying", shortc.exp, NOW, &shortc, sizeof shortc), APEX_OK);
  /* "live" is the least recently used, but "dying" has expired: it goes, "live" stays. */
  cr_assert_eq(apex_cache_put_text(&tc, "new", longc.exp, NOW + 6, &longc, sizeof longc), APEX_OK);
  cr_expect(apex_cache_get_text(&tc, "live", NOW + 6, &out, sizeof out));
  cr_expect(apex_cache_get_text(&tc, "new", NOW + 6, &out, sizeof out));
  apex_cache_free(&tc);
}

Test(cache, keys_that_share_a_bucket_or_a_prefix_never_answer_for_each_other)
{
  apex_cache tc;
  static char a[8000], b[8000];
  claims ca = val("alice", NOW + 900), cb = val("bob", NOW + 900), out;
  /* One entry, so one bucket: every key hashes alike there. */
  cr_assert_eq(apex_cache_inproc_new(1, 1024, &tc), APEX_OK);
  cr_assert_eq(apex_cache_put_text(&tc, "eyJ.alice.sig", ca.exp, NOW, &ca, sizeof ca), APEX_OK);
  cr_expect_not(apex_cache_get_text(&tc, "eyJ.alice.sif", NOW, &out, sizeof out), "last byte differs");
  cr_expect_not(apex_cache_get_text(&tc, "eyJ.alice.si", NOW, &out, sizeof out), "a prefix of it");
  cr_expect_not(apex_cache_get_text(&tc, "eyJ.alice.sigX", NOW, &out, sizeof out), "it plus one byte");
  apex_cache_free(&tc);

  /* Long tokens that differ only near their end (past any fixed-size cut of a key). */
  cr_assert_eq(apex_cache_inproc_new(64, 1024, &tc), APEX_OK);
  memset(a, 'A', sizeof a - 1);
  memcpy(b, a, sizeof b);
  b[sizeof b - 2] = 'B';
  cr_assert_eq(apex_cache_put_text(&tc, a, ca.exp, NOW, &ca, sizeof ca), APEX_OK);
  cr_expect_not(apex_cache_get_text(&tc, b, NOW, &out, sizeof out), "differs in byte 7998");
  cr_assert_eq(apex_cache_put_text(&tc, b, cb.exp, NOW, &cb, sizeof cb), APEX_OK);
  cr_assert(apex_cache_get_text(&tc, a, NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "alice");
  cr_assert(apex_cache_get_text(&tc, b, NOW, &out, sizeof out));
  cr_expect_str_eq(out.sub, "bob");

  /* Too long to store whole: refused, never cut. */
  static char huge[APEX_CACHE_KEY_MAX + 2];
  memset(huge, 'h', sizeof huge - 1);
  cr_expect_eq(apex_cache_put_text(&tc, huge, ca.exp, NOW, &ca, sizeof ca), APEX_EINVAL);
  huge[APEX_CACHE_KEY_MAX] = '\0'; /* the longest accepted */
  cr_expect_eq(apex_cache_put_text(&tc, huge, ca.exp, NOW, &ca, sizeof ca), APEX_OK);
  huge[APEX_CACHE_KEY_MAX] = 'h';
  cr_expect_not(apex_cache_get_text(&tc, huge, NOW, &out, sizeof out), "one byte more is not it");
  apex_cache_free(&tc);
}

typedef struct worker {
  apex_cache *tc;
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
    (void)apex_cache_put_text(w->tc, key, c.exp, NOW, &c, sizeof c);
    if (apex_cache_get_text(w->tc, key, NOW, &out, sizeof out) && strcmp(out.sub, key))
      w->wrong++;
  }
  return NULL;
}

Test(cache, concurrent_use_never_mixes_up_values)
{
  apex_cache tc;
  pthread_t t[4];
  worker w[4];
  cr_assert_eq(apex_cache_inproc_new(128, 1024, &tc), APEX_OK); /* smaller than the key set: evictions race too */
  for (int i = 0; i < 4; i++) {
    w[i] = (worker){&tc, i, 0};
    pthread_create(&t[i], NULL, hammer, &w[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    cr_expect_eq(w[i].wrong, 0, "thread %d got another key's value", i);
  }
  apex_cache_free(&tc);
}

Test(cache, bad_arguments)
{
  apex_cache tc;
  claims c = val("u", NOW + 1), out;
  cr_expect_eq(apex_cache_inproc_new(0, 1024, &tc), APEX_EINVAL);
  cr_expect_null(tc.ops);
  cr_assert_eq(apex_cache_inproc_new(2, 1024, &tc), APEX_OK);
  cr_expect_eq(apex_cache_put_text(&tc, "", c.exp, NOW, &c, sizeof c), APEX_EINVAL, "empty key");
  cr_expect_eq(apex_cache_put_text(&tc, "k", c.exp, NOW, &c, 0), APEX_EINVAL, "empty value");
  cr_expect_eq(apex_cache_put_text(&tc, "k", c.exp, NOW, &c, 1024 + 1), APEX_EINVAL);
  cr_expect_not(apex_cache_get_text(&tc, "", NOW, &out, sizeof out));
  apex_cache_free(&tc);
}

/* The render cache's way: keys of any bytes (NUL included, compared whole) and values of any
 * length up to the bound, handed back only when they fit the caller's buffer. */
Test(cache, byte_keys_and_values_of_any_length)
{
  apex_cache c;
  char out[64];
  size_t len = 99;
  const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'}, k3[] = {'a'};
  cr_assert_eq(apex_cache_inproc_new(8, 32, &c), APEX_OK);
  cr_assert_eq(apex_cache_put(&c, k1, sizeof k1, NOW + 60, NOW, "{\"x\":1}", 7), APEX_OK);
  cr_assert_eq(apex_cache_put(&c, k2, sizeof k2, NOW + 60, NOW, "[1,2,3,4]", 9), APEX_OK);
  cr_assert(apex_cache_get(&c, k1, sizeof k1, NOW, out, sizeof out, &len));
  cr_expect_eq(len, 7);
  cr_expect_eq(memcmp(out, "{\"x\":1}", 7), 0);
  cr_assert(apex_cache_get(&c, k2, sizeof k2, NOW, out, sizeof out, &len), "differs after the NUL");
  cr_expect_eq(len, 9);
  cr_expect_eq(memcmp(out, "[1,2,3,4]", 9), 0);
  cr_expect_not(apex_cache_get(&c, k3, sizeof k3, NOW, out, sizeof out, &len), "a prefix of both");
  cr_expect_eq(len, 0);
  cr_expect_not(apex_cache_get(&c, k2, sizeof k2, NOW, out, 8, &len), "does not fit the buffer");
  cr_expect_eq(apex_cache_put(&c, k3, sizeof k3, NOW + 60, NOW, out, 33), APEX_EINVAL, "over the value bound");
  apex_cache_free(&c);
}
