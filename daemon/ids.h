/* Container and exec ids (64 hex digits, shown as 12) and container names
   as Docker accepts them.  */
#ifndef SKIFF_DAEMON_IDS_H
#define SKIFF_DAEMON_IDS_H

#include <stdbool.h>
#include "error.h"

#define ID_LEN 64
#define ID_SHORT_LEN 12

/* Fills buf (ID_LEN + 1 bytes) with a random id that does not look like a
   number (Docker avoids all-digit short ids, which some tools misparse). */
int id_generate (char *buf, skiff_error_t *err);
bool id_is_full (const char *s);

/* Docker's rule: [a-zA-Z0-9][a-zA-Z0-9_.-]+, with an optional leading '/'. */
bool name_is_valid (const char *name);

/* A random "adjective_surname" name, as Docker gives unnamed containers. */
char *name_generate (void);

#endif
