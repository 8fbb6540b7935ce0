/* Hijacked connections: hand-written request, headers parsed with
   libhttp-parser, then raw or multiplexed streams with detach keys.  */
#include "stream.h"
#include "cleanup.h"
#include "client.h"

#include <errno.h>
#include <http_parser.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

int
write_all (int fd, const void *buf, size_t len)
{
  const char *p = buf;
  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        {
          struct pollfd pfd = { .fd = fd, .events = POLLOUT };
          poll (&pfd, 1, -1);
          continue;
        }
      if (n <= 0)
        return -1;
      p += n;
      len -= n;
    }
  return 0;
}

/* ---- raw HTTP ---- */

static int
on_headers_complete (http_parser *p)
{
  struct raw_http *h = p->data;
  h->status = p->status_code;
  h->headers_done = true;
  /* A success answer is followed by the stream (or a body read later by
     raw_http_read_body): stop here.  An error answer is read on.  */
  if (h->status < 400)
    http_parser_pause (p, 1);
  return 0;
}

static int
on_body (http_parser *p, const char *at, size_t len)
{
  struct raw_http *h = p->data;
  char *b = realloc (h->body, h->body_len + len + 1);
  if (b == NULL)
    return -1;
  memcpy (b + h->body_len, at, len);
  h->body = b;
  h->body_len += len;
  b[h->body_len] = '\0';
  return 0;
}

static int
on_message_complete (http_parser *p)
{
  struct raw_http *h = p->data;
  h->complete = true;
  return 0;
}

static const http_parser_settings raw_settings = {
  .on_headers_complete = on_headers_complete,
  .on_body = on_body,
  .on_message_complete = on_message_complete,
};

/* Reads more bytes into h->raw; returns the count, 0 at EOF.  */
static ssize_t
read_more (struct raw_http *h, skiff_error_t *err)
{
  char buf[16384];
  ssize_t n;
  char *r;

  do
    n = read (h->fd, buf, sizeof (buf));
  while (n < 0 && errno == EINTR);
  if (n < 0)
    return skiff_error_make (err, errno, "read from the daemon");
  r = realloc (h->raw, h->raw_len + n + 1);
  if (r == NULL)
    return skiff_error_make (err, ENOMEM, "read from the daemon");
  memcpy (r + h->raw_len, buf, n);
  h->raw = r;
  h->raw_len += n;
  r[h->raw_len] = '\0';
  return n;
}

/* Runs the parser on the unparsed bytes.  */
static int
parse_pending (struct raw_http *h, skiff_error_t *err)
{
  http_parser *p = h->parser;
  size_t n = http_parser_execute (p, &raw_settings, h->raw + h->parsed, h->raw_len - h->parsed);
  enum http_errno e = HTTP_PARSER_ERRNO (p);

  h->parsed += n;
  if (e != HPE_OK && e != HPE_PAUSED)
    return skiff_error_make (err, 0, "invalid HTTP answer from the daemon: %s", http_errno_description (e));
  return 0;
}

static int
read_until (struct raw_http *h, bool want_complete, skiff_error_t *err)
{
  while (want_complete ? !h->complete : !h->headers_done)
    {
      ssize_t n = read_more (h, err);
      if (n < 0)
        return -1;
      if (n == 0)
        {
          /* EOF ends a body without length; tell the parser.  */
          if (h->headers_done)
            http_parser_execute (h->parser, &raw_settings, NULL, 0);
          if (want_complete ? !h->complete : !h->headers_done)
            return skiff_error_make (err, 0, "the daemon closed the connection before the end of its answer");
          break;
        }
      if (parse_pending (h, err) < 0)
        return -1;
    }
  return 0;
}

