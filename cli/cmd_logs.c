/* skiff logs [-f] [--tail N] [-t] [--since T] [--until T]: the log
   stream is raw with a tty, Docker's multiplexed frames without.  */
#include "cli.h"
#include "cleanup.h"
#include "json.h"
#include "stream.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Go's time.ParseDuration ("10m", "1h30m", "1.5s", "300ms").  */
static int
parse_go_duration (const char *s, double *seconds)
{
  static const struct
  {
    const char *unit;
    double mult;
  } units[] = {
    { "ns", 1e-9 }, { "us", 1e-6 }, { "µs", 1e-6 }, { "ms", 1e-3 }, { "s", 1 }, { "m", 60 }, { "h", 3600 },
  };
  double total = 0;
  bool neg = false;

  if (*s == '-' || *s == '+')
    neg = *s++ == '-';
  if (strcmp (s, "0") == 0)
    {
      *seconds = 0;
      return 0;
    }
  if (*s == '\0')
    return -1;
  while (*s)
    {
      char *end;
      double v;
      size_t i, best = 0, best_len = 0;
      if (!isdigit ((unsigned char) *s) && *s != '.')
        return -1;
      v = strtod (s, &end);
      if (end == s)
        return -1;
      s = end;
      for (i = 0; i < sizeof (units) / sizeof (units[0]); i++)
        {
          size_t l = strlen (units[i].unit);
          if (strncmp (s, units[i].unit, l) == 0 && l > best_len)
            best = i, best_len = l;
        }
      if (best_len == 0)
        return -1;
      total += v * units[best].mult;
      s += best_len;
    }
  *seconds = neg ? -total : total;
  return 0;
}

/* Docker's GetTimestamp: a duration is relative to now; a Unix time is
   passed on; a date (RFC 3339, or a day) becomes "<sec>.<nanosec>".  */
