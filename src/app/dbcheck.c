/* dbcheck.c - the periodic database check (dbcheck.h): one thread, asleep between checks. */
#include "app/dbcheck.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sys/log.h"

struct apex_dbcheck {
  apex_store *store;
  unsigned interval_s;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv; /* signalled by stop */
  bool stopping;     /* under mu */
  char last[512];    /* the failure logged last; "" while checks pass (thread only) */
};

static double secs_since(const struct timespec *t0)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A failure is logged once per distinct message: a corrupt file stays corrupt, and one line says
 * so rather than one per interval. The first pass after failures is logged too. */
static void report(apex_dbcheck *c, apex_err rc, const apex_error *err, double secs)
{
  const char *backend = apex_store_backend(c->store);
  if (rc) {
    if (strcmp(c->last, err->msg)) {
      snprintf(c->last, sizeof c->last, "%s", err->msg);
      apex_log_fields(APEX_LOG_ERROR, "database check failed",
                      (apex_log_field[]){APEX_LOG_S("database", backend), APEX_LOG_S("error", err->msg),
                                         APEX_LOG_N("duration_s", secs)},
                      3);
    }
    return;
  }
  apex_log_fields(c->last[0] ? APEX_LOG_INFO : APEX_LOG_DEBUG, c->last[0] ? "database check passed again"
                                                                          : "database check passed",
                  (apex_log_field[]){APEX_LOG_S("database", backend), APEX_LOG_N("duration_s", secs)}, 2);
  c->last[0] = '\0';
}

static void *run(void *arg)
{
  apex_dbcheck *c = arg;
  pthread_mutex_lock(&c->mu);
  while (!c->stopping) {
    /* The interval runs from the end of the last check: checks never overlap or run back to back. */
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += (time_t)c->interval_s;
    int w = 0;
    while (!c->stopping && w != ETIMEDOUT)
      w = pthread_cond_timedwait(&c->cv, &c->mu, &until);
    if (c->stopping)
      break;
    pthread_mutex_unlock(&c->mu);
    apex_error err = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    apex_err rc = apex_store_check(c->store, &err);
    report(c, rc, &err, secs_since(&t0));
    pthread_mutex_lock(&c->mu);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

apex_err apex_dbcheck_start(apex_store *store, unsigned interval_s, apex_dbcheck **out, apex_error *err)
{
  apex_err rc = APEX_OK;
  pthread_condattr_t ca;
  bool ca_ok = false, mu_ok = false, cv_ok = false;
  apex_dbcheck *c = NULL;

  *out = NULL;
  if (!interval_s)
    return APEX_OK;
  if (!(c = calloc(1, sizeof *c))) {
    rc = apex_error_set(err, APEX_ENOMEM, "out of memory");
    goto out;
  }
  c->store = store;
  c->interval_s = interval_s;
  if (!(ca_ok = !pthread_condattr_init(&ca)) || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
      !(mu_ok = !pthread_mutex_init(&c->mu, NULL)) || !(cv_ok = !pthread_cond_init(&c->cv, &ca))) {
    rc = apex_error_set(err, APEX_ENOMEM, "cannot create the database check's lock");
    goto out;
  }
  int e = pthread_create(&c->thread, NULL, run, c);
  if (e) {
    rc = apex_error_set(err, APEX_ENOMEM, "cannot start the database check thread: %s", strerror(e));
    goto out;
  }
  *out = c;
  c = NULL;
out:
  if (ca_ok)
    pthread_condattr_destroy(&ca);
  if (c) {
    if (cv_ok)
      pthread_cond_destroy(&c->cv);
    if (mu_ok)
      pthread_mutex_destroy(&c->mu);
    free(c);
  }
  return rc;
}

void apex_dbcheck_stop(apex_dbcheck *c)
{
  if (!c)
    return;
  pthread_mutex_lock(&c->mu);
  c->stopping = true;
  pthread_cond_signal(&c->cv);
  pthread_mutex_unlock(&c->mu);
}

void apex_dbcheck_free(apex_dbcheck *c)
{
  if (!c)
    return;
  apex_dbcheck_stop(c);
  pthread_join(c->thread, NULL);
  pthread_cond_destroy(&c->cv);
  pthread_mutex_destroy(&c->mu);
  free(c);
}
