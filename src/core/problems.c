/* problems.c - collecting validation problems (see problems.h). */
#include "core/problems.h"

#include "base/utf8.h"

#include <stdarg.h>
#include <stdio.h>

void apex_problems_add(apex_problems *p, const char *pointer, const char *fmt, ...)
{
  p->total++;
  if (p->n == APEX_PROBLEMS_MAX)
    return;
  apex_problem *it = &p->item[p->n++];
  it->code = 0;
  snprintf(it->pointer, sizeof it->pointer, "%s", pointer);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(it->message, sizeof it->message, fmt, ap);
  va_end(ap);
  /* Both quote the client's text, cut to fit: never half a character (they go into JSON). */
  apex_utf8_trim(it->pointer);
  apex_utf8_trim(it->message);
}

void apex_problems_format(const apex_problems *p, size_t i, char *buf, size_t cap)
{
  if (p->item[i].pointer[0])
    snprintf(buf, cap, "%s: %s", p->item[i].pointer, p->item[i].message);
  else
    snprintf(buf, cap, "%s", p->item[i].message);
  if (cap)
    apex_utf8_trim(buf);
}
