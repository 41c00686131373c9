/* cmd_serve.c - `apextrade serve`: configuration, logging, signals, and the HTTP server with the
 * application's routes. The app and its route table are built in ONE place below (marked). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/http.h"
#include "api/proxies.h"
#include "api/handlers.h"
#include "api/prom.h"
#include "api/ws.h"
#include "app/dbcheck.h"
#include "cli/serve_app.h"
#include "cli/cli.h"
#include "cli/test_publish.h"
#include "sys/config.h"
#include "sys/log.h"
#include "sys/signals.h"

/* Requests still running after SIGTERM get this long to finish (under systemd's and the tests'
 * 10 s stop timeout). */
#define DRAIN_MS 8000

/* ===================== the application and its routes (extend here) ===================== */
/* The routes are the API's table (api/routes.c); the app is built by serve_app.c. */

/* Gauges read at scrape time: jobs by state, database pool use, WebSocket connections. */
static void scrape(apex_prom *p, void *ctx)
{
  apex_api_ws *ws = ctx;
  apex_app *app = ws->app;
  pthread_mutex_lock(&ws->mu);
  apex_prom_gauge_set(p, "apex_websocket_connections", "WebSocket connections held.", NULL,
                      (double)apex_ws_hub_count(ws->hub));
  pthread_mutex_unlock(&ws->mu);
  size_t queued = 0, running = 0, sq = 0, sr = 0;
  long retries = 0, dead = 0;
  int in_use = 0, size = 0;
  if (app->queue)
    apex_queue_counts(app->queue, &queued, &running);
  if (app->queue && app->queue->ops->metrics)
    app->queue->ops->metrics(app->queue->impl, &retries, &dead);
  if (app->sync_queue)
    apex_queue_counts(app->sync_queue, &sq, &sr);
  /* Backtests: with REDIS_URL the whole cluster's queue (every node reports the same depth). */
  apex_prom_gauge_set(p, "apex_jobs", "Backtest jobs by state.", "state=\"queued\"", (double)queued);
  apex_prom_gauge_set(p, "apex_jobs", NULL, "state=\"running\"", (double)running);
  apex_prom_gauge_set(p, "apex_queue_jobs", "Jobs by queue and state.", "queue=\"backtest\",state=\"queued\"",
                      (double)queued);
  apex_prom_gauge_set(p, "apex_queue_jobs", NULL, "queue=\"backtest\",state=\"running\"", (double)running);
  apex_prom_gauge_set(p, "apex_queue_jobs", NULL, "queue=\"market_data\",state=\"queued\"", (double)sq);
  apex_prom_gauge_set(p, "apex_queue_jobs", NULL, "queue=\"market_data\",state=\"running\"", (double)sr);
  apex_prom_gauge_set(p, "apex_queue_retries", "Jobs started again after a worker died.",
                      "queue=\"backtest\"", (double)retries);
  apex_prom_gauge_set(p, "apex_queue_dead_letters", "Jobs given up on, their retries used up (apex:dead:backtest).",
                      "queue=\"backtest\"", (double)dead);
  apex_store_pool_stats(app->store, &in_use, &size);
  apex_prom_gauge_set(p, "apex_db_pool_connections", "Database connections by state.", "state=\"in_use\"", in_use);
  apex_prom_gauge_set(p, "apex_db_pool_connections", NULL, "state=\"size\"", size);
}

/* Test-only routes (APEX_TEST_ROUTES=1, refused in production): echo a JSON body, and a slow
 * request to check that shutdown waits for in-flight work. */
static int h_test_echo(apex_req *req, apex_res *res, void *app)
{
  (void)app;
  if (!apex_req_json(req, res))
    return 0;
  return apex_res_bytes(res, 200, "application/json", req->body, req->body_len);
}

static int h_test_sleep(apex_req *req, apex_res *res, void *app)
{
  (void)app;
  const char *ms = apex_req_query(req, "ms");
  long n = ms ? strtol(ms, NULL, 10) : 100;
  if (n < 0 || n > 5000)
    return apex_res_error(res, 422, "ms must be 0-5000");
  struct timespec t = {n / 1000, (n % 1000) * 1000000L};
  nanosleep(&t, NULL);
  return apex_res_json_text(res, 200, "{\"slept\":true}");
}

