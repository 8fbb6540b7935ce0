/* GET /containers/{id}/logs over the json-file log the shim writes.

   Everything is asynchronous on the loop: the file is read in blocks with
   uv_fs_read (the thread pool does the I/O), output waits for the client
   when more than HTTP_DRAIN_BYTES are queued, and `follow` wakes up on
   inotify (uv_fs_event) and on a timer that also notices when the
   container stops, `until` passes or the container is removed.  */
#include "logs.h"
#include "cleanup.h"
#include "containers.h"
#include "http.h"
#include "json.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>
#include <yajl/yajl_parse.h>

/* ---- pure helpers ---- */

struct line_parse
{
  int depth;
  enum { KEY_OTHER, KEY_LOG, KEY_STREAM, KEY_TIME } key;
  struct logs_entry *e;
  bool have_log, have_stream, have_time, bad;
};

static int
lp_string (void *ctx, const unsigned char *s, size_t len)
{
  struct line_parse *p = ctx;

  if (p->depth != 1)
    return 1;
  switch (p->key)
    {
    case KEY_LOG:
      free (p->e->log);
      p->e->log = malloc (len ? len : 1);
      if (p->e->log == NULL)
        return 0;
      memcpy (p->e->log, s, len);
      p->e->log_len = len;
      p->have_log = true;
      break;
    case KEY_STREAM:
      if (len == 6 && memcmp (s, "stdout", 6) == 0)
        p->e->stream = LOGS_STDOUT;
      else if (len == 6 && memcmp (s, "stderr", 6) == 0)
        p->e->stream = LOGS_STDERR;
      else
        {
          p->bad = true;
          return 0;
        }
      p->have_stream = true;
      break;
    case KEY_TIME:
      if (logs_parse_rfc3339 ((const char *) s, len, &p->e->time_ns) < 0)
        {
          p->bad = true;
          return 0;
        }
      p->have_time = true;
      break;
    case KEY_OTHER:
      break;
    }
  return 1;
}

static int
lp_map_key (void *ctx, const unsigned char *s, size_t len)
{
  struct line_parse *p = ctx;
  if (p->depth != 1)
    return 1;
  if (len == 3 && memcmp (s, "log", 3) == 0)
    p->key = KEY_LOG;
  else if (len == 6 && memcmp (s, "stream", 6) == 0)
    p->key = KEY_STREAM;
  else if (len == 4 && memcmp (s, "time", 4) == 0)
    p->key = KEY_TIME;
  else
    p->key = KEY_OTHER;
  return 1;
}

static int
lp_open (void *ctx)
{
  ((struct line_parse *) ctx)->depth++;
  return 1;
}

static int
lp_close (void *ctx)
{
  ((struct line_parse *) ctx)->depth--;
  return 1;
}

static int
lp_scalar (void *ctx)
{
  return 1;
}

static int
lp_bool (void *ctx, int b)
{
  return 1;
}

static int
lp_number (void *ctx, const char *s, size_t len)
{
  return 1;
}

static const yajl_callbacks line_callbacks = {
  .yajl_null = lp_scalar,
  .yajl_boolean = lp_bool,
  .yajl_number = lp_number,
  .yajl_string = lp_string,
  .yajl_start_map = lp_open,
  .yajl_map_key = lp_map_key,
  .yajl_end_map = lp_close,
  .yajl_start_array = lp_open,
  .yajl_end_array = lp_close,
};

static void
cleanup_yajl_handlep (yajl_handle *h)
{
  if (*h)
    yajl_free (*h);
}

int
logs_parse_line (const char *line, size_t len, struct logs_entry *out, skiff_error_t *err)
{
  /* yajl's callback parser, not yajl_tree: the log text may hold NUL
     bytes (\u0000), which only the callbacks hand over with a length.  */
  struct line_parse p = { .e = out };
  __attribute__ ((cleanup (cleanup_yajl_handlep))) yajl_handle h = NULL;
  yajl_status st;

  memset (out, 0, sizeof (*out));
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    len--;
  h = yajl_alloc (&line_callbacks, NULL, &p);
  if (h == NULL)
    return skiff_error_make (err, ENOMEM, "parse log line");
  st = yajl_parse (h, (const unsigned char *) line, len);
  if (st == yajl_status_ok)
    st = yajl_complete_parse (h);
  if (st != yajl_status_ok || p.bad || !p.have_log || !p.have_stream || !p.have_time)
    {
      logs_entry_clear (out);
      if (st == yajl_status_ok && !p.bad)
        return skiff_error_make (err, 0, "invalid log line: `log`, `stream` or `time` missing");
      return skiff_error_make (err, 0, "invalid log line: %s",
                               p.bad ? "bad `stream` or `time`" : "malformed JSON");
    }
  return 0;
}

