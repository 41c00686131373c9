/* venue.h - opens a market-data adapter by its name ("binance"), so the composition roots (the CLI,
 * the server) pick a venue from a setting without knowing each adapter's options. */
#ifndef APEX_MARKET_VENUE_H
#define APEX_MARKET_VENUE_H

#include <stddef.h>

#include "base/err.h"
#include "market/market.h"

/* Zero fields take the venue's default. */
typedef struct apex_market_venue_opts {
  const char *base_url; /* NULL: the venue's public address; tests point it at a local stub */
  int timeout_ms;       /* per request; 0: the adapter's default */
} apex_market_venue_opts;

/* The adapter named venue (o may be NULL for all defaults) into *out; free it with
 * apex_market_free. APEX_EINVAL naming the accepted venues when venue is not one of them;
 * otherwise what the adapter's constructor returns. */
apex_err apex_market_venue_open(const char *venue, const apex_market_venue_opts *o, apex_market *out,
                                apex_error *err);
/* The i-th accepted venue name, in table order; NULL past the last (for help texts). */
const char *apex_market_venue_name(size_t i);

#endif