int
raw_http_request (const char *socket_path, const char *method, const char *path, const char *extra_headers,
                  const char *body, size_t body_len, struct raw_http *h, skiff_error_t *err)
{
  cleanup_free char *req = NULL;
  const char *end;
  size_t len;

  memset (h, 0, sizeof (*h));
  h->fd = -1;
  h->parser = calloc (1, sizeof (http_parser));
  if (h->parser == NULL)
    return skiff_error_make (err, ENOMEM, "http parser");
  http_parser_init (h->parser, HTTP_RESPONSE);
  ((http_parser *) h->parser)->data = h;
  h->fd = client_connect (socket_path, err);
  if (h->fd < 0)
    return -1;
  req = client_request_head (method, path, extra_headers, body ? (long long) body_len : 0, &len);
  if (req == NULL)
    return skiff_error_make (err, ENOMEM, "request");
  if (write_all (h->fd, req, len) < 0 || (body && body_len && write_all (h->fd, body, body_len) < 0))
    return skiff_error_make (err, errno, "send %s %s", method, path);
  if (read_until (h, false, err) < 0)
    return skiff_error_wrap (err, "%s %s", method, path);
  if (h->status >= 400)
    {
      cleanup_free char *msg = NULL;
      if (!h->complete)
        {
          http_parser_pause (h->parser, 0);
          if (read_until (h, true, err) < 0)
            return -1;
        }
      msg = client_error_text (h->status, h->body, h->body_len);
      return skiff_error_make (err, 0, "%s", msg ? msg : "Error response from daemon");
    }
  /* The stream starts after the blank line that ends the headers.  */
  end = memmem (h->raw, h->raw_len, "\r\n\r\n", 4);
  if (end == NULL)
    return skiff_error_make (err, 0, "%s %s: malformed answer headers", method, path);
  h->extra = end + 4;
  h->extra_len = h->raw_len - (h->extra - h->raw);
  return 0;
}

int
raw_http_read_body (struct raw_http *h, skiff_error_t *err)
{
  http_parser_pause (h->parser, 0);
  if (parse_pending (h, err) < 0)
    return -1;
  return read_until (h, true, err);
}

void
raw_http_release (struct raw_http *h)
{
  if (h->fd >= 0)
    close (h->fd);
  free (h->parser);
  free (h->body);
  free (h->raw);
  memset (h, 0, sizeof (*h));
  h->fd = -1;
}

/* ---- detach keys ---- */

int
detach_keys_parse (const char *spec, unsigned char *keys, size_t *nkeys, skiff_error_t *err)
{
  static const char ctrl_tail[] = "@abcdefghijklmnopqrstuvwxyz[\\]^_";
  cleanup_free char *copy = strdup (spec);
  char *rest = copy, *tok;
  size_t n = 0;

  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "detach keys");
  /* strsep keeps empty items, which Docker rejects.  */
  while ((tok = strsep (&rest, ",")) != NULL)
    {
      if (n == DETACH_KEYS_MAX)
        return skiff_error_make (err, 0, "Invalid detach keys (%s) provided: too many keys", spec);
      if (strlen (tok) == 1)
        keys[n++] = (unsigned char) tok[0];
      else if (strncmp (tok, "ctrl-", 5) == 0 && strlen (tok) == 6 && strchr (ctrl_tail, tok[5]))
        keys[n++] = (unsigned char) (strchr (ctrl_tail, tok[5]) - ctrl_tail);
      else if (strcmp (tok, "DEL") == 0)
        keys[n++] = 127;
      else
        return skiff_error_make (err, 0, "Invalid detach keys (%s) provided: unknown character: '%s'", spec, tok);
    }
  *nkeys = n;
  return 0;
}

void
detach_matcher_init (struct detach_matcher *m, const unsigned char *keys, size_t nkeys)
{
  memset (m, 0, sizeof (*m));
  if (nkeys > DETACH_KEYS_MAX)
    nkeys = DETACH_KEYS_MAX;
  memcpy (m->keys, keys, nkeys);
  m->nkeys = nkeys;
}

bool
detach_matcher_feed (struct detach_matcher *m, const unsigned char *in, size_t n, unsigned char *out, size_t *outlen)
{
  size_t i, o = 0;

  for (i = 0; i < n; i++)
    {
      unsigned char b = in[i];
      if (m->nkeys == 0)
        {
          out[o++] = b;
          continue;
        }
      if (b == m->keys[m->pos])
        {
          if (++m->pos == m->nkeys)
            {
              m->pos = 0;
              *outlen = o;
              return true;
            }
          continue;
        }
      /* The match broke: release what was held back, then see whether
         this byte starts a new match.  */
      if (m->pos > 0)
        {
          memcpy (out + o, m->keys, m->pos);
          o += m->pos;
          m->pos = 0;
        }
      if (b == m->keys[0])
        {
          if (m->nkeys == 1)
            {
              *outlen = o;
              return true;
            }
          m->pos = 1;
        }
      else
        out[o++] = b;
    }
  *outlen = o;
  return false;
}

