/* ws.c - the WebSocket hub (ws.h): epoll loops over upgraded sockets, wslay for the framing. */
#include "api/ws.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "api/ws_msg.h"

#define BUCKETS 4096         /* index hash buckets per loop */
#define OUT_HIGH (16 * 1024) /* bytes waiting in a socket's buffer before events stay queued */
#define BUS_CAPACITY 16384   /* events a loop may fall behind the publishers */
#define CLOSE_WAIT_MS 3000   /* a closing socket's close frame and the peer's answer */
#define FLUSH_MS 2           /* what is due waits this long for more, so that a burst of events (a
                              * feed's prices of one instant) leaves in one send() per socket */
#define SNDBUF (256 * 1024)  /* the kernel's send buffer per socket (it doubles it): ~3,000 events of
                             * a client's pause, without megabytes of stale prices (tcp_wmem's max) */

/* One event's whole frame (wslay's header and the JSON text), framed once and shared by every
 * socket of a loop that sends it: a socket's turn copies bytes, it frames nothing. */
typedef struct msg {
  int refs; /* one loop's: no atomics */
  size_t len;
  unsigned char frame[];
} msg;

typedef struct conn conn;

/* A subscription of a socket: the index key it is filed under, a filter (a backtest or strategy
 * id; "" all), and for channels where only the latest matters the frame waiting to go. */
typedef struct sub {
  struct entry *e; /* its index entry (the key) */
  msg *pending;
  uint32_t pos;     /* in e->refs */
  uint8_t ch;       /* apex_ws_channel */
  char filter[37];
} sub;

/* The sockets subscribed under one key. */
typedef struct ref {
  conn *c;
  size_t sub; /* index into c->subs */
} ref;
typedef struct entry {
  struct entry *next;
  char key[96];
  ref *refs;
  size_t n, cap;
} entry;

typedef struct loop loop;

struct conn {
  loop *lp;
  conn *prev, *next; /* the loop's sockets */
  conn *next_dirty;
  int fd;
  wslay_event_context_ptr ws;
  char user_id[37];
  int64_t exp_ms;
  char *token;
  int64_t opened, last_rx, last_ping, blocked_since, close_by; /* monotonic ms; 0: not */
  unsigned char *out;
  size_t out_len, out_off, out_cap;
  unsigned char *pre; /* bytes the HTTP server read past the handshake */
  size_t pre_len, pre_off;
  msg **q; /* ring of frames that must arrive */
  size_t q_head, q_n, q_cap;
  sub *subs;
  size_t n_subs, cap_subs, n_pending, n_reliable;
  uint64_t last_seq;
  bool dirty, want_out, closing, dead, shut_wr;
  bool ws_out; /* wslay may have frames queued: asking it costs a cache miss per socket per flush */
};

/* An upgraded socket on its way to a loop. */
typedef struct adoption {
  struct adoption *next;
  int fd;
  apex_ws_peer peer;
  size_t n_extra;
  char extra[];
} adoption;

struct loop {
  apex_ws_hub *h;
  pthread_t thread;
  bool started;
  int ep, efd;
  apex_subscription *bus;
  pthread_mutex_t mu; /* adoptions */
  adoption *adoptions;
  conn *conns;
  size_t n_conns;
  conn *dirty;
  uint64_t seq;
  wslay_frame_context_ptr framer; /* frames events into fbuf */
  unsigned char *fbuf;
  size_t fbuf_len, fbuf_cap;
  unsigned char *spare; /* a drained socket's output buffer, for the next socket's turn */
  size_t spare_cap;
  int64_t next_tick;
  int64_t flush_at; /* when the dirty sockets are written; 0: none is */
  bool reap_due;    /* a socket may be done: reap() walks them (else once a second) */
  entry *buckets[BUCKETS];
};

struct apex_ws_hub {
  apex_ws_hub_opts o;
  loop *loops;
  unsigned n_loops;
  atomic_uint next_loop;
  atomic_bool stop;
  atomic_size_t count;
};

