/* Human units, quoting, tables and the --format engine, as the docker
   CLI prints them (go-units, strconv, text/tabwriter, text/template).  */
#include "format.h"
#include "cleanup.h"
#include "json.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char *
xasprintf (const char *fmt, ...)
{
  va_list ap;
  char *s = NULL;
  va_start (ap, fmt);
  if (vasprintf (&s, fmt, ap) < 0)
    s = NULL;
  va_end (ap);
  return s;
}

char *
format_human_duration (double seconds_f)
{
  long long seconds = (long long) seconds_f;
  long long minutes, hours;

  if (seconds < 1)
    return strdup ("Less than a second");
  if (seconds == 1)
    return strdup ("1 second");
  if (seconds < 60)
    return xasprintf ("%lld seconds", seconds);
  minutes = (long long) (seconds_f / 60);
  if (minutes == 1)
    return strdup ("About a minute");
  if (minutes < 60)
    return xasprintf ("%lld minutes", minutes);
  hours = (long long) (seconds_f / 3600 + 0.5);
  if (hours == 1)
    return strdup ("About an hour");
  if (hours < 48)
    return xasprintf ("%lld hours", hours);
  if (hours < 24 * 7 * 2)
    return xasprintf ("%lld days", hours / 24);
  if (hours < 24 * 30 * 2)
    return xasprintf ("%lld weeks", hours / 24 / 7);
  if (hours < 24 * 365 * 2)
    return xasprintf ("%lld months", hours / 24 / 30);
  return xasprintf ("%lld years", (long long) (seconds_f / 3600) / 24 / 365);
}

static char *
custom_size (double size, double base, const char *const *units, size_t nunits, int precision)
{
  size_t i = 0;
  while (size >= base && i < nunits - 1)
    {
      size /= base;
      i++;
    }
  /* C's %g and Go's %g agree for these magnitudes (both drop trailing
     zeros and switch to e-notation at the same exponent).  */
  return xasprintf ("%.*g%s", precision, size, units[i]);
}

char *
format_human_size (double size, int precision)
{
  static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
  return custom_size (size, 1000.0, units, sizeof (units) / sizeof (units[0]), precision);
}

char *
format_bytes_size (double size)
{
  static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };
  return custom_size (size, 1024.0, units, sizeof (units) / sizeof (units[0]), 4);
}

/* Decodes one UTF-8 sequence at s; returns its length, 0 when invalid.  */
static size_t
utf8_decode (const unsigned char *s, unsigned *cp)
{
  size_t n, i;
  unsigned c = s[0];
  if (c < 0x80)
    {
      *cp = c;
      return 1;
    }
  if ((c & 0xe0) == 0xc0)
    n = 2, c &= 0x1f;
  else if ((c & 0xf0) == 0xe0)
    n = 3, c &= 0x0f;
  else if ((c & 0xf8) == 0xf0)
    n = 4, c &= 0x07;
  else
    return 0;
  for (i = 1; i < n; i++)
    {
      if ((s[i] & 0xc0) != 0x80)
        return 0;
      c = (c << 6) | (s[i] & 0x3f);
    }
  if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10ffff))
      || (c >= 0xd800 && c <= 0xdfff))
    return 0;
  *cp = c;
  return n;
}

char *
format_go_quote (const char *str)
{
  const unsigned char *s = (const unsigned char *) str;
  size_t cap = strlen (str) * 6 + 3, o = 0;
  char *out = malloc (cap);

  if (out == NULL)
    return NULL;
  out[o++] = '"';
  while (*s)
    {
      unsigned cp;
      size_t n = utf8_decode (s, &cp);
      if (n == 0)
        {
          o += sprintf (out + o, "\\x%02x", *s);
          s++;
          continue;
        }
      switch (cp)
        {
        case '\a': o += sprintf (out + o, "\\a"); break;
        case '\b': o += sprintf (out + o, "\\b"); break;
        case '\f': o += sprintf (out + o, "\\f"); break;
        case '\n': o += sprintf (out + o, "\\n"); break;
        case '\r': o += sprintf (out + o, "\\r"); break;
        case '\t': o += sprintf (out + o, "\\t"); break;
        case '\v': o += sprintf (out + o, "\\v"); break;
        case '\\': o += sprintf (out + o, "\\\\"); break;
        case '"': o += sprintf (out + o, "\\\""); break;
        default:
          if (cp < 0x20 || cp == 0x7f)
            o += sprintf (out + o, "\\x%02x", cp);
          else if (cp >= 0x80 && cp < 0xa0)
            o += sprintf (out + o, "\\u%04x", cp);
          else
            {
              memcpy (out + o, s, n);
              o += n;
            }
        }
      s += n;
    }
  out[o++] = '"';
  out[o] = '\0';
  return out;
}

