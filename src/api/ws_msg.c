/* ws_msg.c - WebSocket requests parsed, acks, errors and events rendered (ws_msg.h). */
#include "api/ws_msg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/ids.h"
#include "base/json.h"
#include "core/timeframe.h"
#include "market/market.h"

static const char *const CHANNELS[] = {"", "ticker", "candles", "portfolio", "trade", "backtest_progress", "strategy"};
static const char *const ACTIONS[] = {"", "auth", "subscribe", "unsubscribe"};

const char *apex_ws_channel_name(apex_ws_channel ch)
{
  return (unsigned)ch < sizeof CHANNELS / sizeof *CHANNELS ? CHANNELS[ch] : "";
}

static apex_err refuse(apex_ws_error *e, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static apex_err refuse(apex_ws_error *e, int code, const char *field, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->detail, sizeof e->detail, fmt, ap);
  va_end(ap);
  e->code = code;
  snprintf(e->field, sizeof e->field, "%s", field);
  return APEX_EINVAL;
}

/* A string parameter of at most cap - 1 bytes into out. 400 when missing (and required) or not
 * a string, 422 when too long. */
static apex_err string_param(const apex_json *doc, const char *key, bool required, char *out, size_t cap,
                             apex_ws_error *e)
{
  const apex_json *v = apex_json_object_get(doc, key);
  out[0] = 0;
  if (!v && !required)
    return APEX_OK;
  if (!v)
    return refuse(e, 400, key, "%s is required", key);
  if (!apex_json_is_string(v))
    return refuse(e, 400, key, "%s must be a string", key);
  const char *s = apex_json_string_value(v);
  if (strlen(s) >= cap)
    return refuse(e, 422, key, "%s is too long", key);
  memcpy(out, s, strlen(s) + 1);
  return APEX_OK;
}

/* A stock's ticker as exchanges write it: a capital letter, then capitals, digits or '.' ("ORCL",
 * "BRK.B"), at most 10 characters. */
static bool stock_ticker(const char *s)
{
  size_t n = strlen(s);
  return n >= 1 && n <= 10 && s[0] >= 'A' && s[0] <= 'Z' && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") == n;
}

/* A pair ("BTC/USDT") or a stock ("ORCL"): the symbols strategies trade. */
static apex_err symbol_ok(const char *s, const char *field, apex_ws_error *e)
{
  char base[APEX_MARKET_ASSET_MAX + 1], quote[APEX_MARKET_ASSET_MAX + 1];
  if (apex_market_split(s, base, quote) && !stock_ticker(s))
    return refuse(e, 422, field, "'%.40s' is neither a pair such as BTC/USDT nor a stock such as ORCL", s);
  return APEX_OK;
}

static apex_err id_param(const apex_json *doc, const char *key, bool required, char out[40], apex_ws_error *e)
{
  apex_err rc = string_param(doc, key, required, out, 40, e);
  /* given, it must be an id, "" included (only a missing optional one means "all") */
  if (!rc && apex_json_object_get(doc, key) && !apex_app_id_ok(out))
    return refuse(e, 422, key, "%s must be an id (a lower-case UUID)", key);
  return rc;
}

static apex_err params(const apex_json *doc, apex_ws_request *r, apex_ws_error *e)
{
  apex_err rc = APEX_OK;
  switch (r->channel) {
  case APEX_WS_TICKER: {
    const apex_json *v = apex_json_object_get(doc, "symbols");
    if (!v)
      return refuse(e, 400, "symbols", "symbols is required: a list of pairs such as [\"BTC/USDT\"]");
    if (!apex_json_is_array(v))
      return refuse(e, 400, "symbols", "symbols must be a list of pairs");
    size_t n = apex_json_array_size(v);
    if (!n || n > APEX_WS_MAX_SYMBOLS)
      return refuse(e, 422, "symbols", "symbols must list 1 to %d pairs", APEX_WS_MAX_SYMBOLS);
    for (size_t i = 0; i < n; i++) {
      const char *s = apex_json_string_value(apex_json_array_get(v, i));
      if (!s)
        return refuse(e, 400, "symbols", "symbols must be a list of strings");
      if ((rc = symbol_ok(s, "symbols", e)))
        return rc;
      bool dup = false;
      for (size_t k = 0; k < r->n_symbols && !dup; k++)
        dup = !strcmp(r->symbols[k], s);
      if (!dup)
        snprintf(r->symbols[r->n_symbols++], sizeof r->symbols[0], "%s", s);
    }
    return APEX_OK;
  }
  case APEX_WS_CANDLES: {
    apex_timeframe tf;
    if ((rc = string_param(doc, "symbol", true, r->symbols[0], sizeof r->symbols[0], e)) ||
        (rc = symbol_ok(r->symbols[0], "symbol", e)) ||
        (rc = string_param(doc, "timeframe", true, r->timeframe, sizeof r->timeframe, e)))
      return rc;
    r->n_symbols = 1;
    if (apex_timeframe_parse(r->timeframe, &tf, NULL))
      return refuse(e, 422, "timeframe", "timeframe '%s' is not one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 8h 12h 1d 3d 1w 1M",
                    r->timeframe);
    return APEX_OK;
  }
  case APEX_WS_PORTFOLIO:
    return id_param(doc, "portfolio_id", true, r->target, e);
  case APEX_WS_BACKTEST:
    return id_param(doc, "backtest_id", false, r->target, e);
  case APEX_WS_STRATEGY:
    return id_param(doc, "strategy_id", false, r->target, e);
  case APEX_WS_TRADE:
    return APEX_OK;
  }
  return APEX_OK;
}

