/* dbopen.c - the database the CLI commands share with `apextrade serve`: DATABASE_URL when set,
 * otherwise $APEX_DATA_DIR/apextrade.db (APEX_DATA_DIR defaults to ./var, created 0700), both
 * read through sys/config (the environment, then --database-url / --data-dir). */
#include <errno.h>
#include <stdio.h>
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

int apex_cli_store_config(const char *cmd, int nflags, char *const *flags, apex_config *cfg)
{
  apex_error err = {0};
  char *argv[8] = {(char *)cmd};
  if (nflags < 0 || nflags >= (int)APEX_ARRAY_LEN(argv)) {
    fprintf(stderr, "apextrade %s: too many options\n", cmd);
    return APEX_EXIT_USAGE;
  }
  memcpy(argv + 1, flags, (size_t)nflags * sizeof *flags);
  apex_config_defaults(cfg);
  if (apex_config_from_env(cfg, NULL, &err) || apex_config_from_args(cfg, nflags + 1, argv, NULL, &err) ||
      apex_config_validate_store(cfg, &err)) {
    fprintf(stderr, "apextrade %s: %s\n", cmd, err.msg);
    return APEX_EXIT_USAGE;
  }
  return APEX_EXIT_OK;
}

bool apex_cli_is_store_flag(const char *arg)
{
  static const char *const F[] = {"--database-url", "--data-dir"};
  for (size_t i = 0; i < APEX_ARRAY_LEN(F); i++) {
    size_t n = strlen(F[i]);
    if (!strncmp(arg, F[i], n) && (arg[n] == '\0' || arg[n] == '='))
      return true;
  }
  return false;
}

int apex_cli_open_store(const char *cmd, const apex_config *cfg, apex_store **out, char *where, size_t where_cap)
{
  const char *url = cfg->database_url;
  char path[1200], why[1200];
  apex_error err = {0};

  if (!*url) {
    if (make_dirs(cfg->data_dir, why, sizeof why)) {
      fprintf(stderr, "apextrade %s: %s\n", cmd, why);
      return APEX_EXIT_FAIL;
    }
    snprintf(path, sizeof path, "%s/apextrade.db", cfg->data_dir);
    url = path;
    snprintf(where, where_cap, "sqlite %s", path);
  } else {
    /* Never echo a URL: it may carry a password. */
    snprintf(where, where_cap, "%s DATABASE_URL",
             !strncmp(url, "postgres", 8) ? "postgresql" : "sqlite");
  }
  if (apex_store_open(url, 2, out, &err)) {
    /* A bad URL is the setting's fault: say which one. */
    fprintf(stderr, "apextrade %s: %s%s\n", cmd, err.code == APEX_EINVAL && cfg->database_url[0] ? "DATABASE_URL: " : "",
            err.msg);
    return err.code == APEX_EINVAL ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
  }
  return APEX_EXIT_OK;
}
