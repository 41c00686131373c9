/* fields.c - the codecs' shared field readers (fields.h). */
#include "market/fields.h"

#include <stdio.h>
#include <string.h>

#include "base/parse.h"

const char *apex_field_shown(const apex_json *v, char buf[static APEX_FIELD_SHOWN_MAX + 8])
{
  const char *s = apex_json_string_value(v);
  if (!s)
    return apex_json_type_name(v);
  size_t n = strnlen(s, APEX_FIELD_SHOWN_MAX + 1);
  snprintf(buf, APEX_FIELD_SHOWN_MAX + 8, "\"%.*s%s\"", (int)(n > APEX_FIELD_SHOWN_MAX ? APEX_FIELD_SHOWN_MAX : n), s,
           n > APEX_FIELD_SHOWN_MAX ? "..." : "");
  return buf;
}

apex_err apex_field_dec(const apex_json *v, const char *what, apex_dec *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *s = apex_json_string_value(v);
  if (!s)
    return apex_error_set(err, APEX_EPARSE, "%s: expected a decimal string, got %s", what, apex_field_shown(v, b));
  apex_err rc = apex_dec_from_str(s, out);
  if (rc == APEX_EOVERFLOW)
    return apex_error_set(err, rc, "%s: %s is out of range", what, apex_field_shown(v, b));
  if (rc)
    return apex_error_set(err, APEX_EPARSE, "%s: %s is not a decimal", what, apex_field_shown(v, b));
  return APEX_OK;
}

apex_err apex_field_double(const apex_json *v, const char *what, double *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  const char *s = apex_json_string_value(v);
  if (!s)
    return apex_error_set(err, APEX_EPARSE, "%s: expected a decimal string, got %s", what, apex_field_shown(v, b));
  const char *cur = s, *end = s + strlen(s);
  if (apex_parse_double(&cur, end, out) || cur != end)
    return apex_error_set(err, APEX_EPARSE, "%s: %s is not a decimal", what, apex_field_shown(v, b));
  return APEX_OK;
}

apex_err apex_field_int(const apex_json *v, const char *what, int64_t *out, apex_error *err)
{
  char b[APEX_FIELD_SHOWN_MAX + 8];
  if (!apex_json_is_integer(v) || apex_json_int64(v, out))
    return apex_error_set(err, APEX_EPARSE, "%s: expected an integer, got %s", what, apex_field_shown(v, b));
  return APEX_OK;
}

bool apex_field_text_ok(const char *s, size_t max)
{
  size_t n = strnlen(s, max + 1);
  if (n == 0 || n > max)
    return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
      return false;
  return true;
}
