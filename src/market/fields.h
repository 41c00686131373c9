/* fields.h - one field of a venue's JSON reply read with a message that names it: the helpers the
 * codecs (binance_codec.c, kraken_codec.c, yahoo_codec.c) share. `what` names the field in the
 * message ("binance klines row 3 field 2 (high)"). */
#ifndef APEX_MARKET_FIELDS_H
#define APEX_MARKET_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/decimal.h"
#include "base/err.h"
#include "base/json.h"

#define APEX_FIELD_SHOWN_MAX 40
/* Text of a JSON value for messages: strings quoted and cut to APEX_FIELD_SHOWN_MAX bytes, other
 * values by their type name. Returns buf or a static name. */
const char *apex_field_shown(const apex_json *v, char buf[static APEX_FIELD_SHOWN_MAX + 8]);
/* A decimal sent as a JSON string (venues send prices and sizes as text). Numbers are refused: a
 * double would already have lost the exact text. APEX_EOVERFLOW out of range, else APEX_EPARSE. */
apex_err apex_field_dec(const apex_json *v, const char *what, apex_dec *out, apex_error *err);
/* A quantity sent as a JSON string that goes into a double anyway (a candle's volume,
 * core/series): read from its text, so volumes beyond the decimals' range (~9.2e10) still decode. */
apex_err apex_field_double(const apex_json *v, const char *what, double *out, apex_error *err);
/* An integer sent as a JSON number (times, ids, counts). */
apex_err apex_field_int(const apex_json *v, const char *what, int64_t *out, apex_error *err);

/* 1..max bytes, none a control character: what may go into an identifier, a log line or a stored
 * row as it is (jansson has already checked the UTF-8). */
bool apex_field_text_ok(const char *s, size_t max);

/* A decimal exactly as sent, m x 10^-scale, for products that must round once (quote_filled =
 * filled quantity x average price): apex_dec's 8 places would round each factor first. */
typedef struct apex_field_exact {
  uint64_t m;
  int scale;
} apex_field_exact;
/* The exact value of the decimal string s that read as d (>= 0): every digit while its
 * significand has at most 19, else d (rounded to 8 places; no venue sends one). */
apex_field_exact apex_field_exact_of(const char *s, apex_dec d);
/* a x b rounded once to 8 places, half to even (ties do not all go one way over many fills).
 * APEX_EOVERFLOW beyond apex_dec's range. */
apex_err apex_field_exact_mul(apex_field_exact a, apex_field_exact b, apex_dec *out);
/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), 'T' and 'Z' in either case, the
 * fraction 1..9 digits, as ms UTC (later digits truncated), not before 1970. */
bool apex_field_rfc3339(const char *s, int64_t *ms);

#endif