/* s's index among names[1..n) (names[0] is ""), 0 when it is none of them. */
static int name_index(const char *const *names, size_t n, const char *s)
{
  for (size_t i = 1; i < n; i++)
    if (!strcmp(s, names[i]))
      return (int)i;
  return 0;
}

apex_err apex_ws_parse(const char *text, size_t len, apex_ws_request *r, apex_ws_error *e)
{
  apex_json *doc = NULL;
  apex_error perr = {0};
  apex_err rc = APEX_OK;
  memset(r, 0, sizeof *r);
  memset(e, 0, sizeof *e);
  if (apex_json_parse(text, len, APEX_WS_MSG_MAX, &doc, &perr))
    return refuse(e, 400, "", "the message is not JSON (%s)", perr.msg);
  if (!apex_json_is_object(doc)) {
    rc = refuse(e, 400, "", "the message must be a JSON object such as {\"action\": \"subscribe\", ...}");
    goto out;
  }
  const apex_json *id = apex_json_object_get(doc, "id");
  if (id) { /* echoed as sent, or refused: never dropped without a word */
    char *t = (apex_json_is_string(id) || apex_json_is_integer(id)) ? apex_json_dump(id, false) : NULL;
    bool fits = t && strlen(t) < sizeof r->id;
    if (fits) {
      memcpy(r->id, t, strlen(t) + 1);
      memcpy(e->id, t, strlen(t) + 1);
    }
    free(t);
    if (!fits) {
      rc = refuse(e, 422, "id", "id must be a string or an integer of at most %zu characters", sizeof r->id - 3);
      goto out;
    }
  }
  char action[16];
  if ((rc = string_param(doc, "action", true, action, sizeof action, e)))
    goto out;
  if (!(r->action = (apex_ws_action)name_index(ACTIONS, sizeof ACTIONS / sizeof *ACTIONS, action))) {
    rc = refuse(e, 400, "action", "action must be auth, subscribe or unsubscribe");
    goto out;
  }
  snprintf(e->action, sizeof e->action, "%s", action);
  if (r->action == APEX_WS_AUTH) {
    rc = string_param(doc, "token", true, r->token, sizeof r->token, e);
    goto out;
  }
  char channel[24];
  if ((rc = string_param(doc, "channel", true, channel, sizeof channel, e)))
    goto out;
  if (!(r->channel = (apex_ws_channel)name_index(CHANNELS, sizeof CHANNELS / sizeof *CHANNELS, channel))) {
    rc = refuse(e, 400, "channel", "channel must be ticker, candles, portfolio, trade, backtest_progress or strategy");
    goto out;
  }
  snprintf(e->channel, sizeof e->channel, "%s", channel);
  rc = params(doc, r, e);
out:
  apex_json_free(doc);
  return rc;
}

/* {"channel":ch,"data":data} as text; takes data. */
static char *frame(const char *ch, apex_json *data, size_t *len)
{
  apex_json *o = apex_json_new_object();
  char *t = NULL;
  if (!o || !data) {
    apex_json_free(o);
    apex_json_free(data);
    return NULL;
  }
  apex_json_object_set(o, "channel", apex_json_new_string(ch));
  apex_json_object_set(o, "data", data);
  t = apex_json_dump(o, false);
  apex_json_free(o);
  if (t)
    *len = strlen(t);
  return t;
}

/* The request's id back, parsed from the text it was kept as. */
static void set_id(apex_json *d, const char *id)
{
  apex_json *v = NULL;
  if (id[0] && !apex_json_parse(id, strlen(id), 100, &v, NULL))
    apex_json_object_set(d, "id", v);
}

