/* venue.c - the one table of venue names and their adapters' constructors (see venue.h). */
#include "market/venue.h"

#include <stdio.h>
#include <string.h>

#include "market/alpaca_trade.h"
#include "market/binance.h"
#include "market/binance_trade.h"
#include "market/broker.h"
#include "market/coinbase_trade.h"
#include "market/kraken.h"
#include "market/kraken_trade.h"
#include "market/yahoo.h"

static apex_err open_binance(const apex_market_venue_opts *o, apex_market *out, apex_error *err)
{
  apex_binance_options bo = {.base_url = o->base_url, .timeout_ms = o->timeout_ms};
  return apex_market_binance_new(&bo, out, err);
}

static apex_err open_kraken(const apex_market_venue_opts *o, apex_market *out, apex_error *err)
{
  apex_kraken_options ko = {.base_url = o->base_url, .timeout_ms = o->timeout_ms};
  return apex_market_kraken_new(&ko, out, err);
}

static apex_err open_yahoo(const apex_market_venue_opts *o, apex_market *out, apex_error *err)
{
  apex_yahoo_options yo = {.base_url = o->base_url, .timeout_ms = o->timeout_ms};
  return apex_market_yahoo_new(&yo, out, err);
}

/* Adding a venue is one row here and one wrapper above (its options from apex_market_venue_opts);
 * help texts list this table, so they never offer a missing one. */
static const struct {
  const char *name;
  apex_err (*open)(const apex_market_venue_opts *o, apex_market *out, apex_error *err);
} VENUES[] = {
    {"binance", open_binance},
    {"kraken", open_kraken},
    {"yahoo", open_yahoo},
};

const char *apex_market_venue_name(size_t i)
{
  return i < APEX_ARRAY_LEN(VENUES) ? VENUES[i].name : NULL;
}

apex_err apex_market_venue_open(const char *venue, const apex_market_venue_opts *o, apex_market *out,
                                apex_error *err)
{
  static const apex_market_venue_opts DEFAULTS = {0};
  char names[128] = "";
  size_t k = 0;

  *out = (apex_market){0};
  if (!o)
    o = &DEFAULTS;
  if (o->timeout_ms < 0)
    return apex_error_set(err, APEX_EINVAL, "venue: timeout must not be negative");
  for (size_t i = 0; venue && i < APEX_ARRAY_LEN(VENUES); i++)
    if (!strcmp(venue, VENUES[i].name))
      return VENUES[i].open(o, out, err);
  for (size_t i = 0; i < APEX_ARRAY_LEN(VENUES) && k < sizeof names; i++) {
    int w = snprintf(names + k, sizeof names - k, "%s%s", i ? ", " : "", VENUES[i].name);
    if (w < 0)
      break;
    k += (size_t)w;
  }
  return apex_error_set(err, APEX_EINVAL, "unknown venue '%s' (accepted: %s)", venue ? venue : "", names);
}

/* The private APIs: one row per venue whose orders we can place. */
static const struct {
  const char *name;
  apex_err (*open)(const apex_broker_credentials *c, const apex_broker_options *o, apex_broker *out, apex_error *err);
} BROKERS[] = {
    {"binance", apex_broker_binance_new},
    {"kraken", apex_broker_kraken_new},
    {"alpaca", apex_broker_alpaca_new},
    {"coinbase", apex_broker_coinbase_new},
};

apex_err apex_broker_open(const char *venue, const apex_broker_credentials *c, const apex_broker_options *o,
                          apex_broker *out, apex_error *err)
{
  *out = (apex_broker){0};
  for (size_t i = 0; venue && i < APEX_ARRAY_LEN(BROKERS); i++)
    if (!strcmp(venue, BROKERS[i].name))
      return BROKERS[i].open(c, o, out, err);
  return apex_error_set(err, APEX_EINVAL, "live trading on '%s' is not available (accepted: binance, kraken, alpaca, coinbase)",
                        venue ? venue : "");
}
