/* ws_load.c - the load client of bench/ws.sh: holds N WebSocket subscribers on one `apextrade
 * serve` (each: the ticker of --symbols pairs, plus the portfolio named in the tokens file), then
 * measures for --seconds: messages delivered per second and the latency from the publish time the
 * server stamps into each event ("timestamp", ms precision) to its receipt here, twice: on arrival
 * in the socket (the kernel's receive time) and when this client read it (CLOCK_REALTIME; same
 * host, so the same clock; on another host, the clocks must be synchronised). It measures; it
 * does not pass or fail.
 *
 * One thread, epoll, nonblocking sockets; wslay's frame layer does the framing (pings answered here).
 * A separate process from the server on purpose: the figures include the kernel's loopback path.
 *
 * Usage: ws_load --url http://127.0.0.1:PORT --tokens FILE [--conns 10000] [--symbols 20]
 *                [--seconds 30] [--warmup 2] [--wait 120] [--wave 500] [--per-addr 100]
 *                [--ready FILE]
 * FILE has one "access_token [portfolio_id]" a line; connections take them round-robin.
 * Once every connection is subscribed (or has failed), --ready FILE is created: ws.sh starts the
 * publisher then. The window opens --warmup (+0.55) seconds after the first event arrives. */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wslay/wslay.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24 /* linux/in.h; older libc headers lack it */
#endif

#define HIST_MS 10000          /* 1 ms buckets up to 10 s; the last one holds everything slower */
#define MAX_ATTEMPTS 5         /* a refused or reset connect is tried this often in all */
#define CONN_TIMEOUT_S 30      /* per attempt: from connect() to both subscriptions acknowledged */
#define HS_BUF 4096            /* the 101 answer's headers are a few hundred bytes */
#define MAX_KINDS 16           /* distinct close codes / failure reasons kept apart */
#define NS 1000000000LL

enum cstate { C_IDLE, C_RETRY, C_CONNECTING, C_HANDSHAKE, C_AUTH, C_SUBSCRIBING, C_READY, C_CLOSED, C_FAILED };
enum channel { CH_OTHER, CH_TICKER, CH_PORTFOLIO, CH_ACK, CH_ERROR };

struct load;

struct conn {
  struct load *ld;
  wslay_frame_context_ptr fr; /* after the upgrade */
  char *hs;              /* the handshake answer; after the upgrade, the WebSocket bytes read with it */
  char *out;             /* frames to send */
  char *msg;             /* a frame that came in pieces */
  uint32_t hs_len, hs_off, out_len, out_off, out_cap, in_pos;
  uint32_t id;
  uint32_t events;       /* the epoll mask registered */
  int fd;
  uint8_t state, attempts, acks_wanted, in_op;
  bool sub_failed, close_counted, peer_closed, lost;
  int64_t due_ns;        /* C_RETRY: when to try again; otherwise the attempt's deadline */
};

/* Latencies in 1 ms buckets. */
struct lat {
  uint64_t hist[HIST_MS + 1];
  int64_t max_ns;
};

/* How many times one close code or failure reason happened, with the first one's text. */
struct tally {
  char key[32];
  char sample[96];
  unsigned n;
};

struct load {
  /* options */
  struct sockaddr_in server;
  bool loopback;         /* the server is on 127/8: spread the sources over 127.0.0.x */
  char host[80];
  const char *ready_path;
  size_t conns, wave, per_addr, n_symbols;
  double seconds, warmup, wait_s;

  char **tokens, **portfolios;
  size_t n_tokens;
  char *sub_ticker;      /* the ticker subscription, the same for every connection */
  size_t sub_ticker_len;

  struct conn *c;
  int ep;
  size_t next;           /* connections started so far */
  size_t in_flight;      /* started, neither subscribed nor failed (retries included) */
  size_t open, subscribed;
  uint64_t rng;

  struct tally closes[MAX_KINDS], fails[MAX_KINDS], suberrs[MAX_KINDS];
  size_t n_closes, n_fails, n_suberrs;

  /* measurement */
  int64_t recv_ns;       /* CLOCK_REALTIME when the bytes being parsed were read */
  int64_t arrival_ns;    /* and when the last of them arrived in the socket (the kernel's stamp) */
  bool first_event, measuring;
  uint64_t n_ticker, n_portfolio, n_untimed, n_early, n_outside, n_unstamped_reads;
  struct lat arrival, read;
  double cpu_s;          /* this process's CPU time in the window */
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
  (void)sig;
  stop_requested = 1;
}

