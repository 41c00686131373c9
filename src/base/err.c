/* err.c - messages for the error list in err.h. */
#include "base/err.h"

#include <stdarg.h>
#include <stdio.h>

const char *apex_strerror(apex_err e)
{
  switch (e) {
#define X(name, val, msg) case APEX_##name: return msg;
    APEX_ERR_MAP(X)
#undef X
  }
  return "unknown error";
}

const char *apex_err_name(apex_err e)
{
  switch (e) {
#define X(name, val, msg) case APEX_##name: return #name;
    APEX_ERR_MAP(X)
#undef X
  }
  return "EUNKNOWN";
}

apex_err apex_error_set(apex_error *e, apex_err code, const char *fmt, ...)
{
  if (e) {
    va_list ap;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
  }
  return code;
}
