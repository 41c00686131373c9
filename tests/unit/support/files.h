/* files.h - a whole test data file in memory. */
#ifndef APEX_TEST_FILES_H
#define APEX_TEST_FILES_H

#include <stddef.h>

/* The bytes of the file at path, NUL added after them (*len excludes it); the caller frees. NULL
 * when it cannot be read. */
char *apex_test_slurp(const char *path, size_t *len);

#endif
