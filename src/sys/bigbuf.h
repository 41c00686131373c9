/* bigbuf.h - large arrays (indicator columns over millions of candles) in memory straight from the
 * kernel, asking for transparent huge pages: 512 times fewer page faults than 4 KiB pages, which
 * otherwise cost more than computing an indicator. Small sizes fall back to malloc. */
#ifndef APEX_SYS_BIGBUF_H
#define APEX_SYS_BIGBUF_H

#include <stddef.h>

/* NULL on OOM; contents undefined. */
void *apex_bigbuf_alloc(size_t bytes);
/* Frees p from apex_bigbuf_alloc(bytes) (the same size); NULL is a no-op. */
void apex_bigbuf_free(void *p, size_t bytes);

#endif
