/* errors.h - the API's error codes (errors.def) as an enum, with their HTTP status and title.
 * Header-only (a switch over the list), so the HTTP framework and app/ share it without linking
 * each other. */
#ifndef APEX_APP_ERRORS_H
#define APEX_APP_ERRORS_H

typedef enum apex_code {
#define X(name, code, status, title) APEX_E_##name = (code),
#include "app/errors.def"
#undef X
} apex_code;

/* The HTTP status of a listed code; 0 for a code not in the list. */
static inline int apex_code_status(int code)
{
  switch (code) {
#define X(name, code, status, title) \
  case (code): return (status);
#include "app/errors.def"
#undef X
  default: return 0;
  }
}

/* The title of a listed code; NULL for a code not in the list. */
static inline const char *apex_code_title(int code)
{
  switch (code) {
#define X(name, code, status, title) \
  case (code): return (title);
#include "app/errors.def"
#undef X
  default: return 0;
  }
}

#endif
