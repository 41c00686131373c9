/* main.c - apextrade: one executable, one table of commands. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/cli.h"

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} COMMANDS[] = {
    {"backtest", apex_cmd_backtest, "run a strategy (JSON rules) over a candle file and report its performance"},
    {"paper", apex_cmd_paper, "paper-trade a strategy on a candle file replayed as a live feed (--speed max: as fast as possible)"},
    {"indicator", apex_cmd_indicator, "compute a technical indicator over a candle file (CSV out)"},
    {"serve", apex_cmd_serve, "run the HTTP API server (see 'apextrade serve --help')"},
    {"worker", apex_cmd_worker, "run backtest workers without the HTTP server (needs REDIS_URL)"},
    {"data", apex_cmd_data, "candle files: inspect, resample, import into the database; download from a venue"},
    {"migrate", apex_cmd_migrate, "apply pending database migrations (--status: list them)"},
    {"kill-switch", apex_cmd_kill_switch, "stop every live strategy of an account and cancel its open orders at the venue"},
    {"db", apex_cmd_db, "back up the database while the server runs, or restore a backup"},
};

static void usage(FILE *f)
{
  fprintf(f, "usage: apextrade COMMAND [ARGS...]\n\n"
             "ApexTrade: backtests of rule-based strategies, the API server, technical indicators and candle data.\n\n"
             "commands:\n");
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    fprintf(f, "  %-10s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
  fprintf(f, "\nRun 'apextrade COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
  /* Databases, keys, logs and exports hold users' data and secrets: private from the start. */
  umask(077);
  if (argc < 2) {
    usage(stderr);
    return APEX_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return APEX_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("apextrade 0.1.0\n");
    return APEX_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
    if (!strcmp(argv[1], COMMANDS[i].name))
      return COMMANDS[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "apextrade: unknown command '%s' (see 'apextrade --help')\n", argv[1]);
  return APEX_EXIT_USAGE;
}
