/* ecb_codec.c - ECB reference-rate XML into core/fx.h rows (see ecb_codec.h), through libxml2's
 * tree parser. The parse is locked down: no network, no DTD loading, no entity substitution, a
 * capped input, and libxml2's own messages kept in its context instead of printed. */
#include "market/ecb_codec.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "core/timeframe.h"

#define NS_GESMES "http://www.gesmes.org/xml/2002-08-01"
#define NS_REF "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"

typedef struct rows {
  apex_fx_rate *v;
  size_t n, cap;
} rows;

/* libxml2 2.9's own setup is not safe to race on first use; do it once. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void init_libxml(void) { xmlInitParser(); }

static bool is_elem(const xmlNode *x, const char *name, const char *ns)
{
  return x->type == XML_ELEMENT_NODE && strcmp((const char *)x->name, name) == 0 && x->ns && x->ns->href &&
         strcmp((const char *)x->ns->href, ns) == 0;
}

/* An attribute's text (no namespace), or NULL; free with xmlFree. */
static char *attr(const xmlNode *x, const char *name)
{
  return (char *)xmlGetNoNsProp(x, (const xmlChar *)name);
}

/* 'YYYY-MM-DD' as ms UTC of that day's 00:00; false unless a real calendar day. */
static bool parse_day(const char *s, int64_t *ms)
{
  int v[3] = {0, 0, 0};
  static const int WIDTH[3] = {4, 2, 2};
  const char *p = s;
  for (int f = 0; f < 3; f++) {
    if (f && *p++ != '-')
      return false;
    for (int k = 0; k < WIDTH[f]; k++, p++) {
      if (*p < '0' || *p > '9')
        return false;
      v[f] = v[f] * 10 + (*p - '0');
    }
  }
  if (*p || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
    return false;
  int64_t days = apex_days_from_civil(v[0], v[1], v[2]), y;
  int m, d;
  apex_civil_from_days(days, &y, &m, &d); /* 2023-02-30 comes back as March */
  if (y != v[0] || m != v[1] || d != v[2])
    return false;
  *ms = days * APEX_MS_DAY;
  return true;
}

static apex_err push(rows *r, const apex_fx_rate *x, apex_error *err)
{
  if (r->n == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 64;
    apex_fx_rate *v = realloc(r->v, cap * sizeof *v);
    if (!v)
      return apex_error_set(err, APEX_ENOMEM, "ecb: out of memory");
    r->v = v;
    r->cap = cap;
  }
  r->v[r->n++] = *x;
  return APEX_OK;
}

/* One <Cube currency= rate=/> of the day's cube. */
static apex_err rate_cube(const xmlNode *x, const char *day, int64_t date, rows *r, apex_error *err)
{
  char *ccy = attr(x, "currency"), *rate = attr(x, "rate");
  apex_fx_rate row = {.date = date};
  apex_err rc = APEX_OK;
  long line = (long)xmlGetLineNo(x);
  if (!apex_fx_iso_ok(ccy)) {
    rc = apex_error_set(err, APEX_EPARSE, "ecb: line %ld, %s: currency '%.20s' is not three letters A-Z", line, day,
                        ccy ? ccy : "(missing)");
    goto out;
  }
  memcpy(row.currency, ccy, 4);
  if (!rate) {
    rc = apex_error_set(err, APEX_EPARSE, "ecb: line %ld, %s %s: no rate", line, day, ccy);
    goto out;
  }
  rc = apex_dec_from_str(rate, &row.rate);
  if (rc == APEX_EOVERFLOW) {
    apex_error_set(err, rc, "ecb: line %ld, %s %s: rate '%.30s' is out of range", line, day, ccy, rate);
    goto out;
  }
  if (rc || row.rate <= 0) {
    rc = apex_error_set(err, APEX_EPARSE, "ecb: line %ld, %s %s: rate '%.30s' is not a decimal above 0", line, day,
                        ccy, rate);
    goto out;
  }
  rc = push(r, &row, err);
out:
  xmlFree(ccy);
  xmlFree(rate);
  return rc;
}

/* One <Cube time=...> with its rate cubes. */
static apex_err day_cube(const xmlNode *x, rows *r, apex_error *err)
{
  char *day = attr(x, "time");
  int64_t date;
  apex_err rc = APEX_OK;
  if (!day || !parse_day(day, &date)) {
    rc = apex_error_set(err, APEX_EPARSE, "ecb: line %ld: time '%.20s' is not a YYYY-MM-DD day",
                        (long)xmlGetLineNo(x), day ? day : "(missing)");
    goto out;
  }
  for (const xmlNode *c = x->children; c && !rc; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (!is_elem(c, "Cube", NS_REF))
      rc = apex_error_set(err, APEX_EPARSE, "ecb: line %ld, %s: unexpected element <%.40s>", (long)xmlGetLineNo(c),
                          day, (const char *)c->name);
    else
      rc = rate_cube(c, day, date, r, err);
  }
out:
  xmlFree(day);
  return rc;
}

static int by_date_ccy(const void *pa, const void *pb)
{
  const apex_fx_rate *a = pa, *b = pb;
  if (a->date != b->date)
    return a->date < b->date ? -1 : 1;
  return strcmp(a->currency, b->currency);
}

/* The envelope's one outer Cube and its day cubes. */
static apex_err envelope(const xmlDoc *doc, rows *r, apex_error *err)
{
  const xmlNode *root = xmlDocGetRootElement(doc), *outer = NULL;
  apex_err rc = APEX_OK;
  if (doc->intSubset || doc->extSubset)
    return apex_error_set(err, APEX_EPARSE, "ecb: a document type declaration is not accepted");
  if (!root || !is_elem(root, "Envelope", NS_GESMES))
    return apex_error_set(err, APEX_EPARSE, "ecb: the root element is not a gesmes:Envelope");
  for (const xmlNode *c = root->children; c; c = c->next) {
    if (!is_elem(c, "Cube", NS_REF))
      continue; /* gesmes:subject, gesmes:Sender */
    if (outer)
      return apex_error_set(err, APEX_EPARSE, "ecb: line %ld: a second outer Cube", (long)xmlGetLineNo(c));
    outer = c;
  }
  if (!outer)
    return apex_error_set(err, APEX_EPARSE, "ecb: no Cube element in the eurofxref namespace");
  for (const xmlNode *c = outer->children; c && !rc; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (!is_elem(c, "Cube", NS_REF))
      rc = apex_error_set(err, APEX_EPARSE, "ecb: line %ld: unexpected element <%.40s>", (long)xmlGetLineNo(c),
                          (const char *)c->name);
    else
      rc = day_cube(c, r, err);
  }
  if (rc)
    return rc;
  if (r->n == 0)
    return apex_error_set(err, APEX_EPARSE, "ecb: no rates in the reply");
  qsort(r->v, r->n, sizeof *r->v, by_date_ccy);
  for (size_t i = 1; i < r->n; i++)
    if (by_date_ccy(&r->v[i - 1], &r->v[i]) == 0) {
      int64_t y;
      int m, d;
      apex_civil_from_days(r->v[i].date / APEX_MS_DAY, &y, &m, &d);
      return apex_error_set(err, APEX_EPARSE, "ecb: %04lld-%02d-%02d %s is given twice", (long long)y, m, d,
                            r->v[i].currency);
    }
  return APEX_OK;
}

apex_err apex_ecb_decode(const char *buf, size_t len, apex_fx_rate **out, size_t *n, apex_error *err)
{
  /* NONET: never fetch; no NOENT and no DTDLOAD: entities stay unexpanded and no external
   * subset is read; NOERROR/NOWARNING: messages stay in the context (read below). */
  static const int OPTS = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA;
  xmlParserCtxt *ctx = NULL;
  xmlDoc *doc = NULL;
  rows r = {0};
  apex_err rc = APEX_OK;

  *out = NULL;
  *n = 0;
  if (!buf && len)
    return apex_error_set(err, APEX_EINVAL, "ecb: no buffer");
  if (len > APEX_ECB_REPLY_MAX || len > INT_MAX)
    return apex_error_set(err, APEX_ETOOBIG, "ecb: reply of %zu bytes is over %zu", len, APEX_ECB_REPLY_MAX);
  pthread_once(&init_once, init_libxml);
  if (!(ctx = xmlNewParserCtxt())) {
    rc = apex_error_set(err, APEX_ENOMEM, "ecb: out of memory");
    goto out;
  }
  doc = xmlCtxtReadMemory(ctx, buf ? buf : "", (int)len, NULL, NULL, OPTS);
  if (!doc || !ctx->wellFormed) {
    const xmlError *xe = xmlCtxtGetLastError(ctx);
    size_t k = xe && xe->message ? strcspn(xe->message, "\n") : 0;
    rc = apex_error_set(err, APEX_EPARSE, "ecb: malformed XML at line %d: %.*s", xe ? xe->line : 0, (int)k,
                        xe && xe->message ? xe->message : "no document");
    goto out;
  }
  if ((rc = envelope(doc, &r, err)))
    goto out;
  *out = r.v;
  *n = r.n;
  r.v = NULL;
out:
  free(r.v);
  xmlFreeDoc(doc);
  xmlFreeParserCtxt(ctx);
  return rc;
}