size_t
format_text_width (const char *s)
{
  size_t w = 0;
  for (; *s; s++)
    if (((unsigned char) *s & 0xc0) != 0x80)
      w++;
  return w;
}

char *
format_ellipsis (const char *s, size_t max_width)
{
  size_t i = 0, chars = 0;

  if (max_width == 0)
    return strdup ("");
  if (format_text_width (s) <= max_width)
    return strdup (s);
  /* Keep max_width - 1 characters and add the ellipsis.  */
  while (s[i] && chars < max_width - 1)
    {
      i++;
      while (((unsigned char) s[i] & 0xc0) == 0x80)
        i++;
      chars++;
    }
  return xasprintf ("%.*s…", (int) i, s);
}

char *
format_trunc_id (const char *id)
{
  const char *colon = strchr (id, ':');
  if (colon)
    id = colon + 1;
  return strndup (id, 12);
}

/* ---- tabwriter ---- */

void
tabwriter_init (struct tabwriter *tw, size_t minwidth, size_t padding)
{
  memset (tw, 0, sizeof (*tw));
  tw->minwidth = minwidth;
  tw->padding = padding;
}

int
tabwriter_write (struct tabwriter *tw, const char *s, size_t len)
{
  if (tw->len + len + 1 > tw->cap)
    {
      size_t cap = (tw->len + len + 1) * 2;
      char *b = realloc (tw->buf, cap);
      if (b == NULL)
        return -1;
      tw->buf = b;
      tw->cap = cap;
    }
  memcpy (tw->buf + tw->len, s, len);
  tw->len += len;
  tw->buf[tw->len] = '\0';
  return 0;
}

static size_t
count_tabs (const char *line, size_t len)
{
  size_t i, n = 0;
  for (i = 0; i < len; i++)
    if (line[i] == '\t')
      n++;
  return n;
}

static size_t
span_width (const char *s, size_t len)
{
  size_t i, w = 0;
  for (i = 0; i < len; i++)
    if (((unsigned char) s[i] & 0xc0) != 0x80)
      w++;
  return w;
}

int
tabwriter_flush (struct tabwriter *tw, FILE *out)
{
  cleanup_free size_t *widths = NULL;
  size_t ncols = 0, pos;

  if (tw->len == 0)
    return 0;
  /* Pass 1: the widest cell of every column.  */
  for (pos = 0; pos < tw->len;)
    {
      const char *line = tw->buf + pos, *nl = memchr (line, '\n', tw->len - pos);
      size_t len = nl ? (size_t) (nl - line) : tw->len - pos, ntabs = count_tabs (line, len), j = 0, start = 0, i;
      if (ntabs > ncols)
        {
          size_t *w = realloc (widths, ntabs * sizeof (size_t));
          if (w == NULL)
            return -1;
          for (i = ncols; i < ntabs; i++)
            w[i] = tw->minwidth;
          widths = w;
          ncols = ntabs;
        }
      for (i = 0; i < len; i++)
        if (line[i] == '\t')
          {
            size_t cw = span_width (line + start, i - start) + tw->padding;
            if (cw > widths[j])
              widths[j] = cw;
            j++;
            start = i + 1;
          }
      pos += len + (nl ? 1 : 0);
    }
  /* Pass 2: print, padding every cell but the last of a line.  */
  for (pos = 0; pos < tw->len;)
    {
      const char *line = tw->buf + pos, *nl = memchr (line, '\n', tw->len - pos);
      size_t len = nl ? (size_t) (nl - line) : tw->len - pos, j = 0, start = 0, i;
      for (i = 0; i < len; i++)
        if (line[i] == '\t')
          {
            size_t cw = span_width (line + start, i - start);
            fwrite (line + start, 1, i - start, out);
            for (; cw < widths[j]; cw++)
              fputc (' ', out);
            j++;
            start = i + 1;
          }
      fwrite (line + start, 1, len - start, out);
      if (nl)
        fputc ('\n', out);
      pos += len + (nl ? 1 : 0);
    }
  tw->len = 0;
  return ferror (out) ? -1 : 0;
}

