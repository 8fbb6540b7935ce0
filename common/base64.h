/* Base64 over glibc's b64_ntop/b64_pton (libresolv), in the standard
   and the URL alphabet (Go's base64.URLEncoding, which the docker CLI
   uses for X-Registry-Auth).  */
#ifndef SKIFF_COMMON_BASE64_H
#define SKIFF_COMMON_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* malloc'd, NUL-terminated, with padding; NULL on ENOMEM.  */
char *base64_encode (const void *data, size_t len, bool url);

/* Either alphabet, padding optional.  malloc'd and NUL-terminated, length
   in *len (may be NULL); NULL when s is not base64.  */
char *base64_decode (const char *s, size_t *len);

#endif
