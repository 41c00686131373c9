/* slow_epoll_del.c - test-only fault injection, LD_PRELOADed into `apextrade serve` by
 * test_shutdown.py: every EPOLL_CTL_DEL waits 300 us before it happens. That widens the window
 * between libmicrohttpd checking "is the listen socket still in this epoll set?" and deleting it,
 * so MHD_quiesce_daemon()'s race with its workers (an abort, "Failed to remove listen FD from epoll
 * set") shows in about half of the stops under load instead of one in a hundred. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <sys/epoll.h>
#include <time.h>

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
  static int (*real)(int, int, int, struct epoll_event *);
  if (!real)
    *(void **)&real = dlsym(RTLD_NEXT, "epoll_ctl"); /* POSIX's way to take a function from dlsym */
  if (op == EPOLL_CTL_DEL) {
    struct timespec t = {0, 300 * 1000};
    nanosleep(&t, NULL);
  }
  return real(epfd, op, fd, ev);
}
