/* broker.c - the trading port's names (broker.h): the text a log line, an API reply or a stored
 * row uses for an order's state and for a failure; and what every adapter needs alike. */
#include "market/broker.h"

#include <stdlib.h>
#include <time.h>

int64_t apex_broker_real_now_ms(void *ctx)
{
  (void)ctx;
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void apex_broker_wipe_free(char *p)
{
  if (!p)
    return;
  for (volatile char *v = p; *v; v++)
    *v = 0;
  free(p);
}

const char *apex_order_state_name(apex_order_state s)
{
  switch (s) {
  case APEX_ORDER_STATE_NEW:
    return "new";
  case APEX_ORDER_STATE_PARTIAL:
    return "partially_filled";
  case APEX_ORDER_STATE_FILLED:
    return "filled";
  case APEX_ORDER_STATE_CANCELED:
    return "cancelled";
  case APEX_ORDER_STATE_REJECTED:
    return "rejected";
  case APEX_ORDER_STATE_EXPIRED:
    return "expired";
  }
  return "invalid"; /* a value outside the enum (0, an unset struct) */
}

const char *apex_broker_fail_name(apex_broker_fail f)
{
  switch (f) {
  case APEX_BROKER_OK:
    return "ok";
  case APEX_BROKER_REJECTED:
    return "rejected";
  case APEX_BROKER_NO_FUNDS:
    return "no_funds";
  case APEX_BROKER_RATE_LIMITED:
    return "rate_limited";
  case APEX_BROKER_UNAVAILABLE:
    return "unavailable";
  case APEX_BROKER_UNREACHABLE:
    return "unreachable";
  case APEX_BROKER_UNKNOWN:
    return "unknown";
  case APEX_BROKER_AUTH:
    return "auth";
  case APEX_BROKER_NOT_FOUND:
    return "not_found";
  case APEX_BROKER_BAD_REPLY:
    return "bad_reply";
  }
  return "invalid";
}
