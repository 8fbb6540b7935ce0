/* Image references: a small, strict subset of Docker's
   distribution/reference grammar and its normalisation.

     alpine                        -> docker.io/library/alpine (name only)
     alpine:3.19                   -> docker.io/library/alpine:3.19
     user/app                      -> docker.io/user/app
     localhost:5000/x:1            -> localhost:5000/x:1
     name@sha256:<64 hex>          -> digest reference

   The familiar form strips "docker.io/" and "library/" again for display.  */
#ifndef SKIFF_IMAGE_REFERENCE_H
#define SKIFF_IMAGE_REFERENCE_H

#include <stdbool.h>
#include "error.h"

struct image_ref
{
  char *domain; /* "docker.io", "localhost:5000" */
  char *path;   /* "library/alpine" */
  char *tag;    /* NULL when none was given */
  char *digest; /* "sha256:<hex>", NULL when none was given */
};

/* Parses and normalises s.  Errors: "invalid reference format" (with
   Docker's details for upper case and 64-hex names).  Returns 0 or -1.  */
int image_ref_parse (const char *s, struct image_ref *ref, skiff_error_t *err);

/* Adds the tag "latest" when the reference has neither tag nor digest.  */
int image_ref_default_tag (struct image_ref *ref, skiff_error_t *err);

void image_ref_clear (struct image_ref *ref);

static inline void
cleanup_image_refp (struct image_ref *r)
{
  image_ref_clear (r);
}
#define cleanup_image_ref __attribute__ ((cleanup (cleanup_image_refp)))

/* malloc'd strings, NULL on ENOMEM.  */
char *image_ref_name (const struct image_ref *ref);            /* docker.io/library/alpine */
char *image_ref_string (const struct image_ref *ref);          /* docker.io/library/alpine:latest */
char *image_ref_familiar_name (const struct image_ref *ref);   /* alpine */
char *image_ref_familiar_string (const struct image_ref *ref); /* alpine:latest */

/* Familiar form of a normalised reference string such as
   "docker.io/library/alpine:latest"; a copy of s when it does not parse.  */
char *image_ref_familiarize (const char *s);

/* True for "sha256:<64 hex>".  */
bool image_ref_is_digest (const char *s);

/* True when s is 1..64 lowercase hex digits, optionally after "sha256:".  */
bool image_ref_is_id_prefix (const char *s);

#endif
