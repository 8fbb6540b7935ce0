/* Output formatting as the docker CLI prints it: go-units human durations
   and sizes, strconv.Quote, ellipsis truncation, text/tabwriter tables and
   a small Go-template subset for --format.  */
#ifndef SKIFF_CLI_FORMAT_H
#define SKIFF_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>
#include "error.h"

/* go-units HumanDuration: "Less than a second", "3 seconds", "About a
   minute", "2 hours", "3 weeks", ...  malloc'd.  */
char *format_human_duration (double seconds);
/* go-units HumanSizeWithPrecision (decimal units: B kB MB GB ...).  */
char *format_human_size (double size, int precision);
/* go-units BytesSize (binary units: B KiB MiB GiB ...).  */
char *format_bytes_size (double size);
/* Go's strconv.Quote of a UTF-8 string.  */
char *format_go_quote (const char *s);
/* docker's Ellipsis: at most max_width characters, the last one "…" when
   the text was cut.  */
char *format_ellipsis (const char *s, size_t max_width);
/* stringid.TruncateID: drops an "algo:" prefix and keeps 12 characters.  */
char *format_trunc_id (const char *id);
/* Number of characters (UTF-8 code points) in s.  */
size_t format_text_width (const char *s);

/* text/tabwriter with flags 0: cells end at '\t', lines at '\n'; every
   column but a line's last cell is padded to max(width + padding,
   minwidth).  */
struct tabwriter
{
  char *buf;
  size_t len, cap;
  size_t minwidth, padding;
};
void tabwriter_init (struct tabwriter *tw, size_t minwidth, size_t padding);
int tabwriter_write (struct tabwriter *tw, const char *s, size_t len);
/* Writes the aligned text to out and empties the buffer.  */
int tabwriter_flush (struct tabwriter *tw, FILE *out);
void tabwriter_release (struct tabwriter *tw);

/* A column title for the header row of a table format.  */
struct format_header
{
  const char *field;
  const char *title;
};

struct format_segment;
struct formatter
{
  bool table;
  bool strict;  /* an unknown field is an error (fixed contexts) */
  struct format_segment *segs;
  size_t nsegs;
  const struct format_header *headers;
  bool header_done;
  struct tabwriter tw;
  FILE *out;
};

/* format: "" or "table" (default_table is used), "json" ("{{json .}}"),
   "table TEMPLATE" or a plain TEMPLATE.  headers gives the titles of a
   table's header row (NULL-terminated array); strict makes unknown
   fields an error.  */
int formatter_init (struct formatter *f, const char *format, const char *default_table,
                    const struct format_header *headers, bool strict, FILE *out, skiff_error_t *err);
/* Renders one object.  */
int formatter_row (struct formatter *f, yajl_val ctx, skiff_error_t *err);
/* Flushes a table (prints its header even with no rows).  */
int formatter_finish (struct formatter *f, skiff_error_t *err);
void formatter_release (struct formatter *f);

/* Renders a template once into a malloc'd string (no table handling).  */
int format_render (const char *tmpl, yajl_val ctx, bool strict, char **out, skiff_error_t *err);

/* Go's JSON encoding of a string (escapes <, > and & as \u003c ...).  */
void format_json_string (FILE *out, const char *s);
/* v as docker inspect prints it ("key": value, empty [] and {}, no HTML
   escaping); format_json_compact is json.Marshal's form.  */
void format_json_indent (FILE *out, yajl_val v, const char *indent, int depth);
void format_json_compact (FILE *out, yajl_val v, bool escape_html);

#endif