/* ---- demux ---- */

void
demux_init (struct demux *d)
{
  memset (d, 0, sizeof (*d));
}

void
demux_release (struct demux *d)
{
  free (d->syserr);
  d->syserr = NULL;
}

int
demux_feed (struct demux *d, const char *buf, size_t len, demux_fn fn, void *opaque, skiff_error_t *err)
{
  while (len > 0)
    {
      size_t take;
      if (d->remaining == 0 && d->hdr_len < 8)
        {
          take = 8 - d->hdr_len < len ? 8 - d->hdr_len : len;
          memcpy (d->hdr + d->hdr_len, buf, take);
          d->hdr_len += take;
          buf += take;
          len -= take;
          if (d->hdr_len < 8)
            break;
          if (d->hdr[0] > 3)
            return skiff_error_make (err, 0, "Unrecognized input header: %d", d->hdr[0]);
          d->stream = d->hdr[0] == 0 ? 1 : d->hdr[0];
          d->remaining = ((uint32_t) d->hdr[4] << 24) | ((uint32_t) d->hdr[5] << 16) | ((uint32_t) d->hdr[6] << 8)
                         | d->hdr[7];
          if (d->remaining == 0)
            d->hdr_len = 0;
          continue;
        }
      take = d->remaining < len ? d->remaining : len;
      if (d->stream == 3)
        {
          char *s = realloc (d->syserr, d->syserr_len + take + 1);
          if (s == NULL)
            return skiff_error_make (err, ENOMEM, "stream");
          memcpy (s + d->syserr_len, buf, take);
          d->syserr = s;
          d->syserr_len += take;
          s[d->syserr_len] = '\0';
        }
      else if (fn (d->stream, buf, take, opaque) < 0)
        return skiff_error_make (err, errno, "write output");
      buf += take;
      len -= take;
      d->remaining -= take;
      if (d->remaining == 0)
        {
          d->hdr_len = 0;
          /* A system-error frame ends the stream with its message.  */
          if (d->stream == 3)
            return skiff_error_make (err, 0, "%s", d->syserr ? d->syserr : "");
        }
    }
  return 0;
}

/* ---- the pump ---- */

static int
demux_write (int stream, const char *data, size_t len, void *opaque)
{
  const struct stream_opts *o = opaque;
  return write_all (stream == 2 ? o->err_fd : o->out_fd, data, len);
}

static int
handle_output (const struct stream_opts *o, struct demux *d, const char *buf, size_t len, skiff_error_t *err)
{
  if (len == 0)
    return 0;
  if (o->tty)
    {
      if (write_all (o->out_fd, buf, len) < 0)
        return skiff_error_make (err, errno, "write output");
      return 0;
    }
  return demux_feed (d, buf, len, demux_write, (void *) o, err);
}