void
logs_entry_clear (struct logs_entry *e)
{
  free (e->log);
  memset (e, 0, sizeof (*e));
}

static int
digits (const char *s, size_t n, int *out)
{
  size_t i;
  int v = 0;
  for (i = 0; i < n; i++)
    {
      if (s[i] < '0' || s[i] > '9')
        return -1;
      v = v * 10 + (s[i] - '0');
    }
  *out = v;
  return 0;
}

int
logs_parse_rfc3339 (const char *s, size_t len, int64_t *ns)
{
  struct tm tm = { 0 };
  int year, mon, mday, hour, min, sec, oh, om;
  int64_t frac = 0, t;
  size_t i = 19, nd = 0;

  if (len < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return -1;
  if (digits (s, 4, &year) < 0 || digits (s + 5, 2, &mon) < 0 || digits (s + 8, 2, &mday) < 0
      || digits (s + 11, 2, &hour) < 0 || digits (s + 14, 2, &min) < 0 || digits (s + 17, 2, &sec) < 0)
    return -1;
  if (mon < 1 || mon > 12 || mday < 1 || mday > 31 || hour > 23 || min > 59 || sec > 60)
    return -1;
  if (s[i] == '.')
    {
      for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
        if (nd < 9)
          frac = frac * 10 + (s[i] - '0');
      if (nd == 0)
        return -1;
      for (; nd < 9; nd++)
        frac *= 10;
    }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = mday;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  t = (int64_t) timegm (&tm);
  if (i < len && (s[i] == 'Z' || s[i] == 'z') && i + 1 == len)
    ;
  else if (i + 6 == len && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' && digits (s + i + 1, 2, &oh) == 0
           && digits (s + i + 4, 2, &om) == 0)
    t -= (s[i] == '+' ? 1 : -1) * (int64_t) (oh * 3600 + om * 60);
  else
    return -1;
  *ns = t * 1000000000 + frac;
  return 0;
}

int
logs_parse_unix_time (const char *s, int64_t *ns)
{
  const char *dot = strchr (s, '.');
  char *end;
  long long sec;
  int64_t frac = 0;
  size_t nd = 0;

  errno = 0;
  sec = strtoll (s, &end, 10);
  if (end == s || errno != 0 || (dot ? end != dot : *end != '\0'))
    return -1;
  if (dot)
    {
      const char *p;
      for (p = dot + 1; *p; p++, nd++)
        {
          if (*p < '0' || *p > '9')
            return -1;
          if (nd < 9)
            frac = frac * 10 + (*p - '0');
        }
      if (nd == 0)
        return -1;
      /* The fraction is meant as nanoseconds; shorter ones are scaled, as
         Docker's ParseTimestamps does.  */
      for (; nd < 9; nd++)
        frac *= 10;
    }
  if (sec > INT64_MAX / 1000000000 - 1 || sec < INT64_MIN / 1000000000 + 1)
    return -1;
  *ns = (int64_t) sec * 1000000000 + (sec < 0 || s[0] == '-' ? -frac : frac);
  return 0;
}

void
logs_format_time (int64_t ns, char buf[LOGS_TIME_LEN])
{
  int64_t sec = ns / 1000000000, nsec = ns % 1000000000;
  time_t t;
  struct tm tm;
  char tmp[96];

  if (nsec < 0)
    nsec += 1000000000, sec--;
  t = (time_t) sec;
  gmtime_r (&t, &tm);
  snprintf (tmp, sizeof (tmp), "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) nsec);
  /* Years past 9999 do not fit; Docker's format has four digits too.  */
  memcpy (buf, tmp, LOGS_TIME_LEN - 1);
  buf[LOGS_TIME_LEN - 1] = '\0';
}

void
logs_frame_header (unsigned char hdr[8], enum logs_stream stream, uint32_t len)
{
  hdr[0] = (unsigned char) stream;
  hdr[1] = hdr[2] = hdr[3] = 0;
  hdr[4] = (unsigned char) (len >> 24);
  hdr[5] = (unsigned char) (len >> 16);
  hdr[6] = (unsigned char) (len >> 8);
  hdr[7] = (unsigned char) len;
}

static int
reserve (char **buf, size_t *len, size_t *cap, size_t more)
{
  size_t ncap = *cap ? *cap : 4096;
  char *nb;
  if (*len + more <= *cap)
    return 0;
  while (ncap < *len + more)
    ncap *= 2;
  nb = realloc (*buf, ncap);
  if (nb == NULL)
    return -1;
  *buf = nb;
  *cap = ncap;
  return 0;
}

int
logs_render (const struct logs_entry *e, bool timestamps, bool multiplexed, char **buf, size_t *len,
             size_t *cap)
{
  char ts[LOGS_TIME_LEN];
  size_t ts_len = 0, payload;

  if (timestamps)
    {
      logs_format_time (e->time_ns, ts);
      ts_len = strlen (ts) + 1; /* and a space */
    }
  payload = ts_len + e->log_len;
  if (payload > UINT32_MAX || reserve (buf, len, cap, payload + 8) < 0)
    return -1;
  if (multiplexed)
    {
      logs_frame_header ((unsigned char *) *buf + *len, e->stream, (uint32_t) payload);
      *len += 8;
    }
  if (timestamps)
    {
      memcpy (*buf + *len, ts, ts_len - 1);
      (*buf)[*len + ts_len - 1] = ' ';
      *len += ts_len;
    }
  memcpy (*buf + *len, e->log, e->log_len);
  *len += e->log_len;
  return 0;
}

ssize_t
logs_tail_scan (const char *buf, size_t len, size_t *newlines)
{
  size_t i = len;

  if (*newlines == 0)
    return (ssize_t) len;
  while (i > 0)
    {
      i--;
      if (buf[i] == '\n' && --*newlines == 0)
        return (ssize_t) i + 1;
    }
  return -1;
}

/* ---- serving ---- */

#define LOGS_BLOCK (64 * 1024)
/* A line longer than this without a newline is not the shim's: dropped.  */
#define LOGS_LINE_LIMIT (1024 * 1024)
#define LOGS_POLL_MS 250

struct logs_job
{
  struct ctr *c;
  struct http_request *req;
  uv_loop_t *loop;
  char *path;
  bool want_stdout, want_stderr, timestamps, multiplexed, follow;
  int64_t since_ns, until_ns; /* until 0: none */
  long tail;                  /* -1: all */

  uv_file fd;
  uv_fs_t fs;
  bool fs_busy;
  int64_t off;      /* next byte to read forward */
  bool tailing;     /* scanning backwards for the tail's start */
  bool tail_seen_nl;
  int64_t tail_pos; /* start of the region scanned so far */
  int64_t tail_blk; /* start of the block being read */
  size_t tail_len;  /* its length */
  size_t newlines;

  char block[LOGS_BLOCK];
  char *line;       /* partial line carried between blocks */
  size_t line_len, line_cap;
  char *out;
  size_t out_len, out_cap;

  uv_fs_event_t *watch;
  uv_timer_t *timer;
  int handles;      /* open handles, freed once 0 after the end */
  bool wake;        /* woken while a read ran: read again */
  bool idle;        /* at EOF, waiting for a wake-up */
  bool draining;    /* waiting for the client to take queued output */
  bool stopping;    /* the container stopped: read to EOF, then end */
  bool done;        /* nothing more to send */
  bool ended;       /* the request is finished */
};

static void job_read (struct logs_job *j);
static void job_kick (struct logs_job *j);

static void
job_free_maybe (struct logs_job *j)
{
  if (!j->ended || j->fs_busy || j->handles > 0)
    return;
  ctr_unref (j->c);
  free (j->path);
  free (j->line);
  free (j->out);
  free (j);
}

static void
job_close_fd (struct logs_job *j)
{
  uv_fs_t req;
  if (j->fd < 0)
    return;
  uv_fs_close (NULL, &req, j->fd, NULL); /* synchronous: a regular file */
  uv_fs_req_cleanup (&req);
  j->fd = -1;
}

static void
on_handle_closed (uv_handle_t *h)
{
  struct logs_job *j = h->data;
  free (h);
  j->handles--;
  job_free_maybe (j);
}

/* Ends the response now; the job is freed once its I/O is over.  */
static void
job_finish (struct logs_job *j)
{
  if (j->ended)
    return;
  j->done = true;
  j->ended = true;
  if (j->watch)
    uv_close ((uv_handle_t *) j->watch, on_handle_closed);
  if (j->timer)
    uv_close ((uv_handle_t *) j->timer, on_handle_closed);
  j->watch = NULL;
  j->timer = NULL;
  http_stream_end (j->req);
  j->req = NULL;
  if (!j->fs_busy)
    job_close_fd (j);
  job_free_maybe (j);
}

static void
on_client_gone (struct http_request *req, void *data)
{
  struct logs_job *j = data;
  j->draining = false;
  job_finish (j);
}

static void
on_drain (struct http_request *req, void *data)
{
  struct logs_job *j = data;
  j->draining = false;
  job_kick (j);
}

/* Renders the complete lines of the carried buffer.  */
static void
job_process_lines (struct logs_job *j)
{
  size_t start = 0;
  char *nl;

  while (!j->done && (nl = memchr (j->line + start, '\n', j->line_len - start)))
    {
      size_t len = (size_t) (nl - (j->line + start)) + 1;
      struct logs_entry e;
      skiff_error_t err = NULL;

      if (logs_parse_line (j->line + start, len, &e, &err) < 0)
        {
          log_warning ("logs: `%s`: %s", j->path, err->msg);
          skiff_error_release (&err);
        }
      else
        {
          if (j->until_ns && e.time_ns > j->until_ns)
            j->done = true;
          else if (e.time_ns >= j->since_ns
                   && ((e.stream == LOGS_STDOUT && j->want_stdout) || (e.stream == LOGS_STDERR && j->want_stderr))
                   && logs_render (&e, j->timestamps, j->multiplexed, &j->out, &j->out_len, &j->out_cap) < 0)
            {
              log_error ("logs: `%s`: out of memory", j->path);
              j->done = true;
            }
          logs_entry_clear (&e);
        }
      start += len;
    }
  memmove (j->line, j->line + start, j->line_len - start);
  j->line_len -= start;
  if (j->line_len > LOGS_LINE_LIMIT)
    {
      log_warning ("logs: `%s`: dropping a line longer than %d bytes", j->path, LOGS_LINE_LIMIT);
      j->line_len = 0;
    }
}

static void
job_flush (struct logs_job *j)
{
  if (j->out_len == 0)
    return;
  if (http_stream_write (j->req, j->out, j->out_len) < 0)
    j->done = true;
  j->out_len = 0;
}

static void
on_read (uv_fs_t *fs)
{
  struct logs_job *j = fs->data;
  ssize_t n = fs->result;

  uv_fs_req_cleanup (fs);
  j->fs_busy = false;
  if (j->ended)
    {
      /* Finished while the read ran: the fd is free to close now.  */
      job_close_fd (j);
      job_free_maybe (j);
      return;
    }
  if (n < 0 || (j->tailing && (size_t) n != j->tail_len))
    {
      log_error ("logs: read `%s`: %s", j->path, n < 0 ? uv_strerror ((int) n) : "short read");
      job_finish (j);
      return;
    }

  if (j->tailing)
    {
      char *buf = j->block;
      size_t len = (size_t) n;
      ssize_t at = -1;

      if (!j->tail_seen_nl)
        {
          /* A line being written at the end is not counted.  */
          char *last = memrchr (buf, '\n', len);
          len = last ? (size_t) (last - buf) + 1 : 0;
          j->tail_seen_nl = last != NULL;
        }
      if (j->tail_seen_nl)
        at = logs_tail_scan (buf, len, &j->newlines);
      j->tail_pos = j->tail_blk;
      if (at >= 0 || j->tail_pos == 0)
        {
          j->tailing = false;
          j->off = at >= 0 ? j->tail_blk + at : 0;
        }
      job_read (j);
      return;
    }

  if (n == 0)
    {
      /* At the end of what the shim wrote so far.  */
      if (!j->follow || j->stopping || j->done)
        {
          job_finish (j);
          return;
        }
      j->idle = true;
      if (j->wake)
        job_kick (j);
      return;
    }

  j->off += n;
  if (reserve (&j->line, &j->line_len, &j->line_cap, (size_t) n) < 0)
    {
      log_error ("logs: `%s`: out of memory", j->path);
      job_finish (j);
      return;
    }
  memcpy (j->line + j->line_len, j->block, (size_t) n);
  j->line_len += (size_t) n;
  job_process_lines (j);
  job_flush (j);
  if (j->done)
    {
      job_finish (j);
      return;
    }
  if (http_stream_on_drain (j->req, on_drain, j))
    {
      j->draining = true;
      return;
    }
  job_read (j);
}

static void
job_read (struct logs_job *j)
{
  int64_t at = j->off;
  size_t len = LOGS_BLOCK;
  int ret;

  if (j->tailing)
    {
      j->tail_blk = j->tail_pos > LOGS_BLOCK ? j->tail_pos - LOGS_BLOCK : 0;
      at = j->tail_blk;
      len = j->tail_len = (size_t) (j->tail_pos - j->tail_blk);
    }
  j->idle = false;
  j->wake = false;
  j->fs.data = j;
  ret = uv_fs_read (j->loop, &j->fs, j->fd, &(uv_buf_t){ .base = j->block, .len = len }, 1, at, on_read);
  if (ret < 0)
    {
      log_error ("logs: read `%s`: %s", j->path, uv_strerror (ret));
      job_finish (j);
      return;
    }
  j->fs_busy = true;
}

/* Something may have changed: read on unless busy.  */
static void
job_kick (struct logs_job *j)
{
  if (j->ended)
    return;
  if (j->fs_busy)
    {
      j->wake = true;
      return;
    }
  if (j->draining)
    return;
  if (j->done)
    {
      job_finish (j);
      return;
    }
  job_read (j);
}

static void
on_file_event (uv_fs_event_t *h, const char *filename, int events, int status)
{
  job_kick (h->data);
}

static int64_t
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
on_poll (uv_timer_t *t)
{
  struct logs_job *j = t->data;

  /* A stopped container writes nothing more once its shim is gone: read
     to the end and finish.  */
  if (j->c->removed || !containers_is_running (j->c))
    j->stopping = true;
  if (j->until_ns && now_ns () > j->until_ns)
    j->stopping = true;
  if (j->stopping && j->idle)
    {
      /* One last read catches lines written just before the exit.  */
      job_read (j);
      return;
    }
  job_kick (j);
}

static void
job_start_follow (struct logs_job *j)
{
  int ret;

  j->timer = malloc (sizeof (*j->timer));
  j->watch = malloc (sizeof (*j->watch));
  if (j->timer == NULL || j->watch == NULL)
    {
      free (j->timer);
      free (j->watch);
      j->timer = NULL;
      j->watch = NULL;
      j->follow = false;
      log_error ("logs: follow `%s`: out of memory", j->path);
      return;
    }
  uv_timer_init (j->loop, j->timer);
  j->timer->data = j;
  j->handles++;
  uv_timer_start (j->timer, on_poll, LOGS_POLL_MS, LOGS_POLL_MS);
  uv_fs_event_init (j->loop, j->watch);
  j->watch->data = j;
  j->handles++;
  ret = uv_fs_event_start (j->watch, on_file_event, j->path, 0);
  if (ret < 0)
    {
      /* The timer alone still picks up new lines, only later.  */
      log_warning ("logs: watch `%s`: %s", j->path, uv_strerror (ret));
      uv_close ((uv_handle_t *) j->watch, on_handle_closed);
      j->watch = NULL;
    }
}

static void
on_open (uv_fs_t *fs)
{
  struct logs_job *j = fs->data;
  ssize_t fd = fs->result;
  uv_fs_t st;
  int ret;

  uv_fs_req_cleanup (fs);
  j->fs_busy = false;
  if (fd >= 0)
    j->fd = (uv_file) fd;
  if (j->ended)
    {
      job_close_fd (j);
      job_free_maybe (j);
      return;
    }
  if (fd < 0)
    {
      /* No log yet: the container never ran.  */
      if (fd != UV_ENOENT)
        log_error ("logs: open `%s`: %s", j->path, uv_strerror ((int) fd));
      job_finish (j);
      return;
    }
  if (j->tail >= 0)
    {
      /* fstat of an open file does not wait on the disk.  */
      ret = uv_fs_fstat (NULL, &st, j->fd, NULL);
      if (ret < 0)
        {
          log_error ("logs: stat `%s`: %s", j->path, uv_strerror (ret));
          job_finish (j);
          return;
        }
      j->tailing = true;
      j->tail_pos = (int64_t) st.statbuf.st_size;
      j->newlines = (size_t) j->tail + 1;
      uv_fs_req_cleanup (&st);
      if (j->tail_pos == 0)
        j->tailing = false;
    }
  if (j->follow)
    job_start_follow (j);
  job_read (j);
}

static bool
config_has_tty (const char *config)
{
  cleanup_json yajl_val tree = NULL;
  yajl_val v;
  if (config == NULL || json_parse (config, &tree, NULL) < 0)
    return false;
  v = json_get (tree, "Tty");
  return v && YAJL_IS_TRUE (v);
}

void
logs_serve (struct ctr *c, struct http_request *req)
{
  const char *since = http_query (req, "since");
  const char *until = http_query (req, "until");
  const char *tail = http_query (req, "tail");
  bool tty = config_has_tty (c->rec->config);
  struct logs_job *j;
  int ret;

  j = calloc (1, sizeof (*j));
  if (j == NULL)
    {
      http_respond_error (req, 500, "out of memory");
      return;
    }
  j->fd = -1;
  j->tail = -1;
  j->want_stdout = http_query_bool (req, "stdout", false);
  j->want_stderr = http_query_bool (req, "stderr", false);
  j->timestamps = http_query_bool (req, "timestamps", false);
  j->multiplexed = !tty;
  if (!j->want_stdout && !j->want_stderr)
    {
      free (j);
      http_respond_error (req, 400, "Bad parameters: you must choose at least one stream");
      return;
    }
  if (since && *since && logs_parse_unix_time (since, &j->since_ns) < 0)
    {
      free (j);
      http_respond_error (req, 400, "invalid since `%s`: use Unix seconds with an optional fraction", since);
      return;
    }
  if (until && *until && logs_parse_unix_time (until, &j->until_ns) < 0)
    {
      free (j);
      http_respond_error (req, 400, "invalid until `%s`: use Unix seconds with an optional fraction", until);
      return;
    }
  if (tail && *tail && strcmp (tail, "all") != 0)
    {
      /* Docker's strconv.Atoi: anything else, or a negative count, means all.  */
      char *end;
      long n;
      errno = 0;
      n = strtol (tail, &end, 10);
      if (*end == '\0' && errno == 0 && n >= 0)
        j->tail = n;
    }
  /* dockerd follows only a running container, and not past `until`.  */
  j->follow = http_query_bool (req, "follow", false) && containers_is_running (c)
              && !(j->until_ns && j->until_ns <= now_ns ());
  j->path = c->rec->log_path ? strdup (c->rec->log_path) : NULL;
  if (c->rec->log_path && j->path == NULL)
    {
      free (j);
      http_respond_error (req, 500, "out of memory");
      return;
    }
  j->c = c;
  j->req = req;
  j->loop = c->d->loop;
  ctr_ref (c);

  /* dockerd 23+ (API 1.42) labels multiplexed output as such; for 1.41 it
     is raw-stream either way (20.10 itself sent no type at all).  */
  http_stream_begin (req, 200,
                     j->multiplexed && http_request_api_version (req, 141) >= 142
                         ? "application/vnd.docker.multiplexed-stream"
                         : "application/vnd.docker.raw-stream");
  http_request_on_close (req, on_client_gone, j);
  if (j->path == NULL)
    {
      job_finish (j);
      return;
    }
  j->fs.data = j;
  ret = uv_fs_open (j->loop, &j->fs, j->path, O_RDONLY | O_CLOEXEC, 0, on_open);
  if (ret < 0)
    {
      log_error ("logs: open `%s`: %s", j->path, uv_strerror (ret));
      job_finish (j);
      return;
    }
  j->fs_busy = true;
}
