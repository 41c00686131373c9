/* PLACEHOLDER: being written. */
#include "io/load.h"
apex_err apex_load_candles(const char *path, const apex_load_opts *opts, apex_series **out, apex_load_report *rep, apex_error *err)
{ (void)opts; (void)rep; *out = NULL; return apex_error_set(err, APEX_EIO, "%s: loader not written yet", path); }
