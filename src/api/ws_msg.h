/* ws_msg.h - the WebSocket protocol's messages (docs/websocket.md), without any socket: a
 * client's request parsed and checked, and the server's acks, errors and events rendered as the
 * JSON text of one frame. Pure, so the parser is fuzzed (tests/fuzz/fuzz_ws_msg.c). */
#ifndef APEX_API_WS_MSG_H
#define APEX_API_WS_MSG_H

#include <stddef.h>

#include "base/err.h"
#include "jobs/events.h"

#define APEX_WS_MSG_MAX 4096   /* bytes of a client message; a larger one closes the socket (1009) */
#define APEX_WS_MAX_SYMBOLS 20 /* pairs in one ticker request */
#define APEX_WS_TOKEN_MAX 8192

typedef enum apex_ws_action { APEX_WS_AUTH = 1, APEX_WS_SUBSCRIBE, APEX_WS_UNSUBSCRIBE } apex_ws_action;

/* The channels, in the order of apex_ws_channel_name. */
typedef enum apex_ws_channel {
  APEX_WS_TICKER = 1,
  APEX_WS_CANDLES,
  APEX_WS_PORTFOLIO,
  APEX_WS_TRADE,
  APEX_WS_BACKTEST,
  APEX_WS_STRATEGY,
} apex_ws_channel;

typedef struct apex_ws_request {
  apex_ws_action action;
  apex_ws_channel channel;             /* 0 for auth */
  char symbols[APEX_WS_MAX_SYMBOLS][33]; /* ticker: n_symbols pairs; candles: symbols[0] */
  size_t n_symbols;
  char timeframe[8];                   /* candles */
  char target[40];                     /* portfolio_id, backtest_id, strategy_id; "" none */
  char id[80];                         /* the request's "id" as JSON text; "" none */
  char token[APEX_WS_TOKEN_MAX + 1];   /* auth */
} apex_ws_request;

/* Why a request was refused: the error message's fields. */
typedef struct apex_ws_error {
  int code;         /* 400, 404, 422, 429, 401, 1002, 1003 */
  char detail[200];
  char field[24];   /* the parameter at fault; "" none */
  char action[16], channel[24]; /* as far as they were understood; "" none */
  char id[80];      /* the request's id as JSON text; "" none */
} apex_ws_error;

/* "ticker", "candles", ...; "" for 0 or an unknown value. */
const char *apex_ws_channel_name(apex_ws_channel ch);

/* Parses one text message. APEX_OK with *out filled, or APEX_EINVAL with *e (code 400 or 422,
 * the detail, the field, and whatever of action, channel and id could be read). */
apex_err apex_ws_parse(const char *text, size_t len, apex_ws_request *out, apex_ws_error *e);

/* The JSON text of one frame, malloc'd (the caller frees it), *len its length; NULL on OOM. */
/* {"channel":"ack","data":{"action":...,"channel":...,<parameters>,"id":...}} */
char *apex_ws_render_ack(const apex_ws_request *r, size_t *len);
/* {"channel":"ack","data":{"action":"auth","user_id":...,"expires_at":...}} */
char *apex_ws_render_auth(const char *user_id, int64_t expires_ms, size_t *len);
/* {"channel":"error","data":{"code","detail","field","action","channel","id"}} (empty ones left out) */
char *apex_ws_render_error(const apex_ws_error *e, size_t *len);
/* {"channel":<its channel>,"data":{...}} of an event with a channel; NULL for others. */
char *apex_ws_render_event(const apex_event *ev, size_t *len);

#endif
