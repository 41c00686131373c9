/* problems.h - every validation problem at once, each with a JSON Pointer to where it is and a
 * message a person can act on: "/conditions/1/params/period: must be an integer from 2 to 100000,
 * got 0". Pure: fixed-size, no allocation. */
#ifndef APEX_CORE_PROBLEMS_H
#define APEX_CORE_PROBLEMS_H

#include <stddef.h>

#define APEX_PROBLEMS_MAX 32

typedef struct apex_problem {
  char pointer[256]; /* JSON Pointer (RFC 6901), "" for the document itself */
  char message[256];
  int code; /* an error code of its own (app/errors.def), 0: the enclosing error's */
} apex_problem;

typedef struct apex_problems {
  size_t n;     /* problems kept (at most APEX_PROBLEMS_MAX) */
  size_t total; /* problems found, kept or not */
  apex_problem item[APEX_PROBLEMS_MAX];
} apex_problems;

/* Records one problem; beyond APEX_PROBLEMS_MAX only the count grows. */
void apex_problems_add(apex_problems *p, const char *pointer, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes "pointer: message" of problem i into buf (truncated to cap). */
void apex_problems_format(const apex_problems *p, size_t i, char *buf, size_t cap);

#endif