static double cpu_seconds(void)
{
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int64_t clock_ns(clockid_t id)
{
  struct timespec ts;
  clock_gettime(id, &ts);
  return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static uint64_t rand64(struct load *ld)
{
  ld->rng ^= ld->rng << 13;
  ld->rng ^= ld->rng >> 7;
  ld->rng ^= ld->rng << 17;
  return ld->rng;
}

/* ------------------------------------------------------------------ tallies */

static void tally_add(struct tally *t, size_t *n, const char *key, const char *sample)
{
  size_t i;
  for (i = 0; i < *n; i++)
    if (!strcmp(t[i].key, key))
      break;
  if (i == *n) {
    if (*n == MAX_KINDS) { /* the last slot collects whatever did not fit */
      i = MAX_KINDS - 1;
      snprintf(t[i].key, sizeof t[i].key, "other");
    } else {
      (*n)++;
      snprintf(t[i].key, sizeof t[i].key, "%s", key);
      snprintf(t[i].sample, sizeof t[i].sample, "%s", sample ? sample : "");
    }
  }
  t[i].n++;
}

static unsigned tally_total(const struct tally *t, size_t n)
{
  unsigned sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += t[i].n;
  return sum;
}

/* "1013 x5, 1006 x2" on stdout; the samples (close reasons, status lines) on stderr. */
static void tally_print(const char *what, const struct tally *t, size_t n)
{
  if (!n)
    fputs("none", stdout);
  for (size_t i = 0; i < n; i++)
    printf("%s%s x%u", i ? ", " : "", t[i].key, t[i].n);
  for (size_t i = 0; i < n; i++)
    if (t[i].sample[0])
      fprintf(stderr, "ws_load: %s %s, first: %s\n", what, t[i].key, t[i].sample);
}

/* ------------------------------------------------------------------ parsing */

/* Where the value of key (given with its quotes, "\"channel\"") starts: its first occurrence (the
 * server writes "channel" before "data"), past the colon and any spaces; NULL when absent. */
static const char *json_value(const char *m, size_t len, const char *qkey)
{
  const char *end = m + len;
  size_t kl = strlen(qkey);
  const char *p = memmem(m, len, qkey, kl);
  if (!p)
    return NULL;
  for (p += kl; p < end && (*p == ' ' || *p == ':'); p++)
    ;
  return p < end ? p : NULL;
}

/* The string value of qkey; values here never hold escapes. */
static const char *json_str(const char *m, size_t len, const char *qkey, size_t *vlen)
{
  const char *end = m + len, *p = json_value(m, len, qkey);
  if (!p || *p != '"')
    return NULL;
  p++;
  const char *q = memchr(p, '"', (size_t)(end - p));
  if (!q)
    return NULL;
  *vlen = (size_t)(q - p);
  return p;
}

static long json_int(const char *m, size_t len, const char *qkey)
{
  const char *end = m + len, *p = json_value(m, len, qkey);
  long v = 0;
  bool any = false;
  for (; p && p < end && *p >= '0' && *p <= '9'; p++, any = true)
    v = v * 10 + (*p - '0');
  return any ? v : -1;
}

static enum channel channel_kind(const char *v, size_t n)
{
  if (!v)
    return CH_OTHER;
  if (n == 6 && !memcmp(v, "ticker", 6))
    return CH_TICKER;
  if (n == 9 && !memcmp(v, "portfolio", 9))
    return CH_PORTFOLIO;
  if (n == 3 && !memcmp(v, "ack", 3))
    return CH_ACK;
  if (n == 5 && !memcmp(v, "error", 5))
    return CH_ERROR;
  return CH_OTHER;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n)
{
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

/* "2026-12-03T10:30:00.123Z" (UTC; any number of fraction digits) -> ns since the epoch, or -1.
 * By hand rather than strptime+timegm: this runs for every message. */
static int64_t parse_iso_ns(const char *s, size_t n)
{
  if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
    return -1;
  int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
  int h = digits(s + 11, 2), mi = digits(s + 14, 2), se = digits(s + 17, 2);
  if (y < 0 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || mi < 0 || se < 0)
    return -1;
  int64_t ns = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60 + se;
  ns *= NS;
  if (s[19] == '.') {
    int64_t scale = NS / 10;
    for (size_t i = 20; i < n && s[i] >= '0' && s[i] <= '9'; i++, scale /= 10)
      ns += (s[i] - '0') * scale;
  }
  return ns;
}

static void queue_text(struct conn *c, const char *s, size_t n);

/* ------------------------------------------------------------------ events */

static void lat_add(struct lat *l, int64_t ns)
{
  if (ns > l->max_ns)
    l->max_ns = ns;
  int64_t b = ns < 0 ? 0 : ns / 1000000;
  l->hist[b > HIST_MS ? HIST_MS : b]++;
}

/* Two latencies: to the arrival in this client's socket, which is the server's (and loopback's)
 * share, and to this client's read of it, which adds the client's own queueing: one thread
 * drains a tick's fan-out (CONNS x 20 frames at once) socket after socket, on a core it shares. */
static void record_latency(struct load *ld, const char *m, size_t len)
{
  size_t vlen;
  const char *v = json_str(m, len, "\"timestamp\"", &vlen);
  int64_t ts = v ? parse_iso_ns(v, vlen) : -1;
  if (ts < 0) {
    ld->n_untimed++;
    return;
  }
  /* The stamp has ms precision: up to 1 ms "early" is its rounding, more is a wrong clock. */
  if (ld->arrival_ns - ts < -1000000)
    ld->n_early++;
  lat_add(&ld->arrival, ld->arrival_ns - ts);
  lat_add(&ld->read, ld->recv_ns - ts);
}

static void on_event(struct load *ld, enum channel ch, const char *m, size_t len)
{
  ld->first_event = true;
  if (!ld->measuring) {
    ld->n_outside++;
    return;
  }
  if (ch == CH_TICKER)
    ld->n_ticker++;
  else
    ld->n_portfolio++;
  record_latency(ld, m, len);
}

static void conn_ready(struct conn *c)
{
  c->state = C_READY;
  c->ld->in_flight--;
  c->ld->open++;
  if (!c->sub_failed)
    c->ld->subscribed++;
}

static void subscribe(struct conn *c)
{
  struct load *ld = c->ld;
  const char *pf = ld->portfolios[c->id % ld->n_tokens];
  queue_text(c, ld->sub_ticker, ld->sub_ticker_len);
  c->acks_wanted = 1;
  if (pf) {
    char buf[256];
    int n = snprintf(buf, sizeof buf, "{\"action\":\"subscribe\",\"channel\":\"portfolio\",\"portfolio_id\":\"%s\"}",
                     pf);
    queue_text(c, buf, (size_t)n);
    c->acks_wanted = 2;
  }
  c->state = C_SUBSCRIBING;
}

static void on_ack(struct conn *c)
{
  if (c->state == C_AUTH) /* the first ack is the handshake's auth */
    subscribe(c);
  else if (c->state == C_SUBSCRIBING && --c->acks_wanted == 0)
    conn_ready(c);
}

static void on_error_msg(struct conn *c, const char *m, size_t len)
{
  char key[32], sample[96];
  snprintf(key, sizeof key, "%ld", json_int(m, len, "\"code\""));
  snprintf(sample, sizeof sample, "%.*s", (int)(len < 95 ? len : 95), m);
  tally_add(c->ld->suberrs, &c->ld->n_suberrs, key, sample);
  if (c->state == C_SUBSCRIBING) {
    c->sub_failed = true;
    if (--c->acks_wanted == 0)
      conn_ready(c);
  }
}

/* ------------------------------------------------------------------ frames */

/* wslay's frame layer, not its event layer: that one checks every byte of a text message for
 * UTF-8 and copies each message twice, which made this client, not the server, the bottleneck of
 * the run at 2 M messages/s on a shared machine. Frames this client sends (requests, pongs, the
 * close reply) go into c->out and leave in one send(); frames it reads are handled whole, from
 * wslay's buffer when one came in a piece, else gathered in c->msg. */

static ssize_t fr_send(const uint8_t *data, size_t len, int flags, void *user)
{
  struct conn *c = user;
  (void)flags;
  if (c->out_len + len > c->out_cap) {
    uint32_t cap = c->out_cap ? c->out_cap : 512;
    while (cap < c->out_len + len)
      cap *= 2;
    char *grown = realloc(c->out, cap);
    if (!grown)
      return -1;
    c->out = grown;
    c->out_cap = cap;
  }
  memcpy(c->out + c->out_len, data, len);
  c->out_len += (uint32_t)len;
  return (ssize_t)len;
}

/* recv() that also takes the kernel's receive time (SO_TIMESTAMPNS): on TCP it is the arrival of
 * the last segment read, so an upper bound for every byte of the read. */
static ssize_t recv_stamped(struct conn *c, uint8_t *buf, size_t len)
{
  union {
    char b[CMSG_SPACE(sizeof(struct timespec))];
    struct cmsghdr align;
  } ctl;
  struct iovec iov = {buf, len};
  struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
  ssize_t r = recvmsg(c->fd, &mh, 0);
  if (r <= 0)
    return r;
  struct load *ld = c->ld;
  ld->recv_ns = clock_ns(CLOCK_REALTIME);
  ld->arrival_ns = ld->recv_ns;
  struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
  if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
    struct timespec ts;
    memcpy(&ts, CMSG_DATA(cm), sizeof ts);
    ld->arrival_ns = (int64_t)ts.tv_sec * NS + ts.tv_nsec;
  } else {
    ld->n_unstamped_reads++;
  }
  return r;
}

static ssize_t fr_recv(uint8_t *buf, size_t len, int flags, void *user)
{
  struct conn *c = user;
  (void)flags;
  if (c->hs) { /* bytes that came with the 101 answer go first */
    size_t n = c->hs_len - c->hs_off;
    if (n > len)
      n = len;
    memcpy(buf, c->hs + c->hs_off, n);
    c->hs_off += (uint32_t)n;
    if (c->hs_off == c->hs_len) {
      free(c->hs);
      c->hs = NULL;
    }
    return (ssize_t)n;
  }
  ssize_t r = recv_stamped(c, buf, len);
  if (r > 0)
    return r;
  c->lost = !(r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)); /* EOF or reset */
  return -1;
}

/* Masks only keep intermediaries from reading client frames as HTTP; no need for crypto here. */
static int fr_genmask(uint8_t *buf, size_t len, void *user)
{
  struct conn *c = user;
  for (size_t i = 0; i < len; i += 8) {
    uint64_t r = rand64(c->ld);
    memcpy(buf + i, &r, len - i < 8 ? len - i : 8);
  }
  return 0;
}

static const struct wslay_frame_callbacks FR_CALLBACKS = {fr_send, fr_recv, fr_genmask};

/* A masked frame into c->out (it fails only out of memory: then no answer comes). */
static void frame_out(struct conn *c, uint8_t opcode, const void *data, size_t len)
{
  struct wslay_frame_iocb io = {.fin = 1, .opcode = opcode, .mask = 1, .payload_length = len,
                                .data = data, .data_length = len};
  (void)wslay_frame_send(c->fr, &io);
}

static void queue_text(struct conn *c, const char *s, size_t n) { frame_out(c, WSLAY_TEXT_FRAME, s, n); }

/* Writes c->out as far as the socket takes it. false: the connection is gone. */
static bool flush_out(struct conn *c)
{
  while (c->out_off < c->out_len) {
    ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
    if (n < 0)
      return errno == EAGAIN || errno == EWOULDBLOCK;
    c->out_off += (uint32_t)n;
  }
  c->out_off = c->out_len = 0;
  return true;
}

/* ------------------------------------------------------------------ connections */

static void conn_release(struct conn *c)
{
  if (c->fd >= 0)
    close(c->fd); /* also leaves the epoll set */
  c->fd = -1;
  c->events = 0;
  if (c->fr)
    wslay_frame_context_free(c->fr);
  c->fr = NULL;
  free(c->hs);
  c->hs = NULL;
  free(c->out);
  c->out = NULL;
  c->out_len = c->out_off = c->out_cap = 0;
  free(c->msg);
  c->msg = NULL;
  c->in_pos = 0;
  c->peer_closed = c->lost = false;
}

/* Before the upgrade. A retryable failure (refused, reset, an early EOF: the accept backlog was
 * full) waits a little longer each time and counts as in flight until its last attempt. */
static void conn_fail(struct conn *c, const char *key, const char *sample, bool retryable)
{
  struct load *ld = c->ld;
  conn_release(c);
  if (retryable && c->attempts < MAX_ATTEMPTS) {
    c->state = C_RETRY;
    c->due_ns = clock_ns(CLOCK_MONOTONIC) + 250000000LL * c->attempts;
    return;
  }
  c->state = C_FAILED;
  ld->in_flight--;
  tally_add(ld->fails, &ld->n_fails, key, sample);
}

/* After the upgrade: whatever ended it, it was not held. */
static void conn_close(struct conn *c, const char *why)
{
  struct load *ld = c->ld;
  if (!c->close_counted) {
    char key[32];
    snprintf(key, sizeof key, "%u", WSLAY_CODE_ABNORMAL_CLOSURE);
    tally_add(ld->closes, &ld->n_closes, key, why);
  }
  if (c->state == C_READY)
    ld->open--;
  else
    ld->in_flight--;
  if (c->state == C_READY && !c->sub_failed)
    ld->subscribed--;
  conn_release(c);
  c->state = C_CLOSED;
}

static void conn_watch(struct conn *c, uint32_t events)
{
  if (events == c->events)
    return;
  struct epoll_event ev = {.events = events, .data.u32 = c->id};
  epoll_ctl(c->ld->ep, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev);
  c->events = events;
}

static void on_text(struct conn *c, const char *m, size_t len)
{
  size_t vlen = 0;
  const char *v = json_str(m, len, "\"channel\"", &vlen);
  enum channel ch = channel_kind(v, vlen);
  if (ch == CH_TICKER || ch == CH_PORTFOLIO)
    on_event(c->ld, ch, m, len);
  else if (ch == CH_ACK)
    on_ack(c);
  else if (ch == CH_ERROR)
    on_error_msg(c, m, len);
}

/* A whole frame from the server. Its close is answered (the code echoed) and tallied here. */
static void on_frame(struct conn *c, uint8_t opcode, const uint8_t *p, size_t len)
{
  if (opcode == WSLAY_TEXT_FRAME) {
    on_text(c, (const char *)p, len);
  } else if (opcode == WSLAY_PING) {
    frame_out(c, WSLAY_PONG, p, len);
  } else if (opcode == WSLAY_CONNECTION_CLOSE && !c->peer_closed) {
    char key[32], sample[96];
    int rlen = len > 2 ? (int)len - 2 : 0;
    snprintf(key, sizeof key, "%u", len >= 2 ? (unsigned)(p[0] << 8 | p[1]) : WSLAY_CODE_NO_STATUS_RCVD);
    snprintf(sample, sizeof sample, "\"%.*s\"", rlen < 90 ? rlen : 90, rlen ? (const char *)p + 2 : "");
    tally_add(c->ld->closes, &c->ld->n_closes, key, sample);
    c->close_counted = true;
    c->peer_closed = true;
    frame_out(c, WSLAY_CONNECTION_CLOSE, p, len < 2 ? 0 : 2);
  } /* pongs; the server sends neither binary frames nor fragments */
}

/* Reads frames until the socket would block, writes what they asked for, then watches or closes. */
static void conn_ws_io(struct conn *c, uint32_t events)
{
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    while (!c->lost && !c->peer_closed) {
      struct wslay_frame_iocb io;
      ssize_t r = wslay_frame_recv(c->fr, &io);
      if (r < 0) {
        c->lost |= r != WSLAY_ERR_WANT_READ;
        break;
      }
      if (!c->in_pos && io.data_length == io.payload_length) { /* the whole frame at once */
        on_frame(c, io.opcode, io.data, io.data_length);
        continue;
      }
      if (!c->in_pos) {
        char *grown = io.payload_length <= (1u << 20) ? realloc(c->msg, io.payload_length) : NULL;
        if (!grown) {
          c->lost = true;
          break;
        }
        c->msg = grown;
        c->in_op = io.opcode;
      }
      memcpy(c->msg + c->in_pos, io.data, io.data_length);
      c->in_pos += (uint32_t)io.data_length;
      if (c->in_pos == io.payload_length) {
        c->in_pos = 0;
        on_frame(c, c->in_op, (const uint8_t *)c->msg, io.payload_length);
      }
    }
  }
  if (!flush_out(c))
    c->lost = true;
  if (c->lost || (c->peer_closed && c->out_off == c->out_len)) {
    conn_close(c, c->lost && !c->peer_closed ? "\"(connection lost without a close frame)\"" : NULL);
    return;
  }
  conn_watch(c, EPOLLIN | (c->out_off < c->out_len ? EPOLLOUT : 0));
}