static int64_t mono_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t real_ms(void)
{
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int64_t wall(const apex_ws_hub *h) { return h->o.now_ms ? h->o.now_ms() : real_ms(); }

/* --- frames --- */

static ssize_t on_frame_bytes(const uint8_t *data, size_t len, int flags, void *arg)
{
  (void)flags;
  loop *lp = arg;
  if (lp->fbuf_len + len > lp->fbuf_cap) {
    size_t cap = lp->fbuf_cap ? lp->fbuf_cap : 1024;
    while (cap < lp->fbuf_len + len)
      cap *= 2;
    unsigned char *grown = realloc(lp->fbuf, cap);
    if (!grown)
      return -1;
    lp->fbuf = grown;
    lp->fbuf_cap = cap;
  }
  memcpy(lp->fbuf + lp->fbuf_len, data, len);
  lp->fbuf_len += len;
  return (ssize_t)len;
}

/* The text frame of text (malloc'd, len bytes, freed here), framed by wslay. */
static msg *msg_take(loop *lp, char *text, size_t len)
{
  msg *m = NULL;
  struct wslay_frame_iocb io = {1, WSLAY_RSV_NONE, WSLAY_TEXT_FRAME, len, 0, (const uint8_t *)text, len};
  lp->fbuf_len = 0;
  if (text && wslay_frame_send(lp->framer, &io) == (ssize_t)len && (m = malloc(sizeof *m + lp->fbuf_len))) {
    m->refs = 1;
    m->len = lp->fbuf_len;
    memcpy(m->frame, lp->fbuf, lp->fbuf_len);
  }
  free(text);
  return m;
}

static void msg_unref(msg *m)
{
  if (m && --m->refs == 0)
    free(m);
}

/* --- the index: key -> subscribed sockets --- */

static size_t hash(const char *s)
{
  size_t x = 1469598103934665603ull;
  for (; *s; s++)
    x = (x ^ (unsigned char)*s) * 1099511628211ull;
  return x % BUCKETS;
}

static entry *lookup(loop *lp, const char *key, bool make)
{
  entry **pp = &lp->buckets[hash(key)];
  for (entry *e = *pp; e; e = e->next)
    if (!strcmp(e->key, key))
      return e;
  if (!make)
    return NULL;
  entry *e = calloc(1, sizeof *e);
  if (!e)
    return NULL;
  snprintf(e->key, sizeof e->key, "%s", key);
  e->next = *pp;
  *pp = e;
  return e;
}

static bool index_add(loop *lp, conn *c, size_t si, const char *key)
{
  entry *e = lookup(lp, key, true);
  if (!e)
    return false;
  if (e->n == e->cap) {
    size_t cap = e->cap ? 2 * e->cap : 4;
    ref *grown = realloc(e->refs, cap * sizeof *grown);
    if (!grown)
      return false;
    e->refs = grown;
    e->cap = cap;
  }
  c->subs[si].e = e;
  c->subs[si].pos = (uint32_t)e->n;
  e->refs[e->n++] = (ref){c, si};
  return true;
}

static void index_remove(loop *lp, conn *c, size_t si)
{
  entry *e = c->subs[si].e;
  size_t pos = c->subs[si].pos;
  e->refs[pos] = e->refs[--e->n]; /* the last one moves into the gap */
  if (pos < e->n)
    e->refs[pos].c->subs[e->refs[pos].sub].pos = (uint32_t)pos;
  if (!e->n) {
    entry **pp = &lp->buckets[hash(e->key)];
    while (*pp != e)
      pp = &(*pp)->next;
    *pp = e->next;
    free(e->refs);
    free(e);
  }
}

/* Drops c->subs[si]; the last subscription moves into its place. */
static void sub_remove(conn *c, size_t si)
{
  loop *lp = c->lp;
  index_remove(lp, c, si);
  if (c->subs[si].pending) {
    msg_unref(c->subs[si].pending);
    c->n_pending--;
  }
  if (c->subs[si].ch != APEX_WS_TICKER)
    c->n_reliable--;
  size_t last = --c->n_subs;
  if (si != last) {
    c->subs[si] = c->subs[last];
    c->subs[si].e->refs[c->subs[si].pos].sub = si;
  }
}

/* --- output --- */

/* Bytes into c's buffer: whole frames, so one send() per turn writes them. */
static bool out_append(conn *c, const void *data, size_t len)
{
  if (c->out_len + len > c->out_cap) {
    size_t cap = c->out_cap ? c->out_cap : 4096;
    while (cap < c->out_len + len)
      cap *= 2;
    unsigned char *grown = realloc(c->out, cap);
    if (!grown)
      return false;
    c->out = grown;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, data, len);
  c->out_len += len;
  return true;
}

/* wslay's frames for this socket alone (acks, errors, pings, pongs, the close). */
static ssize_t on_send(wslay_event_context_ptr ws, const uint8_t *data, size_t len, int flags, void *arg)
{
  (void)flags;
  if (!out_append(arg, data, len)) {
    wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }
  return (ssize_t)len;
}

static void set_out_interest(conn *c, bool want)
{
  if (c->want_out == want)
    return;
  struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};
  epoll_ctl(c->lp->ep, EPOLL_CTL_MOD, c->fd, &ev);
  c->want_out = want;
}

/* Writes what the buffer holds; what the kernel will not take waits for EPOLLOUT. */
static void write_out(conn *c)
{
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c->out_off += (size_t)n;
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!c->blocked_since)
        c->blocked_since = mono_ms();
      set_out_interest(c, true);
      return;
    }
    c->dead = true; /* reset by the peer */
    return;
  }
  c->out_off = c->out_len = 0;
  c->blocked_since = 0;
  /* An idle socket holds no buffer (10,000 of them: 40 MB less); the loop keeps one for the
   * next socket's turn rather than a malloc and a free per socket and turn. */
  if (!c->lp->spare) {
    c->lp->spare = c->out;
    c->lp->spare_cap = c->out_cap;
  } else {
    free(c->out);
  }
  c->out = NULL;
  c->out_cap = 0;
  set_out_interest(c, false);
}