void
tabwriter_release (struct tabwriter *tw)
{
  free (tw->buf);
  tw->buf = NULL;
  tw->len = tw->cap = 0;
}

/* ---- templates ---- */

enum seg_fn
{
  FN_NONE,
  FN_JSON,
  FN_UPPER,
  FN_LOWER,
  FN_TITLE,
  FN_INDEX,
};

struct format_segment
{
  char *text;   /* literal text, or NULL for an action */
  char **path;  /* field path ("." is an empty path) */
  size_t npath;
  enum seg_fn fn;
  char *key;    /* index's key */
  char *src;    /* the action as written, for messages */
};

static void
segments_free (struct format_segment *segs, size_t n)
{
  size_t i, j;
  for (i = 0; i < n; i++)
    {
      free (segs[i].text);
      for (j = 0; j < segs[i].npath; j++)
        free (segs[i].path[j]);
      free (segs[i].path);
      free (segs[i].key);
      free (segs[i].src);
    }
  free (segs);
}

/* Docker replaces the two-character sequences \t and \n by the real ones.  */
static char *
unescape_format (const char *s)
{
  char *out = malloc (strlen (s) + 1), *o = out;
  if (out == NULL)
    return NULL;
  while (*s)
    {
      if (s[0] == '\\' && s[1] == 't')
        *o++ = '\t', s += 2;
      else if (s[0] == '\\' && s[1] == 'n')
        *o++ = '\n', s += 2;
      else
        *o++ = *s++;
    }
  *o = '\0';
  return out;
}

static int
parse_path (const char *arg, struct format_segment *seg, skiff_error_t *err)
{
  const char *p;
  if (arg[0] != '.')
    return skiff_error_make (err, 0, "template parsing error: unsupported argument `%s` in `{{%s}}`", arg, seg->src);
  if (arg[1] == '\0')
    return 0;
  p = arg + 1;
  for (;;)
    {
      const char *dot = strchr (p, '.');
      size_t len = dot ? (size_t) (dot - p) : strlen (p);
      char **np;
      if (len == 0)
        return skiff_error_make (err, 0, "template parsing error: bad field path `%s`", arg);
      np = realloc (seg->path, (seg->npath + 1) * sizeof (char *));
      if (np == NULL)
        return skiff_error_make (err, ENOMEM, "template");
      seg->path = np;
      seg->path[seg->npath] = strndup (p, len);
      if (seg->path[seg->npath++] == NULL)
        return skiff_error_make (err, ENOMEM, "template");
      if (dot == NULL)
        return 0;
      p = dot + 1;
    }
}

