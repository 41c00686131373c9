/* peers.h - counts per client address (connections, requests in flight) so one address cannot
 * take the whole server: a mutex-guarded table whose entries live while their count is above
 * zero, so memory is bounded by what is open. Keys are address texts ("127.0.0.2", "::1"). */
#ifndef APEX_API_PEERS_H
#define APEX_API_PEERS_H

#include <stdbool.h>

#include "base/err.h"

typedef struct apex_peers apex_peers;

apex_err apex_peers_new(apex_peers **out, apex_error *err);
void apex_peers_free(apex_peers *p);
/* Counts one more for key unless it already holds cap; false (nothing counted) when it does,
 * or when memory runs out. */
bool apex_peers_enter(apex_peers *p, const char *key, unsigned cap);
/* Counts one less for key (after a successful enter). */
void apex_peers_leave(apex_peers *p, const char *key);
unsigned apex_peers_count(apex_peers *p, const char *key);
/* All counts together. */
unsigned apex_peers_total(apex_peers *p);

#endif
