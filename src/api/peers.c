/* peers.c - per-address counters: chained hash buckets under one mutex; an entry is freed when
 * its count returns to zero. */
#include "api/peers.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096 /* a power of two */
#define KEY_MAX 64   /* INET6_ADDRSTRLEN is 46 */

typedef struct entry {
  struct entry *next;
  unsigned count;
  char key[KEY_MAX];
} entry;

struct apex_peers {
  pthread_mutex_t mu;
  unsigned total;
  entry *bucket[BUCKETS];
};

static size_t slot(const char *key)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (const unsigned char *c = (const unsigned char *)key; *c; c++)
    h = (h ^ *c) * 16777619u;
  return h & (BUCKETS - 1);
}

static entry **find(apex_peers *p, const char *key)
{
  entry **e = &p->bucket[slot(key)];
  while (*e && strncmp((*e)->key, key, KEY_MAX))
    e = &(*e)->next;
  return e;
}

apex_err apex_peers_new(apex_peers **out, apex_error *err)
{
  apex_peers *p = calloc(1, sizeof *p);
  *out = NULL;
  if (!p)
    return apex_error_set(err, APEX_ENOMEM, "out of memory");
  pthread_mutex_init(&p->mu, NULL);
  *out = p;
  return APEX_OK;
}

void apex_peers_free(apex_peers *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < BUCKETS; i++)
    for (entry *e = p->bucket[i], *next; e; e = next) {
      next = e->next;
      free(e);
    }
  pthread_mutex_destroy(&p->mu);
  free(p);
}

bool apex_peers_enter(apex_peers *p, const char *key, unsigned cap)
{
  bool ok = false;
  pthread_mutex_lock(&p->mu);
  entry **e = find(p, key);
  if (!*e && cap > 0 && (*e = calloc(1, sizeof **e)))
    snprintf((*e)->key, KEY_MAX, "%s", key);
  if (*e && (*e)->count < cap) {
    (*e)->count++;
    p->total++;
    ok = true;
  }
  pthread_mutex_unlock(&p->mu);
  return ok;
}

void apex_peers_leave(apex_peers *p, const char *key)
{
  pthread_mutex_lock(&p->mu);
  entry **e = find(p, key);
  if (*e && (*e)->count) {
    p->total--;
    if (!--(*e)->count) {
      entry *dead = *e;
      *e = dead->next;
      free(dead);
    }
  }
  pthread_mutex_unlock(&p->mu);
}

unsigned apex_peers_count(apex_peers *p, const char *key)
{
  pthread_mutex_lock(&p->mu);
  entry **e = find(p, key);
  unsigned n = *e ? (*e)->count : 0;
  pthread_mutex_unlock(&p->mu);
  return n;
}

unsigned apex_peers_total(apex_peers *p)
{
  pthread_mutex_lock(&p->mu);
  unsigned n = p->total;
  pthread_mutex_unlock(&p->mu);
  return n;
}