static void set_str(apex_json *d, const char *key, const char *s)
{
  if (s && s[0])
    apex_json_object_set(d, key, apex_json_new_string(s));
}

static apex_json *time_json(int64_t t)
{
  char b[40];
  apex_time_iso(t, b, sizeof b);
  return apex_json_new_string(b);
}

static apex_json *dec_json(apex_dec d) { return d == APEX_DEC_NONE ? apex_json_new_null() : apex_json_new_decimal(d); }

static apex_json *num_json(double x) { return isfinite(x) ? apex_json_new_number(x) : apex_json_new_null(); }

char *apex_ws_render_ack(const apex_ws_request *r, size_t *len)
{
  apex_json *d = apex_json_new_object();
  if (!d)
    return NULL;
  apex_json_object_set(d, "action", apex_json_new_string(ACTIONS[r->action]));
  apex_json_object_set(d, "channel", apex_json_new_string(apex_ws_channel_name(r->channel)));
  switch (r->channel) {
  case APEX_WS_TICKER: {
    apex_json *a = apex_json_new_array();
    for (size_t i = 0; i < r->n_symbols; i++)
      apex_json_array_append(a, apex_json_new_string(r->symbols[i]));
    apex_json_object_set(d, "symbols", a);
    break;
  }
  case APEX_WS_CANDLES:
    set_str(d, "symbol", r->symbols[0]);
    set_str(d, "timeframe", r->timeframe);
    break;
  case APEX_WS_PORTFOLIO:
    set_str(d, "portfolio_id", r->target);
    break;
  case APEX_WS_BACKTEST:
    set_str(d, "backtest_id", r->target);
    break;
  case APEX_WS_STRATEGY:
    set_str(d, "strategy_id", r->target);
    break;
  case APEX_WS_TRADE:
    break;
  }
  set_id(d, r->id);
  return frame("ack", d, len);
}

char *apex_ws_render_auth(const char *user_id, int64_t expires_ms, size_t *len)
{
  apex_json *d = apex_json_new_object();
  if (!d)
    return NULL;
  apex_json_object_set(d, "action", apex_json_new_string("auth"));
  apex_json_object_set(d, "user_id", apex_json_new_string(user_id));
  apex_json_object_set(d, "expires_at", time_json(expires_ms));
  return frame("ack", d, len);
}

char *apex_ws_render_error(const apex_ws_error *e, size_t *len)
{
  apex_json *d = apex_json_new_object();
  if (!d)
    return NULL;
  apex_json_object_set(d, "code", apex_json_new_integer(e->code));
  apex_json_object_set(d, "detail", apex_json_new_string(e->detail));
  set_str(d, "field", e->field);
  set_str(d, "action", e->action);
  set_str(d, "channel", e->channel);
  set_id(d, e->id);
  return frame("error", d, len);
}

static apex_json *backtest_json(const apex_event *ev)
{
  apex_json *d = apex_json_new_object();
#define b (&ev->u.backtest)
  char day[40] = "";
  if (b->current_ms) {
    apex_time_iso(b->current_ms, day, sizeof day);
    day[10] = 0; /* the spec's current_date: "2024-06-15" */
  }
  apex_json_object_set(d, "backtest_id", apex_json_new_string(b->backtest_id));
  apex_json_object_set(d, "progress_pct", apex_json_new_integer(b->progress_pct));
  apex_json_object_set(d, "current_date", day[0] ? apex_json_new_string(day) : apex_json_new_null());
  apex_json_object_set(d, "status", apex_json_new_string(b->status));
  if (ev->kind == APEX_EVENT_BACKTEST_COMPLETED) {
    apex_json *r = apex_json_new_object();
    apex_json_object_set(r, "total_return_pct", num_json(b->total_return_pct));
    apex_json_object_set(r, "sharpe_ratio", num_json(b->sharpe_ratio));
    apex_json_object_set(r, "max_drawdown_pct", num_json(b->max_drawdown_pct));
    apex_json_object_set(r, "win_rate_pct", num_json(b->win_rate_pct));
    apex_json_object_set(r, "profit_factor", num_json(b->profit_factor));
    apex_json_object_set(r, "total_trades", apex_json_new_integer(b->total_trades));
    apex_json_object_set(d, "result", r);
  } else if (ev->kind == APEX_EVENT_BACKTEST_FAILED) {
    apex_json *r = apex_json_new_object();
    apex_json_object_set(r, "code", apex_json_new_integer(b->error_code));
    apex_json_object_set(r, "message", apex_json_new_string(b->error_message));
    apex_json_object_set(d, "error", r);
  }
  return d;
#undef b
}

