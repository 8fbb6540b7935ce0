/* The json-file log writer.  The entry encoder is hand-written rather than
   yajl's: Docker's format replaces invalid UTF-8 by U+FFFD and escapes
   < > & U+2028 U+2029, which yajl_gen cannot do.  */
#include "jsonlog.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct partial
{
  char data[JSONLOG_LINE_MAX];
  size_t len;
};

struct jsonlog
{
  int fd;
  char *path;
  struct partial part[2];
  char *out; /* formatted entries waiting for write() */
  size_t out_len, out_cap;
};

static const char *const stream_names[] = { "stdout", "stderr" };

/* ---- encoding ----------------------------------------------------------- */

static int
reserve (char **buf, size_t *len, size_t *cap, size_t more)
{
  size_t need = *len + more, ncap;
  char *nb;
  if (need <= *cap)
    return 0;
  ncap = *cap ? *cap : 256;
  while (ncap < need)
    ncap *= 2;
  nb = realloc (*buf, ncap);
  if (nb == NULL)
    return -1;
  *buf = nb;
  *cap = ncap;
  return 0;
}

/* Length of the valid UTF-8 sequence at p (as Go's utf8.DecodeRune accepts
   it: no overlong forms, no surrogates, at most U+10FFFF), 0 if invalid.
   *cp gets the code point.  */
static size_t
utf8_decode (const unsigned char *p, size_t n, uint32_t *cp)
{
  uint32_t c;
  size_t len, i;
  if (p[0] < 0x80)
    {
      *cp = p[0];
      return 1;
    }
  if (p[0] >= 0xc2 && p[0] <= 0xdf)
    len = 2, c = p[0] & 0x1f;
  else if (p[0] >= 0xe0 && p[0] <= 0xef)
    len = 3, c = p[0] & 0x0f;
  else if (p[0] >= 0xf0 && p[0] <= 0xf4)
    len = 4, c = p[0] & 0x07;
  else
    return 0;
  if (n < len)
    return 0;
  for (i = 1; i < len; i++)
    {
      if ((p[i] & 0xc0) != 0x80)
        return 0;
      c = (c << 6) | (p[i] & 0x3f);
    }
  if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (len == 4 && (c < 0x10000 || c > 0x10ffff)))
    return 0;
  *cp = c;
  return len;
}

/* Appends s as a JSON string, escaped as Docker's jsonlog does.  */
static int
append_string (char **buf, size_t *len, size_t *cap, const unsigned char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i = 0;

  /* Worst case: every byte becomes a 6-byte escape.  */
  if (reserve (buf, len, cap, n * 6 + 2) < 0)
    return -1;
  (*buf)[(*len)++] = '"';
  while (i < n)
    {
      unsigned char b = s[i];
      uint32_t cp;
      size_t sz;
      char *o = *buf + *len;

      if (b < 0x80)
        {
          if (b >= 0x20 && b != '\\' && b != '"' && b != '<' && b != '>' && b != '&')
            *o = (char) b, *len += 1;
          else if (b == '\\' || b == '"')
            o[0] = '\\', o[1] = (char) b, *len += 2;
          else if (b == '\n')
            o[0] = '\\', o[1] = 'n', *len += 2;
          else if (b == '\r')
            o[0] = '\\', o[1] = 'r', *len += 2;
          else
            {
              memcpy (o, "\\u00", 4);
              o[4] = hex[b >> 4];
              o[5] = hex[b & 0xf];
              *len += 6;
            }
          i++;
          continue;
        }
      sz = utf8_decode (s + i, n - i, &cp);
      if (sz == 0)
        {
          memcpy (o, "\\ufffd", 6);
          *len += 6;
          i++;
          continue;
        }
      if (cp == 0x2028 || cp == 0x2029)
        {
          memcpy (o, "\\u202", 5);
          o[5] = hex[cp & 0xf];
          *len += 6;
        }
      else
        {
          memcpy (o, s + i, sz);
          *len += sz;
        }
      i += sz;
    }
  (*buf)[(*len)++] = '"';
  return 0;
}

/* Go's time.RFC3339Nano in UTC: the fraction without trailing zeros, and
   no fraction at all when it is zero.  */