/* Parses the inside of one {{ }} action.  */
static int
parse_action (char *inner, struct format_segment *seg, skiff_error_t *err)
{
  char *words[4] = { NULL };
  size_t n = 0;
  char *p = inner;

  while (*p && n < 4)
    {
      while (*p == ' ')
        p++;
      if (*p == '\0')
        break;
      if (*p == '"')
        {
          char *end = strchr (p + 1, '"');
          if (end == NULL)
            return skiff_error_make (err, 0, "template parsing error: unterminated quoted string in `{{%s}}`", seg->src);
          words[n++] = p;
          p = end + 1;
          if (*p)
            *p++ = '\0';
          continue;
        }
      words[n++] = p;
      while (*p && *p != ' ')
        p++;
      if (*p)
        *p++ = '\0';
    }
  while (*p == ' ')
    p++;
  if (n == 0 || *p)
    return skiff_error_make (err, 0, "template parsing error: unsupported action `{{%s}}`", seg->src);
  if (n == 1)
    return parse_path (words[0], seg, err);
  if (strcmp (words[0], "json") == 0 && n == 2)
    seg->fn = FN_JSON;
  else if (strcmp (words[0], "upper") == 0 && n == 2)
    seg->fn = FN_UPPER;
  else if (strcmp (words[0], "lower") == 0 && n == 2)
    seg->fn = FN_LOWER;
  else if (strcmp (words[0], "title") == 0 && n == 2)
    seg->fn = FN_TITLE;
  else if (strcmp (words[0], "index") == 0 && n == 3 && words[2][0] == '"')
    {
      size_t l = strlen (words[2]);
      seg->fn = FN_INDEX;
      seg->key = strndup (words[2] + 1, l >= 2 && words[2][l - 1] == '"' ? l - 2 : l - 1);
      if (seg->key == NULL)
        return skiff_error_make (err, ENOMEM, "template");
    }
  else
    return skiff_error_make (err, 0, "template parsing error: unsupported action `{{%s}}`", seg->src);
  return parse_path (words[1], seg, err);
}

static int
add_segment (struct format_segment **segs, size_t *n, skiff_error_t *err)
{
  struct format_segment *s = realloc (*segs, (*n + 1) * sizeof (**segs));
  if (s == NULL)
    return skiff_error_make (err, ENOMEM, "template");
  memset (&s[*n], 0, sizeof (s[*n]));
  *segs = s;
  (*n)++;
  return 0;
}

static int
template_parse (const char *tmpl, struct format_segment **out, size_t *nout, skiff_error_t *err)
{
  struct format_segment *segs = NULL;
  size_t n = 0;
  const char *p = tmpl;

  while (*p)
    {
      const char *open = strstr (p, "{{"), *close, *a, *b;
      cleanup_free char *inner = NULL;
      if (open != p)
        {
          size_t len = open ? (size_t) (open - p) : strlen (p);
          if (add_segment (&segs, &n, err) < 0)
            goto fail;
          segs[n - 1].text = strndup (p, len);
          if (segs[n - 1].text == NULL)
            goto fail;
          p += len;
          continue;
        }
      close = strstr (open + 2, "}}");
      if (close == NULL)
        {
          skiff_error_make (err, 0, "template parsing error: unclosed action in `%s`", tmpl);
          goto fail;
        }
      /* Trim markers "{{-" and "-}}" and surrounding blanks.  */
      a = open + 2;
      b = close;
      if (*a == '-')
        a++;
      if (b > a && b[-1] == '-')
        b--;
      while (a < b && isspace ((unsigned char) *a))
        a++;
      while (b > a && isspace ((unsigned char) b[-1]))
        b--;
      inner = strndup (a, b - a);
      if (inner == NULL || add_segment (&segs, &n, err) < 0)
        goto fail;
      segs[n - 1].src = strdup (inner);
      if (segs[n - 1].src == NULL || parse_action (inner, &segs[n - 1], err) < 0)
        goto fail;
      p = close + 2;
    }
  *out = segs;
  *nout = n;
  return 0;

fail:
  segments_free (segs, n);
  if (err && *err == NULL)
    skiff_error_make (err, ENOMEM, "template");
  return -1;
}

/* A growing string.  */
struct sbuf
{
  char *s;
  size_t len, cap;
};

static int
sbuf_add (struct sbuf *b, const char *s, size_t len)
{
  if (b->len + len + 1 > b->cap)
    {
      size_t cap = (b->len + len + 1) * 2 + 64;
      char *n = realloc (b->s, cap);
      if (n == NULL)
        return -1;
      b->s = n;
      b->cap = cap;
    }
  memcpy (b->s + b->len, s, len);
  b->len += len;
  b->s[b->len] = '\0';
  return 0;
}

static int
sbuf_str (struct sbuf *b, const char *s)
{
  return sbuf_add (b, s, strlen (s));
}

