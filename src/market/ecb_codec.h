/* ecb_codec.h - the ECB's euro foreign exchange reference rates (eurofxref-daily.xml,
 * eurofxref-hist-90d.xml, eurofxref-hist.xml): reply bytes in, core/fx.h rates out. Pure: no I/O,
 * no clock, no globals of ours; the transport (ecb.c, over market/http.c) fetches and calls it.
 * Wire format: /work/shared/reference/venues/README.md section 6. The only file that includes
 * libxml2 (scripts/check-layers.sh): nothing here parses XML by hand. */
#ifndef APEX_MARKET_ECB_CODEC_H
#define APEX_MARKET_ECB_CODEC_H

#include <stddef.h>

#include "base/err.h"
#include "core/fx.h"

/* Replies longer than this are APEX_ETOOBIG unparsed: the whole history since 1999 is ~7 MiB. */
#define APEX_ECB_REPLY_MAX ((size_t)32 << 20)

/* Every <Cube time='YYYY-MM-DD'> of a gesmes:Envelope (Cube elements in the eurofxref namespace)
 * with its <Cube currency='USD' rate='1.0705'/> children, as rows dated 00:00 UTC of that day
 * (the ECB publishes around 16:00 CET, so a caller that must not look ahead takes the day
 * before). *rows is malloc'd (the caller frees it), *n rows, sorted by date then currency,
 * whatever order the file lists them in. Currencies must be three of A-Z, rates decimal text >
 * 0, dates real calendar days; no DTD is accepted, the network is never used and entities are
 * never expanded. APEX_EPARSE (malformed XML, wrong shape, a bad attribute, a (date, currency)
 * given twice, no rate at all) with err naming where; APEX_ETOOBIG over APEX_ECB_REPLY_MAX;
 * APEX_EOVERFLOW for a rate beyond apex_dec; APEX_ENOMEM. On error *rows is NULL and *n 0. */
apex_err apex_ecb_decode(const char *buf, size_t len, apex_fx_rate **rows, size_t *n, apex_error *err);

#endif
