/* ref.h - test-only readers for the reference files in ../shared/reference, kept apart from the
 * product's loaders so a loader bug cannot hide an indicator bug. */
#ifndef APEX_TEST_REF_H
#define APEX_TEST_REF_H

#include <stddef.h>

#include "core/series.h"

#define REF_MAX_COLS 16

/* A reference CSV: header `date,<cols>`, one row per candle, empty field = NaN. */
typedef struct ref_table {
  size_t n, ncols;
  char names[REF_MAX_COLS][32];
  double *cols[REF_MAX_COLS];
} ref_table;

/* Path relative to ../shared (e.g. "reference/talib/orcl/sma_20.csv"). Aborts the test on error. */
ref_table *ref_table_load(const char *shared_rel);
void ref_table_free(ref_table *t);
/* Column by name or NULL. */
const double *ref_table_col(const ref_table *t, const char *name);

/* The ORCL 1995-2014 candles TA-Lib was run on (reference/talib/orcl/input-orcl-1995-2014.csv). */
apex_series *ref_orcl_series(void);

/* Seeded synthetic random-walk candles, valid OHLC relations, positive volume, 1-minute steps. */
apex_series *ref_random_series(size_t n, unsigned seed);

/* |a - b| within rel * max(|a|, |b|), or within abs near zero; NaN equals NaN. */
int ref_close_enough(double a, double b, double rel, double abs_tol);

#endif