static void mark_dirty(conn *c)
{
  if (c->dirty || c->dead)
    return;
  c->dirty = true;
  c->next_dirty = c->lp->dirty;
  c->lp->dirty = c;
}

static void queue_text(conn *c, const char *text, size_t len)
{
  struct wslay_event_msg m = {WSLAY_TEXT_FRAME, (const uint8_t *)text, len};
  if (wslay_event_queue_msg(c->ws, &m))
    c->dead = true;
  c->ws_out = true;
}

/* A frame made here for this socket only (acks, errors): text malloc'd, freed here. */
static void send_own(conn *c, char *text)
{
  if (!text) {
    c->dead = true;
    return;
  }
  queue_text(c, text, strlen(text));
  free(text);
  mark_dirty(c);
}

static void drop_waiting(conn *c)
{
  while (c->q_n) {
    msg_unref(c->q[c->q_head]);
    c->q_head = (c->q_head + 1) % c->q_cap;
    c->q_n--;
  }
  for (size_t i = 0; i < c->n_subs; i++)
    if (c->subs[i].pending) {
      msg_unref(c->subs[i].pending);
      c->subs[i].pending = NULL;
    }
  c->n_pending = 0;
}

/* Starts the closing handshake: nothing more is sent but the close frame. */
static void close_with(conn *c, uint16_t code, const char *reason)
{
  if (c->closing || c->dead)
    return;
  c->closing = true;
  c->close_by = mono_ms() + CLOSE_WAIT_MS;
  drop_waiting(c);
  /* wslay sends control frames before queued messages: the error said before the close goes
   * into the buffer first. */
  if (wslay_event_send(c->ws) || wslay_event_queue_close(c->ws, code, (const uint8_t *)reason, strlen(reason)))
    c->dead = true;
  c->ws_out = true;
  mark_dirty(c);
}

/* Moves c's own frames (wslay's queue) and then its waiting event frames into its buffer, as far
 * as the buffer may grow, and writes. */
static void flush(conn *c)
{
  if (!c->out && c->lp->spare) {
    c->out = c->lp->spare;
    c->out_cap = c->lp->spare_cap;
    c->lp->spare = NULL;
  }
  if (c->ws_out && wslay_event_want_write(c->ws) && wslay_event_send(c->ws))
    c->dead = true;
  c->ws_out = false; /* on_send takes all wslay gives */
  while (!c->dead && !c->closing && c->out_len - c->out_off < OUT_HIGH && (c->q_n || c->n_pending)) {
    if (c->q_n) {
      msg *m = c->q[c->q_head];
      c->q_head = (c->q_head + 1) % c->q_cap;
      c->q_n--;
      c->dead = !out_append(c, m->frame, m->len);
      msg_unref(m);
    } else {
      for (size_t i = 0; i < c->n_subs; i++)
        if (c->subs[i].pending) {
          c->dead |= !out_append(c, c->subs[i].pending->frame, c->subs[i].pending->len);
          msg_unref(c->subs[i].pending);
          c->subs[i].pending = NULL;
        }
      c->n_pending = 0;
    }
  }
  if (!c->dead)
    write_out(c);
  if (c->closing && !c->dead && c->out_off == c->out_len && !wslay_event_want_write(c->ws) && !c->shut_wr &&
      wslay_event_get_close_sent(c->ws)) {
    shutdown(c->fd, SHUT_WR); /* the close frame is out: the peer answers or hangs up */
    c->shut_wr = true;
  }
}

/* --- requests --- */

static void send_error(conn *c, apex_ws_error *e) { send_own(c, apex_ws_render_error(e, &(size_t){0})); }

static void refuse(conn *c, const apex_ws_request *r, int code, const char *field, const char *detail)
{
  apex_ws_error e = {.code = code};
  snprintf(e.detail, sizeof e.detail, "%s", detail);
  snprintf(e.field, sizeof e.field, "%s", field);
  snprintf(e.action, sizeof e.action, "%s", r->action == APEX_WS_UNSUBSCRIBE ? "unsubscribe" : r->action == APEX_WS_AUTH ? "auth" : "subscribe");
  snprintf(e.channel, sizeof e.channel, "%s", apex_ws_channel_name(r->channel));
  snprintf(e.id, sizeof e.id, "%s", r->id);
  send_error(c, &e);
}

/* The index keys of a request: one per symbol for ticker, one otherwise. */
static size_t keys_of(const conn *c, const apex_ws_request *r, char keys[][96])
{
  switch (r->channel) {
  case APEX_WS_TICKER:
    for (size_t i = 0; i < r->n_symbols; i++)
      snprintf(keys[i], 96, "T|%s", r->symbols[i]);
    return r->n_symbols;
  case APEX_WS_CANDLES:
    snprintf(keys[0], 96, "C|%s|%s", r->symbols[0], r->timeframe);
    return 1;
  case APEX_WS_PORTFOLIO:
    snprintf(keys[0], 96, "P|%s", r->target);
    return 1;
  case APEX_WS_TRADE:
    snprintf(keys[0], 96, "U|%s|trade", c->user_id);
    return 1;
  case APEX_WS_BACKTEST:
    snprintf(keys[0], 96, "U|%s|backtest", c->user_id);
    return 1;
  case APEX_WS_STRATEGY:
    snprintf(keys[0], 96, "U|%s|strategy", c->user_id);
    return 1;
  }
  return 0;
}