static int
cmp_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Go's %v of a decoded JSON value.  */
static int
value_text (struct sbuf *b, yajl_val v)
{
  size_t i;
  if (v == NULL || YAJL_IS_NULL (v))
    return sbuf_str (b, "<nil>");
  if (YAJL_IS_STRING (v))
    return sbuf_str (b, YAJL_GET_STRING (v));
  if (YAJL_IS_NUMBER (v))
    return sbuf_str (b, YAJL_GET_NUMBER (v));
  if (YAJL_IS_TRUE (v))
    return sbuf_str (b, "true");
  if (YAJL_IS_FALSE (v))
    return sbuf_str (b, "false");
  if (YAJL_IS_ARRAY (v))
    {
      if (sbuf_str (b, "[") < 0)
        return -1;
      for (i = 0; i < v->u.array.len; i++)
        if ((i && sbuf_str (b, " ") < 0) || value_text (b, v->u.array.values[i]) < 0)
          return -1;
      return sbuf_str (b, "]");
    }
  /* An object prints like a Go map: keys sorted.  */
  {
    cleanup_free const char **keys = calloc (v->u.object.len + 1, sizeof (char *));
    if (keys == NULL)
      return -1;
    for (i = 0; i < v->u.object.len; i++)
      keys[i] = v->u.object.keys[i];
    qsort (keys, v->u.object.len, sizeof (char *), cmp_keys);
    if (sbuf_str (b, "map[") < 0)
      return -1;
    for (i = 0; i < v->u.object.len; i++)
      if ((i && sbuf_str (b, " ") < 0) || sbuf_str (b, keys[i]) < 0 || sbuf_str (b, ":") < 0
          || value_text (b, json_get (v, keys[i])) < 0)
        return -1;
    return sbuf_str (b, "]");
  }
}

static int
value_json (struct sbuf *b, yajl_val v, bool escape_html)
{
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream (&text, &len);
  int ret;
  if (f == NULL)
    return -1;
  format_json_compact (f, v, escape_html);
  if (fclose (f) != 0)
    {
      free (text);
      return -1;
    }
  ret = sbuf_add (b, text, len);
  free (text);
  return ret;
}

static int
render_segment (struct sbuf *b, const struct format_segment *seg, yajl_val ctx, bool strict, skiff_error_t *err)
{
  yajl_val v = ctx;
  size_t i, start;
  bool missing = false;

  if (seg->text)
    return sbuf_str (b, seg->text) < 0 ? skiff_error_make (err, ENOMEM, "template") : 0;
  for (i = 0; i < seg->npath && !missing; i++)
    {
      yajl_val next = json_get (v, seg->path[i]);
      if (next == NULL)
        {
          if (strict || (v != NULL && !YAJL_IS_OBJECT (v)))
            return skiff_error_make (err, 0, "template: :1: executing \"\" at <.%s>: can't evaluate field %s",
                                     seg->path[i], seg->path[i]);
          missing = true;
        }
      v = next;
    }
  if (!missing && seg->fn == FN_INDEX)
    {
      v = json_get (v, seg->key);
      missing = v == NULL;
    }
  start = b->len;
  if (missing)
    {
      /* Go: index of a missing map key is the zero value "".  */
      if (sbuf_str (b, seg->fn == FN_JSON ? "null" : seg->fn == FN_INDEX ? "" : "<no value>") < 0)
        return skiff_error_make (err, ENOMEM, "template");
      return 0;
    }
  /* {{json .}} of a ps/images context goes through its MarshalJSON
     (json.Marshal, HTML-escaped); the json function itself does not
     escape.  */
  if ((seg->fn == FN_JSON ? value_json (b, v, strict && seg->npath == 0) : value_text (b, v)) < 0)
    return skiff_error_make (err, ENOMEM, "template");
  for (i = start; i < b->len; i++)
    {
      if (seg->fn == FN_UPPER)
        b->s[i] = toupper ((unsigned char) b->s[i]);
      else if (seg->fn == FN_LOWER)
        b->s[i] = tolower ((unsigned char) b->s[i]);
      else if (seg->fn == FN_TITLE && (i == start || b->s[i - 1] == ' '))
        b->s[i] = toupper ((unsigned char) b->s[i]);
    }
  return 0;
}