static void base64(const uint8_t *in, size_t n, char *out)
{
  static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t o = 0;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
    out[o++] = A[v >> 18 & 63];
    out[o++] = A[v >> 12 & 63];
    out[o++] = i + 1 < n ? A[v >> 6 & 63] : '=';
    out[o++] = i + 2 < n ? A[v & 63] : '=';
  }
  out[o] = 0;
}

static void send_handshake(struct conn *c)
{
  struct load *ld = c->ld;
  uint8_t nonce[16];
  char key[32], req[HS_BUF];
  uint64_t r1 = rand64(ld), r2 = rand64(ld);
  memcpy(nonce, &r1, 8);
  memcpy(nonce + 8, &r2, 8);
  base64(nonce, sizeof nonce, key);
  int n = snprintf(req, sizeof req,
                   "GET /api/v1/ws?token=%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
                   ld->tokens[c->id % ld->n_tokens], ld->host, key);
  /* A fresh socket's send buffer takes a few hundred bytes whole; a short write would be a bug. */
  if (n < 0 || (size_t)n >= sizeof req || send(c->fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
    conn_fail(c, "handshake not sent", strerror(errno), true);
    return;
  }
  c->state = C_HANDSHAKE;
  conn_watch(c, EPOLLIN);
}

/* 127.0.0.2, .3, ...: --per-addr connections each, so no one source address runs out of ports
 * towards the server; NO_PORT leaves the port to connect(), which may reuse it towards others. */
static int bind_source(struct conn *c)
{
  int one = 1;
  setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  struct sockaddr_in src = {.sin_family = AF_INET};
  src.sin_addr.s_addr = htonl((uint32_t)(0x7f000002u + c->id / c->ld->per_addr));
  if (bind(c->fd, (struct sockaddr *)&src, sizeof src)) {
    conn_fail(c, "bind", strerror(errno), true);
    return -1;
  }
  return 0;
}

static void conn_start(struct conn *c)
{
  struct load *ld = c->ld;
  c->attempts++;
  c->due_ns = clock_ns(CLOCK_MONOTONIC) + CONN_TIMEOUT_S * NS;
  c->close_counted = c->sub_failed = c->peer_closed = false;
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    conn_fail(c, "socket", strerror(errno), false);
    return;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(c->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (ld->loopback && bind_source(c))
    return;
  if (connect(c->fd, (struct sockaddr *)&ld->server, sizeof ld->server) == 0) {
    send_handshake(c);
    return;
  }
  if (errno != EINPROGRESS) {
    conn_fail(c, "connect", strerror(errno), errno == ECONNREFUSED || errno == EAGAIN || errno == EADDRNOTAVAIL);
    return;
  }
  c->state = C_CONNECTING;
  conn_watch(c, EPOLLOUT);
}

static void conn_connected(struct conn *c)
{
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (err) {
    conn_fail(c, "connect", strerror(err), err == ECONNREFUSED || err == ECONNRESET || err == ETIMEDOUT);
    return;
  }
  send_handshake(c);
}

/* The 101 answer arrived whole: from here on the bytes belong to wslay. */
static void conn_upgrade(struct conn *c, uint32_t header_end)
{
  if (wslay_frame_context_init(&c->fr, &FR_CALLBACKS, c)) {
    conn_fail(c, "wslay", "out of memory", false);
    return;
  }
  c->hs_off = header_end;
  if (c->hs_off == c->hs_len) {
    free(c->hs);
    c->hs = NULL;
  }
  c->state = C_AUTH;
  conn_ws_io(c, EPOLLIN); /* the leftovers, then the socket until it would block */
}

static void conn_handshake(struct conn *c)
{
  if (!c->hs && !(c->hs = malloc(HS_BUF))) {
    conn_fail(c, "handshake", "out of memory", false);
    return;
  }
  ssize_t r = recv(c->fd, c->hs + c->hs_len, HS_BUF - 1 - c->hs_len, 0);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return;
  if (r <= 0) { /* closed before answering: what a server at its connection limit does */
    conn_fail(c, r ? "reset before upgrade" : "eof before upgrade", r ? strerror(errno) : NULL, c->hs_len == 0);
    return;
  }
  c->ld->recv_ns = c->ld->arrival_ns = clock_ns(CLOCK_REALTIME);
  c->hs_len += (uint32_t)r;
  c->hs[c->hs_len] = 0;
  char *end = strstr(c->hs, "\r\n\r\n");
  if (!end) {
    if (c->hs_len == HS_BUF - 1)
      conn_fail(c, "handshake", "answer headers longer than 4 KiB", false);
    return;
  }
  char *sp = strchr(c->hs, ' ');
  int status = sp ? atoi(sp + 1) : 0;
  if (status != 101) {
    char key[32], sample[96];
    snprintf(key, sizeof key, "http %d", status);
    snprintf(sample, sizeof sample, "%.*s", (int)strcspn(c->hs, "\r\n") < 95 ? (int)strcspn(c->hs, "\r\n") : 95, c->hs);
    conn_fail(c, key, sample, false);
    return;
  }
  conn_upgrade(c, (uint32_t)(end + 4 - c->hs));
}

static void conn_io(struct conn *c, uint32_t events)
{
  switch (c->state) {
  case C_CONNECTING:
    conn_connected(c);
    break;
  case C_HANDSHAKE:
    conn_handshake(c);
    break;
  case C_AUTH:
  case C_SUBSCRIBING:
  case C_READY:
    conn_ws_io(c, events);
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------------------ phases */

/* Waves: at most --wave connections between connect() and their last ack, so the server's accept
 * backlog (and its TLS-free but argon-free token checks) are not flooded. */
static void start_more(struct load *ld)
{
  while (ld->next < ld->conns && ld->in_flight < ld->wave) {
    struct conn *c = &ld->c[ld->next++];
    ld->in_flight++;
    conn_start(c);
  }
}

static const char *state_name(uint8_t s)
{
  static const char *N[] = {"idle", "retry", "connect", "handshake", "auth ack", "subscribe acks"};
  return s < sizeof N / sizeof *N ? N[s] : "?";
}

/* Retries that are due, and attempts past their deadline. */
static void scan_timers(struct load *ld, int64_t now)
{
  for (size_t i = 0; i < ld->next; i++) {
    struct conn *c = &ld->c[i];
    if (c->state == C_RETRY && c->due_ns <= now) {
      conn_start(c);
    } else if (c->state >= C_CONNECTING && c->state <= C_SUBSCRIBING && c->due_ns <= now) {
      char key[32];
      snprintf(key, sizeof key, "timeout in %s", state_name(c->state));
      if (c->fr) { /* upgraded but not subscribed in time: a failure, not a close by the server */
        c->close_counted = true;
        tally_add(ld->fails, &ld->n_fails, key, NULL);
        conn_close(c, NULL);
      } else {
        conn_fail(c, key, NULL, false);
      }
    }
  }
}

static void poll_once(struct load *ld, int timeout_ms)
{
  struct epoll_event ev[1024];
  int n = epoll_wait(ld->ep, ev, 1024, timeout_ms);
  for (int i = 0; i < n; i++)
    conn_io(&ld->c[ev[i].data.u32], ev[i].events);
}

static int connect_all(struct load *ld)
{
  int64_t t0 = clock_ns(CLOCK_MONOTONIC), last_scan = t0, last_note = t0;
  while (!stop_requested && (ld->next < ld->conns || ld->in_flight)) {
    start_more(ld);
    poll_once(ld, 50);
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (now - last_scan >= 100000000LL) {
      scan_timers(ld, now);
      last_scan = now;
    }
    if (now - last_note >= 5 * NS) {
      fprintf(stderr, "ws_load: %zu subscribed, %zu in flight, %u failed, %u closed\n", ld->subscribed,
              ld->in_flight, tally_total(ld->fails, ld->n_fails), tally_total(ld->closes, ld->n_closes));
      last_note = now;
    }
  }
  double s = (double)(clock_ns(CLOCK_MONOTONIC) - t0) / 1e9;
  printf("connect: %zu of %zu subscribed in %.1f s (waves of %zu)\n", ld->subscribed, ld->conns, s, ld->wave);
  fflush(stdout);
  return ld->open ? 0 : -1;
}

static void signal_ready(struct load *ld)
{
  if (!ld->ready_path)
    return;
  FILE *f = fopen(ld->ready_path, "w");
  if (!f) {
    perror(ld->ready_path);
    return;
  }
  fprintf(f, "%zu\n", ld->open);
  fclose(f);
}

/* Waits for the first event, lets --warmup pass, then counts for --seconds. Returns the window's
 * length in seconds (0: no event came). */
static double measure(struct load *ld)
{
  int64_t t0 = clock_ns(CLOCK_MONOTONIC), start = 0, end = 0;
  while (!stop_requested) {
    poll_once(ld, 20);
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    if (!ld->first_event && now - t0 > (int64_t)(ld->wait_s * NS)) {
      fprintf(stderr, "ws_load: no event within %.0f s of the subscriptions\n", ld->wait_s);
      return 0;
    }
    /* The publisher ticks every 100 ms and every second from its first event: opening the window
     * 0.55 s off that grid (half-way between ticks of both) keeps a tick's fan-out from
     * straddling an edge, which would count one tick more or less (10 % of a 1 Hz channel). */
    if (ld->first_event && !start)
      start = now + (int64_t)(ld->warmup * NS) + 550000000LL;
    if (start && !ld->measuring && !end && now >= start) {
      ld->measuring = true;
      ld->cpu_s = cpu_seconds();
      start = now;
      end = now + (int64_t)(ld->seconds * NS);
    }
    if (ld->measuring && now >= end) {
      ld->measuring = false;
      ld->cpu_s = cpu_seconds() - ld->cpu_s;
      return (double)(now - start) / 1e9;
    }
  }
  if (!ld->measuring) /* interrupted before the window opened */
    return 0;
  ld->measuring = false;
  ld->cpu_s = cpu_seconds() - ld->cpu_s;
  return (double)(clock_ns(CLOCK_MONOTONIC) - start) / 1e9;
}

/* The upper edge of the 1 ms bucket holding quantile q (the stamps have ms precision anyway). */
static long percentile(const struct lat *l, uint64_t total, double q)
{
  uint64_t rank = (uint64_t)((double)total * q + 0.999999), seen = 0;
  for (long b = 0; b <= HIST_MS; b++) {
    seen += l->hist[b];
    if (seen >= rank && seen)
      return b + 1;
  }
  return HIST_MS + 1;
}

static void lat_print(const char *name, const struct lat *l, uint64_t n, const char *what)
{
  printf("latency ms (%s): p50 %ld p99 %ld p999 %ld max %.1f (%s; %llu timed, 1 ms buckets, upper edges)\n", name,
         percentile(l, n, 0.5), percentile(l, n, 0.99), percentile(l, n, 0.999), (double)l->max_ns / 1e6, what,
         (unsigned long long)n);
}

static void report(struct load *ld, double window)
{
  printf("connections: %zu of %zu open, %u closed (codes: ", ld->open, ld->conns,
         tally_total(ld->closes, ld->n_closes));
  tally_print("close", ld->closes, ld->n_closes);
  printf("), %u failed to connect (", tally_total(ld->fails, ld->n_fails));
  tally_print("failure", ld->fails, ld->n_fails);
  printf("); %zu subscribed, %u error messages (", ld->subscribed, tally_total(ld->suberrs, ld->n_suberrs));
  tally_print("error", ld->suberrs, ld->n_suberrs);
  printf(")\n");
  uint64_t n = ld->n_ticker + ld->n_portfolio;
  double w = window > 0 ? window : 1;
  printf("messages: %llu in %.1f s = %.0f/s (ticker %.0f/s, portfolio %.0f/s)\n", (unsigned long long)n, window,
         (double)n / w, (double)ld->n_ticker / w, (double)ld->n_portfolio / w);
  uint64_t timed = n - ld->n_untimed;
  if (timed) {
    lat_print("arrival", &ld->arrival, timed, "in the client's socket: the server's share");
    lat_print("read", &ld->read, timed, "by this client: adds its own queueing");
  } else {
    printf("latency ms: none timed\n");
  }
  if (window > 0)
    printf("client cpu: %.0f %% of a core in the window\n", ld->cpu_s / window * 100);
  if (ld->n_unstamped_reads)
    fprintf(stderr, "ws_load: %llu reads without the kernel's receive time: their arrival is the read\n",
            (unsigned long long)ld->n_unstamped_reads);
  if (ld->n_untimed || ld->n_early)
    fprintf(stderr, "ws_load: %llu events without a parsable timestamp, %llu stamped > 1 ms in the future\n",
            (unsigned long long)ld->n_untimed, (unsigned long long)ld->n_early);
}

/* ------------------------------------------------------------------ setup */

static int read_tokens(struct load *ld, const char *path)
{
  FILE *f = fopen(path, "r");
  char *line = NULL;
  size_t cap = 0, alloc = 0;
  int rc = -1;
  if (!f) {
    fprintf(stderr, "ws_load: %s: %s\n", path, strerror(errno));
    return -1;
  }
  while (getline(&line, &cap, f) > 0) {
    char *tok = strtok(line, " \t\r\n"), *pf = strtok(NULL, " \t\r\n");
    if (!tok)
      continue;
    if (ld->n_tokens == alloc) {
      alloc = alloc ? alloc * 2 : 64;
      char **t = realloc(ld->tokens, alloc * sizeof *t), **p = t ? realloc(ld->portfolios, alloc * sizeof *p) : NULL;
      if (t)
        ld->tokens = t;
      if (!p)
        goto out;
      ld->portfolios = p;
    }
    ld->tokens[ld->n_tokens] = strdup(tok);
    ld->portfolios[ld->n_tokens] = pf ? strdup(pf) : NULL;
    ld->n_tokens++;
  }
  if (!ld->n_tokens) {
    fprintf(stderr, "ws_load: %s: no tokens\n", path);
    goto out;
  }
  rc = 0;
out:
  free(line);
  fclose(f);
  return rc;
}

static int build_ticker_sub(struct load *ld)
{
  size_t cap = 64 + ld->n_symbols * 16, n = 0;
  if (!(ld->sub_ticker = malloc(cap)))
    return -1;
  n += (size_t)snprintf(ld->sub_ticker, cap, "{\"action\":\"subscribe\",\"channel\":\"ticker\",\"symbols\":[");
  for (size_t i = 0; i < ld->n_symbols; i++)
    n += (size_t)snprintf(ld->sub_ticker + n, cap - n, "%s\"S%02zu/USDT\"", i ? "," : "", i);
  n += (size_t)snprintf(ld->sub_ticker + n, cap - n, "]}");
  ld->sub_ticker_len = n;
  return 0;
}

/* http://127.0.0.1:PORT or ws://... (an IPv4 literal: the bench runs on one host). */
static int parse_url(struct load *ld, const char *url)
{
  const char *p = strstr(url, "://");
  p = p ? p + 3 : url;
  size_t hl = strcspn(p, ":/");
  char ip[64];
  if (hl == 0 || hl >= sizeof ip || p[hl] != ':')
    return -1;
  memcpy(ip, p, hl);
  ip[hl] = 0;
  long port = strtol(p + hl + 1, NULL, 10);
  if (port <= 0 || port > 65535 || inet_pton(AF_INET, ip, &ld->server.sin_addr) != 1)
    return -1;
  ld->server.sin_family = AF_INET;
  ld->server.sin_port = htons((uint16_t)port);
  ld->loopback = (ntohl(ld->server.sin_addr.s_addr) >> 24) == 127;
  snprintf(ld->host, sizeof ld->host, "%s:%ld", ip, port);
  return 0;
}

static void raise_nofile(size_t need)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl))
    return;
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < need)
    fprintf(stderr, "ws_load: open files limited to %llu, %zu connections need more (ulimit -Hn)\n",
            (unsigned long long)rl.rlim_cur, need);
}

