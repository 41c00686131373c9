/* cli.h - the apextrade commands; each lives in cmd_<name>.c. Exit codes: 0 ok, 1 failure,
 * 2 bad input (usage, unreadable or invalid files), with one line on stderr saying why. */
#ifndef APEX_CLI_H
#define APEX_CLI_H

#include <stddef.h>

#include "store/store.h"

enum { APEX_EXIT_OK = 0, APEX_EXIT_FAIL = 1, APEX_EXIT_USAGE = 2 };

/* argv[0] is the command name ("indicator"). */
int apex_cmd_indicator(int argc, char **argv);
int apex_cmd_data(int argc, char **argv);
int apex_cmd_backtest(int argc, char **argv);
int apex_cmd_migrate(int argc, char **argv);
int apex_cmd_serve(int argc, char **argv);

/* The database `serve` uses (DATABASE_URL, else $APEX_DATA_DIR/apextrade.db, the directory
 * created 0700). On failure prints one line naming cmd and returns the exit code; where gets a
 * description safe to print (never the URL, which may hold a password). */
int apex_cli_open_store(const char *cmd, apex_store **out, char *where, size_t where_cap);

#endif
