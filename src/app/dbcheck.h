/* dbcheck.h - the database's integrity checked again while the server runs, not only at start:
 * one thread runs the store's check every interval, off the request threads (SQLite's
 * quick_check reads every page, seconds per GiB; on its own connection, see store/sqlite.c). A
 * corrupt page it finds makes readiness fail from then on (the store remembers it) and is logged
 * with the database's message; on PostgreSQL the check is a round trip (the server keeps its own
 * pages whole), so a database that stops answering is logged between readiness probes. */
#ifndef APEX_APP_DBCHECK_H
#define APEX_APP_DBCHECK_H

#include "base/err.h"
#include "store/store.h"

typedef struct apex_dbcheck apex_dbcheck; /* opaque */

/* Starts checking store every interval_s seconds, the first time one interval from now (the
 * caller checked at start). interval_s 0 starts nothing: *out is NULL and APEX_OK is returned.
 * store must outlive apex_dbcheck_free. */
apex_err apex_dbcheck_start(apex_store *store, unsigned interval_s, apex_dbcheck **out, apex_error *err);
/* Asks the thread to end and returns at once; a check in progress runs to its end. NULL: no-op. */
void apex_dbcheck_stop(apex_dbcheck *c);
/* Stops the thread, waits for it (and so for a check in progress) and frees c. NULL: no-op. */
void apex_dbcheck_free(apex_dbcheck *c);

#endif
