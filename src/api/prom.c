/* prom.c - the metrics registry behind /metrics: request counters by route/method/status, a
 * latency histogram by route, and settable gauges. One mutex; request recording is a short
 * linear scan that compares route pointers first (route names are static strings). */
#include "api/prom.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
#define N_BUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])
#define MAX_SCRAPE 8

typedef struct {
  const char *route; /* owned copy */
  char method[8];
  int status;
  unsigned long long count;
} counter;

typedef struct {
  const char *route; /* owned copy */
  unsigned long long buckets[N_BUCKETS]; /* non-cumulative; summed when rendered */
  unsigned long long count;
  double sum;
} histo;

typedef struct {
  char *name, *help, *labels;
  double value;
} gauge;

struct apex_prom {
  pthread_mutex_t mu;
  counter *counters;
  size_t n_counters, cap_counters;
  histo *histos;
  size_t n_histos, cap_histos;
  gauge *gauges;
  size_t n_gauges, cap_gauges;
  struct {
    void (*fn)(apex_prom *, void *);
    void *ctx;
  } scrape[MAX_SCRAPE];
  size_t n_scrape;
  double start_time;
};

apex_prom *apex_prom_new(void)
{
  apex_prom *p = calloc(1, sizeof *p);
  if (!p)
    return NULL;
  pthread_mutex_init(&p->mu, NULL);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  p->start_time = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
  return p;
}

void apex_prom_free(apex_prom *p)
{
  if (!p)
    return;
  for (size_t i = 0; i < p->n_counters; i++)
    free((char *)p->counters[i].route);
  for (size_t i = 0; i < p->n_histos; i++)
    free((char *)p->histos[i].route);
  for (size_t i = 0; i < p->n_gauges; i++) {
    free(p->gauges[i].name);
    free(p->gauges[i].help);
    free(p->gauges[i].labels);
  }
  free(p->counters);
  free(p->histos);
  free(p->gauges);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* Grows an array by doubling; false on OOM. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
  if (n < *cap)
    return true;
  size_t nc = *cap ? *cap * 2 : 16;
  void *na = realloc(*arr, nc * elem);
  if (!na)
    return false;
  *arr = na;
  *cap = nc;
  return true;
}

void apex_prom_observe_request(apex_prom *p, const char *route, const char *method, int status, double seconds)
{
  if (!p)
    return;
  if (!route)
    route = "unmatched";
  pthread_mutex_lock(&p->mu);
  counter *c = NULL;
  for (size_t i = 0; i < p->n_counters; i++) {
    counter *x = &p->counters[i];
    if (x->status == status && !strcmp(x->method, method) && !strcmp(x->route, route)) {
      c = x;
      break;
    }
  }
  if (!c && grow((void **)&p->counters, &p->cap_counters, p->n_counters, sizeof *c)) {
    char *r = strdup(route);
    if (r) {
      c = &p->counters[p->n_counters++];
      memset(c, 0, sizeof *c);
      c->route = r;
      snprintf(c->method, sizeof c->method, "%s", method);
      c->status = status;
    }
  }
  if (c)
    c->count++;
  histo *h = NULL;
  for (size_t i = 0; i < p->n_histos; i++)
    if (!strcmp(p->histos[i].route, route)) {
      h = &p->histos[i];
      break;
    }
  if (!h && grow((void **)&p->histos, &p->cap_histos, p->n_histos, sizeof *h)) {
    char *r = strdup(route);
    if (r) {
      h = &p->histos[p->n_histos++];
      memset(h, 0, sizeof *h);
      h->route = r;
    }
  }
  if (h) {
    for (size_t b = 0; b < N_BUCKETS; b++)
      if (seconds <= BUCKETS[b]) {
        h->buckets[b]++;
        break;
      }
    h->count++;
    h->sum += seconds;
  }
  pthread_mutex_unlock(&p->mu);
}

static char *xstrdup(const char *s) { return strdup(s ? s : ""); }

apex_err apex_prom_gauge_set(apex_prom *p, const char *name, const char *help, const char *labels, double value)
{
  if (!p || !name)
    return APEX_EINVAL;
  if (!labels)
    labels = "";
  apex_err rc = APEX_OK;
  pthread_mutex_lock(&p->mu);
  for (size_t i = 0; i < p->n_gauges; i++) {
    gauge *g = &p->gauges[i];
    if (!strcmp(g->name, name) && !strcmp(g->labels, labels)) {
      g->value = value;
      goto out;
    }
  }
  if (!grow((void **)&p->gauges, &p->cap_gauges, p->n_gauges, sizeof(gauge))) {
    rc = APEX_ENOMEM;
    goto out;
  }
  gauge g = {xstrdup(name), help ? strdup(help) : NULL, xstrdup(labels), value};
  if (!g.name || !g.labels || (help && !g.help)) {
    free(g.name);
    free(g.help);
    free(g.labels);
    rc = APEX_ENOMEM;
    goto out;
  }
  p->gauges[p->n_gauges++] = g;
out:
  pthread_mutex_unlock(&p->mu);
  return rc;
}

apex_err apex_prom_on_scrape(apex_prom *p, void (*fn)(apex_prom *p, void *ctx), void *ctx)
{
  apex_err rc = APEX_OK;
  pthread_mutex_lock(&p->mu);
  if (p->n_scrape >= MAX_SCRAPE) {
    rc = APEX_ETOOBIG;
  } else {
    p->scrape[p->n_scrape].fn = fn;
    p->scrape[p->n_scrape].ctx = ctx;
    p->n_scrape++;
  }
  pthread_mutex_unlock(&p->mu);
  return rc;
}

