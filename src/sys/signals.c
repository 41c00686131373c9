/* signals.c - SIGTERM/SIGINT set a flag and write one byte to a self-pipe (async-signal-safe);
 * the serve loop polls the pipe. SIGPIPE is ignored process-wide. */
#include "sys/signals.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

static int g_pipe[2] = {-1, -1};
static volatile sig_atomic_t g_sig;
static atomic_bool g_installed;

static void on_signal(int sig)
{
  int saved = errno;
  g_sig = sig;
  if (g_pipe[1] >= 0) {
    char c = 1;
    ssize_t w = write(g_pipe[1], &c, 1);
    (void)w; /* a full pipe already wakes the reader */
  }
  errno = saved;
}

apex_err apex_signals_install(apex_error *err)
{
  if (atomic_exchange(&g_installed, true))
    return APEX_OK;
  if (pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    atomic_store(&g_installed, false);
    return apex_error_set(err, APEX_EIO, "signals: pipe: %s", strerror(errno));
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  /* A file size limit (RLIMIT_FSIZE) must fail the write (EFBIG: the database says "disk full"),
   * not kill the server with everything in flight. */
  signal(SIGXFSZ, SIG_IGN);
  return APEX_OK;
}

int apex_signals_wait(int timeout_ms)
{
  if (g_sig)
    return (int)g_sig;
  if (g_pipe[0] < 0)
    return 0;
  struct pollfd p = {.fd = g_pipe[0], .events = POLLIN};
  for (;;) {
    int r = poll(&p, 1, timeout_ms);
    if (r < 0 && errno == EINTR) {
      if (g_sig)
        return (int)g_sig;
      continue;
    }
    break;
  }
  return (int)g_sig;
}

bool apex_signals_stop_requested(void) { return g_sig != 0; }
int apex_signals_fd(void) { return g_pipe[0]; }
void apex_signals_raise_stop(void) { on_signal(SIGTERM); }
