/* cli.h - the apextrade commands; each lives in cmd_<name>.c. Exit codes: 0 ok, 1 failure,
 * 2 bad input (usage, unreadable or invalid files), with one line on stderr saying why. */
#ifndef APEX_CLI_H
#define APEX_CLI_H

enum { APEX_EXIT_OK = 0, APEX_EXIT_FAIL = 1, APEX_EXIT_USAGE = 2 };

/* argv[0] is the command name ("indicator"). */
int apex_cmd_indicator(int argc, char **argv);
int apex_cmd_data(int argc, char **argv);
int apex_cmd_backtest(int argc, char **argv);

#endif
