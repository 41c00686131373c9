/* ref.c - reference-file readers for tests (see ref.h). */
#include "support/ref.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *path)
{
  fprintf(stderr, "ref: %s: %s\n", what, path);
  abort();
}

static char *slurp(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    die("cannot open", path);
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *buf = malloc((size_t)sz + 1);
  if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz)
    die("cannot read", path);
  buf[sz] = '\0';
  fclose(f);
  *len = (size_t)sz;
  return buf;
}

ref_table *ref_table_load(const char *shared_rel)
{
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", APEX_SHARED_DIR, shared_rel);
  size_t len;
  char *buf = slurp(path, &len);
  ref_table *t = calloc(1, sizeof *t);
  size_t lines = 0;
  for (size_t i = 0; i < len; i++)
    lines += buf[i] == '\n';
  char *save = NULL, *line = strtok_r(buf, "\n", &save);
  /* header */
  char *hs = NULL, *tok = strtok_r(line, ",\r", &hs);
  while ((tok = strtok_r(NULL, ",\r", &hs)) && t->ncols < REF_MAX_COLS)
    snprintf(t->names[t->ncols++], sizeof t->names[0], "%s", tok);
  for (size_t c = 0; c < t->ncols; c++)
    t->cols[c] = malloc(lines * sizeof(double));
  while ((line = strtok_r(NULL, "\n", &save))) {
    char *p = strchr(line, ',');
    if (!p)
      die("bad row", path);
    for (size_t c = 0; c < t->ncols; c++) {
      p++;
      char *end;
      double v = strtod(p, &end);
      t->cols[c][t->n] = end == p ? NAN : v;
      p = strchr(end, ',');
      if (!p && c + 1 < t->ncols)
        die("short row", path);
    }
    t->n++;
  }
  free(buf);
  return t;
}

void ref_table_free(ref_table *t)
{
  if (!t)
    return;
  for (size_t c = 0; c < t->ncols; c++)
    free(t->cols[c]);
  free(t);
}

const double *ref_table_col(const ref_table *t, const char *name)
{
  for (size_t c = 0; c < t->ncols; c++)
    if (!strcmp(t->names[c], name))
      return t->cols[c];
  return NULL;
}

apex_series *ref_orcl_series(void)
{
  ref_table *t = ref_table_load("reference/talib/orcl/input-orcl-1995-2014.csv");
  apex_series *s = apex_series_new(t->n);
  const double *o = ref_table_col(t, "open"), *h = ref_table_col(t, "high"), *l = ref_table_col(t, "low"),
               *c = ref_table_col(t, "close"), *v = ref_table_col(t, "volume");
  for (size_t i = 0; i < t->n; i++) {
    /* Daily rows; the exact time does not matter to indicators other than VWAP. */
    apex_bar b = {(int64_t)i * 86400000, o[i], h[i], l[i], c[i], v[i]};
    apex_series_append(s, &b);
  }
  ref_table_free(t);
  return s;
}

static double next_unit(unsigned long long *st)
{
  *st = *st * 6364136223846793005ULL + 1442695040888963407ULL;
  return (double)(*st >> 11) / 9007199254740992.0;
}

apex_series *ref_random_series(size_t n, unsigned seed)
{
  apex_series *s = apex_series_new(n);
  unsigned long long st = seed * 2654435761ULL + 1;
  double price = 100;
  for (size_t i = 0; i < n; i++) {
    double open = price;
    double close = open * (1 + (next_unit(&st) - 0.5) * 0.02);
    double hi = fmax(open, close) * (1 + next_unit(&st) * 0.01);
    double lo = fmin(open, close) * (1 - next_unit(&st) * 0.01);
    /* Now and then a flat candle, to reach the zero-range branches. */
    if (next_unit(&st) < 0.02)
      hi = lo = close = open;
    apex_bar b = {(int64_t)i * 60000, open, hi, lo, close, 1000 + next_unit(&st) * 9000};
    apex_series_append(s, &b);
    price = close;
  }
  return s;
}

int ref_close_enough(double a, double b, double rel, double abs_tol)
{
  if (isnan(a) || isnan(b))
    return isnan(a) && isnan(b);
  double d = fabs(a - b);
  return d <= abs_tol || d <= rel * fmax(fabs(a), fabs(b));
}