static bool filtered(apex_ws_channel ch) { return ch == APEX_WS_BACKTEST || ch == APEX_WS_STRATEGY; }

static size_t find_sub(const conn *c, const char *key, const char *filter)
{
  for (size_t i = 0; i < c->n_subs; i++)
    if (!strcmp(c->subs[i].e->key, key) && !strcmp(c->subs[i].filter, filter))
      return i;
  return SIZE_MAX;
}

static void subscribe(conn *c, const apex_ws_request *r)
{
  apex_ws_hub *h = c->lp->h;
  char keys[APEX_WS_MAX_SYMBOLS][96];
  size_t n = keys_of(c, r, keys), fresh = 0;
  const char *filter = filtered(r->channel) ? r->target : "";
  for (size_t i = 0; i < n; i++)
    fresh += find_sub(c, keys[i], filter) == SIZE_MAX;
  if (c->n_subs + fresh > h->o.max_subs) {
    char d[120];
    snprintf(d, sizeof d, "at most %u subscriptions per connection: unsubscribe from some first", h->o.max_subs);
    refuse(c, r, 429, "", d);
    return;
  }
  if (r->channel == APEX_WS_PORTFOLIO && !h->o.owns_portfolio(h->o.ctx, c->user_id, r->target)) {
    refuse(c, r, 404, "portfolio_id", "no such portfolio");
    return;
  }
  if (c->n_subs + fresh > c->cap_subs) {
    size_t cap = c->cap_subs ? c->cap_subs : 4;
    while (cap < c->n_subs + fresh)
      cap *= 2;
    sub *grown = realloc(c->subs, cap * sizeof *grown);
    if (!grown) {
      c->dead = true;
      return;
    }
    c->subs = grown;
    c->cap_subs = cap;
  }
  for (size_t i = 0; i < n; i++) {
    if (find_sub(c, keys[i], filter) != SIZE_MAX)
      continue;
    sub *s = &c->subs[c->n_subs];
    *s = (sub){.ch = (uint8_t)r->channel};
    snprintf(s->filter, sizeof s->filter, "%.*s", (int)sizeof s->filter - 1, filter);
    if (!index_add(c->lp, c, c->n_subs, keys[i])) {
      c->dead = true;
      return;
    }
    c->n_reliable += r->channel != APEX_WS_TICKER;
    c->n_subs++;
  }
  send_own(c, apex_ws_render_ack(r, &(size_t){0}));
}

static void unsubscribe(conn *c, const apex_ws_request *r)
{
  char keys[APEX_WS_MAX_SYMBOLS][96];
  size_t n = keys_of(c, r, keys);
  const char *filter = filtered(r->channel) ? r->target : "";
  for (size_t i = 0; i < n; i++) {
    size_t si = find_sub(c, keys[i], filter);
    if (si != SIZE_MAX)
      sub_remove(c, si);
  }
  send_own(c, apex_ws_render_ack(r, &(size_t){0}));
}

static void authenticate(conn *c, const apex_ws_request *r)
{
  apex_ws_hub *h = c->lp->h;
  char user[37] = "";
  int64_t exp = 0;
  int st = h->o.verify(h->o.ctx, r->token, user, &exp);
  if (st) {
    refuse(c, r, st, "token", st == 1002 ? "the access token has expired: refresh it" : "the access token is not valid");
    close_with(c, 1008, st == 1002 ? "token expired" : "token invalid");
    return;
  }
  if (c->user_id[0] && strcmp(c->user_id, user)) {
    refuse(c, r, 400, "token", "a connection stays with the user it was opened by");
    return;
  }
  char *copy = strdup(r->token);
  if (!copy) {
    c->dead = true;
    return;
  }
  free(c->token);
  c->token = copy;
  memcpy(c->user_id, user, sizeof user);
  c->exp_ms = exp;
  send_own(c, apex_ws_render_auth(c->user_id, c->exp_ms, &(size_t){0}));
}

static void on_text(conn *c, const char *text, size_t len)
{
  apex_ws_request *r = malloc(sizeof *r); /* 9 KB: not on a loop thread's stack */
  apex_ws_error e;
  if (!r) {
    c->dead = true;
    return;
  }
  if (apex_ws_parse(text, len, r, &e)) {
    send_error(c, &e);
    if (!c->user_id[0])
      close_with(c, 1008, "authentication required");
  } else if (r->action == APEX_WS_AUTH)
    authenticate(c, r);
  else if (!c->user_id[0]) {
    refuse(c, r, 401, "", "authenticate first: {\"action\": \"auth\", \"token\": \"<access token>\"}");
    close_with(c, 1008, "authentication required");
  } else if (r->action == APEX_WS_SUBSCRIBE)
    subscribe(c, r);
  else
    unsubscribe(c, r);
  free(r);
}

/* --- input --- */

