/* test_publish.c - POST /api/v1/_test/publish (APEX_TEST_ROUTES=1 only, refused in production): a
 * thread that publishes synthetic events on the events port for a while, so the WebSocket tests
 * and bench/ws.sh can load the hub at a known rate without a market feed. Each event's time is
 * its publish time: a client measures publish-to-receipt latency from it. */
#include "cli/test_publish.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/json.h"

typedef struct stream {
  char a[40], b[40]; /* symbol / portfolio id / user id, and a portfolio's user id */
} stream;

typedef struct publisher {
  apex_app *app;
  stream *symbols, *portfolios, *traders;
  size_t n_symbols, n_portfolios, n_traders;
  double rate_hz, portfolio_hz, trade_hz;
  int64_t until_ms;
} publisher;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_t thread;
static bool running;
static atomic_bool done = true, stop;

static int64_t now_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void publish_all(publisher *p, apex_event_kind kind, uint64_t n)
{
  const stream *v = kind == APEX_EVENT_TICKER ? p->symbols : kind == APEX_EVENT_PORTFOLIO ? p->portfolios : p->traders;
  size_t count = kind == APEX_EVENT_TICKER ? p->n_symbols : kind == APEX_EVENT_PORTFOLIO ? p->n_portfolios : p->n_traders;
  for (size_t i = 0; i < count; i++) {
    apex_event ev = {.kind = kind, .time_ms = now_ms()};
    if (kind == APEX_EVENT_TICKER) {
      snprintf(ev.u.ticker.symbol, sizeof ev.u.ticker.symbol, "%s", v[i].a);
      ev.u.ticker.price = (apex_dec)(100 + n % 1000) * APEX_DEC_SCALE;
      ev.u.ticker.change_24h_pct = 0.5;
      ev.u.ticker.time_ms = ev.time_ms;
    } else if (kind == APEX_EVENT_PORTFOLIO) {
      snprintf(ev.user_id, sizeof ev.user_id, "%s", v[i].b);
      snprintf(ev.u.portfolio.portfolio_id, sizeof ev.u.portfolio.portfolio_id, "%s", v[i].a);
      snprintf(ev.u.portfolio.currency, sizeof ev.u.portfolio.currency, "USD");
      ev.u.portfolio.cash = (apex_dec)(10000 + n) * APEX_DEC_SCALE;
      ev.u.portfolio.equity = ev.u.portfolio.cash;
      ev.u.portfolio.time_ms = ev.time_ms;
    } else { /* trades numbered 1, 2, ... in their quantity and id, so a client sees a gap */
      snprintf(ev.user_id, sizeof ev.user_id, "%s", v[i].a);
      snprintf(ev.u.trade.trade_id, sizeof ev.u.trade.trade_id, "00000000-0000-4000-8000-%012llu",
               (unsigned long long)(n + 1));
      snprintf(ev.u.trade.portfolio_id, sizeof ev.u.trade.portfolio_id, "00000000-0000-4000-8000-000000000000");
      snprintf(ev.u.trade.symbol, sizeof ev.u.trade.symbol, "BTC/USDT");
      snprintf(ev.u.trade.side, sizeof ev.u.trade.side, "BUY");
      snprintf(ev.u.trade.order_type, sizeof ev.u.trade.order_type, "MARKET");
      snprintf(ev.u.trade.status, sizeof ev.u.trade.status, "filled");
      ev.u.trade.quantity = (apex_dec)(n + 1) * APEX_DEC_SCALE;
      ev.u.trade.price = 100 * APEX_DEC_SCALE;
      ev.u.trade.time_ms = ev.time_ms;
    }
    apex_events_publish(p->app->events, &ev);
  }
}

