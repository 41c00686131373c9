/* resample.c - one pass over sorted candles, closing a bucket whenever the bucket number changes. */
#include "core/resample.h"

apex_err apex_resample(const apex_series *in, apex_timeframe from, apex_timeframe to, apex_series **out,
                       apex_error *err)
{
  char fs[8], ts[8];
  apex_series *s = NULL;
  apex_err rc = APEX_OK;

  *out = NULL;
  apex_timeframe_str(from, fs, sizeof fs);
  apex_timeframe_str(to, ts, sizeof ts);
  if (!apex_timeframe_valid(to))
    return apex_error_set(err, APEX_EINVAL, "target timeframe %s is not valid", ts);
  if (from.unit != APEX_TF_NONE && !apex_timeframe_divides(from, to))
    return apex_error_set(err, APEX_EINVAL, "%s is not a whole multiple of the data's timeframe %s", ts, fs);
  s = apex_series_new(0);
  if (!s)
    goto oom;
  apex_bar cur = {0};
  int64_t cur_idx = 0;
  bool open = false;
  for (size_t i = 0; i < in->n; i++) {
    int64_t idx = apex_timeframe_index(to, in->time[i]);
    if (!open || idx != cur_idx) {
      if (open && apex_series_append(s, &cur))
        goto oom;
      cur.time = apex_timeframe_start(to, idx);
      cur.open = in->open[i];
      cur.high = in->high[i];
      cur.low = in->low[i];
      cur.volume = 0;
      cur_idx = idx;
      open = true;
    }
    if (in->high[i] > cur.high)
      cur.high = in->high[i];
    if (in->low[i] < cur.low)
      cur.low = in->low[i];
    cur.close = in->close[i];
    cur.volume += in->volume[i];
  }
  if (open && apex_series_append(s, &cur))
    goto oom;
  *out = s;
  s = NULL;
  goto out;
oom:
  rc = apex_error_set(err, APEX_ENOMEM, "resample: out of memory");
out:
  apex_series_free(s);
  return rc;
}
