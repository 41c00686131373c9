/* log.c - JSON lines on stderr. Built with snprintf into a stack buffer and written with one
 * write() so concurrent threads never interleave within a line; no allocation on the hot path. */
#include "sys/log.h"

#include "base/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_LEN 4096

static _Atomic int g_level = APEX_LOG_INFO;
static _Atomic int g_fd = 2;

/* LOG_FILE: lines are appended to a file that is rotated by size (file -> file.1 -> ... ->
 * file.keep), so the logs can never take more than (keep + 1) * max_bytes of disk. */
static struct {
  pthread_mutex_t mu; /* rotation only: writers never take it */
  char path[1024];
  size_t max_bytes;
  int keep;
  _Atomic size_t size;
} g_file = {.mu = PTHREAD_MUTEX_INITIALIZER};

static const char *const LEVEL_NAMES[] = {"debug", "info", "warn", "error", "off"};

void apex_log_set_level(apex_log_level lvl) { atomic_store(&g_level, (int)lvl); }
apex_log_level apex_log_get_level(void) { return (apex_log_level)atomic_load(&g_level); }
void apex_log_set_fd(int fd) { atomic_store(&g_fd, fd); }

int apex_log_open_file(const char *path, size_t max_bytes, int keep)
{
  if (!path || !*path || strlen(path) >= sizeof g_file.path - 8 || max_bytes == 0 || keep < 0)
    return EINVAL;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return errno;
  struct stat st;
  size_t size = fstat(fd, &st) == 0 ? (size_t)st.st_size : 0;
  pthread_mutex_lock(&g_file.mu);
  snprintf(g_file.path, sizeof g_file.path, "%s", path);
  g_file.max_bytes = max_bytes;
  g_file.keep = keep;
  atomic_store(&g_file.size, size);
  atomic_store(&g_fd, fd);
  pthread_mutex_unlock(&g_file.mu);
  return 0;
}

/* Renames file.(k-1) to file.k down to file to file.1, then points the log's descriptor at a
 * fresh file with dup2(), which swaps it atomically under concurrent writers (each write lands
 * whole in the old file or the new one; none goes to a closed descriptor). */
static void rotate(void)
{
  pthread_mutex_lock(&g_file.mu);
  if (atomic_load(&g_file.size) < g_file.max_bytes) { /* another thread rotated first */
    pthread_mutex_unlock(&g_file.mu);
    return;
  }
  char from[1100], to[1100];
  for (int k = g_file.keep; k >= 1; k--) {
    if (k == 1)
      snprintf(from, sizeof from, "%s", g_file.path);
    else
      snprintf(from, sizeof from, "%s.%d", g_file.path, k - 1);
    snprintf(to, sizeof to, "%s.%d", g_file.path, k);
    rename(from, to); /* a missing one is fine */
  }
  if (g_file.keep == 0)
    unlink(g_file.path);
  int fd = open(g_file.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd >= 0) {
    dup2(fd, atomic_load(&g_fd));
    close(fd);
  }
  atomic_store(&g_file.size, 0);
  pthread_mutex_unlock(&g_file.mu);
}

int apex_log_level_parse(const char *s)
{
  if (!s)
    return -1;
  if (!strcasecmp(s, "warning"))
    return APEX_LOG_WARN;
  for (int i = 0; i < (int)(sizeof LEVEL_NAMES / sizeof LEVEL_NAMES[0]); i++)
    if (!strcasecmp(s, LEVEL_NAMES[i]))
      return i;
  return -1;
}

/* A tiny appender that truncates rather than overflows; the last bytes stay for "}\n". */
typedef struct {
  char *p;
  size_t len, cap;
} line;

static void put(line *l, const char *s, size_t n)
{
  if (l->len + n > l->cap)
    n = l->cap - l->len;
  memcpy(l->p + l->len, s, n);
  l->len += n;
}