static int
render (const struct format_segment *segs, size_t n, yajl_val ctx, bool strict, struct sbuf *b, skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (render_segment (b, &segs[i], ctx, strict, err) < 0)
      return -1;
  return 0;
}

int
format_render (const char *tmpl, yajl_val ctx, bool strict, char **out, skiff_error_t *err)
{
  struct format_segment *segs = NULL;
  size_t n = 0;
  struct sbuf b = { NULL, 0, 0 };
  cleanup_free char *t = unescape_format (tmpl);
  int ret;

  if (t == NULL)
    return skiff_error_make (err, ENOMEM, "template");
  if (template_parse (t, &segs, &n, err) < 0)
    return -1;
  ret = render (segs, n, ctx, strict, &b, err);
  segments_free (segs, n);
  if (ret < 0)
    {
      free (b.s);
      return -1;
    }
  *out = b.s ? b.s : strdup ("");
  return 0;
}

int
formatter_init (struct formatter *f, const char *format, const char *default_table,
                const struct format_header *headers, bool strict, FILE *out, skiff_error_t *err)
{
  cleanup_free char *t = NULL;
  const char *tmpl;

  memset (f, 0, sizeof (*f));
  f->headers = headers;
  f->strict = strict;
  f->out = out;
  tabwriter_init (&f->tw, 10, 3);
  if (format == NULL || format[0] == '\0' || strcmp (format, "table") == 0)
    format = default_table;
  if (strcmp (format, "json") == 0)
    format = "{{json .}}";
  tmpl = format;
  if (strncmp (format, "table", 5) == 0)
    {
      f->table = true;
      tmpl = format + 5;
    }
  while (*tmpl == ' ')
    tmpl++;
  t = unescape_format (tmpl);
  if (t == NULL)
    return skiff_error_make (err, ENOMEM, "template");
  /* Docker trims spaces at both ends of the template.  */
  {
    size_t l = strlen (t);
    while (l > 0 && t[l - 1] == ' ')
      t[--l] = '\0';
  }
  return template_parse (t, &f->segs, &f->nsegs, err);
}

static const char *
header_title (const struct format_header *headers, const struct format_segment *seg)
{
  const char *field;
  size_t i;
  if (seg->npath == 0)
    return "";
  field = seg->path[seg->npath - 1];
  for (i = 0; headers && headers[i].field; i++)
    if (strcmp (headers[i].field, field) == 0)
      return headers[i].title;
  return NULL;
}

static int
write_header (struct formatter *f, skiff_error_t *err)
{
  struct sbuf b = { NULL, 0, 0 };
  size_t i;
  int ret = 0;

  for (i = 0; i < f->nsegs && ret == 0; i++)
    {
      const struct format_segment *seg = &f->segs[i];
      const char *title;
      if (seg->text)
        {
          ret = sbuf_str (&b, seg->text);
          continue;
        }
      title = header_title (f->headers, seg);
      if (title)
        ret = sbuf_str (&b, title);
      else
        {
          size_t start = b.len, j;
          ret = sbuf_str (&b, seg->path[seg->npath - 1]);
          for (j = start; ret == 0 && j < b.len; j++)
            b.s[j] = toupper ((unsigned char) b.s[j]);
        }
    }
  if (ret == 0)
    ret = sbuf_str (&b, "\n");
  if (ret == 0)
    ret = tabwriter_write (&f->tw, b.s, b.len);
  free (b.s);
  f->header_done = true;
  return ret < 0 ? skiff_error_make (err, ENOMEM, "table header") : 0;
}

int
formatter_row (struct formatter *f, yajl_val ctx, skiff_error_t *err)
{
  struct sbuf b = { NULL, 0, 0 };
  int ret;

  if (f->table && !f->header_done && write_header (f, err) < 0)
    return -1;
  ret = render (f->segs, f->nsegs, ctx, f->strict, &b, err);
  if (ret == 0 && sbuf_str (&b, "\n") < 0)
    ret = skiff_error_make (err, ENOMEM, "format");
  if (ret == 0)
    {
      if (f->table)
        ret = tabwriter_write (&f->tw, b.s, b.len);
      else
        ret = fwrite (b.s, 1, b.len, f->out) == b.len ? 0 : -1;
      if (ret < 0)
        skiff_error_make (err, errno, "write output");
    }
  free (b.s);
  return ret;
}