void apex_prom_label_escape(const char *in, char *out, size_t out_len)
{
  size_t w = 0;
  if (!out_len)
    return;
  for (; *in && w + 3 < out_len; in++) {
    if (*in == '\\' || *in == '"') {
      out[w++] = '\\';
      out[w++] = *in;
    } else if (*in == '\n') {
      out[w++] = '\\';
      out[w++] = 'n';
    } else {
      out[w++] = *in;
    }
  }
  out[w] = 0;
}

/* --- rendering into a growing buffer --- */
typedef struct {
  char *p;
  size_t len, cap;
  bool oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
  if (b->oom)
    return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      b->oom = true;
      return;
    }
    if ((size_t)n < b->cap - b->len) {
      b->len += (size_t)n;
      return;
    }
    size_t nc = (b->cap + (size_t)n) * 2;
    char *np = realloc(b->p, nc);
    if (!np) {
      b->oom = true;
      return;
    }
    b->p = np;
    b->cap = nc;
  }
}

static void fmt_double(char *out, size_t len, double v)
{
  if (isnan(v))
    snprintf(out, len, "NaN");
  else if (isinf(v))
    snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
  else
    snprintf(out, len, "%.17g", v);
}

char *apex_prom_render(apex_prom *p, size_t *len)
{
  /* Callbacks set gauges, which takes the lock: call them before taking it. The list itself
   * only grows at start-up, so reading it unlocked here is fine. */
  for (size_t i = 0; i < p->n_scrape; i++)
    p->scrape[i].fn(p, p->scrape[i].ctx);

  sbuf b = {malloc(8192), 0, 8192, false};
  if (!b.p)
    return NULL;
  char num[64], esc[256];
  pthread_mutex_lock(&p->mu);
  sb_printf(&b, "# HELP apex_http_requests_total HTTP requests by route, method and status.\n"
                "# TYPE apex_http_requests_total counter\n");
  for (size_t i = 0; i < p->n_counters; i++) {
    counter *c = &p->counters[i];
    apex_prom_label_escape(c->route, esc, sizeof esc);
    sb_printf(&b, "apex_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n", esc, c->method,
              c->status, c->count);
  }
  sb_printf(&b, "# HELP apex_http_request_duration_seconds HTTP request latency by route.\n"
                "# TYPE apex_http_request_duration_seconds histogram\n");
  for (size_t i = 0; i < p->n_histos; i++) {
    histo *h = &p->histos[i];
    unsigned long long cum = 0;
    apex_prom_label_escape(h->route, esc, sizeof esc);
    for (size_t k = 0; k < N_BUCKETS; k++) {
      cum += h->buckets[k];
      fmt_double(num, sizeof num, BUCKETS[k]);
      sb_printf(&b, "apex_http_request_duration_seconds_bucket{route=\"%s\",le=\"%s\"} %llu\n", esc, num, cum);
    }
    sb_printf(&b, "apex_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", esc, h->count);
    fmt_double(num, sizeof num, h->sum);
    sb_printf(&b, "apex_http_request_duration_seconds_sum{route=\"%s\"} %s\n", esc, num);
    sb_printf(&b, "apex_http_request_duration_seconds_count{route=\"%s\"} %llu\n", esc, h->count);
  }
  /* Gauges grouped by name, in first-set order, HELP/TYPE once per name. */
  for (size_t i = 0; i < p->n_gauges; i++) {
    bool seen = false;
    for (size_t j = 0; j < i && !seen; j++)
      seen = !strcmp(p->gauges[j].name, p->gauges[i].name);
    if (seen)
      continue;
    const char *help = NULL;
    for (size_t j = i; j < p->n_gauges && !help; j++)
      if (!strcmp(p->gauges[j].name, p->gauges[i].name))
        help = p->gauges[j].help;
    if (help)
      sb_printf(&b, "# HELP %s %s\n", p->gauges[i].name, help);
    sb_printf(&b, "# TYPE %s gauge\n", p->gauges[i].name);
    for (size_t j = i; j < p->n_gauges; j++) {
      gauge *g = &p->gauges[j];
      if (strcmp(g->name, p->gauges[i].name))
        continue;
      fmt_double(num, sizeof num, g->value);
      if (g->labels[0])
        sb_printf(&b, "%s{%s} %s\n", g->name, g->labels, num);
      else
        sb_printf(&b, "%s %s\n", g->name, num);
    }
  }
  fmt_double(num, sizeof num, p->start_time);
  sb_printf(&b, "# HELP apex_process_start_time_seconds Start time of the process since the epoch.\n"
                "# TYPE apex_process_start_time_seconds gauge\napex_process_start_time_seconds %s\n", num);
  pthread_mutex_unlock(&p->mu);
  if (b.oom) {
    free(b.p);
    return NULL;
  }
  if (len)
    *len = b.len;
  return b.p;
}

int apex_prom_handler(apex_req *req, apex_res *res, void *app)
{
  (void)app;
  if (!req->prom)
    return apex_res_error(res, APEX_E_NOT_FOUND, "metrics are disabled");
  size_t len = 0;
  char *text = apex_prom_render(req->prom, &len);
  if (!text)
    return -1;
  return apex_res_take(res, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
