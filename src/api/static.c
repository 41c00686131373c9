/* static.c - files from one directory (the web UI): a content type
 * from the extension, no way out of the directory, and index.html for paths that name no file
 * (a single-page app routes those in the browser). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "api/http.h"

#define STATIC_MAX (64u << 20) /* a web UI bundle file is far smaller */

static const struct {
  const char *ext, *type;
} TYPES[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".map", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".webp", "image/webp"},
    {".woff2", "font/woff2"},
    {".woff", "font/woff"},
    {".txt", "text/plain; charset=utf-8"},
    {".wasm", "application/wasm"},
};

const char *apex_static_content_type(const char *path)
{
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
  if (dot && (!slash || dot > slash))
    for (size_t i = 0; i < sizeof TYPES / sizeof TYPES[0]; i++)
      if (!strcasecmp(dot, TYPES[i].ext))
        return TYPES[i].type;
  return "application/octet-stream";
}

/* True for a relative path of plain segments: no "..", no ".", no empty segment, no backslash
 * or NUL tricks (the path is already percent-decoded). */
static bool safe_path(const char *rel)
{
  if (rel[0] == '/' || strchr(rel, '\\'))
    return false;
  for (const char *s = rel; *s;) {
    const char *end = strchr(s, '/');
    size_t len = end ? (size_t)(end - s) : strlen(s);
    if (len == 0 || (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.') || s[0] == '.')
      return false; /* also hidden files (.env, .git) */
    s += len;
    if (*s)
      s++;
  }
  return true;
}

/* Reads a regular file into res; 1 when there is no such regular file, -1 on other errors. */
static int send_file(const char *path, apex_res *res)
{
  struct stat st;
  if (stat(path, &st) || !S_ISREG(st.st_mode))
    return 1;
  if ((unsigned long long)st.st_size > STATIC_MAX)
    return -1;
  FILE *f = fopen(path, "rb");
  if (!f)
    return errno == ENOENT ? 1 : -1;
  size_t n = (size_t)st.st_size;
  char *buf = malloc(n ? n : 1);
  int rc = -1;
  if (buf && fread(buf, 1, n, f) == n) {
    rc = apex_res_take(res, 200, apex_static_content_type(path), buf, n);
    buf = NULL;
    /* Vite names what it builds into assets/ by content hash: those never change. index.html
     * names the current ones, so it is fetched anew each time; anything else is revalidated. */
    size_t len = strlen(path);
    const char *cache = strstr(path, "/assets/")                                  ? "public, max-age=31536000, immutable"
                        : len >= 11 && !strcmp(path + len - 11, "/index.html") ? "no-store"
                                                                                : "no-cache";
    if (!rc)
      rc = apex_res_header(res, "Cache-Control", cache);
  }
  free(buf);
  fclose(f);
  return rc;
}

int apex_static_serve(const char *root, const char *rel, apex_res *res)
{
  char path[4096];
  if (!root || !root[0])
    return apex_res_error(res, APEX_E_NOT_FOUND, "no web UI directory is configured");
  if (!rel || !rel[0])
    rel = "index.html";
  if (!safe_path(rel))
    return apex_res_error(res, APEX_E_NOT_FOUND, "no such file");
  if ((size_t)snprintf(path, sizeof path, "%s/%s", root, rel) >= sizeof path)
    return apex_res_error(res, APEX_E_NOT_FOUND, "no such file");
  int rc = send_file(path, res);
  if (rc <= 0)
    return rc < 0 ? apex_res_error(res, APEX_E_INTERNAL, NULL) : 0;
  /* A path without an extension is a page of the single-page app: its index.html answers. */
  const char *last = strrchr(rel, '/');
  if (!strchr(last ? last : rel, '.')) {
    snprintf(path, sizeof path, "%s/index.html", root);
    rc = send_file(path, res);
    if (rc <= 0)
      return rc < 0 ? apex_res_error(res, APEX_E_INTERNAL, NULL) : 0;
  }
  return apex_res_error(res, APEX_E_NOT_FOUND, "no such file");
}
