/* registry.c - lookup and parameter handling over the list in registry.def. */
#include "core/ind/ind.h"

#include <errno.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <strings.h>

#define X(nm) extern const apex_ind_info apex_ind_##nm;
#include "core/ind/registry.def"
#undef X

static const apex_ind_info *const INDICATORS[] = {
#define X(nm) &apex_ind_##nm,
#include "core/ind/registry.def"
#undef X
};

const apex_ind_info *apex_ind_find(const char *name)
{
  for (size_t i = 0; i < APEX_ARRAY_LEN(INDICATORS); i++)
    if (!strcasecmp(INDICATORS[i]->name, name))
      return INDICATORS[i];
  return NULL;
}

const apex_ind_info *const *apex_ind_list(size_t *n)
{
  *n = APEX_ARRAY_LEN(INDICATORS);
  return INDICATORS;
}

int apex_ind_param_index(const apex_ind_info *ind, const char *name)
{
  for (int i = 0; i < ind->n_params; i++)
    if (!strcasecmp(ind->params[i].name, name))
      return i;
  return -1;
}

int apex_ind_output_index(const apex_ind_info *ind, const char *name)
{
  for (int i = 0; i < ind->n_outputs; i++)
    if (!strcasecmp(ind->outputs[i], name))
      return i;
  return -1;
}

void apex_ind_defaults(const apex_ind_info *ind, double *p)
{
  for (int i = 0; i < ind->n_params; i++)
    p[i] = ind->params[i].def;
}

static apex_err check_one(const apex_ind_param *d, double v, apex_error *err)
{
  bool ok = isfinite(v) && v >= d->min && v <= d->max && (!d->integer || v == floor(v));
  if (ok)
    return APEX_OK;
  if (d->integer)
    return apex_error_set(err, APEX_EINVAL, "%s: must be an integer from %.17g to %.17g, got %.17g",
                          d->name, d->min, d->max, v);
  return apex_error_set(err, APEX_EINVAL, "%s: must be a number from %.17g to %.17g, got %.17g", d->name,
                        d->min, d->max, v);
}

apex_err apex_ind_validate(const apex_ind_info *ind, const double *p, apex_error *err)
{
  for (int i = 0; i < ind->n_params; i++) {
    apex_err rc = check_one(&ind->params[i], p[i], err);
    if (rc)
      return rc;
  }
  return ind->check ? ind->check(p, err) : APEX_OK;
}

apex_err apex_ind_set_param(const apex_ind_info *ind, double *p, const char *name, const char *value,
                            apex_error *err)
{
  int k = apex_ind_param_index(ind, name);
  if (k < 0) {
    if (ind->n_params == 0)
      return apex_error_set(err, APEX_EINVAL, "%s: unknown parameter for %s, which takes none", name,
                            ind->name);
    char known[128] = "";
    size_t len = 0;
    for (int i = 0; i < ind->n_params && len < sizeof known; i++)
      len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? ", " : "", ind->params[i].name);
    return apex_error_set(err, APEX_EINVAL, "%s: unknown parameter for %s (known: %s)", name, ind->name,
                          known);
  }
  char *end = NULL;
  errno = 0;
  double v = strtod(value, &end);
  if (end == value || *end != '\0' || errno == ERANGE)
    return apex_error_set(err, APEX_EINVAL, "%s: not a number: '%s'", ind->params[k].name, value);
  apex_err rc = check_one(&ind->params[k], v, err);
  if (!rc)
    p[k] = v;
  return rc;
}