static void
format_time (const struct timespec *t, char *out, size_t size)
{
  struct tm tm;
  char base[32], frac[32] = "";
  time_t sec = t->tv_sec;

  gmtime_r (&sec, &tm);
  strftime (base, sizeof (base), "%Y-%m-%dT%H:%M:%S", &tm);
  if (t->tv_nsec > 0)
    {
      size_t l;
      snprintf (frac, sizeof (frac), ".%09ld", t->tv_nsec);
      l = strlen (frac);
      while (l > 1 && frac[l - 1] == '0')
        frac[--l] = '\0';
    }
  snprintf (out, size, "%s%sZ", base, frac);
}

int
jsonlog_format (char **buf, size_t *len, size_t *cap, const void *data, size_t n, enum jsonlog_stream s,
                const struct timespec *t)
{
  char ts[64];
  int l;

  format_time (t, ts, sizeof (ts));
  if (reserve (buf, len, cap, 8) < 0)
    return -1;
  memcpy (*buf + *len, "{\"log\":", 7);
  *len += 7;
  if (append_string (buf, len, cap, data, n) < 0)
    return -1;
  if (reserve (buf, len, cap, 64 + strlen (ts)) < 0)
    return -1;
  l = snprintf (*buf + *len, *cap - *len, ",\"stream\":\"%s\",\"time\":\"%s\"}\n", stream_names[s], ts);
  *len += l;
  return 0;
}

/* ---- the writer --------------------------------------------------------- */

int
jsonlog_open (const char *path, struct jsonlog **out, skiff_error_t *err)
{
  struct jsonlog *l = calloc (1, sizeof (*l));
  if (l == NULL)
    return skiff_error_make (err, ENOMEM, "log");
  l->path = strdup (path);
  if (l->path == NULL)
    {
      free (l);
      return skiff_error_make (err, ENOMEM, "log");
    }
  l->fd = open (path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  if (l->fd < 0)
    {
      int e = errno;
      free (l->path);
      free (l);
      return skiff_error_make (err, e, "open log file `%s`", path);
    }
  *out = l;
  return 0;
}

static int
emit (struct jsonlog *l, enum jsonlog_stream s, const char *data, size_t n, skiff_error_t *err)
{
  struct timespec now;
  clock_gettime (CLOCK_REALTIME, &now);
  if (jsonlog_format (&l->out, &l->out_len, &l->out_cap, data, n, s, &now) < 0)
    return skiff_error_make (err, ENOMEM, "log entry");
  return 0;
}

/* Writes what emit() formatted.  On failure (disk full...) the entries are
   dropped: the log must not hold the container back.  */
static int
write_out (struct jsonlog *l, skiff_error_t *err)
{
  size_t off = 0;
  int ret = 0;
  while (off < l->out_len)
    {
      ssize_t n = write (l->fd, l->out + off, l->out_len - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          ret = skiff_error_make (err, n < 0 ? errno : EIO, "write log file `%s`", l->path);
          break;
        }
      off += n;
    }
  l->out_len = 0;
  return ret;
}

int
jsonlog_write (struct jsonlog *l, enum jsonlog_stream s, const void *data, size_t len, skiff_error_t *err)
{
  struct partial *p = &l->part[s];
  const char *d = data;

  while (len > 0)
    {
      const char *nl = memchr (d, '\n', len);
      size_t take = nl ? (size_t) (nl - d) + 1 : len;
      size_t room = sizeof (p->data) - p->len;
      if (take > room)
        take = room;
      memcpy (p->data + p->len, d, take);
      p->len += take;
      d += take;
      len -= take;
      if (p->data[p->len - 1] == '\n' || p->len == sizeof (p->data))
        {
          if (emit (l, s, p->data, p->len, err) < 0)
            return -1;
          p->len = 0;
        }
    }
  return write_out (l, err);
}

int
jsonlog_flush_stream (struct jsonlog *l, enum jsonlog_stream s, skiff_error_t *err)
{
  struct partial *p = &l->part[s];
  if (p->len == 0)
    return 0;
  if (emit (l, s, p->data, p->len, err) < 0)
    return -1;
  p->len = 0;
  return write_out (l, err);
}

int
jsonlog_flush (struct jsonlog *l, skiff_error_t *err)
{
  if (jsonlog_flush_stream (l, JSONLOG_STDOUT, err) < 0)
    return -1;
  return jsonlog_flush_stream (l, JSONLOG_STDERR, err);
}

void
jsonlog_close (struct jsonlog *l)
{
  if (l == NULL)
    return;
  if (l->fd >= 0)
    close (l->fd);
  free (l->out);
  free (l->path);
  free (l);
}
