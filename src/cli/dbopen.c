/* dbopen.c - the database the CLI commands share with `apextrade serve`: DATABASE_URL when set,
 * otherwise $APEX_DATA_DIR/apextrade.db (APEX_DATA_DIR defaults to ./var, created 0700). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

/* mkdir -p with mode 0700 for every directory it creates. */
static int make_dirs(const char *dir, char *why, size_t cap)
{
  char tmp[1024];
  size_t n = strlen(dir);
  if (n >= sizeof tmp) {
    snprintf(why, cap, "APEX_DATA_DIR is too long");
    return -1;
  }
  memcpy(tmp, dir, n + 1);
  for (char *p = tmp + 1; ; p++) {
    if (*p == '/' || !*p) {
      char c = *p;
      *p = '\0';
      if (mkdir(tmp, 0700) && errno != EEXIST) {
        snprintf(why, cap, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
      }
      *p = c;
      if (!c)
        break;
    }
  }
  return 0;
}

int apex_cli_open_store(const char *cmd, apex_store **out, char *where, size_t where_cap)
{
  const char *url = getenv("DATABASE_URL");
  char path[1200], why[1200];
  apex_error err = {0};

  if (!url || !*url) {
    const char *dir = getenv("APEX_DATA_DIR");
    if (!dir || !*dir)
      dir = "./var";
    if (make_dirs(dir, why, sizeof why)) {
      fprintf(stderr, "apextrade %s: %s\n", cmd, why);
      return APEX_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/apextrade.db", dir);
    url = path;
    snprintf(where, where_cap, "sqlite %s", path);
  } else {
    /* Never echo a URL: it may carry a password. */
    snprintf(where, where_cap, "%s DATABASE_URL",
             !strncmp(url, "postgres", 8) ? "postgresql" : "sqlite");
  }
  if (apex_store_open(url, 2, out, &err)) {
    /* A bad URL is the variable's fault: say which one. */
    fprintf(stderr, "apextrade %s: %s%s\n", cmd, err.code == APEX_EINVAL && getenv("DATABASE_URL") ? "DATABASE_URL: " : "",
            err.msg);
    return err.code == APEX_EINVAL ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
  }
  return APEX_EXIT_OK;
}
