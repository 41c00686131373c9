/* outbox.c - password-reset requests handled off the request path by one thread: the answer to
 * POST /auth/forgot is then the same, in the same time, whether the account exists or not, and a
 * slow mail server never holds an HTTP worker. A bounded ring; a full one drops (and logs) the
 * request: the user asks again, and a flood of forgot requests cannot grow memory. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "sys/log.h"

#define EMAIL_MAX 256

struct apex_app_outbox {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  bool stop;
  size_t cap, head, n;
  unsigned long dropped;
  char (*ring)[EMAIL_MAX];
};

static void *loop(void *arg)
{
  apex_app *app = arg;
  struct apex_app_outbox *o = app->outbox;
  char email[EMAIL_MAX];
  pthread_mutex_lock(&o->mu);
  for (;;) {
    while (!o->n && !o->stop)
      pthread_cond_wait(&o->cv, &o->mu);
    if (o->stop)
      break;
    memcpy(email, o->ring[o->head], EMAIL_MAX);
    o->head = (o->head + 1) % o->cap;
    o->n--;
    pthread_mutex_unlock(&o->mu);
    apex_app_forgot_deliver(app, email);
    pthread_mutex_lock(&o->mu);
  }
  size_t left = o->n;
  pthread_mutex_unlock(&o->mu);
  if (left)
    apex_log_fields(APEX_LOG_WARN, "password reset requests not handled before shutdown",
                    (apex_log_field[]){APEX_LOG_I("requests", left)}, 1);
  return NULL;
}

apex_err apex_app_outbox_start(apex_app *app, size_t cap, apex_error *err)
{
  struct apex_app_outbox *o = calloc(1, sizeof *o);
  if (!o || !cap || !(o->ring = calloc(cap, sizeof *o->ring))) {
    free(o);
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  }
  o->cap = cap;
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  app->outbox = o;
  if (pthread_create(&o->thread, NULL, loop, app)) {
    app->outbox = NULL;
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv);
    free(o->ring);
    free(o);
    return apex_error_set(err, APEX_ENOMEM, "cannot start the outbox thread");
  }
  return APEX_OK;
}

void apex_app_outbox_stop(apex_app *app)
{
  struct apex_app_outbox *o = app->outbox;
  if (!o)
    return;
  pthread_mutex_lock(&o->mu);
  o->stop = true;
  pthread_cond_signal(&o->cv);
  pthread_mutex_unlock(&o->mu);
  pthread_join(o->thread, NULL);
  pthread_mutex_destroy(&o->mu);
  pthread_cond_destroy(&o->cv);
  free(o->ring);
  free(o);
  app->outbox = NULL;
}

bool apex_app_outbox_push(apex_app *app, const char *email)
{
  struct apex_app_outbox *o = app->outbox;
  bool ok = false;
  if (strlen(email) >= EMAIL_MAX)
    return false;
  pthread_mutex_lock(&o->mu);
  if (o->n < o->cap) {
    strcpy(o->ring[(o->head + o->n) % o->cap], email);
    o->n++;
    ok = true;
    pthread_cond_signal(&o->cv);
  } else if (!(o->dropped++ % 100)) { /* one line per hundred: the log is not the flood's either */
    apex_log_fields(APEX_LOG_WARN, "password reset requests dropped: the outbox is full",
                    (apex_log_field[]){APEX_LOG_I("dropped", o->dropped)}, 1);
  }
  pthread_mutex_unlock(&o->mu);
  return ok;
}
