/* log.h - structured logs: one JSON object per line on stderr (or a size-rotated file), with a
 * level threshold.
 * Fields whose key names a secret (password, token, secret, authorization, cookie, key) are
 * written as "[redacted]" whatever the caller passes. Thread-safe: each line is one write(). */
#ifndef APEX_SYS_LOG_H
#define APEX_SYS_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef enum apex_log_level {
  APEX_LOG_DEBUG = 0,
  APEX_LOG_INFO,
  APEX_LOG_WARN,
  APEX_LOG_ERROR,
  APEX_LOG_OFF,
} apex_log_level;

typedef enum { APEX_LF_STR, APEX_LF_INT, APEX_LF_NUM, APEX_LF_BOOL } apex_log_ftype;

typedef struct apex_log_field {
  const char *key;
  apex_log_ftype type;
  const char *s; /* APEX_LF_STR; NULL writes null */
  int64_t i;     /* APEX_LF_INT, APEX_LF_BOOL */
  double d;      /* APEX_LF_NUM */
} apex_log_field;

#define APEX_LOG_S(k, v) ((apex_log_field){.key = (k), .type = APEX_LF_STR, .s = (v)})
#define APEX_LOG_I(k, v) ((apex_log_field){.key = (k), .type = APEX_LF_INT, .i = (int64_t)(v)})
#define APEX_LOG_N(k, v) ((apex_log_field){.key = (k), .type = APEX_LF_NUM, .d = (double)(v)})
#define APEX_LOG_B(k, v) ((apex_log_field){.key = (k), .type = APEX_LF_BOOL, .i = (v) ? 1 : 0})

/* Threshold; lines below it are dropped. Default APEX_LOG_INFO. */
void apex_log_set_level(apex_log_level lvl);
apex_log_level apex_log_get_level(void);
/* "debug", "info", "warn"/"warning", "error", "off" (case-insensitive); -1 when unknown. */
int apex_log_level_parse(const char *s);
/* Redirects output to fd (default 2); for tests. */
void apex_log_set_fd(int fd);
/* Appends to path (created 0600) instead, rotated when it reaches max_bytes: path.1 .. path.keep
 * hold the older lines and the oldest is dropped. 0, or an errno value (EINVAL: bad arguments). */
int apex_log_open_file(const char *path, size_t max_bytes, int keep);

/* {"time":"2024-01-01T00:00:00.123Z","level":"info","msg":msg, fields...} */
void apex_log_fields(apex_log_level lvl, const char *msg, const apex_log_field *fields, size_t n);
/* A line with only a printf-formatted msg. */
void apex_log(apex_log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
