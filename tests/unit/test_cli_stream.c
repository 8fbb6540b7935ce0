/* skiff CLI streams: the 8-byte frame demultiplexer (frames split at every
   byte), detach keys, the hijack handshake against a fake daemon on a unix
   socket, and the stdin/stdout pump.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "stream.h"

/* ---- demux ---- */

struct collected
{
  char out[256], err[256];
  size_t out_len, err_len;
  int calls;
};

static int
collect (int stream, const char *data, size_t len, void *opaque)
{
  struct collected *c = opaque;
  if (stream == 2)
    {
      memcpy (c->err + c->err_len, data, len);
      c->err_len += len;
    }
  else
    {
      memcpy (c->out + c->out_len, data, len);
      c->out_len += len;
    }
  c->calls++;
  return 0;
}

static size_t
frame (unsigned char *buf, int stream, const char *payload)
{
  uint32_t n = strlen (payload);
  buf[0] = stream;
  buf[1] = buf[2] = buf[3] = 0;
  buf[4] = n >> 24;
  buf[5] = n >> 16;
  buf[6] = n >> 8;
  buf[7] = n;
  memcpy (buf + 8, payload, n);
  return 8 + n;
}

static void
test_demux_split_everywhere (void **state)
{
  unsigned char buf[256];
  size_t len = 0, split, split2;

  len += frame (buf + len, 1, "hello ");
  len += frame (buf + len, 2, "oops\n");
  len += frame (buf + len, 1, "");
  len += frame (buf + len, 0, "world\n");
  /* Every way of cutting the stream in three reads gives the same result. */
  for (split = 0; split <= len; split++)
    for (split2 = split; split2 <= len; split2++)
      {
        struct demux d;
        struct collected c = { 0 };
        skiff_error_t err = NULL;
        demux_init (&d);
        assert_int_equal (demux_feed (&d, (char *) buf, split, collect, &c, &err), 0);
        assert_int_equal (demux_feed (&d, (char *) buf + split, split2 - split, collect, &c, &err), 0);
        assert_int_equal (demux_feed (&d, (char *) buf + split2, len - split2, collect, &c, &err), 0);
        assert_int_equal (c.out_len, 12);
        assert_memory_equal (c.out, "hello world\n", 12);
        assert_int_equal (c.err_len, 5);
        assert_memory_equal (c.err, "oops\n", 5);
        assert_int_equal (d.hdr_len, 0);
        assert_int_equal (d.remaining, 0);
        demux_release (&d);
      }
}

static void
test_demux_errors (void **state)
{
  unsigned char buf[64];
  struct demux d;
  struct collected c = { 0 };
  skiff_error_t err = NULL;
  size_t len;

  demux_init (&d);
  len = frame (buf, 7, "x");
  assert_int_equal (demux_feed (&d, (char *) buf, len, collect, &c, &err), -1);
  assert_string_equal (err->msg, "Unrecognized input header: 7");
  skiff_error_release (&err);
  demux_release (&d);

  /* Stream 3 carries a system error that ends the stream.  */
  demux_init (&d);
  len = frame (buf, 3, "exec failed");
  assert_int_equal (demux_feed (&d, (char *) buf, 4, collect, &c, &err), 0);
  assert_int_equal (demux_feed (&d, (char *) buf + 4, len - 4, collect, &c, &err), -1);
  assert_string_equal (err->msg, "exec failed");
  skiff_error_release (&err);
  demux_release (&d);
  assert_int_equal (c.calls, 0);
}

/* ---- detach keys ---- */

