/* market/ecb.c and market/http.c against tests/market/stub_ecb.py on 127.0.0.1: the daily and
 * history files, a 5xx retried, three 5xx, 404 and a body that is not XML. Each test starts its
 * own stub with the faults it needs and kills it in teardown. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "market/ecb.h"
#include "market/http.h"

#define PYTHON "/usr/bin/python3"
#define STUB APEX_SOURCE_DIR "/tests/market/stub_ecb.py"
#define D0628 (INT64_C(19902) * 86400000) /* 2024-06-28, see test_market_ecb.c */

static pid_t stub_pid = -1;
static char base_url[64];

/* Starts the stub with faults ("500,ok", "" for none) and sets base_url. */
static void stub_start(const char *faults)
{
  int fds[2];
  cr_assert_eq(access(PYTHON, X_OK), 0, "%s is needed to run the ECB stub", PYTHON);
  cr_assert_eq(pipe(fds), 0);
  stub_pid = fork();
  cr_assert_neq(stub_pid, -1);
  if (stub_pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    execl(PYTHON, "python3", STUB, "--faults", faults, (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[32] = "";
  cr_assert(f && fgets(line, sizeof line, f), "the stub printed no port");
  fclose(f);
  int port = atoi(line);
  cr_assert(port > 0 && port < 65536, "bad port line '%s'", line);
  snprintf(base_url, sizeof base_url, "http://127.0.0.1:%d", port);
}

static void stub_stop(void)
{
  if (stub_pid > 0) {
    kill(stub_pid, SIGTERM);
    waitpid(stub_pid, NULL, 0);
    stub_pid = -1;
  }
}

static int stub_hits(void)
{
  apex_http_client *c = NULL;
  apex_http_reply r;
  cr_assert_eq(apex_http_client_new(&(apex_http_options){.base_url = base_url}, &c, NULL), APEX_OK);
  cr_assert_eq(apex_http_get(c, "/_stub/hits", 1, &r, NULL), APEX_OK);
  int n = atoi(r.body);
  apex_http_reply_free(&r);
  apex_http_client_free(c);
  return n;
}

static apex_ecb *open_ecb(void)
{
  apex_ecb *x = NULL;
  apex_error err = {0};
  apex_ecb_options o = {.base_url = base_url, .timeout_ms = 2000, .backoff_base_ms = 20};
  cr_assert_eq(apex_ecb_new(&o, &x, &err), APEX_OK, "%s", err.msg);
  return x;
}

TestSuite(ecb_transport, .fini = stub_stop, .timeout = 60);

Test(ecb_transport, daily_and_history)
{
  stub_start("");
  apex_ecb *x = open_ecb();
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error err = {0};
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_DAILY, &r, &n, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(n, 6);
  cr_expect_str_eq(r[5].currency, "USD");
  cr_expect_eq(r[5].date, D0628);
  cr_expect_eq(r[5].rate, 107050000);
  free(r);
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_90D, &r, &n, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(n, 9);
  cr_expect_eq(r[0].date, D0628 - 2 * 86400000);
  free(r);
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_ALL, &r, &n, &err), APEX_OK, "%s", err.msg);
  cr_assert_eq(n, 9);
  free(r);
  cr_expect_eq(apex_ecb_fetch(x, (apex_ecb_range)9, &r, &n, &err), APEX_EINVAL);
  cr_expect_eq(stub_hits(), 3);
  apex_ecb_free(x);
}

Test(ecb_transport, server_error_is_retried)
{
  stub_start("500");
  apex_ecb *x = open_ecb();
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error err = {0};
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_DAILY, &r, &n, &err), APEX_OK, "%s", err.msg);
  cr_expect_eq(n, 6);
  cr_expect_eq(stub_hits(), 2, "one 500, then the reply");
  free(r);
  apex_ecb_free(x);
}

Test(ecb_transport, three_server_errors_are_eio)
{
  stub_start("500,500,500");
  apex_ecb *x = open_ecb();
  apex_fx_rate *r = (apex_fx_rate *)1;
  size_t n = 9;
  apex_error err = {0};
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_DAILY, &r, &n, &err), APEX_EIO);
  cr_expect_str_eq(err.msg, "ecb: HTTP 500 after 3 tries");
  cr_expect_null(r);
  cr_expect_eq(n, 0);
  cr_expect_eq(stub_hits(), 3);
  apex_ecb_free(x);
}

Test(ecb_transport, garbage_body_is_eparse)
{
  stub_start("garbage");
  apex_ecb *x = open_ecb();
  apex_fx_rate *r = (apex_fx_rate *)1;
  size_t n = 9;
  apex_error err = {0};
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_DAILY, &r, &n, &err), APEX_EPARSE);
  cr_expect(strstr(err.msg, "ecb: malformed XML"), "%s", err.msg);
  cr_expect_null(r);
  cr_expect_eq(n, 0);
  cr_expect_eq(stub_hits(), 1, "a 200 is not retried");
  apex_ecb_free(x);
}

Test(ecb_transport, not_found_is_enotfound)
{
  stub_start("404");
  apex_ecb *x = open_ecb();
  apex_fx_rate *r = NULL;
  size_t n = 0;
  apex_error err = {0};
  cr_assert_eq(apex_ecb_fetch(x, APEX_ECB_DAILY, &r, &n, &err), APEX_ENOTFOUND);
  cr_expect_str_eq(err.msg, "ecb: HTTP 404");
  cr_expect_eq(stub_hits(), 1, "4xx is not retried");
  apex_ecb_free(x);
}