static void
report_size (const struct stream_opts *o, bool redraw)
{
  struct winsize ws;
  if (ioctl (o->out_fd, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0 || ws.ws_col == 0)
    return;
  if (redraw)
    o->resize (o->opaque, ws.ws_row + 1, ws.ws_col + 1);
  o->resize (o->opaque, ws.ws_row, ws.ws_col);
}

struct term_restore
{
  int fd;
  bool active;
  struct termios saved;
};

static void
cleanup_term (struct term_restore *t)
{
  if (t->active)
    tcsetattr (t->fd, TCSANOW, &t->saved);
}

struct sigmask_restore
{
  bool active;
  sigset_t saved;
};

static void
cleanup_sigmask (struct sigmask_restore *s)
{
  if (s->active)
    sigprocmask (SIG_SETMASK, &s->saved, NULL);
}

static const int proxied_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

int
stream_run (int fd, const char *pending, size_t pending_len, const struct stream_opts *o, skiff_error_t *err)
{
  __attribute__ ((cleanup (cleanup_term))) struct term_restore term = { .fd = o->in_fd };
  __attribute__ ((cleanup (cleanup_sigmask))) struct sigmask_restore mask = { 0 };
  __attribute__ ((cleanup (demux_release))) struct demux d;
  cleanup_close int sfd = -1;
  struct detach_matcher m;
  bool stdin_open = o->in_fd >= 0, out_tty = isatty (o->out_fd);
  bool use_detach = o->tty && o->in_fd >= 0 && o->ndetach > 0;
  sigset_t set;
  size_t i;

  demux_init (&d);
  detach_matcher_init (&m, o->detach_keys, use_detach ? o->ndetach : 0);

  sigemptyset (&set);
  if (o->resize && out_tty)
    sigaddset (&set, SIGWINCH);
  if (o->signal)
    for (i = 0; i < sizeof (proxied_signals) / sizeof (proxied_signals[0]); i++)
      sigaddset (&set, proxied_signals[i]);
  if (!sigisemptyset (&set))
    {
      if (sigprocmask (SIG_BLOCK, &set, &mask.saved) < 0)
        return skiff_error_make (err, errno, "sigprocmask");
      mask.active = true;
      sfd = signalfd (-1, &set, SFD_CLOEXEC);
      if (sfd < 0)
        return skiff_error_make (err, errno, "signalfd");
    }

  if (o->tty && o->in_fd >= 0 && isatty (o->in_fd))
    {
      struct termios raw;
      if (tcgetattr (o->in_fd, &term.saved) < 0)
        return skiff_error_make (err, errno, "get the terminal attributes");
      raw = term.saved;
      cfmakeraw (&raw);
      if (tcsetattr (o->in_fd, TCSANOW, &raw) < 0)
        return skiff_error_make (err, errno, "set the terminal in raw mode");
      term.active = true;
    }
  if (o->resize && out_tty)
    report_size (o, o->redraw);

  if (handle_output (o, &d, pending, pending_len, err) < 0)
    return -1;

  for (;;)
    {
      struct pollfd pfds[3];
      nfds_t n = 0;
      int conn_i, in_i = -1, sig_i = -1;
      char buf[32768];
      ssize_t r;

      pfds[n] = (struct pollfd) { .fd = fd, .events = POLLIN };
      conn_i = n++;
      if (stdin_open)
        {
          pfds[n] = (struct pollfd) { .fd = o->in_fd, .events = POLLIN };
          in_i = n++;
        }
      if (sfd >= 0)
        {
          pfds[n] = (struct pollfd) { .fd = sfd, .events = POLLIN };
          sig_i = n++;
        }
      if (poll (pfds, n, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return skiff_error_make (err, errno, "poll");
        }

      if (sig_i >= 0 && (pfds[sig_i].revents & POLLIN))
        {
          struct signalfd_siginfo si;
          if (read (sfd, &si, sizeof (si)) == (ssize_t) sizeof (si))
            {
              if ((int) si.ssi_signo == SIGWINCH)
                report_size (o, false);
              else if (o->signal)
                o->signal (o->opaque, si.ssi_signo);
            }
        }

      if (in_i >= 0 && (pfds[in_i].revents & (POLLIN | POLLHUP | POLLERR)))
        {
          unsigned char fwd[sizeof (buf) + DETACH_KEYS_MAX];
          size_t fwd_len;
          bool detached;

          do
            r = read (o->in_fd, buf, sizeof (buf));
          while (r < 0 && errno == EINTR);
          if (r <= 0)
            {
              /* End of input: half-close so that the process sees EOF,
                 and keep reading its output.  */
              stdin_open = false;
              shutdown (fd, SHUT_WR);
            }
          else
            {
              detached = detach_matcher_feed (&m, (unsigned char *) buf, r, fwd, &fwd_len);
              if (fwd_len > 0 && write_all (fd, fwd, fwd_len) < 0)
                {
                  stdin_open = false;
                  shutdown (fd, SHUT_WR);
                }
              if (detached)
                return STREAM_DETACHED;
            }
        }

      if (pfds[conn_i].revents & (POLLIN | POLLHUP | POLLERR))
        {
          do
            r = read (fd, buf, sizeof (buf));
          while (r < 0 && errno == EINTR);
          if (r < 0 && errno == ECONNRESET)
            r = 0;
          if (r < 0)
            return skiff_error_make (err, errno, "read the stream");
          if (r == 0)
            {
              if (!o->tty && (d.hdr_len > 0 || d.remaining > 0))
                return skiff_error_make (err, 0, "the stream ended in the middle of a frame");
              return 0;
            }
          if (handle_output (o, &d, buf, r, err) < 0)
            return -1;
        }
    }
}