static void
test_detach_keys_parse (void **state)
{
  unsigned char k[DETACH_KEYS_MAX];
  size_t n;
  skiff_error_t err = NULL;

  assert_int_equal (detach_keys_parse ("ctrl-p,ctrl-q", k, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_int_equal (k[0], 16);
  assert_int_equal (k[1], 17);
  assert_int_equal (detach_keys_parse ("ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,a,Z,,,DEL", k, &n, &err),
                    -1);
  skiff_error_release (&err);
  assert_int_equal (detach_keys_parse ("ctrl-@,ctrl-a,ctrl-z,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_,a,Z,DEL", k, &n, &err), 0);
  assert_int_equal (n, 11);
  assert_memory_equal (k, "\x00\x01\x1a\x1b\x1c\x1d\x1e\x1f" "aZ\x7f", 11);
  /* "," splits the list, so it is two empty items, not a key.  */
  assert_int_equal (detach_keys_parse (",", k, &n, &err), -1);
  skiff_error_release (&err);
}

static void
test_detach_keys_reject (void **state)
{
  static const char *const bad[] = { "ctrl-P", "ctrl-1", "ctrl-", "ab", "", "a,,b", "ctrl-p,", "del" };
  unsigned char k[DETACH_KEYS_MAX];
  size_t n, i;

  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      skiff_error_t err = NULL;
      if (detach_keys_parse (bad[i], k, &n, &err) == 0)
        fail_msg ("`%s` accepted", bad[i]);
      assert_non_null (strstr (err->msg, "Invalid detach keys"));
      skiff_error_release (&err);
    }
}

static void
test_detach_matcher (void **state)
{
  const unsigned char keys[] = { 16, 17 };
  unsigned char out[64];
  size_t n;
  struct detach_matcher m;

  detach_matcher_init (&m, keys, 2);
  /* Plain input passes through.  */
  assert_false (detach_matcher_feed (&m, (const unsigned char *) "abc", 3, out, &n));
  assert_int_equal (n, 3);
  assert_memory_equal (out, "abc", 3);
  /* A partial match is held back, then released when it breaks.  */
  assert_false (detach_matcher_feed (&m, (const unsigned char *) "x\x10", 2, out, &n));
  assert_int_equal (n, 1);
  assert_false (detach_matcher_feed (&m, (const unsigned char *) "y", 1, out, &n));
  assert_int_equal (n, 2);
  assert_memory_equal (out, "\x10y", 2);
  /* ctrl-p ctrl-p ctrl-q: the first ctrl-p is data, then the sequence.  */
  assert_true (detach_matcher_feed (&m, (const unsigned char *) "\x10\x10\x11zz", 5, out, &n));
  assert_int_equal (n, 1);
  assert_int_equal (out[0], 16);
  /* Split across reads.  */
  detach_matcher_init (&m, keys, 2);
  assert_false (detach_matcher_feed (&m, (const unsigned char *) "ls\x10", 3, out, &n));
  assert_int_equal (n, 2);
  assert_true (detach_matcher_feed (&m, (const unsigned char *) "\x11", 1, out, &n));
  assert_int_equal (n, 0);
  /* No keys: everything passes.  */
  detach_matcher_init (&m, keys, 0);
  assert_false (detach_matcher_feed (&m, (const unsigned char *) "\x10\x11", 2, out, &n));
  assert_int_equal (n, 2);
}

/* ---- a fake daemon ---- */

struct fake
{
  char dir[64], path[128];
  int lfd;
  pthread_t thread;
  const char *answer;  /* sent after the request headers arrive */
  size_t answer_len;
  char request[4096];  /* what the client sent before EOF or detach */
  size_t request_len;
  bool echo_frames;    /* after the answer, echo stdin back as stdout frames */
};

static void *
fake_main (void *arg)
{
  struct fake *f = arg;
  int fd = accept (f->lfd, NULL, NULL);
  char buf[1024];
  ssize_t n;
  bool answered = false;

  if (fd < 0)
    return NULL;
  while ((n = read (fd, buf, sizeof (buf))) > 0)
    {
      memcpy (f->request + f->request_len, buf, n);
      f->request_len += n;
      if (!answered && memmem (f->request, f->request_len, "\r\n\r\n", 4))
        {
          answered = true;
          if (write (fd, f->answer, f->answer_len) < 0)
            break;
          if (!f->echo_frames)
            break;
          continue;
        }
      if (answered && f->echo_frames)
        {
          unsigned char hdr[8] = { 1, 0, 0, 0, 0, 0, 0, (unsigned char) n };
          if (write (fd, hdr, 8) < 0 || write (fd, buf, n) < 0)
            break;
        }
    }
  /* The client half-closed (stdin EOF): say goodbye on stderr and end.  */
  if (answered && f->echo_frames)
    {
      const char bye[] = { 2, 0, 0, 0, 0, 0, 0, 4, 'b', 'y', 'e', '\n' };
      if (write (fd, bye, sizeof (bye)) < 0)
        perror ("write");
    }
  close (fd);
  return NULL;
}

static void
fake_start (struct fake *f, const char *answer, size_t len, bool echo)
{
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  memset (f, 0, sizeof (*f));
  strcpy (f->dir, "/tmp/test_cli_stream.XXXXXX");
  assert_non_null (mkdtemp (f->dir));
  snprintf (f->path, sizeof (f->path), "%s/sock", f->dir);
  strcpy (addr.sun_path, f->path);
  f->lfd = socket (AF_UNIX, SOCK_STREAM, 0);
  assert_true (f->lfd >= 0);
  assert_int_equal (bind (f->lfd, (struct sockaddr *) &addr, sizeof (addr)), 0);
  assert_int_equal (listen (f->lfd, 1), 0);
  f->answer = answer;
  f->answer_len = len;
  f->echo_frames = echo;
  assert_int_equal (pthread_create (&f->thread, NULL, fake_main, f), 0);
}

static void
fake_stop (struct fake *f)
{
  pthread_join (f->thread, NULL);
  close (f->lfd);
  unlink (f->path);
  rmdir (f->dir);
}

static void
test_hijack_handshake (void **state)
{
  static const char answer[] = "HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                               "Connection: Upgrade\r\nUpgrade: tcp\r\n\r\n\x01\x00\x00\x00\x00\x00\x00\x02hi";
  struct fake f;
  struct raw_http h;
  skiff_error_t err = NULL;

  fake_start (&f, answer, sizeof (answer) - 1, false);
  assert_int_equal (raw_http_request (f.path, "POST", "/containers/x/attach?stream=1",
                                      "Connection: Upgrade\r\nUpgrade: tcp\r\n", NULL, 0, &h, &err),
                    0);
  assert_int_equal (h.status, 101);
  /* The bytes after the headers are the start of the stream.  */
  assert_int_equal (h.extra_len, 10);
  assert_memory_equal (h.extra, "\x01\x00\x00\x00\x00\x00\x00\x02hi", 10);
  raw_http_release (&h);
  fake_stop (&f);
  assert_non_null (memmem (f.request, f.request_len, "POST /v1.41/containers/x/attach?stream=1 HTTP/1.1\r\n", 51));
  assert_non_null (memmem (f.request, f.request_len, "Upgrade: tcp\r\n", 14));
}

static void
test_hijack_error_answer (void **state)
{
  static const char answer[] = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n"
                               "{\"message\":\"No such container: nope12\"}\n";
  struct fake f;
  struct raw_http h;
  skiff_error_t err = NULL;

  fake_start (&f, answer, sizeof (answer) - 1, false);
  assert_int_equal (raw_http_request (f.path, "POST", "/containers/nope12/attach", NULL, NULL, 0, &h, &err), -1);
  assert_string_equal (err->msg, "Error response from daemon: No such container: nope12");
  skiff_error_release (&err);
  raw_http_release (&h);
  fake_stop (&f);
}

static void
test_wait_chunked_body (void **state)
{
  /* As skiffd answers wait: headers at once, the chunked body later.  */
  static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "1e\r\n{\"StatusCode\":3,\"Error\":null}\n\r\n0\r\n\r\n";
  struct fake f;
  struct raw_http h;
  skiff_error_t err = NULL;

  fake_start (&f, answer, sizeof (answer) - 1, false);
  assert_int_equal (raw_http_request (f.path, "POST", "/containers/x/wait?condition=next-exit", NULL, NULL, 0, &h, &err), 0);
  assert_int_equal (h.status, 200);
  assert_int_equal (raw_http_read_body (&h, &err), 0);
  assert_true (h.complete);
  assert_string_equal (h.body, "{\"StatusCode\":3,\"Error\":null}\n");
  raw_http_release (&h);
  fake_stop (&f);
}

static void
test_hijack_connect_error (void **state)
{
  struct raw_http h;
  skiff_error_t err = NULL;
  assert_int_equal (raw_http_request ("/nonexistent/skiff.sock", "GET", "/_ping", NULL, NULL, 0, &h, &err), -1);
  assert_string_equal (err->msg, "Cannot connect to the skiff daemon at unix:///nonexistent/skiff.sock. Is skiffd running?");
  skiff_error_release (&err);
  raw_http_release (&h);
}

static size_t
read_all (int fd, char *buf, size_t cap)
{
  size_t len = 0;
  ssize_t n;
  while (len < cap && (n = read (fd, buf + len, cap - len)) > 0)
    len += n;
  return len;
}

static void
test_pump_multiplexed (void **state)
{
  static const char answer[] = "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n";
  struct fake f;
  struct raw_http h;
  skiff_error_t err = NULL;
  int in[2], out[2], errp[2];
  char buf[256];
  struct stream_opts o = { 0 };

  fake_start (&f, answer, sizeof (answer) - 1, true);
  assert_int_equal (raw_http_request (f.path, "POST", "/containers/x/attach?stdin=1&stdout=1&stream=1", NULL, NULL, 0,
                                      &h, &err),
                    0);
  assert_int_equal (pipe (in), 0);
  assert_int_equal (pipe (out), 0);
  assert_int_equal (pipe (errp), 0);
  assert_int_equal (write (in[1], "ping\n", 5), 5);
  close (in[1]); /* EOF on stdin: the pump half-closes, the fake says bye */
  o.in_fd = in[0];
  o.out_fd = out[1];
  o.err_fd = errp[1];
  o.tty = false;
  assert_int_equal (stream_run (h.fd, h.extra, h.extra_len, &o, &err), 0);
  close (out[1]);
  close (errp[1]);
  assert_int_equal (read_all (out[0], buf, sizeof (buf)), 5);
  assert_memory_equal (buf, "ping\n", 5);
  assert_int_equal (read_all (errp[0], buf, sizeof (buf)), 4);
  assert_memory_equal (buf, "bye\n", 4);
  close (in[0]);
  close (out[0]);
  close (errp[0]);
  raw_http_release (&h);
  fake_stop (&f);
}

static void
test_pump_tty_detach (void **state)
{
  const unsigned char keys[] = { 16, 17 };
  skiff_error_t err = NULL;
  struct stream_opts o = { 0 };
  int in[2], out[2], sp[2];
  char buf[16];

  assert_int_equal (pipe (in), 0);
  assert_int_equal (pipe (out), 0);
  assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM, 0, sp), 0);
  assert_int_equal (write (in[1], "ls\x10\x11", 4), 4);
  o.in_fd = in[0];
  o.out_fd = out[1];
  o.err_fd = out[1];
  o.tty = true;
  o.detach_keys = keys;
  o.ndetach = 2;
  /* The bytes before the sequence reach the container; the keys do not. */
  assert_int_equal (stream_run (sp[0], NULL, 0, &o, &err), STREAM_DETACHED);
  close (sp[0]);
  assert_int_equal (read_all (sp[1], buf, sizeof (buf)), 2);
  assert_memory_equal (buf, "ls", 2);
  close (sp[1]);
  close (in[0]);
  close (in[1]);
  close (out[0]);
  close (out[1]);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_demux_split_everywhere), cmocka_unit_test (test_demux_errors),
    cmocka_unit_test (test_detach_keys_parse),      cmocka_unit_test (test_detach_keys_reject),
    cmocka_unit_test (test_detach_matcher),         cmocka_unit_test (test_hijack_handshake),
    cmocka_unit_test (test_hijack_error_answer),    cmocka_unit_test (test_wait_chunked_body),
    cmocka_unit_test (test_hijack_connect_error),   cmocka_unit_test (test_pump_multiplexed),
    cmocka_unit_test (test_pump_tty_detach),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
