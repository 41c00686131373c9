/* err.h - the one list of error codes, and an error with a message for the edges.
 * Library code returns these; only the CLI and servers print them. */
#ifndef APEX_BASE_ERR_H
#define APEX_BASE_ERR_H

#include <stddef.h>

#define APEX_ERR_MAP(X)                                   \
  X(OK,         0, "success")                             \
  X(EINVAL,    -1, "invalid argument")                    \
  X(ENOMEM,    -2, "out of memory")                       \
  X(ETOOBIG,   -3, "input larger than allowed")           \
  X(EPARSE,    -4, "malformed input")                     \
  X(EIO,       -5, "storage or network failure")          \
  X(ENOFUNDS,  -6, "insufficient funds")                  \
  X(EOVERFLOW, -7, "arithmetic overflow")                 \
  X(ENOTFOUND, -8, "not found")                           \
  X(EDATA,     -9, "invalid data")                        \
  X(ECANCELED, -10, "cancelled")                          \
  X(ECONFLICT, -11, "already exists or changed meanwhile") \
  X(ETIMEOUT,  -12, "timed out")                          \
  X(ERATELIMIT, -13, "rate limited by the other side")

typedef enum {
#define X(name, val, msg) APEX_##name = (val),
  APEX_ERR_MAP(X)
#undef X
} apex_err;

/* Static text for a code; never NULL. */
const char *apex_strerror(apex_err e);
/* Short symbolic name ("EINVAL"); never NULL. */
const char *apex_err_name(apex_err e);

/* An error with context, filled where the context is known (file, line, field). */
typedef struct apex_error {
  apex_err code;
  char msg[512];
} apex_error;

/* Sets e (if not NULL) and returns code, so callers can `return apex_error_set(...)`. */
apex_err apex_error_set(apex_error *e, apex_err code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define APEX_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
