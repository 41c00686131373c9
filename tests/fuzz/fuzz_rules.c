/* fuzz_rules.c - rule JSON through the strict parser, validation and compilation, then evaluation
 * of a compiled rule on a small fixed slot array: no crash, no overread, no leak. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "base/json.h"
#include "core/rule/rule.h"

#define FUZZ_T 24
#define FUZZ_SLOTS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static double col[FUZZ_SLOTS][FUZZ_T];
  static const double *slots[FUZZ_SLOTS];
  apex_json *doc = NULL;
  apex_ruleset *rs = NULL;
  apex_problems probs = {0};

  if (!slots[0])
    for (size_t k = 0; k < FUZZ_SLOTS; k++) {
      for (size_t i = 0; i < FUZZ_T; i++)
        col[k][i] = (i + k) % 7 == 0 ? NAN : (double)((i * 7 + k * 3) % 11) - 5;
      slots[k] = col[k];
    }
  if (apex_json_parse_strict((const char *)data, size, 1 << 20, &doc, NULL))
    goto out;
  rs = apex_ruleset_new();
  if (!rs)
    goto out;
  int r = apex_ruleset_add(rs, doc, "/rules/0", &probs);
  for (size_t i = 0; i < probs.n; i++) {
    char buf[512];
    apex_problems_format(&probs, i, buf, sizeof buf);
  }
  /* A second copy shares every dependency, and its id (if any) is a duplicate. */
  (void)apex_ruleset_add(rs, doc, "/rules/1", &probs);
  if (r >= 0 && apex_ruleset_nslots(rs) <= FUZZ_SLOTS)
    for (size_t t = 0; t < FUZZ_T; t++)
      (void)apex_ruleset_eval(rs, (size_t)r, slots, t);
out:
  apex_ruleset_free(rs);
  apex_json_free(doc);
  return 0;
}
