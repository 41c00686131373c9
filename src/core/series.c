/* series.c - growth and access for columnar OHLCV series. */
#include "core/series.h"

#include <stdlib.h>
#include <string.h>

apex_series *apex_series_new(size_t cap)
{
  apex_series *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  if (cap && apex_series_reserve(s, cap)) {
    free(s);
    return NULL;
  }
  return s;
}

void apex_series_free(apex_series *s)
{
  if (!s)
    return;
  free(s->time);
  free(s->open);
  free(s->high);
  free(s->low);
  free(s->close);
  free(s->volume);
  free(s);
}

/* Reallocates one column; the old block stays valid on failure. */
static int grow(void **col, size_t elem, size_t cap)
{
  void *p = realloc(*col, elem * cap);
  if (!p)
    return -1;
  *col = p;
  return 0;
}

apex_err apex_series_reserve(apex_series *s, size_t cap)
{
  if (cap <= s->cap)
    return APEX_OK;
  if (cap > SIZE_MAX / sizeof(double))
    return APEX_ENOMEM;
  /* Each column grows separately; cap only moves once all have the room. */
  if (grow((void **)&s->time, sizeof *s->time, cap) || grow((void **)&s->open, sizeof(double), cap) ||
      grow((void **)&s->high, sizeof(double), cap) || grow((void **)&s->low, sizeof(double), cap) ||
      grow((void **)&s->close, sizeof(double), cap) || grow((void **)&s->volume, sizeof(double), cap))
    return APEX_ENOMEM;
  s->cap = cap;
  return APEX_OK;
}

apex_err apex_series_append(apex_series *s, const apex_bar *b)
{
  if (s->n == s->cap) {
    apex_err rc = apex_series_reserve(s, s->cap < 1024 ? 1024 : s->cap * 2);
    if (rc)
      return rc;
  }
  size_t i = s->n++;
  s->time[i] = b->time;
  s->open[i] = b->open;
  s->high[i] = b->high;
  s->low[i] = b->low;
  s->close[i] = b->close;
  s->volume[i] = b->volume;
  return APEX_OK;
}

apex_bar apex_series_bar(const apex_series *s, size_t i)
{
  apex_bar b = {s->time[i], s->open[i], s->high[i], s->low[i], s->close[i], s->volume[i]};
  return b;
}

void apex_series_slice(apex_series *s, size_t from, size_t to)
{
  if (to > s->n)
    to = s->n;
  if (from >= to) {
    s->n = 0;
    return;
  }
  size_t k = to - from;
  if (from) {
    memmove(s->time, s->time + from, k * sizeof *s->time);
    memmove(s->open, s->open + from, k * sizeof(double));
    memmove(s->high, s->high + from, k * sizeof(double));
    memmove(s->low, s->low + from, k * sizeof(double));
    memmove(s->close, s->close + from, k * sizeof(double));
    memmove(s->volume, s->volume + from, k * sizeof(double));
  }
  s->n = k;
}
