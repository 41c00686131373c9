/* bigbuf.c - huge-page-backed large arrays (see bigbuf.h). */
#include "sys/bigbuf.h"

#include <stdlib.h>
#include <sys/mman.h>

#define BIG (4u << 20) /* below this, malloc's own arenas do better */
#define HUGE_PAGE (2u << 20)

static size_t rounded(size_t bytes) { return (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE; }

void *apex_bigbuf_alloc(size_t bytes)
{
  if (bytes < BIG)
    return malloc(bytes ? bytes : 1);
  void *p = mmap(NULL, rounded(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
#ifdef MADV_HUGEPAGE
  (void)madvise(p, rounded(bytes), MADV_HUGEPAGE); /* a hint: without it we only lose speed */
#endif
  return p;
}

void apex_bigbuf_free(void *p, size_t bytes)
{
  if (!p)
    return;
  if (bytes < BIG)
    free(p);
  else
    munmap(p, rounded(bytes));
}