int
cli_parse_timestamp (const char *value, time_t now, char **out, skiff_error_t *err)
{
  double secs;
  const char *p;
  struct tm tm;
  const char *rest;
  bool utc = false;
  long offset = 0;
  time_t t;

  if (strpbrk (value, "-:T") == NULL || (value[0] == '-' && strpbrk (value + 1, "-:T") == NULL))
    {
      if (parse_go_duration (value, &secs) == 0)
        {
          double when = (double) now - secs;
          double whole = floor (when);
          if (asprintf (out, "%lld.%09lld", (long long) whole, (long long) llround ((when - whole) * 1e9)) < 0)
            return skiff_error_make (err, ENOMEM, "timestamp");
          return 0;
        }
      for (p = value; isdigit ((unsigned char) *p) || *p == '.'; p++)
        ;
      if (*p == '\0' && p != value)
        {
          *out = strdup (value);
          return *out ? 0 : skiff_error_make (err, ENOMEM, "timestamp");
        }
    }
  memset (&tm, 0, sizeof (tm));
  rest = strptime (value, "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == NULL)
    {
      memset (&tm, 0, sizeof (tm));
      rest = strptime (value, "%Y-%m-%d", &tm);
    }
  if (rest == NULL)
    return skiff_error_make (err, 0, "failed to parse value as time or duration: \"%s\"", value);
  if (*rest == '.')
    for (rest++; isdigit ((unsigned char) *rest); rest++)
      ;
  if (*rest == 'Z')
    {
      utc = true;
      rest++;
    }
  else if (*rest == '+' || *rest == '-')
    {
      int hh, mm;
      if (sscanf (rest + 1, "%2d:%2d", &hh, &mm) != 2)
        return skiff_error_make (err, 0, "failed to parse value as time or duration: \"%s\"", value);
      offset = (hh * 3600 + mm * 60) * (*rest == '-' ? -1 : 1);
      utc = true;
      rest += 6;
    }
  if (*rest != '\0')
    return skiff_error_make (err, 0, "failed to parse value as time or duration: \"%s\"", value);
  tm.tm_isdst = -1;
  t = utc ? timegm (&tm) - offset : mktime (&tm);
  if (asprintf (out, "%lld.%09d", (long long) t, 0) < 0)
    return skiff_error_make (err, ENOMEM, "timestamp");
  return 0;
}

struct logs_sink
{
  bool tty;
  struct demux d;
  skiff_error_t err;
};

static int
demux_out (int stream, const char *data, size_t len, void *opaque)
{
  return write_all (stream == 2 ? 2 : 1, data, len);
}

static int
logs_data (const char *data, size_t len, void *opaque)
{
  struct logs_sink *s = opaque;
  if (s->tty)
    return write_all (1, data, len);
  return demux_feed (&s->d, data, len, demux_out, NULL, &s->err);
}

int
cmd_logs (struct cli_ctx *ctx, int argc, char **argv)
{
  static const struct option opts[] = {
    { "follow", no_argument, NULL, 'f' },     { "tail", required_argument, NULL, 'n' },
    { "timestamps", no_argument, NULL, 't' }, { "since", required_argument, NULL, 's' },
    { "until", required_argument, NULL, 'u' }, { "details", no_argument, NULL, 'D' },
    { NULL, 0, NULL, 0 },
  };
  cleanup_free char *since = NULL, *until = NULL, *tail_esc = NULL, *path = NULL, *base = NULL;
  cleanup_json yajl_val info = NULL;
  const char *tail = "all", *since_arg = NULL, *until_arg = NULL;
  bool follow = false, timestamps = false, details = false;
  struct logs_sink sink = { 0 };
  skiff_error_t err = NULL;
  yajl_val tty;
  int c, ret;

  while ((c = cli_getopt (ctx, argc, argv, "+:fn:t", opts)) != -1)
    switch (c)
      {
      case 'f': follow = true; break;
      case 'n': tail = optarg; break;
      case 't': timestamps = true; break;
      case 's': since_arg = optarg; break;
      case 'u': until_arg = optarg; break;
      case 'D': details = true; break;
      default: return ctx->status;
      }
  if (cli_check_args (ctx, argc - optind, 1, 1))
    return 1;
  if (since_arg && cli_parse_timestamp (since_arg, time (NULL), &since, &err) < 0)
    {
      fprintf (stderr, "invalid value for \"since\": %s\n", err->msg);
      skiff_error_release (&err);
      return 1;
    }
  if (until_arg && cli_parse_timestamp (until_arg, time (NULL), &until, &err) < 0)
    {
      fprintf (stderr, "invalid value for \"until\": %s\n", err->msg);
      skiff_error_release (&err);
      return 1;
    }
  base = cli_path ("/containers", argv[optind], NULL);
  if (base == NULL)
    return 1;
  if (cli_inspect_object (ctx, "container", argv[optind], &info, &err) < 0)
    return cli_fail (&err);
  tty = json_get (json_get (info, "Config"), "Tty");
  sink.tty = tty && YAJL_IS_TRUE (tty);
  demux_init (&sink.d);

  tail_esc = client_escape (tail);
  if (tail_esc == NULL
      || asprintf (&path, "%s/logs?%s%s%s%s%sstderr=1&stdout=1&tail=%s%s%s%s", base, details ? "details=1&" : "",
                   follow ? "follow=1&" : "", since ? "since=" : "", since ? since : "", since ? "&" : "", tail_esc,
                   timestamps ? "&timestamps=1" : "", until ? "&until=" : "", until ? until : "")
             < 0)
    return 1;
  ret = client_stream (&ctx->client, "GET", path, NULL, -1, logs_data, &sink, &err);
  demux_release (&sink.d);
  if (sink.err)
    {
      skiff_error_release (&err);
      return cli_fail (&sink.err);
    }
  if (ret < 0)
    return cli_fail (&err);
  return 0;
}
