/* cmd_migrate.c - `apextrade migrate [--status]`: applies the database's pending forward-only
 * migrations (compiled into the binary), or lists which are applied. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: apextrade migrate [--status] [--database-url URL] [--data-dir DIR]\n"
    "\n"
    "Applies every pending schema migration to the database `apextrade serve` uses, in order, each\n"
    "in one transaction (running it again does nothing). The database is DATABASE_URL when set\n"
    "(postgresql://..., postgresql+DRIVER://..., sqlite:///PATH or sqlite:PATH; other schemes are\n"
    "refused), otherwise $APEX_DATA_DIR/apextrade.db (APEX_DATA_DIR\n"
    "defaults to ./var).\n"
    "\n"
    "  --status          list each migration as applied (with its time) or pending; change nothing\n"
    "  --database-url U  the database, instead of DATABASE_URL\n"
    "  --data-dir DIR    the data directory, instead of APEX_DATA_DIR\n";

int apex_cmd_migrate(int argc, char **argv)
{
  bool status = false;
  apex_store *st = NULL;
  apex_error err = {0};
  char where[1300], buf[8192];
  char *flags[4];
  int rc, nflags = 0;
  apex_config cfg;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      return APEX_EXIT_OK;
    } else if (!strcmp(argv[i], "--status")) {
      status = true;
    } else if (apex_cli_is_store_flag(argv[i]) && nflags + 2 <= (int)APEX_ARRAY_LEN(flags)) {
      flags[nflags++] = argv[i];
      if (!strchr(argv[i], '=') && i + 1 < argc)
        flags[nflags++] = argv[++i]; /* its value; a missing one is the config's message */
    } else {
      fprintf(stderr, "apextrade migrate: unknown argument '%s' (see --help)\n", argv[i]);
      return APEX_EXIT_USAGE;
    }
  }
  if ((rc = apex_cli_store_config("migrate", nflags, flags, &cfg)) ||
      (rc = apex_cli_open_store("migrate", &cfg, &st, where, sizeof where)))
    return rc;
  if (!status && apex_store_migrate(st, &err)) {
    fprintf(stderr, "apextrade migrate: %s\n", err.msg);
    rc = APEX_EXIT_FAIL;
    goto out;
  }
  if (apex_store_migration_status(st, buf, sizeof buf, &err)) {
    fprintf(stderr, "apextrade migrate: %s\n", err.msg);
    rc = APEX_EXIT_FAIL;
    goto out;
  }
  printf("database: %s\n%s", where, buf);
out:
  apex_store_close(st);
  return rc;
}
