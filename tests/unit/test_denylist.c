/* test_denylist.c - the in-process denylist: a revoked token or user stays revoked until its end
 * and no longer, keys are exact, and a full list refuses new entries instead of forgetting live
 * ones (a forgotten logout would bring a stolen token back). */
#include <criterion/criterion.h>
#include <stdio.h>

#include "jobs/denylist.h"

Test(denylist, tokens_until_their_expiry)
{
  apex_denylist d;
  cr_assert_eq(apex_denylist_inproc_new(16, &d), APEX_OK);
  cr_assert_eq(apex_denylist_revoke_token(&d, "jti-1", 1000, 100), APEX_OK);
  cr_assert(apex_denylist_revoked(&d, "jti-1", "u1", 50, 100));
  cr_assert(apex_denylist_revoked(&d, "jti-1", "u1", 50, 999));
  cr_assert(!apex_denylist_revoked(&d, "jti-1", "u1", 50, 1000)); /* expired: nothing to deny */
  cr_assert(!apex_denylist_revoked(&d, "jti-2", "u1", 50, 100));
  cr_assert(!apex_denylist_revoked(&d, "jti-", "u1", 50, 100)); /* exact keys, no prefixes */
  cr_assert(!apex_denylist_revoked(&d, "", "u1", 50, 100));
  cr_assert_eq(apex_denylist_revoke_token(&d, "", 1000, 100), APEX_EINVAL);
  apex_denylist_free(&d);
}

Test(denylist, users_before_a_moment)
{
  apex_denylist d;
  cr_assert_eq(apex_denylist_inproc_new(16, &d), APEX_OK);
  cr_assert_eq(apex_denylist_revoke_user(&d, "u1", 500, 1400, 500), APEX_OK);
  cr_assert(apex_denylist_revoked(&d, "a", "u1", 499, 600));
  cr_assert(!apex_denylist_revoked(&d, "a", "u1", 500, 600)); /* issued at the reset: after it */
  cr_assert(!apex_denylist_revoked(&d, "a", "u2", 100, 600));
  cr_assert(!apex_denylist_revoked(&d, "a", "u1", 499, 1400));
  /* A later reset moves the moment forward; an earlier one never moves it back. */
  cr_assert_eq(apex_denylist_revoke_user(&d, "u1", 700, 1600, 700), APEX_OK);
  cr_assert(apex_denylist_revoked(&d, "a", "u1", 650, 800));
  cr_assert_eq(apex_denylist_revoke_user(&d, "u1", 600, 1500, 800), APEX_OK);
  cr_assert(apex_denylist_revoked(&d, "a", "u1", 650, 800));
  apex_denylist_free(&d);
}

Test(denylist, full_refuses_rather_than_forgets)
{
  apex_denylist d;
  char jti[16];
  cr_assert_eq(apex_denylist_inproc_new(4, &d), APEX_OK);
  for (int i = 0; i < 4; i++) {
    snprintf(jti, sizeof jti, "t%d", i);
    cr_assert_eq(apex_denylist_revoke_token(&d, jti, i < 2 ? 200 : 1000, 100), APEX_OK);
  }
  cr_assert_eq(apex_denylist_revoke_token(&d, "t4", 1000, 150), APEX_ENOMEM); /* all four live */
  for (int i = 0; i < 4; i++) {
    snprintf(jti, sizeof jti, "t%d", i);
    cr_assert(apex_denylist_revoked(&d, jti, "u", 0, 150), "%s forgotten", jti);
  }
  /* Once two have expired, their room is taken again. */
  cr_assert_eq(apex_denylist_revoke_token(&d, "t4", 1000, 300), APEX_OK);
  cr_assert_eq(apex_denylist_revoke_token(&d, "t5", 1000, 300), APEX_OK);
  cr_assert(apex_denylist_revoked(&d, "t3", "u", 0, 300) && apex_denylist_revoked(&d, "t5", "u", 0, 300));
  apex_denylist_free(&d);
}
