/* ind.h - the indicator registry: what each indicator needs, takes and gives, and the generic
 * batch and streaming entry points the CLI, the rule engine and the UI use.
 * Pure: no I/O, no globals beyond the constant table. Each indicator lives in ind/<name>.c with a
 * typed API in ind/<name>.h; the descriptor at the end of its .c adapts that API to this one. */
#ifndef APEX_CORE_IND_H
#define APEX_CORE_IND_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "core/series.h"

#define APEX_IND_MAX_PARAMS 4
#define APEX_IND_MAX_OUTPUTS 4

/* Input fields an indicator reads (bit set). */
enum {
  APEX_IN_OPEN = 1u << 0,
  APEX_IN_HIGH = 1u << 1,
  APEX_IN_LOW = 1u << 2,
  APEX_IN_CLOSE = 1u << 3,
  APEX_IN_VOLUME = 1u << 4,
  APEX_IN_TIME = 1u << 5,
};

typedef struct apex_ind_param {
  const char *name; /* "period" */
  double def, min, max;
  bool integer;     /* must be a whole number */
} apex_ind_param;

typedef struct apex_ind_info {
  const char *name;  /* lower case, as in the registry: "sma" */
  const char *title; /* "Simple Moving Average" */
  unsigned inputs;   /* APEX_IN_* */
  int n_params;
  apex_ind_param params[APEX_IND_MAX_PARAMS];
  int n_outputs;
  const char *outputs[APEX_IND_MAX_OUTPUTS]; /* lower case: "macd", "signal", "hist" */
  /* Checks relations between parameters once each is in range (NULL: none). */
  apex_err (*check)(const double *p, apex_error *err);
  /* Candles before the first value (TA-Lib's lookback). */
  int (*lookback)(const double *p);
  /* Bytes of streaming state for these parameters (the caller allocates, 16-byte aligned). */
  size_t (*state_size)(const double *p);
  void (*init)(void *st, const double *p);
  /* Feeds one candle; writes n_outputs values, NaN while warming up. Never allocates. */
  void (*update)(void *st, const apex_bar *b, double *out);
  /* Whole series at once: out[k] has room for s->n values; warm-up rows are NaN. */
  void (*batch)(const apex_series *s, const double *p, double *const *out);
} apex_ind_info;

/* Looks a name up, case-insensitively ("RSI", "rsi"). NULL if unknown. */
const apex_ind_info *apex_ind_find(const char *name);
/* The registry in order; *n receives the count. */
const apex_ind_info *const *apex_ind_list(size_t *n);
/* Index of a parameter or output by name (case-insensitive), -1 if none. */
int apex_ind_param_index(const apex_ind_info *ind, const char *name);
int apex_ind_output_index(const apex_ind_info *ind, const char *name);

/* Fills p[0..n_params) with the defaults. */
void apex_ind_defaults(const apex_ind_info *ind, double *p);
/* Checks every parameter against its range and the indicator's own relations. The message names
 * the parameter and its range: "period: must be an integer from 2 to 100000, got 0". */
apex_err apex_ind_validate(const apex_ind_info *ind, const double *p, apex_error *err);
/* Sets parameter `name` from text ("14", "0.02") with validation of that one parameter. */
apex_err apex_ind_set_param(const apex_ind_info *ind, double *p, const char *name, const char *value,
                            apex_error *err);

/* Generic streaming instance in caller-provided memory of ind->state_size(p) bytes. */
typedef struct apex_ind_stream {
  const apex_ind_info *ind;
  void *state;
} apex_ind_stream;

#endif