/* Echoes a path parameter and a query parameter, for the router tests. */
static int h_test_item(apex_req *req, apex_res *res, void *app)
{
  (void)app;
  apex_json *o = apex_json_new_object();
  if (!o || apex_json_object_set(o, "id", apex_json_new_string(apex_req_param(req, "id"))) ||
      apex_json_object_set(o, "q", apex_json_new_string(apex_req_query(req, "q") ? apex_req_query(req, "q") : ""))) {
    apex_json_free(o);
    return -1;
  }
  return apex_res_json(res, 200, o);
}

/* Only with APEX_TEST_ROUTES=1 (refused in production). */
static const apex_route TEST_ROUTES[] = {
    {APEX_HTTP_POST, "/api/v1/_test/echo", h_test_echo, false, "test.echo", APEX_ROUTE_BODY(APEX_BODY_DOCUMENT)},
    {APEX_HTTP_GET, "/api/v1/_test/sleep", h_test_sleep, false, "test.sleep", 0},
    {APEX_HTTP_GET, "/api/v1/_test/items/{id}", h_test_item, false, "test.item", 0},
    {APEX_HTTP_POST, "/api/v1/_test/publish", apex_test_publish, false, "test.publish", 0},
};

/* ========================================================================================= */

_Static_assert(APEX_ACCESS_LOG_OFF == 0 && APEX_ACCESS_LOG_ALL == 3, "ACCESS_LOG modes as config numbers them");

static void usage(FILE *f)
{
  fprintf(f, "usage: apextrade serve [OPTIONS]\n\n"
             "Runs the HTTP API server until SIGTERM or SIGINT, then finishes in-flight requests.\n"
             "Each option can also be set by the environment variable shown under it; flags win.\n\n"
             "  --demo-account  create demo@apextrade.local (password printed once) if it does not exist\n"
             "  --no-workers    the API alone: no backtest workers, no market feed, no strategies (needs\n"
             "                  REDIS_URL; workers run as `apextrade worker`, the strategies in one full node)\n"
             "  --routes        print the route table (METHOD PATTERN auth|public BODY_MAX_BYTES) and exit\n\n"
             "Settings marked [does nothing yet] are the spec's and are accepted, but no code uses them\n"
             "yet; the server warns at start when one is set.\n\n"
             "options:\n");
  apex_config_usage(f);
}

/* The data directory holds the database, the keys and the secrets. New files are private (umask
 * in main.c); database files an older version left readable are made so, and a directory others
 * can read is reported, not changed: APEX_DATA_DIR may name a directory that is not only ours. */
static void make_private(const char *dir)
{
  struct stat st;
  if (!stat(dir, &st) && (st.st_mode & 077))
    apex_log_fields(APEX_LOG_WARN, "the data directory is readable by other users: chmod 700 it",
                    (apex_log_field[]){APEX_LOG_S("data_dir", dir)}, 1);
  DIR *d = opendir(dir);
  if (!d)
    return;
  for (struct dirent *e; (e = readdir(d));)
    if (!strncmp(e->d_name, "apextrade.db", 12) && !fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) &&
        S_ISREG(st.st_mode) && (st.st_mode & 077))
      fchmodat(dirfd(d), e->d_name, st.st_mode & 0700, 0);
  closedir(d);
}

/* One server per data directory: a second one would claim the first one's backtests again and
 * write the same SQLite file. The lock dies with the process (kill -9 included); the file keeps
 * the holder's pid for the message. Returns the descriptor to keep open, or -1. */
static int lock_data_dir(const char *dir)
{
  char path[1200], pid[32] = "";
  snprintf(path, sizeof path, "%s/serve.lock", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "apextrade serve: cannot open %s: %s\n", path, strerror(errno));
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = 0;
    pid[strcspn(pid, "\n")] = 0;
    fprintf(stderr, "apextrade serve: another server (pid %s) is using the data directory %s; stop it or set "
                    "APEX_DATA_DIR\n", pid[0] ? pid : "?", dir);
    close(fd);
    return -1;
  }
  int k = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
  if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t)k, 0) != k)
    fprintf(stderr, "apextrade serve: cannot write %s: %s\n", path, strerror(errno)); /* the lock holds anyway */
  return fd;
}

