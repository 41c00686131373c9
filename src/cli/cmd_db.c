/* cmd_db.c - `apextrade db backup FILE` and `apextrade db restore FILE`: a consistent copy of the
 * SQLite database while the server writes (SQLite's online backup), and putting one back while no
 * server runs on the data directory (its lock is held for the whole restore). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "cli/cli.h"

static const char USAGE[] =
    "usage: apextrade db backup FILE [--database-url URL] [--data-dir DIR]\n"
    "       apextrade db restore FILE [--data-dir DIR]\n"
    "\n"
    "backup   writes a consistent copy of the SQLite database to the new file FILE, also while\n"
    "         `apextrade serve` runs and writes (one snapshot; nothing is locked for writers).\n"
    "         On PostgreSQL use pg_dump -Fc -f FILE DBNAME (consistent while the server writes)\n"
    "         and pg_restore.\n"
    "restore  checks that FILE is a whole ApexTrade database, then replaces the database of the\n"
    "         data directory with it. No server may run on that data directory meanwhile (it is\n"
    "         refused while one does); start the server afterwards.\n"
    "\n"
    "The database is DATABASE_URL when set, otherwise $APEX_DATA_DIR/apextrade.db (APEX_DATA_DIR\n"
    "defaults to ./var).\n"
    "  --database-url U  the database, instead of DATABASE_URL\n"
    "  --data-dir DIR    the data directory, instead of APEX_DATA_DIR\n";

/* The serve lock of the data directory (cmd_serve.c), so no server starts during a restore. */
static int lock_dir(const char *dir)
{
  char path[1200];
  snprintf(path, sizeof path, "%s/serve.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "apextrade db restore: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    fprintf(stderr, "apextrade db restore: a server is running on %s: stop it first\n", dir);
    close(fd);
    return -1;
  }
  return fd;
}

int apex_cmd_db(int argc, char **argv)
{
  const char *verb = NULL, *file = NULL;
  char *flags[4];
  int nflags = 0, rc;
  apex_config cfg;
  apex_error err = {0};

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      return APEX_EXIT_OK;
    } else if (apex_cli_is_store_flag(argv[i]) && nflags + 2 <= (int)APEX_ARRAY_LEN(flags)) {
      flags[nflags++] = argv[i];
      if (!strchr(argv[i], '=') && i + 1 < argc)
        flags[nflags++] = argv[++i];
    } else if (!verb && (!strcmp(argv[i], "backup") || !strcmp(argv[i], "restore"))) {
      verb = argv[i];
    } else if (verb && !file && argv[i][0] != '-') {
      file = argv[i];
    } else {
      fprintf(stderr, "apextrade db: unexpected argument '%s' (see --help)\n", argv[i]);
      return APEX_EXIT_USAGE;
    }
  }
  if (!verb || !file) {
    fprintf(stderr, "apextrade db: expected backup FILE or restore FILE (see --help)\n");
    return APEX_EXIT_USAGE;
  }
  if ((rc = apex_cli_store_config("db", nflags, flags, &cfg)))
    return rc;

  if (!strcmp(verb, "backup")) {
    apex_store *st = NULL;
    char where[1300];
    if ((rc = apex_cli_open_store("db backup", &cfg, &st, where, sizeof where)))
      return rc;
    apex_err e = apex_store_backup(st, file, &err);
    apex_store_close(st);
    if (e) {
      fprintf(stderr, "apextrade db backup: %s\n", err.msg);
      return e == APEX_EINVAL || e == APEX_ECONFLICT ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
    }
    printf("backed up %s to %s\n", where, file);
    return APEX_EXIT_OK;
  }

  if (cfg.database_url[0]) {
    fprintf(stderr, "apextrade db restore: DATABASE_URL is set: restore PostgreSQL with pg_restore\n");
    return APEX_EXIT_USAGE;
  }
  char db[1200];
  snprintf(db, sizeof db, "%s/apextrade.db", cfg.data_dir);
  int fd = lock_dir(cfg.data_dir);
  if (fd < 0)
    return APEX_EXIT_FAIL;
  apex_err e = apex_store_restore_sqlite(file, db, &err);
  close(fd);
  if (e) {
    fprintf(stderr, "apextrade db restore: %s\n", err.msg);
    return e == APEX_EDATA ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
  }
  printf("restored %s from %s\n", db, file);
  return APEX_EXIT_OK;
}
