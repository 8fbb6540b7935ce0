/* gzip layers with ISA-L (layer_gzip.h).  */
#include "layer_gzip.h"

#include <errno.h>
#include <isa-l/igzip_lib.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BLOCK (256 * 1024)

struct layer_gzip
{
  struct inflate_state st;
  const struct layer_source *src;
  bool src_ended;
  uint8_t out[OUT_BLOCK];
};

bool
layer_gzip_magic (const void *head, size_t len)
{
  const uint8_t *p = head;
  return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

struct layer_gzip *
layer_gzip_new (const struct layer_source *src, const void *first, size_t first_len)
{
  struct layer_gzip *g = malloc (sizeof (*g));
  if (g == NULL)
    return NULL;
  isal_inflate_init (&g->st);
  g->st.crc_flag = ISAL_GZIP;
  g->st.next_in = (uint8_t *) first;
  g->st.avail_in = first_len;
  g->src = src;
  g->src_ended = false;
  return g;
}

void
layer_gzip_free (struct layer_gzip *g)
{
  free (g);
}

/* More input when the current block is used up: 1, 0 at the source's
   end, -1 when it failed.  */
static int
refill (struct layer_gzip *g, const char **error)
{
  const void *buf;
  ssize_t n;

  if (g->st.avail_in > 0)
    return 1;
  if (g->src_ended)
    return 0;
  n = g->src->read (g->src->data, &buf);
  if (n < 0)
    {
      *error = strerror (errno);
      return -1;
    }
  if (n == 0)
    {
      g->src_ended = true;
      return 0;
    }
  g->st.next_in = (uint8_t *) buf;
  g->st.avail_in = n;
  return 1;
}

static const char *
inflate_error (int r)
{
  switch (r)
    {
    case ISAL_INVALID_WRAPPER:
    case ISAL_UNSUPPORTED_METHOD:
      return "gzip: invalid header";
    case ISAL_INCORRECT_CHECKSUM:
      return "gzip: checksum error";
    default:
      return "gzip: invalid compressed data";
    }
}

ssize_t
layer_gzip_next (struct layer_gzip *g, const void **buf, const char **error)
{
  for (;;)
    {
      int more, r;

      if (g->st.block_state == ISAL_BLOCK_FINISH)
        {
          /* A member ended: another may follow (Go's gzip reader, which
             Docker uses, reads them all); anything else is an error.  */
          uint8_t *in;
          uint32_t n;
          more = refill (g, error);
          if (more <= 0)
            return more;
          in = g->st.next_in;
          n = g->st.avail_in;
          if (in[0] != 0x1f || (n >= 2 && in[1] != 0x8b))
            return *error = "gzip: invalid header after the end of the stream", -1;
          isal_inflate_reset (&g->st);
          g->st.crc_flag = ISAL_GZIP;
          g->st.next_in = in;
          g->st.avail_in = n;
        }
      more = refill (g, error);
      if (more < 0)
        return -1;
      g->st.next_out = g->out;
      g->st.avail_out = sizeof (g->out);
      r = isal_inflate (&g->st);
      if (r < 0)
        return *error = inflate_error (r), -1;
      if (g->st.avail_out < sizeof (g->out))
        {
          *buf = g->out;
          return sizeof (g->out) - g->st.avail_out;
        }
      /* No input left, nothing made, not at the end: cut short.  */
      if (more == 0 && g->st.block_state != ISAL_BLOCK_FINISH)
        return *error = "gzip: unexpected end of stream", -1;
    }
}
