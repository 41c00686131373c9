/* denylist_inproc.c - the in-process denylist: one chained hash table of exact keys ("t:" jti or
 * "u:" user id) under a mutex; expired entries are unlinked when met and swept when full. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jobs/denylist.h"

#define KEY_CAP (APEX_DENYLIST_KEY_MAX + 3)

typedef struct entry {
  struct entry *next;
  int64_t at_s, until_s; /* users: tokens issued before at_s; tokens: at_s unused */
  char key[KEY_CAP];
} entry;

typedef struct table {
  pthread_mutex_t mu;
  size_t n, max, n_buckets;
  entry **bucket;
} table;

static size_t slot(const table *t, const char *key)
{
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (const unsigned char *c = (const unsigned char *)key; *c; c++)
    h = (h ^ *c) * 1099511628211ull;
  return (size_t)(h % t->n_buckets);
}

/* The live entry for key, unlinking expired ones met on the way. */
static entry **find(table *t, const char *key, int64_t now_s)
{
  entry **e = &t->bucket[slot(t, key)];
  while (*e) {
    if ((*e)->until_s <= now_s) {
      entry *dead = *e;
      *e = dead->next;
      free(dead);
      t->n--;
      continue;
    }
    if (!strcmp((*e)->key, key))
      return e;
    e = &(*e)->next;
  }
  return e;
}

static void sweep(table *t, int64_t now_s)
{
  for (size_t i = 0; i < t->n_buckets; i++)
    for (entry **e = &t->bucket[i]; *e;) {
      if ((*e)->until_s <= now_s) {
        entry *dead = *e;
        *e = dead->next;
        free(dead);
        t->n--;
      } else {
        e = &(*e)->next;
      }
    }
}

static apex_err put(table *t, const char *prefix, const char *id, int64_t at_s, int64_t until_s, int64_t now_s)
{
  char key[KEY_CAP];
  if (!id || !*id || strlen(id) > APEX_DENYLIST_KEY_MAX)
    return APEX_EINVAL;
  if (until_s <= now_s)
    return APEX_OK; /* already over: nothing left to deny */
  snprintf(key, sizeof key, "%s%s", prefix, id);
  apex_err rc = APEX_OK;
  pthread_mutex_lock(&t->mu);
  entry **e = find(t, key, now_s);
  if (!*e) {
    if (t->n >= t->max)
      sweep(t, now_s);
    if (t->n >= t->max || !(*e = calloc(1, sizeof **e))) {
      rc = APEX_ENOMEM;
      goto out;
    }
    memcpy((*e)->key, key, sizeof key);
    t->n++;
  }
  if (at_s >= (*e)->at_s)
    (*e)->at_s = at_s;
  if (until_s > (*e)->until_s)
    (*e)->until_s = until_s;
out:
  pthread_mutex_unlock(&t->mu);
  return rc;
}

static apex_err revoke_token(void *impl, const char *jti, int64_t until_s, int64_t now_s)
{
  return put(impl, "t:", jti, 0, until_s, now_s);
}

static apex_err revoke_user(void *impl, const char *sub, int64_t at_s, int64_t until_s, int64_t now_s)
{
  return put(impl, "u:", sub, at_s, until_s, now_s);
}

static bool revoked(void *impl, const char *jti, const char *sub, int64_t iat, int64_t now_s)
{
  table *t = impl;
  char key[KEY_CAP];
  bool out = false;
  pthread_mutex_lock(&t->mu);
  if (jti && *jti && strlen(jti) <= APEX_DENYLIST_KEY_MAX) {
    snprintf(key, sizeof key, "t:%s", jti);
    out = *find(t, key, now_s) != NULL;
  }
  if (!out && sub && *sub && strlen(sub) <= APEX_DENYLIST_KEY_MAX) {
    snprintf(key, sizeof key, "u:%s", sub);
    entry **e = find(t, key, now_s);
    out = *e && iat < (*e)->at_s;
  }
  pthread_mutex_unlock(&t->mu);
  return out;
}

static void table_free(void *impl)
{
  table *t = impl;
  if (!t)
    return;
  for (size_t i = 0; i < t->n_buckets; i++)
    for (entry *e = t->bucket[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  pthread_mutex_destroy(&t->mu);
  free(t->bucket);
  free(t);
}

static const apex_denylist_ops OPS = {revoke_token, revoke_user, revoked, table_free};

apex_err apex_denylist_inproc_new(size_t max_entries, apex_denylist *out)
{
  *out = (apex_denylist){0};
  if (!max_entries)
    return APEX_EINVAL;
  table *t = calloc(1, sizeof *t);
  if (!t)
    return APEX_ENOMEM;
  t->max = max_entries;
  t->n_buckets = max_entries < 1024 ? 1024 : max_entries;
  if (!(t->bucket = calloc(t->n_buckets, sizeof *t->bucket))) {
    free(t);
    return APEX_ENOMEM;
  }
  pthread_mutex_init(&t->mu, NULL);
  *out = (apex_denylist){&OPS, t};
  return APEX_OK;
}