/* APEX_WEB_DIR, else the web UI built beside this binary's directory (build/apextrade ->
 * web/dist), else none. */
static const char *web_dir(const char *configured, char *buf, size_t len)
{
  if (configured[0])
    return configured;
  char exe[4096], probe[4200];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0)
    return NULL;
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  if (!slash)
    return NULL;
  *slash = 0;
  snprintf(probe, sizeof probe, "%s/../web/dist/index.html", exe);
  if (access(probe, R_OK) || (size_t)snprintf(buf, len, "%s/../web/dist", exe) >= len)
    return NULL;
  return buf;
}

int apex_cmd_serve(int argc, char **argv)
{
  int lock_fd = -1;
  apex_config cfg;
  apex_error err = {0};
  bool help = false;
  int code = APEX_EXIT_FAIL;
  apex_prom *prom = NULL;
  apex_server *srv = NULL;
  apex_dbcheck *dbcheck = NULL;
  apex_serve_ctx ctx;
  apex_api_ws ws = {.mu = PTHREAD_MUTEX_INITIALIZER};
  bool demo = false, opened = false, no_workers = false;

  /* --demo-account is ours, not a configuration setting: take it out before the config sees argv. */
  int n = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--routes")) { /* the route table, for tests and docs: METHOD PATTERN AUTH BODY_MAX */
      for (size_t k = 0; k < apex_api_n_routes; k++)
        printf("%s %s %s %zu\n", apex_http_method_name(apex_api_routes[k].method), apex_api_routes[k].pattern,
               apex_api_routes[k].auth ? "auth" : "public",
               apex_http_body_limit(APEX_ROUTE_BODY_KIND(apex_api_routes[k].flags)));
      return APEX_EXIT_OK;
    }
    if (!strcmp(argv[i], "--demo-account"))
      demo = true;
    else if (!strcmp(argv[i], "--no-workers"))
      no_workers = true;
    else
      argv[n++] = argv[i];
  }
  argc = n;
  if (apex_config_load(&cfg, argc, argv, &help, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  if (help) {
    usage(stdout);
    return APEX_EXIT_OK;
  }
  apex_proxies *proxies = NULL; /* checked here so a typo is a usage error, not a failed start */
  if (apex_proxies_parse(cfg.trusted_proxies, &proxies, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    return APEX_EXIT_USAGE;
  }
  apex_proxies_free(proxies);
  int log_rc = cfg.log_file[0] ? apex_log_open_file(cfg.log_file, (size_t)cfg.log_file_max_kb * 1024, (int)cfg.log_files) : 0;
  if (log_rc) {
    fprintf(stderr, "apextrade serve: LOG_FILE: cannot open %s: %s\n", cfg.log_file, strerror(log_rc));
    return APEX_EXIT_USAGE;
  }
  apex_log_set_level((apex_log_level)apex_log_level_parse(cfg.log_level));
  if (cfg.debug && apex_log_get_level() > APEX_LOG_DEBUG)
    apex_log_set_level(APEX_LOG_DEBUG);
  if (apex_config_prepare_data_dir(&cfg, &err) || apex_signals_install(&err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    goto out;
  }
  make_private(cfg.data_dir);
  if ((lock_fd = lock_data_dir(cfg.data_dir)) < 0)
    goto out;
  if (cfg.prometheus_enabled && !(prom = apex_prom_new())) {
    fprintf(stderr, "apextrade serve: out of memory\n");
    goto out;
  }
  if (apex_serve_app_open(&cfg, no_workers ? APEX_SERVE_API : APEX_SERVE_ALL, 0, &ctx, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    if (err.code == APEX_EINVAL) /* refused input (a key file, a production secret): like a bad flag */
      code = APEX_EXIT_USAGE;
    goto out;
  }
  opened = true;
  if (demo && apex_serve_demo_account(&ctx, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    goto out;
  }
  if (prom)
    apex_prom_on_scrape(prom, scrape, &ws);
  apex_ws_hub_opts wo = {.events = &ctx.events, .verify = apex_api_ws_verify,
                         .owns_portfolio = apex_api_ws_owns_portfolio, .ctx = &ctx.app, .now_ms = ctx.app.now_ms};
  ws.app = &ctx.app;
  ws.max_sockets = cfg.http_max_connections;
  if (apex_ws_hub_new(&wo, &ws.hub, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    goto out;
  }

  char web_buf[4200];
  apex_server_opts o = {
      .host = cfg.host,
      .port = cfg.port,
      .threads = cfg.http_threads,
      .cors_origins = cfg.cors_origins,
      .conn_limit = cfg.http_max_connections,
      .client_limit = cfg.http_client_connections,
      .request_timeout_s = cfg.http_request_timeout_s,
      .idle_timeout_s = cfg.http_idle_timeout_s,
      .trusted_proxies = cfg.trusted_proxies,
      .access_log = apex_config_access_log(&cfg), /* 0 off .. 3 all, as APEX_ACCESS_LOG_* */
      .access_log_sample = cfg.access_log_sample,
      .routes = apex_api_routes,
      .n_routes = apex_api_n_routes,
      .static_root = web_dir(cfg.web_dir, web_buf, sizeof web_buf),
      .extra_routes = cfg.test_routes ? TEST_ROUTES : NULL,
      .n_extra_routes = cfg.test_routes ? APEX_ARRAY_LEN(TEST_ROUTES) : 0,
      .authenticate = apex_api_authenticate,
      .app = &ctx.app,
      .prom = prom,
      .ws_accept = apex_api_ws_accept,
      .ws_adopt = apex_api_ws_adopt,
      .ws_discard = apex_api_ws_discard,
      .ws_stop = apex_api_ws_stop,
      .ws_ctx = &ws,
  };
  if (apex_server_start(&o, &srv, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    goto out;
  }
  /* The check at start ran in apex_serve_app_open; from now on it runs on its own thread. */
  if (apex_dbcheck_start(ctx.app.store, cfg.db_check_interval_s, &dbcheck, &err)) {
    fprintf(stderr, "apextrade serve: %s\n", err.msg);
    goto out;
  }
  fprintf(stderr, "listening on http://%s%s%s:%u\n", strchr(cfg.host, ':') ? "[" : "", cfg.host,
          strchr(cfg.host, ':') ? "]" : "", (unsigned)apex_server_port(srv));
  apex_log_fields(APEX_LOG_INFO, "server started",
                  (apex_log_field[]){APEX_LOG_S("host", cfg.host), APEX_LOG_I("port", apex_server_port(srv)),
                                     APEX_LOG_S("env", cfg.app_env), APEX_LOG_S("data_dir", cfg.data_dir)},
                  4);
  /* The spec's variables that are read but do nothing yet: say so, by name (never a value). */
  const char *unused[16];
  size_t n_unused = apex_config_unused_set(&cfg, unused, APEX_ARRAY_LEN(unused));
  if (n_unused) {
    char names[512] = "";
    for (size_t k = 0; k < n_unused && k < APEX_ARRAY_LEN(unused); k++)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? "," : "", unused[k]);
    apex_log_fields(APEX_LOG_WARN, "settings that do nothing yet are set; they are ignored",
                    (apex_log_field[]){APEX_LOG_S("variables", names)}, 1);
  }

  int sig = 0;
  while (!(sig = apex_signals_wait(-1)))
    ;
  apex_log_fields(APEX_LOG_INFO, "shutting down", (apex_log_field[]){APEX_LOG_I("signal", sig)}, 1);
  apex_dbcheck_stop(dbcheck); /* a check in progress ends while the requests drain */
  unsigned left = apex_server_stop(srv, DRAIN_MS);
  if (left)
    apex_log_fields(APEX_LOG_WARN, "requests cut off at shutdown", (apex_log_field[]){APEX_LOG_I("count", left)}, 1);
  apex_log(APEX_LOG_INFO, "stopped");
  code = APEX_EXIT_OK;
out:
  apex_server_free(srv); /* its stop frees the hub first (ws_stop) */
  apex_api_ws_stop(&ws); /* the hub of a server that never started */
  apex_test_publish_stop(); /* before the events port it publishes on goes */
  apex_dbcheck_free(dbcheck); /* before the store closes under it */
  if (opened) /* after the server: no request can reach the app any more */
    apex_serve_app_close(&ctx);
  apex_prom_free(prom);
  if (lock_fd >= 0)
    close(lock_fd);
  return code;
}