static ssize_t on_recv(wslay_event_context_ptr ws, uint8_t *buf, size_t len, int flags, void *arg)
{
  (void)flags;
  conn *c = arg;
  if (c->pre_off < c->pre_len) {
    size_t n = c->pre_len - c->pre_off < len ? c->pre_len - c->pre_off : len;
    memcpy(buf, c->pre + c->pre_off, n);
    c->pre_off += n;
    return (ssize_t)n;
  }
  for (;;) {
    ssize_t n = recv(c->fd, buf, len, MSG_DONTWAIT);
    if (n > 0) {
      c->last_rx = mono_ms();
      return n;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      wslay_event_set_error(ws, WSLAY_ERR_WOULDBLOCK);
    else {
      c->dead = true; /* the peer hung up (or reset) */
      wslay_event_set_error(ws, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
  }
}

static void on_msg(wslay_event_context_ptr ws, const struct wslay_event_on_msg_recv_arg *a, void *arg)
{
  (void)ws;
  conn *c = arg;
  if (c->closing)
    return;
  if (a->opcode == WSLAY_TEXT_FRAME)
    on_text(c, (const char *)a->msg, a->msg_length);
  else if (a->opcode == WSLAY_BINARY_FRAME)
    close_with(c, 1003, "binary frames are not accepted: send JSON text");
  else if (a->opcode == WSLAY_CONNECTION_CLOSE) {
    c->closing = true; /* wslay answers with a close frame of its own */
    c->close_by = mono_ms() + CLOSE_WAIT_MS;
    drop_waiting(c);
    mark_dirty(c);
  }
}

static void on_readable(conn *c)
{
  c->ws_out = true; /* pongs, a close's answer */
  if (wslay_event_recv(c->ws))
    c->dead = true;
  else if (!c->closing && !wslay_event_get_read_enabled(c->ws)) { /* wslay closed it (1002, 1007, 1009) */
    c->closing = true;
    c->close_by = mono_ms() + CLOSE_WAIT_MS;
    drop_waiting(c);
  }
  mark_dirty(c);
}

/* --- events --- */

/* The index key an event is filed under; "" for none. */
static void event_key(const apex_event *ev, char key[96])
{
  key[0] = 0;
  switch (ev->kind) {
  case APEX_EVENT_TICKER:
    snprintf(key, 96, "T|%s", ev->u.ticker.symbol);
    break;
  case APEX_EVENT_CANDLE:
    snprintf(key, 96, "C|%s|%s", ev->u.candle.symbol, ev->u.candle.timeframe);
    break;
  case APEX_EVENT_PORTFOLIO:
    snprintf(key, 96, "P|%s", ev->u.portfolio.portfolio_id);
    break;
  case APEX_EVENT_TRADE:
    snprintf(key, 96, "U|%s|trade", ev->user_id);
    break;
  case APEX_EVENT_BACKTEST_PROGRESS:
  case APEX_EVENT_BACKTEST_COMPLETED:
  case APEX_EVENT_BACKTEST_FAILED:
    snprintf(key, 96, "U|%s|backtest", ev->user_id);
    break;
  case APEX_EVENT_STRATEGY:
    snprintf(key, 96, "U|%s|strategy", ev->user_id);
    break;
  case APEX_EVENT_SESSION_REVOKED:
    break;
  }
}

static bool coalesces(const apex_event *ev)
{
  return ev->kind == APEX_EVENT_TICKER || (ev->kind == APEX_EVENT_CANDLE && !ev->u.candle.closed);
}

static bool push(conn *c, msg *m)
{
  if (c->q_n == c->q_cap) {
    if (c->q_cap >= c->lp->h->o.queue_max)
      return false;
    size_t cap = c->q_cap ? 2 * c->q_cap : 16;
    msg **grown = malloc(cap * sizeof *grown);
    if (!grown)
      return false;
    for (size_t i = 0; i < c->q_n; i++)
      grown[i] = c->q[(c->q_head + i) % c->q_cap];
    free(c->q);
    c->q = grown;
    c->q_cap = cap;
    c->q_head = 0;
  }
  c->q[(c->q_head + c->q_n) % c->q_cap] = m;
  c->q_n++;
  m->refs++;
  return true;
}

/* The user's sockets ("": anyone's) whose token no longer verifies (logout, password reset) close. */
static void revoked(loop *lp, const char *user_id)
{
  apex_ws_hub *h = lp->h;
  for (conn *c = lp->conns; c; c = c->next) {
    char who[37];
    int64_t exp;
    if (c->closing || !c->token || (user_id[0] && strcmp(c->user_id, user_id)) ||
        !h->o.verify(h->o.ctx, c->token, who, &exp))
      continue;
    apex_ws_error e = {.code = 1003};
    snprintf(e.detail, sizeof e.detail, "the session was ended (logout or password change): log in again");
    send_error(c, &e);
    close_with(c, 1008, "session revoked");
  }
}

static void dispatch(loop *lp, const apex_event *ev)
{
  char key[96];
  if (ev->kind == APEX_EVENT_SESSION_REVOKED) {
    revoked(lp, ev->user_id);
    return;
  }
  event_key(ev, key);
  entry *e = key[0] ? lookup(lp, key, false) : NULL;
  if (!e)
    return;
  const char *filter = ev->kind == APEX_EVENT_STRATEGY ? ev->u.strategy.strategy_id
                       : ev->kind == APEX_EVENT_TICKER || ev->kind == APEX_EVENT_CANDLE || ev->kind == APEX_EVENT_TRADE ||
                               ev->kind == APEX_EVENT_PORTFOLIO
                           ? ""
                           : ev->u.backtest.backtest_id;
  const bool mine = ev->kind != APEX_EVENT_TICKER && ev->kind != APEX_EVENT_CANDLE; /* a user's own */
  const bool latest = coalesces(ev);
  size_t len = 0;
  char *text = apex_ws_render_event(ev, &len);
  msg *m = msg_take(lp, text, len);
  if (!m)
    return;
  lp->seq++;
  for (size_t i = 0; i < e->n; i++) {
    conn *c = e->refs[i].c;
    sub *s = &c->subs[e->refs[i].sub];
    if (c->closing || c->dead || c->last_seq == lp->seq || (s->filter[0] && strcmp(s->filter, filter)) ||
        (mine && strcmp(c->user_id, ev->user_id)))
      continue;
    c->last_seq = lp->seq; /* once per socket, however many of its filters match */
    if (latest) {
      if (s->pending)
        msg_unref(s->pending);
      else
        c->n_pending++;
      s->pending = m;
      m->refs++;
    } else {
      if (s->pending) { /* a closed candle replaces the forming one waiting */
        msg_unref(s->pending);
        s->pending = NULL;
        c->n_pending--;
      }
      if (!push(c, m)) {
        char why[80];
        snprintf(why, sizeof why, "too slow: %zu events waiting", c->q_n);
        close_with(c, 1013, why);
        continue;
      }
    }
    mark_dirty(c);
  }
  msg_unref(m);
}

/* --- sockets in and out of a loop --- */

static void conn_free(loop *lp, conn *c)
{
  epoll_ctl(lp->ep, EPOLL_CTL_DEL, c->fd, NULL);
  drop_waiting(c);
  while (c->n_subs)
    sub_remove(c, c->n_subs - 1);
  free(c->subs);
  free(c->q);
  wslay_event_context_free(c->ws);
  free(c->out);
  free(c->pre);
  free(c->token);
  if (c->prev)
    c->prev->next = c->next;
  else
    lp->conns = c->next;
  if (c->next)
    c->next->prev = c->prev;
  lp->n_conns--;
  atomic_fetch_sub(&lp->h->count, 1);
  close(c->fd);
  free(c);
}

static const struct wslay_event_callbacks CALLBACKS = {on_recv, on_send, NULL, NULL, NULL, NULL, on_msg};

static void adopt_now(loop *lp, adoption *a)
{
  conn *c = calloc(1, sizeof *c);
  int one = 1;
  if (!c || wslay_event_context_server_init(&c->ws, &CALLBACKS, c)) {
    free(c);
    goto fail;
  }
  c->lp = lp;
  c->fd = a->fd;
  c->opened = c->last_rx = c->last_ping = mono_ms();
  memcpy(c->user_id, a->peer.user_id, sizeof c->user_id);
  c->exp_ms = a->peer.exp_ms;
  c->token = a->peer.token;
  a->peer.token = NULL;
  wslay_event_config_set_max_recv_msg_length(c->ws, APEX_WS_MSG_MAX);
  if (a->n_extra && (c->pre = malloc(a->n_extra))) {
    memcpy(c->pre, a->extra, a->n_extra);
    c->pre_len = a->n_extra;
  }
  fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* frames are batched here */
  /* A client that reads slowly is held to a small kernel buffer: what it cannot take waits here,
   * where prices coalesce, instead of megabytes of stale ones queuing in the kernel. */
  setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &(int){SNDBUF}, sizeof(int));
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
  if (epoll_ctl(lp->ep, EPOLL_CTL_ADD, c->fd, &ev)) {
    wslay_event_context_free(c->ws);
    free(c->pre);
    free(c->token);
    free(c);
    goto fail;
  }
  c->next = lp->conns;
  if (lp->conns)
    lp->conns->prev = c;
  lp->conns = c;
  lp->n_conns++;
  atomic_fetch_add(&lp->h->count, 1);
  if (c->user_id[0])
    send_own(c, apex_ws_render_auth(c->user_id, c->exp_ms, &(size_t){0}));
  if (c->pre_len)
    on_readable(c);
  free(a);
  return;
fail:
  free(a->peer.token);
  close(a->fd);
  free(a);
}

/* Once a second: pings, idle sockets, expired tokens, unauthenticated sockets, stalled writers. */
static void tick(loop *lp, int64_t now)
{
  apex_ws_hub *h = lp->h;
  const int64_t t = wall(h);
  for (conn *c = lp->conns; c; c = c->next) {
    if (c->closing || c->dead)
      continue;
    if (!c->user_id[0] && now - c->opened >= h->o.auth_ms)
      close_with(c, 1008, "authentication required");
    else if (c->user_id[0] && c->exp_ms <= t) {
      apex_ws_error e = {.code = 1002};
      snprintf(e.detail, sizeof e.detail, "the access token has expired: connect again with a fresh one");
      send_error(c, &e);
      close_with(c, 1008, "token expired");
    } else if (now - c->last_rx >= h->o.idle_ms)
      close_with(c, 1001, "idle");
    else if (c->blocked_since && c->q_n && now - c->blocked_since >= h->o.stall_ms)
      close_with(c, 1013, "too slow: nothing could be written for 10 s");
    else if (now - c->last_ping >= h->o.ping_ms) {
      struct wslay_event_msg m = {WSLAY_PING, (const uint8_t *)"", 0};
      c->last_ping = now;
      if (wslay_event_queue_msg(c->ws, &m))
        c->dead = true;
      c->ws_out = true;
      mark_dirty(c);
    }
  }
}

/* The events the loop fell behind on are lost: every socket that must see all of its events
 * closes, to reconnect and read the current state. */
static void lost(loop *lp)
{
  for (conn *c = lp->conns; c; c = c->next)
    if (c->n_reliable)
      close_with(c, 1013, "the server fell behind and lost events: reconnect");
}

static void drain_bus(loop *lp)
{
  apex_event ev;
  uint64_t dropped = 0;
  for (int i = 0; i < 4096 && apex_events_next(lp->h->o.events, lp->bus, 0, &ev, &dropped); i++) {
    if (dropped)
      lost(lp);
    dispatch(lp, &ev);
  }
  if (dropped)
    lost(lp);
}

static void take_adoptions(loop *lp)
{
  pthread_mutex_lock(&lp->mu);
  adoption *a = lp->adoptions;
  lp->adoptions = NULL;
  pthread_mutex_unlock(&lp->mu);
  while (a) {
    adoption *next = a->next;
    adopt_now(lp, a);
    a = next;
  }
}

static void flush_dirty(loop *lp)
{
  while (lp->dirty) {
    conn *c = lp->dirty;
    lp->dirty = c->next_dirty;
    c->dirty = false;
    if (!c->dead && !c->want_out)
      flush(c);
    lp->reap_due |= c->dead || c->closing;
  }
}

static void reap(loop *lp, int64_t now)
{
  lp->reap_due = false;
  for (conn *c = lp->conns, *next; c; c = next) {
    next = c->next;
    bool done = c->dead || (c->closing && (now >= c->close_by ||
                                           (!wslay_event_want_read(c->ws) && !wslay_event_want_write(c->ws) &&
                                            c->out_off == c->out_len)));
    if (done && !c->dirty) /* a dirty one is on lp->dirty until the next flush */
      conn_free(lp, c);
  }
}

static void wake(void *arg)
{
  loop *lp = arg;
  uint64_t one = 1;
  ssize_t n = write(lp->efd, &one, sizeof one);
  (void)n; /* a full counter already wakes the loop */
}

static void *loop_main(void *arg)
{
  loop *lp = arg;
  apex_ws_hub *h = lp->h;
  struct epoll_event evs[256];
  lp->next_tick = mono_ms() + 1000;
  while (!atomic_load(&h->stop)) {
    int64_t now = mono_ms();
    int64_t due = lp->flush_at && lp->flush_at < lp->next_tick ? lp->flush_at : lp->next_tick;
    int n = epoll_wait(lp->ep, evs, 256, due > now ? (int)(due - now) : 0);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (!c) {
        uint64_t v;
        ssize_t r = read(lp->efd, &v, sizeof v);
        (void)r;
        continue;
      }
      if (c->dead)
        continue;
      if (evs[i].events & EPOLLOUT) {
        write_out(c);
        if (!c->want_out)
          mark_dirty(c); /* drained: what waited goes now */
      }
      if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        on_readable(c);
      lp->reap_due |= c->dead || c->closing;
    }
    take_adoptions(lp);
    drain_bus(lp);
    now = mono_ms();
    if (now >= lp->next_tick) {
      tick(lp, now);
      lp->next_tick = now + 1000;
      lp->reap_due = true;
    }
    if (lp->dirty && !lp->flush_at)
      lp->flush_at = now + FLUSH_MS;
    if (lp->flush_at && now >= lp->flush_at) {
      lp->flush_at = 0;
      flush_dirty(lp);
    }
    if (lp->reap_due)
      reap(lp, now);
  }
  /* Shutdown: every socket is told, and given a moment for its close frame. */
  take_adoptions(lp);
  for (conn *c = lp->conns; c; c = c->next)
    close_with(c, 1001, "server shutting down");
  const int64_t until = mono_ms() + 1000;
  while (lp->conns && mono_ms() < until) {
    flush_dirty(lp);
    reap(lp, mono_ms());
    int n = epoll_wait(lp->ep, evs, 256, 20);
    for (int i = 0; i < n; i++) {
      conn *c = evs[i].data.ptr;
      if (c && !c->dead && (evs[i].events & EPOLLOUT))
        write_out(c);
      if (c && !c->dead && (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        on_readable(c);
      if (c)
        mark_dirty(c);
    }
  }
  while (lp->conns)
    conn_free(lp, lp->conns);
  return NULL;
}

/* --- the hub --- */

static void loop_close(loop *lp)
{
  if (lp->started)
    pthread_join(lp->thread, NULL);
  while (lp->adoptions) { /* handed over after the loop had stopped */
    adoption *a = lp->adoptions;
    lp->adoptions = a->next;
    free(a->peer.token);
    close(a->fd);
    free(a);
  }
  if (lp->bus)
    apex_events_unsubscribe(lp->h->o.events, lp->bus);
  if (lp->framer)
    wslay_frame_context_free(lp->framer);
  free(lp->spare);
  free(lp->fbuf);
  if (lp->ep >= 0)
    close(lp->ep);
  if (lp->efd >= 0)
    close(lp->efd);
  pthread_mutex_destroy(&lp->mu);
}

apex_err apex_ws_hub_new(const apex_ws_hub_opts *o, apex_ws_hub **out, apex_error *err)
{
  *out = NULL;
  apex_ws_hub *h = calloc(1, sizeof *h);
  if (!h)
    return apex_error_set(err, APEX_ENOMEM, "websocket hub: out of memory");
  h->o = *o;
  h->o.loops = o->loops ? o->loops : 2;
  h->o.ping_ms = o->ping_ms ? o->ping_ms : 30000;
  h->o.idle_ms = o->idle_ms ? o->idle_ms : 75000;
  h->o.auth_ms = o->auth_ms ? o->auth_ms : 10000;
  h->o.queue_max = o->queue_max ? o->queue_max : 1024;
  h->o.stall_ms = o->stall_ms ? o->stall_ms : 10000;
  h->o.max_subs = o->max_subs ? o->max_subs : 100;
  if (!(h->loops = calloc(h->o.loops, sizeof *h->loops))) {
    free(h);
    return apex_error_set(err, APEX_ENOMEM, "websocket hub: out of memory");
  }
  apex_err rc = APEX_OK;
  for (unsigned i = 0; i < h->o.loops; i++)
    h->loops[i].ep = h->loops[i].efd = -1;
  for (unsigned i = 0; i < h->o.loops && !rc; i++) {
    loop *lp = &h->loops[i];
    lp->h = h;
    pthread_mutex_init(&lp->mu, NULL);
    h->n_loops++;
    lp->ep = epoll_create1(EPOLL_CLOEXEC);
    lp->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if (lp->ep < 0 || lp->efd < 0 || epoll_ctl(lp->ep, EPOLL_CTL_ADD, lp->efd, &ev)) {
      rc = apex_error_set(err, APEX_EIO, "websocket hub: %s", strerror(errno));
      break;
    }
    static const struct wslay_frame_callbacks FRAMER = {on_frame_bytes, NULL, NULL};
    if (wslay_frame_context_init(&lp->framer, &FRAMER, lp)) {
      rc = apex_error_set(err, APEX_ENOMEM, "websocket hub: out of memory");
      break;
    }
    if ((rc = apex_events_subscribe(h->o.events, APEX_EVENT_ALL, BUS_CAPACITY, &lp->bus))) {
      apex_error_set(err, rc, "websocket hub: cannot subscribe to events");
      break;
    }
    apex_events_watch(h->o.events, lp->bus, wake, lp);
    if (pthread_create(&lp->thread, NULL, loop_main, lp)) {
      rc = apex_error_set(err, APEX_EIO, "websocket hub: cannot start a thread");
      break;
    }
    lp->started = true;
  }
  if (rc) {
    apex_ws_hub_free(h);
    return rc;
  }
  *out = h;
  return APEX_OK;
}

void apex_ws_hub_free(apex_ws_hub *h)
{
  if (!h)
    return;
  atomic_store(&h->stop, true);
  for (unsigned i = 0; i < h->n_loops; i++)
    if (h->loops[i].efd >= 0)
      wake(&h->loops[i]);
  for (unsigned i = 0; i < h->n_loops; i++)
    loop_close(&h->loops[i]);
  free(h->loops);
  free(h);
}

void apex_ws_hub_adopt(apex_ws_hub *h, int fd, const char *extra, size_t n_extra, apex_ws_peer *peer)
{
  adoption *a = malloc(sizeof *a + n_extra);
  if (!a || atomic_load(&h->stop)) {
    free(a);
    free(peer->token);
    peer->token = NULL;
    close(fd);
    return;
  }
  a->next = NULL;
  a->fd = fd;
  a->peer = *peer;
  peer->token = NULL;
  a->n_extra = n_extra;
  if (n_extra)
    memcpy(a->extra, extra, n_extra);
  loop *lp = &h->loops[atomic_fetch_add(&h->next_loop, 1) % h->n_loops];
  pthread_mutex_lock(&lp->mu);
  a->next = lp->adoptions;
  lp->adoptions = a;
  pthread_mutex_unlock(&lp->mu);
  wake(lp);
}

size_t apex_ws_hub_count(apex_ws_hub *h) { return h ? atomic_load(&h->count) : 0; }