static void puts_esc(line *l, const char *s)
{
  static const char hex[] = "0123456789abcdef";
  put(l, "\"", 1);
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if (l->len + 8 > l->cap)
      break;
    if (*c == '"' || *c == '\\') {
      char e[2] = {'\\', (char)*c};
      put(l, e, 2);
    } else if (*c == '\n') {
      put(l, "\\n", 2);
    } else if (*c < 0x20 || *c == 0x7f) {
      char e[6] = {'\\', 'u', '0', '0', hex[*c >> 4], hex[*c & 15]};
      put(l, e, 6);
    } else {
      /* Whatever a client sent (a path, a header), the line stays valid JSON: a byte that does
       * not start a well-formed UTF-8 sequence is written as U+FFFD. */
      size_t k = apex_utf8_seq(c, 4);
      if (k) {
        put(l, (const char *)c, k);
        c += k - 1;
      } else {
        put(l, "\\ufffd", 6);
      }
    }
  }
  put(l, "\"", 1);
}

/* Keys that name secrets are redacted, so a careless caller cannot leak one. */
static bool is_secret_key(const char *k)
{
  static const char *const WORDS[] = {"password", "secret", "token", "authorization", "cookie", "key"};
  char low[64];
  size_t i = 0;
  for (; k[i] && i < sizeof low - 1; i++)
    low[i] = (char)tolower((unsigned char)k[i]);
  low[i] = 0;
  if (!strcmp(low, "request_id") || !strcmp(low, "user_id"))
    return false;
  for (size_t w = 0; w < sizeof WORDS / sizeof WORDS[0]; w++)
    if (strstr(low, WORDS[w]))
      return true;
  return false;
}

void apex_log_fields(apex_log_level lvl, const char *msg, const apex_log_field *fields, size_t n)
{
  if ((int)lvl < atomic_load(&g_level) || lvl >= APEX_LOG_OFF)
    return;
  char buf[LINE_MAX_LEN];
  line l = {buf, 0, sizeof buf - 3};
  struct timespec ts;
  struct tm tm;
  clock_gettime(CLOCK_REALTIME, &ts);
  gmtime_r(&ts.tv_sec, &tm);
  char head[96];
  int h = snprintf(head, sizeof head, "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":\"%s\",\"msg\":",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                   ts.tv_nsec / 1000000, LEVEL_NAMES[lvl]);
  if (h < 0 || (size_t)h >= sizeof head)
    h = 0;
  put(&l, head, (size_t)h);
  puts_esc(&l, msg ? msg : "");
  for (size_t i = 0; i < n; i++) {
    const apex_log_field *f = &fields[i];
    if (!f->key)
      continue;
    put(&l, ",", 1);
    puts_esc(&l, f->key);
    put(&l, ":", 1);
    char num[64];
    int k = 0;
    if (is_secret_key(f->key)) {
      puts_esc(&l, "[redacted]");
      continue;
    }
    switch (f->type) {
    case APEX_LF_STR:
      if (f->s)
        puts_esc(&l, f->s);
      else
        put(&l, "null", 4);
      break;
    case APEX_LF_INT:
      k = snprintf(num, sizeof num, "%lld", (long long)f->i);
      put(&l, num, k > 0 && (size_t)k < sizeof num ? (size_t)k : 0);
      break;
    case APEX_LF_NUM:
      if (isfinite(f->d)) {
        k = snprintf(num, sizeof num, "%.6g", f->d);
        put(&l, num, k > 0 && (size_t)k < sizeof num ? (size_t)k : 0);
      } else {
        put(&l, "null", 4);
      }
      break;
    case APEX_LF_BOOL:
      put(&l, f->i ? "true" : "false", f->i ? 4 : 5);
      break;
    }
  }
  l.cap += 3; /* the reserve */
  put(&l, "}\n", 2);
  ssize_t w = write(atomic_load(&g_fd), buf, l.len);
  (void)w; /* nowhere to report a failed log write */
  if (g_file.max_bytes && atomic_fetch_add(&g_file.size, l.len) + l.len >= g_file.max_bytes)
    rotate();
}

void apex_log(apex_log_level lvl, const char *fmt, ...)
{
  if ((int)lvl < atomic_load(&g_level))
    return;
  char msg[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  apex_log_fields(lvl, msg, NULL, 0);
}
