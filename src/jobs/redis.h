/* redis.h - the one door to Redis (hiredis stays behind redis.c): a connection that reconnects
 * with back-off, commands as argument vectors, replies as plain values, and a subscriber thread
 * for pub/sub. The shared-state adapters (events, denylist, limiter) and the Streams queue use it
 * when REDIS_URL is set. */
#ifndef APEX_JOBS_REDIS_H
#define APEX_JOBS_REDIS_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

/* EINVAL unless url is redis://[[user]:password@]host[:port][/db] (db 0-15, port 1-65535). */
apex_err apex_redis_url_ok(const char *url, apex_error *err);

/* One connection under its own lock (thread-safe; one command at a time). A command on a broken
 * connection reconnects first, at most every back-off step (100 ms doubling to 2 s): while Redis
 * is away every command fails fast with APEX_EIO. timeout_ms bounds connecting and each reply
 * (a blocking command needs a larger one). */
typedef struct apex_redis apex_redis;
apex_err apex_redis_new(const char *url, int timeout_ms, apex_redis **out, apex_error *err);
void apex_redis_free(apex_redis *r); /* NULL is a no-op */
/* True while the last command reached Redis. */
bool apex_redis_up(apex_redis *r);

typedef enum apex_redis_type {
  APEX_REDIS_NIL,
  APEX_REDIS_INT,
  APEX_REDIS_STR,    /* bulk strings and status replies ("OK") */
  APEX_REDIS_ARRAY,
  APEX_REDIS_ERR,    /* Redis's error reply ("WRONGTYPE ..."): the command reached it */
} apex_redis_type;

/* A reply: a tree the caller frees with apex_redis_reply_free. */
typedef struct apex_redis_reply {
  apex_redis_type type;
  long long integer;
  char *str; /* NUL-terminated; len bytes (STR, ERR) */
  size_t len;
  struct apex_redis_reply *elems; /* ARRAY: n of them */
  size_t n;
} apex_redis_reply;
void apex_redis_reply_free(apex_redis_reply *x); /* frees the tree and zeroes *x */

/* Runs argv (argc byte strings of lens[i] bytes; lens NULL: NUL-terminated) and reads its reply
 * into *out (zeroed first; free it even on error). APEX_EIO when Redis cannot be reached or the
 * connection broke (it reconnects on a later call), APEX_ENOMEM. An error reply is APEX_OK with
 * out->type APEX_REDIS_ERR. */
apex_err apex_redis_command(apex_redis *r, int argc, const char *const *argv, const size_t *lens, apex_redis_reply *out,
                            apex_error *err);
/* apex_redis_command with text arguments, counted here: APEX_REDIS_RUN(r, &out, &err, "GET", key). */
#define APEX_REDIS_ARGV(...) ((const char *const[]){__VA_ARGS__})
#define APEX_REDIS_ARGC(...) ((int)(sizeof APEX_REDIS_ARGV(__VA_ARGS__) / sizeof(const char *)))
#define APEX_REDIS_RUN(r, out, err, ...)                                                                           \
  apex_redis_command((r), APEX_REDIS_ARGC(__VA_ARGS__), APEX_REDIS_ARGV(__VA_ARGS__), NULL, (out), (err))

/* Several commands in one round trip (each as apex_redis_command's arguments); outs[i] gets each
 * reply (free them all, even on error). Either every reply is read, or APEX_EIO. */
typedef struct apex_redis_cmd {
  int argc;
  const char *const *argv;
  const size_t *lens; /* NULL: NUL-terminated arguments */
} apex_redis_cmd;
apex_err apex_redis_pipeline(apex_redis *r, size_t n, const apex_redis_cmd *cmds, apex_redis_reply *outs,
                             apex_error *err);

/* A subscriber: a thread with a connection of its own, SUBSCRIBEd to channel, that calls
 * on_message(arg, payload, len) for each message and on_connect(arg) after every (re)subscription
 * (so that a caller can reload what it may have missed while Redis was away). It reconnects with
 * back-off until stopped. Callbacks run on the subscriber's thread. */
typedef struct apex_redis_sub apex_redis_sub;
apex_err apex_redis_subscribe(const char *url, const char *channel, void (*on_message)(void *, const char *, size_t),
                              void (*on_connect)(void *), void *arg, apex_redis_sub **out, apex_error *err);
void apex_redis_unsubscribe(apex_redis_sub *s); /* stops and joins the thread; NULL is a no-op */

#endif
