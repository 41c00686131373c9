/* ids.h - record ids (UUID v4 text). */
#ifndef APEX_APP_IDS_H
#define APEX_APP_IDS_H

#include <stdbool.h>

#include "base/err.h"
#include "store/store.h"

/* A new random id. APEX_EIO if the kernel gives no randomness. */
apex_err apex_app_new_id(apex_id out);
/* s looks like an id we made (lower-case 8-4-4-4-12 hex): anything else is a 404 without a query. */
bool apex_app_id_ok(const char *s);
/* The id named by text (a UUID of version 5's shape from its SHA-256, sha256_hex writing 64 hex
 * digits and a NUL): the same text always names the same record. */
void apex_app_name_id(void (*sha256_hex)(const char *text, char *out), const char *text, apex_id out);

#endif
