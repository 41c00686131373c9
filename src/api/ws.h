/* ws.h - the WebSocket hub: sockets the HTTP server upgraded (api/server.c) are held by a few
 * epoll loop threads, not a thread each. Each loop subscribes to the events port and sends every
 * event to the sockets subscribed to it (docs/websocket.md is the protocol). ws.c is the one file
 * that includes wslay (the framing).
 *
 * Back-pressure is per socket: a bounded queue of events that must all arrive (trades, portfolio
 * updates, progress, strategy events, closed candles), and one slot per subscribed key for those
 * where only the latest matters (ticker prices, forming candles), replaced while the client is
 * behind. Bytes go out with one send() per socket per turn; a socket the kernel will not take more
 * from is left alone until it will, so a slow client never delays the others, and one that stays
 * behind is closed with 1013. */
#ifndef APEX_API_WS_H
#define APEX_API_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "jobs/events.h"

typedef struct apex_ws_hub apex_ws_hub; /* opaque */

typedef struct apex_ws_hub_opts {
  apex_events *events; /* borrowed; must outlive the hub */
  /* An access token's owner: 0 with user_id (37 bytes) and *exp_ms (its expiry), else 1002
   * (expired) or 1003 (invalid, revoked). Called on a loop thread. */
  int (*verify)(void *ctx, const char *token, char *user_id, int64_t *exp_ms);
  /* Whether portfolio_id is user_id's (a missing one is not). */
  bool (*owns_portfolio)(void *ctx, const char *user_id, const char *portfolio_id);
  void *ctx;
  int64_t (*now_ms)(void); /* wall clock (token expiry); NULL: the real one */
  unsigned loops;          /* loop threads; 0: 2 */
  unsigned ping_ms;        /* 0: 30000 */
  unsigned idle_ms;        /* nothing received for this long closes the socket (1001); 0: 75000 */
  unsigned auth_ms;        /* a socket opened without a token must authenticate within; 0: 10000 */
  unsigned queue_max;      /* events that must arrive, waiting per socket; 0: 1024 */
  unsigned stall_ms;       /* events waiting and nothing written for this long: 1013; 0: 10000 */
  unsigned max_subs;       /* subscriptions per socket; 0: 100 */
} apex_ws_hub_opts;

/* Starts the loop threads. APEX_ENOMEM, APEX_EIO (epoll, eventfd, threads). */
apex_err apex_ws_hub_new(const apex_ws_hub_opts *o, apex_ws_hub **out, apex_error *err);
/* Closes every socket (1001, "server shutting down"), waits up to a second for the close frames
 * to leave, closes the sockets and stops the threads. NULL is a no-op. */
void apex_ws_hub_free(apex_ws_hub *h);

/* Who opened an upgraded socket: user_id "" when the token comes in the first message. */
typedef struct apex_ws_peer {
  char user_id[37];
  int64_t exp_ms;
  char *token; /* malloc'd; the hub takes it (NULL when user_id is "") */
} apex_ws_peer;

/* Takes an upgraded socket: fd (nonblocking or not; the hub closes it when done), the n_extra
 * bytes the server read past the handshake (copied), and peer (its token taken). Never fails: on
 * no memory fd is closed at once. */
void apex_ws_hub_adopt(apex_ws_hub *h, int fd, const char *extra, size_t n_extra, apex_ws_peer *peer);

/* Sockets held now. */
size_t apex_ws_hub_count(apex_ws_hub *h);

#endif