char *apex_ws_render_event(const apex_event *ev, size_t *len)
{
  const char *ch = apex_event_channel(ev->kind);
  apex_json *d = NULL;
  if (!ch[0])
    return NULL;
  switch (ev->kind) {
  case APEX_EVENT_BACKTEST_PROGRESS:
  case APEX_EVENT_BACKTEST_COMPLETED:
  case APEX_EVENT_BACKTEST_FAILED:
    d = backtest_json(ev);
    break;
  case APEX_EVENT_TICKER:
    d = apex_json_new_object();
    apex_json_object_set(d, "symbol", apex_json_new_string(ev->u.ticker.symbol));
    apex_json_object_set(d, "price", dec_json(ev->u.ticker.price));
    apex_json_object_set(d, "change_24h_pct", num_json(ev->u.ticker.change_24h_pct));
    apex_json_object_set(d, "timestamp", time_json(ev->u.ticker.time_ms));
    break;
  case APEX_EVENT_CANDLE:
    d = apex_json_new_object();
    apex_json_object_set(d, "symbol", apex_json_new_string(ev->u.candle.symbol));
    apex_json_object_set(d, "timeframe", apex_json_new_string(ev->u.candle.timeframe));
    apex_json_object_set(d, "time", time_json(ev->u.candle.time_ms));
    apex_json_object_set(d, "open", num_json(ev->u.candle.open));
    apex_json_object_set(d, "high", num_json(ev->u.candle.high));
    apex_json_object_set(d, "low", num_json(ev->u.candle.low));
    apex_json_object_set(d, "close", num_json(ev->u.candle.close));
    apex_json_object_set(d, "volume", num_json(ev->u.candle.volume));
    apex_json_object_set(d, "closed", apex_json_new_bool(ev->u.candle.closed));
    break;
  case APEX_EVENT_TRADE:
    d = apex_json_new_object();
    apex_json_object_set(d, "trade_id", apex_json_new_string(ev->u.trade.trade_id));
    apex_json_object_set(d, "portfolio_id", apex_json_new_string(ev->u.trade.portfolio_id));
    apex_json_object_set(d, "strategy_id", ev->u.trade.strategy_id[0] ? apex_json_new_string(ev->u.trade.strategy_id)
                                                                       : apex_json_new_null());
    apex_json_object_set(d, "symbol", apex_json_new_string(ev->u.trade.symbol));
    apex_json_object_set(d, "side", apex_json_new_string(ev->u.trade.side));
    apex_json_object_set(d, "order_type", apex_json_new_string(ev->u.trade.order_type));
    apex_json_object_set(d, "quantity", dec_json(ev->u.trade.quantity));
    apex_json_object_set(d, "price", dec_json(ev->u.trade.price));
    apex_json_object_set(d, "status", apex_json_new_string(ev->u.trade.status));
    apex_json_object_set(d, "commission", dec_json(ev->u.trade.commission));
    apex_json_object_set(d, "timestamp", time_json(ev->u.trade.time_ms));
    break;
  case APEX_EVENT_PORTFOLIO:
    d = apex_json_new_object();
    apex_json_object_set(d, "portfolio_id", apex_json_new_string(ev->u.portfolio.portfolio_id));
    apex_json_object_set(d, "currency", apex_json_new_string(ev->u.portfolio.currency));
    apex_json_object_set(d, "cash_balance", dec_json(ev->u.portfolio.cash));
    apex_json_object_set(d, "positions_value", dec_json(ev->u.portfolio.positions));
    apex_json_object_set(d, "equity_value", dec_json(ev->u.portfolio.equity));
    apex_json_object_set(d, "timestamp", time_json(ev->u.portfolio.time_ms));
    break;
  case APEX_EVENT_STRATEGY:
    d = apex_json_new_object();
    apex_json_object_set(d, "strategy_id", apex_json_new_string(ev->u.strategy.strategy_id));
    apex_json_object_set(d, "symbol", apex_json_new_string(ev->u.strategy.symbol));
    apex_json_object_set(d, "event", apex_json_new_string(ev->u.strategy.event));
    set_str(d, "side", ev->u.strategy.side);
    set_str(d, "reason", ev->u.strategy.reason);
    apex_json_object_set(d, "detail", apex_json_new_string(ev->u.strategy.detail));
    apex_json_object_set(d, "timestamp", time_json(ev->u.strategy.time_ms));
    break;
  case APEX_EVENT_SESSION_REVOKED:
    return NULL;
  }
  return frame(ch, d, len);
}
