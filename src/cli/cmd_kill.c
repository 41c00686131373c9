/* cmd_kill.c - `apextrade kill-switch --email E`: the kill switch from a shell, for when the web UI
 * or the API is out of reach. It works on the database directly and talks to the venues itself:
 * the user's live strategies stop (the server's execution thread reads which runs are running
 * before every order, so it sends none of theirs after this), orders not yet sent fail, open ones
 * are cancelled at the venue. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/auth.h"
#include "app/app.h"
#include "cli/cli.h"
#include "cli/brokers.h"
#include "sys/secrets.h"

static const char USAGE[] =
    "usage: apextrade kill-switch --email EMAIL [--database-url URL] [--data-dir DIR]\n"
    "\n"
    "The kill switch: stops every live strategy of the account EMAIL, fails its orders not yet sent\n"
    "and cancels its open orders at the venue (the same as POST /api/v1/trading/kill-switch). Works\n"
    "while the server runs or not; the database and the broker keys' encryption key\n"
    "(API_KEY_ENCRYPTION_KEY, or the data directory's) are the server's. Venue addresses as the\n"
    "server's (BINANCE_TRADE_URL). Prints what it did as JSON.\n"
    "\n"
    "  --email EMAIL     the account\n"
    "  --database-url U  the database, instead of DATABASE_URL\n"
    "  --data-dir DIR    the data directory, instead of APEX_DATA_DIR\n";

static int64_t wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void token_hash(const char *t, char *out) { apex_auth_token_hash(t, out); }


int apex_cmd_kill_switch(int argc, char **argv)
{
  const char *email = NULL;
  char *flags[4];
  int nflags = 0, rc;
  apex_config cfg;
  apex_store *st = NULL;
  apex_secrets sec = {0};
  apex_secrets_cfg scfg;
  apex_error err = {0};
  apex_app_error e = {0};
  apex_app app = {0};
  apex_cli_brokers brokers;
  apex_user u;
  apex_json *out = NULL;
  char where[1300];

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
      fputs(USAGE, stdout);
      return APEX_EXIT_OK;
    } else if (!strcmp(argv[i], "--email") && i + 1 < argc) {
      email = argv[++i];
    } else if (apex_cli_is_store_flag(argv[i]) && nflags + 2 <= (int)APEX_ARRAY_LEN(flags)) {
      flags[nflags++] = argv[i];
      if (!strchr(argv[i], '=') && i + 1 < argc)
        flags[nflags++] = argv[++i];
    } else {
      fprintf(stderr, "apextrade kill-switch: unknown argument '%s' (see --help)\n", argv[i]);
      return APEX_EXIT_USAGE;
    }
  }
  if (!email) {
    fprintf(stderr, "apextrade kill-switch: --email is required (see --help)\n");
    return APEX_EXIT_USAGE;
  }
  if ((rc = apex_cli_store_config("kill-switch", nflags, flags, &cfg)) ||
      (rc = apex_cli_open_store("kill-switch", &cfg, &st, where, sizeof where)))
    return rc;
  rc = APEX_EXIT_FAIL;
  if (apex_store_migrate(st, &err)) {
    fprintf(stderr, "apextrade kill-switch: %s\n", err.msg);
    goto out;
  }
  if (apex_store_user_by_email(st, email, &u, &err)) {
    fprintf(stderr, "apextrade kill-switch: no account %s in %s\n", email, where);
    rc = APEX_EXIT_USAGE;
    goto out;
  }
  apex_config_secrets(&cfg, &scfg);
  if (apex_secrets_ensure(cfg.data_dir, &scfg, &sec, &err)) {
    fprintf(stderr, "apextrade kill-switch: %s\n", err.msg);
    goto out;
  }
  app.store = st;
  app.now_ms = wall_ms;
  app.auth.token_hash = token_hash;
  memcpy(app.enc_key, sec.enc_key, sizeof app.enc_key);
  apex_cli_brokers_init(&brokers, &cfg, st);
  app.broker_open = apex_cli_broker_open;
  app.broker_ctx = &brokers;
  if (apex_live_new(&app, &app.live, &err)) { /* not started: the switch uses its accounts only */
    fprintf(stderr, "apextrade kill-switch: %s\n", err.msg);
    goto out;
  }
  if (apex_app_kill_switch(&app, u.id, &out, &e)) {
    fprintf(stderr, "apextrade kill-switch: %s\n", e.detail);
    goto out;
  }
  char *text = apex_json_dump(out, false);
  printf("%s\n", text ? text : "{}");
  free(text);
  rc = APEX_EXIT_OK;
out:
  apex_json_free(out);
  apex_live_free(app.live);
  apex_secrets_free(&sec);
  apex_store_close(st);
  return rc;
}
