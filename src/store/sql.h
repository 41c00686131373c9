/* sql.h - what the entity functions written once (sql_*.c) use over the driver in store_impl.h:
 * typed arguments, a connection from the pool, one statement, a transaction, and the one id check
 * both databases share. Internal to src/store. */
#ifndef APEX_STORE_SQL_H
#define APEX_STORE_SQL_H

#include "store/store_impl.h"

#define A_TEXT(x) ((apex_sql_arg){.t = APEX_SQL_TEXT, .s = (x)})
#define A_OPT(x) ((apex_sql_arg){.t = APEX_SQL_TEXT, .s = (x) && *(x) ? (x) : NULL}) /* "": NULL */
#define A_I64(x) ((apex_sql_arg){.t = APEX_SQL_I64, .i = (x)})
#define A_MS(x) ((apex_sql_arg){.t = (x) ? APEX_SQL_I64 : APEX_SQL_NULL, .i = (x)}) /* 0: NULL */
#define A_DEC(x) ((apex_sql_arg){.t = APEX_SQL_DEC, .i = (x)})
#define A_F64(x) ((apex_sql_arg){.t = APEX_SQL_F64, .f = (x)})
#define A_BOOL(x) ((apex_sql_arg){.t = APEX_SQL_BOOL, .i = (x) ? 1 : 0})
#define A_NULL ((apex_sql_arg){.t = APEX_SQL_NULL})
#define A_TS(x) ((apex_sql_arg){.t = APEX_SQL_TS, .i = (x)}) /* a time column's ms, for copy_in */

/* Runs sql with the arguments that follow on connection c: SQL(s, c, sql, &res, err, A_TEXT(id), ...). */
#define SQL(s, c, sql, out, err, ...)                                                                             \
  apex_sql__query((s), (c), (sql), (const apex_sql_arg[]){__VA_ARGS__},                                          \
                  (int)(sizeof((const apex_sql_arg[]){__VA_ARGS__}) / sizeof(apex_sql_arg)), (out), (err))

void *apex_sql__acquire(apex_store *s);
void apex_sql__release(apex_store *s, void *c);
apex_err apex_sql__query(apex_store *s, void *c, const char *sql, const apex_sql_arg *a, int n, apex_sql_res **out,
                         apex_error *err);
/* Runs sql (no arguments) and drops the result: transactions. */
apex_err apex_sql__exec(apex_store *s, void *c, const char *sql, apex_error *err);
apex_err apex_sql__begin(apex_store *s, void *c, apex_error *err);
void apex_sql__rollback(apex_store *s, void *c);

/* A UUID's text form (8-4-4-4-12 hex). An id that is not one names no row in either database. */
bool apex_store__id_ok(const char *id);

/* *out = a malloc'd copy of the text at (row, col), NULL for SQL NULL; ENOMEM (set in err) if out of memory. */
apex_err apex_sql__dup(apex_store *s, const apex_sql_res *r, int row, int col, char **out, apex_error *err);

/* EINVAL unless p is a page: page >= 1, limit >= 1, its offset within INT32_MAX. */
apex_err apex_sql__page_ok(const apex_page *p, apex_error *err);

#endif