static void *run(void *arg)
{
  publisher *p = arg;
  const apex_event_kind kinds[3] = {APEX_EVENT_TICKER, APEX_EVENT_PORTFOLIO, APEX_EVENT_TRADE};
  const double hz[3] = {p->rate_hz, p->portfolio_hz, p->trade_hz};
  double next[3];
  uint64_t n[3] = {0, 0, 0};
  const double t0 = (double)now_ms();
  for (int k = 0; k < 3; k++)
    next[k] = t0;
  while (!atomic_load(&stop) && now_ms() < p->until_ms) {
    double due = 1e300;
    for (int k = 0; k < 3; k++) {
      if (hz[k] <= 0)
        continue;
      if ((double)now_ms() >= next[k]) {
        publish_all(p, kinds[k], n[k]++);
        next[k] += 1000.0 / hz[k];
      }
      due = next[k] < due ? next[k] : due;
    }
    double wait = due - (double)now_ms();
    if (wait > 0) {
      struct timespec t = {(time_t)(wait / 1000), (long)((wait - (double)(int64_t)(wait / 1000) * 1000) * 1e6)};
      nanosleep(&t, NULL);
    }
  }
  free(p->symbols);
  free(p->portfolios);
  free(p->traders);
  free(p);
  atomic_store(&done, true);
  return NULL;
}

/* The strings of an array of strings (key1 of objects when key1 is given) into a new array. */
static bool strings(const apex_json *doc, const char *name, const char *k1, const char *k2, stream **out, size_t *n)
{
  const apex_json *a = apex_json_object_get(doc, name);
  *out = NULL;
  *n = 0;
  if (!a)
    return true;
  size_t len = apex_json_array_size(a);
  if (!apex_json_is_array(a) || len > 100000 || !(*out = calloc(len ? len : 1, sizeof **out)))
    return false;
  for (size_t i = 0; i < len; i++) {
    const apex_json *v = apex_json_array_get(a, i);
    const char *x = k1 ? apex_json_string_value(apex_json_object_get(v, k1)) : apex_json_string_value(v);
    const char *y = k2 ? apex_json_string_value(apex_json_object_get(v, k2)) : "";
    if (!x || !y || strlen(x) >= 40 || strlen(y) >= 40)
      return false;
    snprintf((*out)[i].a, 40, "%s", x);
    snprintf((*out)[i].b, 40, "%s", y);
  }
  *n = len;
  return true;
}

static double number(const apex_json *doc, const char *key)
{
  double x = 0;
  const apex_json *v = apex_json_object_get(doc, key);
  return v && !apex_json_number(v, &x) && x > 0 && x <= 100000 ? x : 0;
}

int apex_test_publish(apex_req *req, apex_res *res, void *app)
{
  apex_app *a = app;
  const apex_json *doc = apex_req_json(req, res);
  if (!doc)
    return 0;
  if (!a->events)
    return apex_res_error(res, 503, "no events port");
  publisher *p = calloc(1, sizeof *p);
  if (!p)
    return -1;
  p->app = a;
  if (!strings(doc, "symbols", NULL, NULL, &p->symbols, &p->n_symbols) ||
      !strings(doc, "portfolios", "portfolio_id", "user_id", &p->portfolios, &p->n_portfolios) ||
      !strings(doc, "trades", "user_id", NULL, &p->traders, &p->n_traders)) {
    free(p->symbols);
    free(p->portfolios);
    free(p->traders);
    free(p);
    return apex_res_error(res, 422, "symbols: [strings], portfolios: [{portfolio_id, user_id}], trades: [{user_id}]");
  }
  p->rate_hz = number(doc, "rate_hz");
  p->portfolio_hz = number(doc, "portfolio_rate_hz");
  p->trade_hz = number(doc, "trade_rate_hz");
  double seconds = number(doc, "seconds");
  p->until_ms = now_ms() + (int64_t)((seconds ? seconds : 10) * 1000);
  pthread_mutex_lock(&mu);
  if (running && !atomic_load(&done)) {
    pthread_mutex_unlock(&mu);
    free(p->symbols);
    free(p->portfolios);
    free(p->traders);
    free(p);
    return apex_res_error(res, 409, "a publisher is running");
  }
  if (running)
    pthread_join(thread, NULL);
  atomic_store(&done, false);
  atomic_store(&stop, false);
  running = !pthread_create(&thread, NULL, run, p);
  pthread_mutex_unlock(&mu);
  if (!running) {
    atomic_store(&done, true);
    free(p->symbols);
    free(p->portfolios);
    free(p->traders);
    free(p);
    return -1;
  }
  return apex_res_json_text(res, 202, "{\"started\":true}");
}

void apex_test_publish_stop(void)
{
  pthread_mutex_lock(&mu);
  if (running) {
    atomic_store(&stop, true);
    pthread_join(thread, NULL);
    running = false;
  }
  pthread_mutex_unlock(&mu);
}