static void usage(void)
{
  fprintf(stderr, "usage: ws_load --url http://127.0.0.1:PORT --tokens FILE [--conns N] [--symbols N] [--seconds S]\n"
                  "               [--warmup S] [--wait S] [--wave N] [--per-addr N] [--ready FILE]\n");
}

static int parse_args(struct load *ld, int argc, char **argv, const char **tokens)
{
  static const struct option O[] = {
      {"url", required_argument, 0, 'u'},     {"tokens", required_argument, 0, 't'},
      {"conns", required_argument, 0, 'c'},   {"symbols", required_argument, 0, 'y'},
      {"seconds", required_argument, 0, 's'}, {"warmup", required_argument, 0, 'w'},
      {"wait", required_argument, 0, 'W'},    {"wave", required_argument, 0, 'v'},
      {"per-addr", required_argument, 0, 'a'}, {"ready", required_argument, 0, 'r'},
      {0, 0, 0, 0}};
  const char *url = NULL;
  int o;
  while ((o = getopt_long(argc, argv, "", O, NULL)) != -1) {
    switch (o) {
    case 'u': url = optarg; break;
    case 't': *tokens = optarg; break;
    case 'c': ld->conns = strtoul(optarg, NULL, 10); break;
    case 'y': ld->n_symbols = strtoul(optarg, NULL, 10); break;
    case 's': ld->seconds = atof(optarg); break;
    case 'w': ld->warmup = atof(optarg); break;
    case 'W': ld->wait_s = atof(optarg); break;
    case 'v': ld->wave = strtoul(optarg, NULL, 10); break;
    case 'a': ld->per_addr = strtoul(optarg, NULL, 10); break;
    case 'r': ld->ready_path = optarg; break;
    default: return -1;
    }
  }
  if (!url || !*tokens || !ld->conns || !ld->wave || !ld->per_addr || ld->n_symbols < 1 || ld->n_symbols > 100 ||
      ld->seconds <= 0)
    return -1;
  if (parse_url(ld, url)) {
    fprintf(stderr, "ws_load: %s: expected http://IPv4:PORT\n", url);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  static struct load L = {.conns = 10000, .wave = 500, .per_addr = 100, .n_symbols = 20, .seconds = 30,
                          .warmup = 2, .wait_s = 120, .ep = -1};
  struct load *ld = &L;
  const char *tokens = NULL;
  int rc = 1;
  if (parse_args(ld, argc, argv, &tokens)) {
    usage();
    return 2;
  }
  if (read_tokens(ld, tokens) || build_ticker_sub(ld))
    goto out;
  raise_nofile(ld->conns + 64);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  ld->rng = (uint64_t)clock_ns(CLOCK_REALTIME) | 1;
  ld->c = calloc(ld->conns, sizeof *ld->c);
  ld->ep = epoll_create1(EPOLL_CLOEXEC);
  if (!ld->c || ld->ep < 0) {
    fprintf(stderr, "ws_load: out of memory or epoll: %s\n", strerror(errno));
    goto out;
  }
  for (size_t i = 0; i < ld->conns; i++)
    ld->c[i] = (struct conn){.ld = ld, .id = (uint32_t)i, .fd = -1};
  if (connect_all(ld)) {
    /* The one-line reason: the most frequent failure. */
    const struct tally *top = NULL;
    for (size_t i = 0; i < ld->n_fails; i++)
      if (!top || ld->fails[i].n > top->n)
        top = &ld->fails[i];
    printf("ws_load: could not connect: %s%s%s\n", top ? top->key : "interrupted",
           top && top->sample[0] ? ": " : "", top ? top->sample : "");
    goto out;
  }
  signal_ready(ld);
  report(ld, measure(ld));
  rc = 0;
out:
  if (ld->c)
    for (size_t i = 0; i < ld->conns; i++)
      conn_release(&ld->c[i]);
  free(ld->c);
  if (ld->ep >= 0)
    close(ld->ep);
  return rc;
}
