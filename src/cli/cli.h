/* cli.h - the apextrade commands; each lives in cmd_<name>.c. Exit codes: 0 ok, 1 failure,
 * 2 bad input (usage, unreadable or invalid files), with one line on stderr saying why. */
#ifndef APEX_CLI_H
#define APEX_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"
#include "sys/config.h"

enum { APEX_EXIT_OK = 0, APEX_EXIT_FAIL = 1, APEX_EXIT_USAGE = 2 };

/* argv[0] is the command name ("indicator"). */
int apex_cmd_indicator(int argc, char **argv);
int apex_cmd_data(int argc, char **argv);
/* `data download` (cmd_download.c); argv[1] is "download". Exits 130 when Ctrl-C stopped it. */
int apex_cmd_data_download(int argc, char **argv);
int apex_cmd_backtest(int argc, char **argv);
int apex_cmd_paper(int argc, char **argv);
int apex_cmd_migrate(int argc, char **argv);
int apex_cmd_db(int argc, char **argv);
int apex_cmd_serve(int argc, char **argv);
int apex_cmd_worker(int argc, char **argv);
int apex_cmd_kill_switch(int argc, char **argv);

/* The configuration of a command that opens the store: defaults, the environment, then flags[0..n)
 * (--database-url, --data-dir, as apex_cli_is_store_flag picks them out of the command's
 * arguments, each with its value), with the store settings checked. On failure prints one line
 * naming cmd and returns APEX_EXIT_USAGE. */
int apex_cli_store_config(const char *cmd, int n, char *const *flags, apex_config *cfg);
/* True for --database-url and --data-dir (alone, the value following, or with =VALUE). */
bool apex_cli_is_store_flag(const char *arg);
/* The database `serve` uses (cfg's DATABASE_URL, else DATA_DIR/apextrade.db, the directory
 * created 0700). On failure prints one line naming cmd and returns the exit code; where gets a
 * description safe to print (never the URL, which may hold a password). */
int apex_cli_open_store(const char *cmd, const apex_config *cfg, apex_store **out, char *where, size_t where_cap);

#endif
