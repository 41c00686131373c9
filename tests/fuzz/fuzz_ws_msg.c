/* fuzz_ws_msg.c - the WebSocket client-message parser (api/ws_msg.c) on arbitrary bytes, and the
 * answers rendered from whatever it accepted or refused. No crash, no overread, no leak, and:
 * an accepted request is an action the protocol has, with a channel for subscriptions, 1..20
 * well-formed distinct pairs for ticker, a parsable timeframe for candles, an id for portfolio;
 * a refusal has a protocol code and a detail; every rendered answer is JSON of one object. */
#include <stdint.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "api/ws_msg.h"
#include "base/json.h"
#include "core/timeframe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void must_be_object(char *text, size_t len)
{
  apex_json *doc = NULL;
  if (!text || len != strlen(text) || apex_json_parse(text, len, 1 << 20, &doc, NULL) || !apex_json_is_object(doc) ||
      !apex_json_object_get(doc, "channel") || !apex_json_object_get(doc, "data"))
    abort();
  apex_json_free(doc);
  free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static apex_ws_request r; /* 9 KB: static, as the hub keeps it off its loop's stack */
  apex_ws_error e;
  size_t len = 0;
  if (apex_ws_parse((const char *)data, size, &r, &e)) {
    if ((e.code != 400 && e.code != 422) || !e.detail[0])
      abort();
    char *t = apex_ws_render_error(&e, &len);
    must_be_object(t, len);
    return 0;
  }
  if (r.action < APEX_WS_AUTH || r.action > APEX_WS_UNSUBSCRIBE)
    abort();
  if (r.action == APEX_WS_AUTH)
    return r.channel ? (abort(), 0) : 0;
  if (!apex_ws_channel_name(r.channel)[0])
    abort();
  apex_timeframe tf;
  if (r.channel == APEX_WS_TICKER) {
    if (!r.n_symbols || r.n_symbols > APEX_WS_MAX_SYMBOLS)
      abort();
    for (size_t i = 0; i < r.n_symbols; i++) {
      /* each a pair (BASE/QUOTE) or a stock (a capital, then capitals, digits, '.'; at most 10) */
      const char *sym = r.symbols[i];
      size_t n = strlen(sym);
      bool stock = n >= 1 && n <= 10 && sym[0] >= 'A' && sym[0] <= 'Z' &&
                   strspn(sym, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.") == n;
      if (!stock && !strchr(sym, '/'))
        abort();
      for (size_t k = 0; k < i; k++)
        if (!strcmp(sym, r.symbols[k]))
          abort();
    }
  }
  if (r.channel == APEX_WS_CANDLES && (r.n_symbols != 1 || apex_timeframe_parse(r.timeframe, &tf, NULL)))
    abort();
  if (r.channel == APEX_WS_PORTFOLIO && strlen(r.target) != 36)
    abort();
  char *t = apex_ws_render_ack(&r, &len);
  must_be_object(t, len);
  return 0;
}
