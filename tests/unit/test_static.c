/* test_static.c - APEX_ROUTE_STATIC's file serving (api/static.c) on a temporary directory: a file
 * with its content type, index.html for the root and for extension-less SPA paths, 404 for "..",
 * hidden files, missing files and an unconfigured root. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/http.h"
#include "api/router.h"

static char root[64];

static void put(const char *rel, const char *text)
{
  char p[256];
  snprintf(p, sizeof p, "%s/%s", root, rel);
  FILE *f = fopen(p, "w");
  cr_assert(f);
  fputs(text, f);
  fclose(f);
}

static void setup(void)
{
  char sub[128];
  snprintf(root, sizeof root, "/tmp/apex-static-XXXXXX");
  cr_assert(mkdtemp(root));
  snprintf(sub, sizeof sub, "%s/assets", root);
  cr_assert_eq(mkdir(sub, 0700), 0);
  put("index.html", "<!doctype html><title>ApexTrade</title>");
  put("assets/app.js", "console.log(1)");
  put(".env", "SECRET_KEY=x");
}

static void teardown(void)
{
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  cr_assert_eq(system(cmd), 0);
}

TestSuite(static_files, .init = setup, .fini = teardown);

static apex_res serve(const char *dir, const char *rel)
{
  apex_res res = {0};
  cr_assert_eq(apex_static_serve(dir, rel, &res), 0);
  return res;
}

static void body_is(const apex_res *r, const char *text)
{
  cr_assert_eq(r->body_len, strlen(text));
  cr_assert_eq(memcmp(r->body, text, r->body_len), 0);
}

Test(static_files, serves_a_file_with_its_type)
{
  apex_res r = serve(root, "assets/app.js");
  cr_assert_eq(r.status, 200);
  cr_assert_str_eq(r.content_type, "text/javascript; charset=utf-8");
  body_is(&r, "console.log(1)");
  apex_res_reset(&r);
}

Test(static_files, root_and_spa_paths_get_index_html)
{
  const char *paths[] = {"", "strategies", "backtests/123/trades"};
  for (size_t i = 0; i < 3; i++) {
    apex_res r = serve(root, paths[i]);
    cr_assert_eq(r.status, 200, "%s", paths[i]);
    cr_assert_str_eq(r.content_type, "text/html; charset=utf-8");
    body_is(&r, "<!doctype html><title>ApexTrade</title>");
    apex_res_reset(&r);
  }
}

Test(static_files, refuses_traversal_hidden_and_missing)
{
  const char *paths[] = {"../etc/passwd", "assets/../../x", "..", "./index.html", ".env", "assets//app.js",
                         "/etc/passwd", "assets\\app.js", "missing.js", "assets/missing.css"};
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    apex_res r = serve(root, paths[i]);
    cr_assert_eq(r.status, 404, "%s gave %d", paths[i], r.status);
    cr_assert_str_eq(r.content_type, "application/problem+json");
    apex_res_reset(&r);
  }
  apex_res r = serve(NULL, "index.html");
  cr_assert_eq(r.status, 404);
  apex_res_reset(&r);
}

Test(static_files, content_types)
{
  cr_assert_str_eq(apex_static_content_type("a/b.CSS"), "text/css; charset=utf-8");
  cr_assert_str_eq(apex_static_content_type("x.svg"), "image/svg+xml");
  cr_assert_str_eq(apex_static_content_type("v1.2/noext"), "application/octet-stream");
}
