/* jsonarr.c - JSON arrays of [time_ms, open, high, low, close, volume] as ccxt and Freqtrade write
 * them (numbers or numeric strings). Locations are element indexes, 0-based like jq's .[i]. */
#include "base/json.h"
#include "io/rows.h"

static const char *const FIELD_NAME[] = {"time", "open", "high", "low", "close", "volume"};

static apex_err one_row(void *ctx, const apex_json_row *row)
{
  apex_rows *r = ctx;
  size_t loc = row->index + 1; /* rows.c prints loc - 1 */
  apex_bar b;
  double *dst[] = {NULL, &b.open, &b.high, &b.low, &b.close, &b.volume};

  if (!row->is_array)
    return apex_rows_bad(r, loc, APEX_EDATA, "expected an array [time, open, high, low, close, volume], got %s",
                         apex_json_type_name(row->value));
  for (size_t k = 0; k < 6; k++) {
    if (k >= row->n)
      return apex_rows_bad(r, loc, APEX_EDATA, "%s: missing (the array has %zu values)", FIELD_NAME[k], row->len);
    if (row->rc[k])
      return apex_rows_bad(r, loc, APEX_EPARSE, "%s: %s is not a number", FIELD_NAME[k],
                           apex_json_type_name(row->cell[k]));
    if (k)
      *dst[k] = row->num[k];
  }
  int64_t t;
  if (apex_json_int64(row->cell[0], &t))
    return apex_rows_bad(r, loc, APEX_EPARSE, "time: not an integer epoch");
  apex_timeinfo ti = {APEX_TIMEFMT_EPOCH_MS, false, false, false};
  b.time = apex_io_epoch_ms(t, &ti.fmt);
  apex_io_note_time(r, &ti);
  return apex_rows_add(r, loc, &b);
}

apex_err apex_jsonarr_load(apex_rows *r, const char *data, size_t len)
{
  apex_json *doc = NULL;
  apex_error jerr;
  apex_err rc;

  r->elements = true;
  r->rep->format = "json";
  rc = apex_json_parse(data, len, r->max_bytes, &doc, &jerr);
  if (rc)
    return apex_rows_fail(r, 0, rc, "JSON %s", jerr.msg);
  if (!apex_json_is_array(doc)) {
    rc = apex_rows_fail(r, 0, APEX_EDATA, "JSON top level is %s, expected an array of [time, open, high, low, close, volume]",
                        apex_json_type_name(doc));
    goto out;
  }
  rc = apex_json_each_row(doc, one_row, r);
out:
  apex_json_free(doc);
  return rc;
}
