/* signals.h - SIGTERM/SIGINT turned into something a loop can wait on (a self-pipe), and
 * SIGPIPE ignored so a closed client socket is an error return, not a dead process. */
#ifndef APEX_SYS_SIGNALS_H
#define APEX_SYS_SIGNALS_H

#include <stdbool.h>

#include "base/err.h"

/* Installs the handlers (idempotent). APEX_EIO with err set when the pipe cannot be made. */
apex_err apex_signals_install(apex_error *err);
/* Waits up to timeout_ms (-1 = forever) for SIGTERM/SIGINT; returns the signal number, or 0 on
 * timeout. A signal that arrived before the call is returned at once. */
int apex_signals_wait(int timeout_ms);
/* True once SIGTERM or SIGINT has arrived. */
bool apex_signals_stop_requested(void);
/* The read end of the self-pipe, readable once a stop signal arrived (for poll/epoll loops). */
int apex_signals_fd(void);
/* Pretends a stop signal arrived (tests, or an internal fatal condition). */
void apex_signals_raise_stop(void);

#endif
