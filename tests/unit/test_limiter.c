/* The in-process rate limiter (jobs/limiter_inproc.c): exact keys, a window per key opened by its
 * first event, expired keys evicted, live keys never evicted (a full table limits newcomers). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "jobs/limiter.h"

Test(limiter, counts_per_key_until_the_window_ends)
{
  apex_limiter l;
  cr_assert_eq(apex_limiter_inproc_new(16, &l), APEX_OK);
  for (int i = 0; i < 3; i++)
    cr_expect_eq(apex_limiter_hit(&l, "a", 3, 60, 1000 + i, true), 0, "event %d of 3", i + 1);
  cr_expect_eq(apex_limiter_hit(&l, "a", 3, 60, 1010, true), 50, "4th: wait until 1000 + 60");
  cr_expect_eq(apex_limiter_hit(&l, "a", 3, 60, 1010, false), 50, "a check without counting");
  cr_expect_eq(apex_limiter_hit(&l, "b", 3, 60, 1010, false), 0, "another key is untouched");
  cr_expect_eq(apex_limiter_hit(&l, "a", 3, 60, 1060, true), 0, "a new window at 1060");
  apex_limiter_free(&l);
}

Test(limiter, a_check_does_not_count)
{
  apex_limiter l;
  cr_assert_eq(apex_limiter_inproc_new(16, &l), APEX_OK);
  for (int i = 0; i < 10; i++)
    cr_expect_eq(apex_limiter_hit(&l, "k", 1, 60, 5, false), 0);
  cr_expect_eq(apex_limiter_hit(&l, "k", 1, 60, 5, true), 0, "the first counted event");
  cr_expect_eq(apex_limiter_hit(&l, "k", 1, 60, 5, false), 60, "one more would exceed 1");
  apex_limiter_free(&l);
}

Test(limiter, a_full_table_limits_newcomers_and_keeps_live_keys)
{
  apex_limiter l;
  char key[32];
  cr_assert_eq(apex_limiter_inproc_new(100, &l), APEX_OK);
  cr_expect_eq(apex_limiter_hit(&l, "victim", 2, 60, 0, true), 0);
  cr_expect_eq(apex_limiter_hit(&l, "victim", 2, 60, 0, true), 0);
  for (int i = 0; i < 99; i++) {
    snprintf(key, sizeof key, "k%d", i);
    cr_expect_eq(apex_limiter_hit(&l, key, 5, 60, 10, true), 0);
  }
  cr_expect_eq(apex_limiter_hit(&l, "newcomer", 5, 60, 20, true), 40, "full of live keys: wait for the oldest (0 + 60)");
  cr_expect_eq(apex_limiter_hit(&l, "victim", 2, 60, 30, true), 30, "the victim's count is intact");
  /* At 65 the victim's window is over (and k* live until 70): sweeping frees its slot. */
  cr_expect_eq(apex_limiter_hit(&l, "newcomer", 5, 60, 65, true), 0, "an expired key made room");
  cr_expect_eq(apex_limiter_hit(&l, "late", 5, 60, 66, true), 4, "full again until the k* expire at 70");
  cr_expect_eq(apex_limiter_hit(&l, "late", 5, 60, 70, true), 0);
  apex_limiter_free(&l);
}

Test(limiter, long_keys_are_cut_not_overflowed)
{
  apex_limiter l;
  char big[1000];
  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  cr_assert_eq(apex_limiter_inproc_new(4, &l), APEX_OK);
  cr_expect_eq(apex_limiter_hit(&l, big, 1, 60, 0, true), 0);
  cr_expect_eq(apex_limiter_hit(&l, big, 1, 60, 0, true), 60);
  apex_limiter_free(&l);
}

typedef struct { apex_limiter *l; int id; int limited; } worker_arg;

static void *hammer(void *p)
{
  worker_arg *a = p;
  char key[32];
  for (int i = 0; i < 2000; i++) {
    snprintf(key, sizeof key, "t%d-%d", a->id, i % 50);
    if (apex_limiter_hit(a->l, key, 1000, 60, 0, true))
      a->limited++;
    if (apex_limiter_hit(a->l, "shared", 1000000, 60, 0, true))
      a->limited++;
  }
  return NULL;
}

Test(limiter, concurrent_hits_count_every_event)
{
  apex_limiter l;
  pthread_t t[4];
  worker_arg a[4];
  cr_assert_eq(apex_limiter_inproc_new(1000, &l), APEX_OK);
  for (int i = 0; i < 4; i++) {
    a[i] = (worker_arg){&l, i, 0};
    pthread_create(&t[i], NULL, hammer, &a[i]);
  }
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    cr_expect_eq(a[i].limited, 0);
  }
  /* 8,000 counted on "shared": with max 8,000 the next one is over. */
  cr_expect_eq(apex_limiter_hit(&l, "shared", 8000, 60, 0, false), 60);
  cr_expect_eq(apex_limiter_hit(&l, "shared", 8001, 60, 0, false), 0);
  apex_limiter_free(&l);
}
