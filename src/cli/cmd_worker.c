/* cmd_worker.c - `apextrade worker`: backtest workers without the HTTP server. They take jobs from
 * the Redis Stream that every API node submits to (REDIS_URL), run them against the shared
 * database and publish their progress through Redis, so a browser connected to any node sees it.
 * SIGTERM or SIGINT: running backtests are stopped and put back (pending), and another worker
 * takes them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/serve_app.h"
#include "sys/config.h"
#include "sys/log.h"
#include "sys/signals.h"

static void usage(FILE *f)
{
  fprintf(f, "usage: apextrade worker [--queues backtest] [--concurrency N] [OPTIONS]\n\n"
             "Runs job workers until SIGTERM or SIGINT, then puts their running jobs back in the queue.\n"
             "Needs REDIS_URL (the queue) and the API nodes' DATABASE_URL.\n\n"
             "  --queues LIST     the queues to take jobs from: backtest (the one a worker runs; market-data\n"
             "                    jobs run on the API node that accepted them)\n"
             "  --concurrency N   jobs at once, 1-64 (default: BACKTEST_WORKERS, at least 1)\n\n"
             "options (as for apextrade serve; most concern the server only):\n");
  apex_config_usage(f);
}

/* "backtest" alone is a queue of ours; EINVAL names what is not. */
static int queues_ok(const char *list)
{
  char buf[128];
  snprintf(buf, sizeof buf, "%s", list);
  for (char *save = NULL, *q = strtok_r(buf, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
    if (!strcmp(q, "backtest"))
      continue;
    if (!strcmp(q, "market_data"))
      fprintf(stderr, "apextrade worker: --queues: market_data jobs run on the API node that accepted them\n");
    else
      fprintf(stderr, "apextrade worker: --queues: unknown queue '%s' (known: backtest)\n", q);
    return 0;
  }
  return 1;
}

int apex_cmd_worker(int argc, char **argv)
{
  apex_config cfg;
  apex_error err = {0};
  bool help = false;
  long concurrency = 0;
  int n = 1;
  for (int i = 1; i < argc; i++) {
    if ((!strcmp(argv[i], "--queues") || !strcmp(argv[i], "--concurrency")) && i + 1 >= argc) {
      fprintf(stderr, "apextrade worker: %s needs a value\n", argv[i]);
      return APEX_EXIT_USAGE;
    }
    if (!strcmp(argv[i], "--queues")) {
      if (!queues_ok(argv[++i]))
        return APEX_EXIT_USAGE;
    } else if (!strcmp(argv[i], "--concurrency")) {
      char *end;
      concurrency = strtol(argv[++i], &end, 10);
      if (*end || concurrency < 1 || concurrency > 64) {
        fprintf(stderr, "apextrade worker: --concurrency: expected 1-64, got '%s'\n", argv[i]);
        return APEX_EXIT_USAGE;
      }
    } else {
      argv[n++] = argv[i];
    }
  }
  if (apex_config_load(&cfg, n, argv, &help, &err)) {
    fprintf(stderr, "apextrade worker: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  if (help) {
    usage(stdout);
    return APEX_EXIT_OK;
  }
  if (!cfg.redis_url[0]) {
    fprintf(stderr, "apextrade worker: REDIS_URL is not set: workers take their jobs from Redis\n");
    return APEX_EXIT_USAGE;
  }
  apex_log_set_level((apex_log_level)apex_log_level_parse(cfg.log_level));
  if (apex_config_prepare_data_dir(&cfg, &err) || apex_signals_install(&err)) {
    fprintf(stderr, "apextrade worker: %s\n", err.msg);
    return APEX_EXIT_FAIL;
  }
  const int workers = concurrency ? (int)concurrency : cfg.backtest_workers > 0 ? cfg.backtest_workers : 1;
  apex_serve_ctx ctx;
  if (apex_serve_app_open(&cfg, APEX_SERVE_WORKER, workers, &ctx, &err)) {
    fprintf(stderr, "apextrade worker: %s\n", err.msg);
    return err.code == APEX_EINVAL ? APEX_EXIT_USAGE : APEX_EXIT_FAIL;
  }
  fprintf(stderr, "worker taking backtest jobs with %d workers\n", workers);
  apex_log_fields(APEX_LOG_INFO, "worker started",
                  (apex_log_field[]){APEX_LOG_S("queues", "backtest"), APEX_LOG_I("concurrency", workers)}, 2);
  int sig = 0;
  while (!(sig = apex_signals_wait(-1)))
    ;
  apex_log_fields(APEX_LOG_INFO, "worker stopping", (apex_log_field[]){APEX_LOG_I("signal", sig)}, 1);
  apex_serve_app_close(&ctx); /* running backtests: cancelled, back to pending for another worker */
  apex_log(APEX_LOG_INFO, "stopped");
  return APEX_EXIT_OK;
}