int
formatter_finish (struct formatter *f, skiff_error_t *err)
{
  if (f->table && !f->header_done && write_header (f, err) < 0)
    return -1;
  if (tabwriter_flush (&f->tw, f->out) < 0)
    return skiff_error_make (err, errno, "write output");
  return 0;
}

void
formatter_release (struct formatter *f)
{
  segments_free (f->segs, f->nsegs);
  f->segs = NULL;
  f->nsegs = 0;
  tabwriter_release (&f->tw);
}

/* ---- Go-style indented JSON ---- */

static void
json_string (FILE *out, const char *s, bool escape_html)
{
  fputc ('"', out);
  for (; *s; s++)
    {
      unsigned char c = *s;
      switch (c)
        {
        case '"': fputs ("\\\"", out); break;
        case '\\': fputs ("\\\\", out); break;
        case '\n': fputs ("\\n", out); break;
        case '\r': fputs ("\\r", out); break;
        case '\t': fputs ("\\t", out); break;
        case '<': case '>': case '&':
          if (escape_html)
            fprintf (out, "\\u%04x", c);
          else
            fputc (c, out);
          break;
        default:
          if (c < 0x20)
            fprintf (out, "\\u%04x", c);
          /* U+2028 and U+2029, escaped by Go for JavaScript's sake.  */
          else if (c == 0xe2 && (unsigned char) s[1] == 0x80
                   && ((unsigned char) s[2] == 0xa8 || (unsigned char) s[2] == 0xa9))
            {
              fprintf (out, "\\u202%c", (unsigned char) s[2] == 0xa8 ? '8' : '9');
              s += 2;
            }
          else
            fputc (c, out);
        }
    }
  fputc ('"', out);
}

void
format_json_string (FILE *out, const char *s)
{
  json_string (out, s, true);
}

static void
indent_to (FILE *out, const char *indent, int depth)
{
  if (indent == NULL)
    return;
  fputc ('\n', out);
  while (depth-- > 0)
    fputs (indent, out);
}

static void
json_value (FILE *out, yajl_val v, const char *indent, int depth, bool escape_html)
{
  size_t i;
  if (v == NULL || YAJL_IS_NULL (v))
    fputs ("null", out);
  else if (YAJL_IS_STRING (v))
    json_string (out, v->u.string, escape_html);
  else if (YAJL_IS_NUMBER (v))
    fputs (YAJL_GET_NUMBER (v), out);
  else if (YAJL_IS_TRUE (v))
    fputs ("true", out);
  else if (YAJL_IS_FALSE (v))
    fputs ("false", out);
  else if (YAJL_IS_ARRAY (v))
    {
      if (v->u.array.len == 0)
        {
          fputs ("[]", out);
          return;
        }
      fputc ('[', out);
      for (i = 0; i < v->u.array.len; i++)
        {
          if (i)
            fputc (',', out);
          indent_to (out, indent, depth + 1);
          json_value (out, v->u.array.values[i], indent, depth + 1, escape_html);
        }
      indent_to (out, indent, depth);
      fputc (']', out);
    }
  else
    {
      if (v->u.object.len == 0)
        {
          fputs ("{}", out);
          return;
        }
      fputc ('{', out);
      for (i = 0; i < v->u.object.len; i++)
        {
          if (i)
            fputc (',', out);
          indent_to (out, indent, depth + 1);
          json_string (out, v->u.object.keys[i], escape_html);
          fputs (indent ? ": " : ":", out);
          json_value (out, v->u.object.values[i], indent, depth + 1, escape_html);
        }
      indent_to (out, indent, depth);
      fputc ('}', out);
    }
}

void
format_json_indent (FILE *out, yajl_val v, const char *indent, int depth)
{
  /* docker inspect prints with SetEscapeHTML(false).  */
  json_value (out, v, indent, depth, false);
}

void
format_json_compact (FILE *out, yajl_val v, bool escape_html)
{
  json_value (out, v, NULL, 0, escape_html);
}
