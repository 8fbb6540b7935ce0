/* The embedded DNS server on the libuv loop: UDP and TCP (RFC 1035
   length-prefixed) listeners inside a container's namespace, and forwarding
   to the upstream servers over UDP.

   Lifetimes: the server, each TCP connection and each forwarded query hold
   libuv handles that close asynchronously, so each is reference-counted and
   freed from its last close callback.  A forward holds a reference on its
   TCP connection: an answer arriving after the client left is dropped.  */
#include "dns.h"
#include "cleanup.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <ldns/ldns.h>

#define DNS_TIMEOUT_MS 4000    /* Docker's extIOTimeout */
#define DNS_MAX_FORWARDS 100   /* Docker's maxConcurrent */
#define DNS_MAX_CONNS 100
#define DNS_TCP_IDLE_MS 10000
#define DNS_UDP_MAX 512

/* ---- sockets ---- */

int
dns_socket_bind (int type, const char *ip, unsigned port, int *fd, skiff_error_t *err)
{
  cleanup_close int s = -1;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  int one = 1;

  if ((type != SOCK_DGRAM && type != SOCK_STREAM) || port > 65535)
    return skiff_error_make (err, EINVAL, "DNS socket %s:%u", ip, port);
  if (inet_pton (AF_INET, ip, &sin.sin_addr) != 1)
    return skiff_error_make (err, 0, "invalid IPv4 address `%s`", ip);
  s = socket (AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0)
    return skiff_error_make (err, errno, "socket");
  if (type == SOCK_STREAM && setsockopt (s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof (one)) < 0)
    return skiff_error_make (err, errno, "setsockopt SO_REUSEADDR");
  if (bind (s, (struct sockaddr *) &sin, sizeof (sin)) < 0)
    return skiff_error_make (err, errno, "bind %s %s:%u", type == SOCK_DGRAM ? "udp" : "tcp", ip, port);
  *fd = steal_fd (&s);
  return 0;
}

struct netns_job
{
  int nsfd;
  int type;
  const char *ip;
  unsigned port;
  int fd;
  skiff_error_t err;
};

/* Runs in its own thread: namespaces are per thread, so only this one
   enters the container's netns, and it ends right after.  */
static void *
netns_thread (void *arg)
{
  struct netns_job *job = arg;
  if (setns (job->nsfd, CLONE_NEWNET) < 0)
    {
      skiff_error_make (&job->err, errno, "setns");
      return NULL;
    }
  dns_socket_bind (job->type, job->ip, job->port, &job->fd, &job->err);
  return NULL;
}

int
dns_socket_in_netns_at (const char *netns_path, int type, const char *ip, unsigned port, int *fd, skiff_error_t *err)
{
  cleanup_close int nsfd = open (netns_path, O_RDONLY | O_CLOEXEC);
  struct netns_job job = { .type = type, .ip = ip, .port = port, .fd = -1 };
  pthread_t th;
  int ret;

  if (nsfd < 0)
    return skiff_error_make (err, errno, "open network namespace `%s`", netns_path);
  job.nsfd = nsfd;
  ret = pthread_create (&th, NULL, netns_thread, &job);
  if (ret != 0)
    return skiff_error_make (err, ret, "start thread for network namespace `%s`", netns_path);
  ret = pthread_join (th, NULL);
  if (ret != 0)
    return skiff_error_make (err, ret, "join thread for network namespace `%s`", netns_path);
  if (job.err)
    {
      *err = job.err;
      return skiff_error_wrap (err, "network namespace `%s`", netns_path);
    }
  *fd = job.fd;
  return 0;
}

int
dns_socket_in_netns (const char *netns_path, int type, int *fd, skiff_error_t *err)
{
  return dns_socket_in_netns_at (netns_path, type, "127.0.0.11", 53, fd, err);
}

/* ---- the server ---- */

struct dns_conn;

struct dns_forward
{
  struct dns_server *s;
  struct dns_forward *prev, *next;
  uv_udp_t sock;
  uv_timer_t timer;
  int open_handles;
  uint8_t *query;
  size_t len;
  uint16_t client_id, id;
  size_t upstream;                 /* index into r->upstreams */
  struct sockaddr_in upstream_addr;
  struct sockaddr_storage client;  /* UDP client, when conn is NULL */
  struct dns_conn *conn;           /* TCP client */
};

struct dns_conn
{
  struct dns_server *s;
  struct dns_conn *prev, *next;
  uv_tcp_t tcp;
  uv_timer_t idle;
  int refs;      /* 1 while open + 1 per pending forward */
  int open_handles;
  bool closed;
  size_t have;
  uint8_t buf[2 + LDNS_MAX_PACKETLEN];
};

struct dns_server
{
  uv_loop_t *loop;
  const struct dns_resolver *r;
  uv_udp_t udp;
  uv_tcp_t tcp;
  bool has_udp, has_tcp;
  int refs; /* the owner + each open listener, connection and forward */
  bool closing;
  unsigned timeout_ms;
  unsigned rotation;
  size_t n_forwards, n_conns;
  struct dns_forward *forwards;
  struct dns_conn *conns;
  uint8_t rbuf[LDNS_MAX_PACKETLEN];
};

/* Doubly-linked list helpers for forwards and connections.  */
#define LIST_ADD(head, x)          \
  do                               \
    {                              \
      (x)->prev = NULL;            \
      (x)->next = (head);          \
      if (head)                    \
        (head)->prev = (x);        \
      (head) = (x);                \
    }                              \
  while (0)
#define LIST_DEL(head, x)          \
  do                               \
    {                              \
      if ((x)->prev)               \
        (x)->prev->next = (x)->next; \
      else                         \
        (head) = (x)->next;        \
      if ((x)->next)               \
        (x)->next->prev = (x)->prev; \
      (x)->prev = (x)->next = NULL; \
    }                              \
  while (0)

static void
server_unref (struct dns_server *s)
{
  if (--s->refs == 0)
    free (s);
}

static void
listener_closed (uv_handle_t *h)
{
  server_unref (h->data);
}

/* -- replies -- */

struct udp_reply
{
  uv_udp_send_t req;
  uint8_t *data;
};

static void
udp_reply_sent (uv_udp_send_t *req, int status)
{
  struct udp_reply *u = (struct udp_reply *) req;
  if (status < 0 && status != UV_ECANCELED)
    log_debug ("dns: send reply: %s", uv_strerror (status));
  free (u->data);
  free (u);
}

struct tcp_reply
{
  uv_write_t req;
  uint8_t *data;
};

static void
tcp_reply_sent (uv_write_t *req, int status)
{
  struct tcp_reply *t = (struct tcp_reply *) req;
  free (t->data);
  free (t);
}

static void conn_close (struct dns_conn *c);

/* Sends data (taken) to the client: a UDP peer or a TCP connection.  */
static void
send_reply (struct dns_server *s, const struct sockaddr *client, struct dns_conn *conn, uint8_t *data, size_t len)
{
  if (s->closing || len > LDNS_MAX_PACKETLEN)
    {
      free (data);
      return;
    }
  if (conn)
    {
      struct tcp_reply *t = NULL;
      uint8_t *framed = NULL;
      uv_buf_t buf;

      if (conn->closed || (t = calloc (1, sizeof (*t))) == NULL || (framed = malloc (len + 2)) == NULL)
        {
          free (t);
          free (data);
          return;
        }
      ldns_write_uint16 (framed, (uint16_t) len);
      memcpy (framed + 2, data, len);
      free (data);
      t->data = framed;
      buf = uv_buf_init ((char *) framed, (unsigned) len + 2);
      if (uv_write (&t->req, (uv_stream_t *) &conn->tcp, &buf, 1, tcp_reply_sent) < 0)
        {
          free (framed);
          free (t);
          conn_close (conn);
        }
      return;
    }
  {
    struct udp_reply *u = calloc (1, sizeof (*u));
    uv_buf_t buf = uv_buf_init ((char *) data, (unsigned) len);
    int ret;
    if (u == NULL)
      {
        free (data);
        return;
      }
    u->data = data;
    ret = uv_udp_send (&u->req, &s->udp, &buf, 1, client, udp_reply_sent);
    if (ret < 0)
      {
        log_debug ("dns: send reply: %s", uv_strerror (ret));
        free (data);
        free (u);
      }
  }
}

static void
send_error (struct dns_server *s, const uint8_t *query, size_t len, int rcode, const struct sockaddr *client,
            struct dns_conn *conn)
{
  skiff_error_t err = NULL;
  uint8_t *reply = NULL;
  size_t reply_len = 0;
  if (dns_error_reply (query, len, rcode, &reply, &reply_len, &err) < 0)
    {
      log_warning ("dns: %s", err->msg);
      skiff_error_release (&err);
      return;
    }
  send_reply (s, client, conn, reply, reply_len);
}

/* -- forwarding -- */

static void
conn_unref (struct dns_conn *c)
{
  struct dns_server *s = c->s;
  if (--c->refs == 0)
    {
      free (c);
      server_unref (s);
    }
}

static void
forward_handle_closed (uv_handle_t *h)
{
  struct dns_forward *f = h->data;
  struct dns_server *s = f->s;
  if (--f->open_handles > 0)
    return;
  free (f->query);
  free (f);
  server_unref (s);
}

/* Ends a forward: optionally answers the client first (reply is taken).  */
static void
forward_end (struct dns_forward *f, uint8_t *reply, size_t len)
{
  struct dns_server *s = f->s;
  if (reply)
    send_reply (s, (struct sockaddr *) &f->client, f->conn, reply, len);
  LIST_DEL (s->forwards, f);
  s->n_forwards--;
  if (f->conn)
    {
      conn_unref (f->conn);
      f->conn = NULL;
    }
  uv_close ((uv_handle_t *) &f->sock, forward_handle_closed);
  uv_close ((uv_handle_t *) &f->timer, forward_handle_closed);
}

static void
forward_fail (struct dns_forward *f)
{
  skiff_error_t err = NULL;
  uint8_t *reply = NULL;
  size_t len = 0;

  /* the query carries the client's id again for the error reply */
  ldns_write_uint16 (f->query, f->client_id);
  if (dns_error_reply (f->query, f->len, LDNS_RCODE_SERVFAIL, &reply, &len, &err) < 0)
    {
      log_warning ("dns: %s", err->msg);
      skiff_error_release (&err);
    }
  forward_end (f, reply, len);
}

static void forward_try (struct dns_forward *f);

static void
forward_next (struct dns_forward *f)
{
  uv_timer_stop (&f->timer);
  f->upstream++;
  forward_try (f);
}

/* One attempt's send; the forward outlives it (closing the socket cancels
   pending sends before the close callback).  */
struct forward_send
{
  uv_udp_send_t req;
  struct dns_forward *f;
  size_t upstream;
};

static void
forward_sent (uv_udp_send_t *req, int status)
{
  struct forward_send *fs = (struct forward_send *) req;
  struct dns_forward *f = fs->f;
  size_t upstream = fs->upstream;

  free (fs);
  if (status == UV_ECANCELED || status >= 0)
    return;
  log_debug ("dns: send to upstream %s: %s", f->s->r->upstreams[upstream], uv_strerror (status));
  /* a late failure of an attempt already given up on changes nothing */
  if (upstream == f->upstream && !uv_is_closing ((uv_handle_t *) &f->sock))
    forward_next (f);
}

static void
forward_timeout (uv_timer_t *t)
{
  struct dns_forward *f = t->data;
  log_debug ("dns: upstream %s timed out", f->s->r->upstreams[f->upstream]);
  forward_next (f);
}

static uint16_t
random_id (void)
{
  static uint16_t fallback;
  uint16_t id;
  if (getrandom (&id, sizeof (id), GRND_NONBLOCK) != sizeof (id))
    id = (uint16_t) (++fallback * 40503u);
  return id;
}

/* Sends the query to the current upstream, skipping unusable ones; with
   none left, SERVFAIL.  */
static void
forward_try (struct dns_forward *f)
{
  const char *const *ups = f->s->r->upstreams;
  for (; ups && ups[f->upstream]; f->upstream++)
    {
      skiff_error_t err = NULL;
      uv_buf_t buf = uv_buf_init ((char *) f->query, (unsigned) f->len);
      struct forward_send *fs;
      int ret;

      if (dns_parse_upstream (ups[f->upstream], &f->upstream_addr, &err) < 0)
        {
          log_warning ("dns: %s", err->msg);
          skiff_error_release (&err);
          continue;
        }
      f->id = random_id ();
      ldns_write_uint16 (f->query, f->id);
      fs = calloc (1, sizeof (*fs));
      if (fs == NULL)
        break;
      fs->f = f;
      fs->upstream = f->upstream;
      ret = uv_udp_send (&fs->req, &f->sock, &buf, 1, (struct sockaddr *) &f->upstream_addr, forward_sent);
      if (ret < 0)
        {
          free (fs);
          log_debug ("dns: send to upstream %s: %s", ups[f->upstream], uv_strerror (ret));
          continue;
        }
      uv_timer_start (&f->timer, forward_timeout, f->s->timeout_ms, 0);
      return;
    }
  forward_fail (f);
}

static void
forward_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct dns_forward *f = h->data;
  *buf = uv_buf_init ((char *) f->s->rbuf, sizeof (f->s->rbuf));
}

/* An answer from upstream: accepted only from the server asked last, with
   the id sent, as a well-formed response; relayed as received, with the
   client's id.  */
static void
forward_recv (uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
  struct dns_forward *f = h->data;
  const struct sockaddr_in *from = (const struct sockaddr_in *) addr;
  ldns_pkt *pkt = NULL;
  uint8_t *copy;

  if (nread <= 0 || addr == NULL || addr->sa_family != AF_INET)
    return;
  if (from->sin_addr.s_addr != f->upstream_addr.sin_addr.s_addr || from->sin_port != f->upstream_addr.sin_port)
    return;
  if ((size_t) nread < LDNS_HEADER_SIZE || !LDNS_QR_WIRE ((uint8_t *) buf->base)
      || LDNS_ID_WIRE ((uint8_t *) buf->base) != f->id)
    return;
  if (ldns_wire2pkt (&pkt, (uint8_t *) buf->base, (size_t) nread) != LDNS_STATUS_OK)
    return;
  ldns_pkt_free (pkt);
  copy = malloc ((size_t) nread);
  if (copy == NULL)
    return;
  memcpy (copy, buf->base, (size_t) nread);
  ldns_write_uint16 (copy, f->client_id);
  uv_timer_stop (&f->timer);
  forward_end (f, copy, (size_t) nread);
}

static void
forward_start (struct dns_server *s, const uint8_t *query, size_t len, const struct sockaddr *client,
               struct dns_conn *conn)
{
  struct dns_forward *f;
  int ret;

  if (s->n_forwards >= DNS_MAX_FORWARDS || (f = calloc (1, sizeof (*f))) == NULL)
    {
      send_error (s, query, len, LDNS_RCODE_SERVFAIL, client, conn);
      return;
    }
  f->query = malloc (len);
  if (f->query == NULL)
    {
      free (f);
      send_error (s, query, len, LDNS_RCODE_SERVFAIL, client, conn);
      return;
    }
  memcpy (f->query, query, len);
  f->len = len;
  f->client_id = LDNS_ID_WIRE (query);
  f->s = s;
  if (client)
    memcpy (&f->client, client, sizeof (struct sockaddr_in));
  ret = uv_udp_init (s->loop, &f->sock);
  if (ret < 0)
    {
      log_warning ("dns: forward socket: %s", uv_strerror (ret));
      free (f->query);
      free (f);
      send_error (s, query, len, LDNS_RCODE_SERVFAIL, client, conn);
      return;
    }
  uv_timer_init (s->loop, &f->timer);
  f->sock.data = f->timer.data = f;
  f->open_handles = 2;
  s->refs++;
  s->n_forwards++;
  LIST_ADD (s->forwards, f);
  if (conn)
    {
      conn->refs++;
      f->conn = conn;
    }
  /* Sending first binds the socket to an ephemeral port; then listen.  */
  forward_try (f);
  if (uv_is_closing ((uv_handle_t *) &f->sock))
    return;
  ret = uv_udp_recv_start (&f->sock, forward_alloc, forward_recv);
  if (ret < 0)
    {
      log_warning ("dns: receive from upstream: %s", uv_strerror (ret));
      forward_fail (f);
    }
}

/* -- queries -- */

static void
serve (struct dns_server *s, const uint8_t *msg, size_t len, size_t max, const struct sockaddr *client,
       struct dns_conn *conn)
{
  skiff_error_t err = NULL;
  enum dns_action action;
  uint8_t *reply = NULL;
  size_t reply_len = 0;

  if (dns_handle_query (s->r, msg, len, max, &s->rotation, &action, &reply, &reply_len, &err) < 0)
    {
      log_warning ("dns: %s", err->msg);
      skiff_error_release (&err);
      send_error (s, msg, len, LDNS_RCODE_SERVFAIL, client, conn);
      return;
    }
  switch (action)
    {
    case DNS_REPLY:
      send_reply (s, client, conn, reply, reply_len);
      break;
    case DNS_FORWARD:
      forward_start (s, msg, len, client, conn);
      break;
    case DNS_DROP:
      break;
    }
}

static void
udp_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct dns_server *s = h->data;
  *buf = uv_buf_init ((char *) s->rbuf, sizeof (s->rbuf));
}

static void
udp_recv (uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr, unsigned flags)
{
  struct dns_server *s = h->data;
  if (nread < 0)
    log_debug ("dns: udp receive: %s", uv_strerror ((int) nread));
  if (nread <= 0 || addr == NULL || addr->sa_family != AF_INET || (flags & UV_UDP_PARTIAL))
    return;
  serve (s, (const uint8_t *) buf->base, (size_t) nread, DNS_UDP_MAX, addr, NULL);
}

/* -- TCP connections -- */

static void
conn_handle_closed (uv_handle_t *h)
{
  struct dns_conn *c = h->data;
  if (--c->open_handles == 0)
    conn_unref (c);
}

static void
conn_close (struct dns_conn *c)
{
  if (c->closed)
    return;
  c->closed = true;
  LIST_DEL (c->s->conns, c);
  c->s->n_conns--;
  uv_close ((uv_handle_t *) &c->tcp, conn_handle_closed);
  uv_close ((uv_handle_t *) &c->idle, conn_handle_closed);
}

static void
conn_idle (uv_timer_t *t)
{
  conn_close (t->data);
}

static void
conn_alloc (uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
  struct dns_conn *c = h->data;
  *buf = uv_buf_init ((char *) c->buf + c->have, (unsigned) (sizeof (c->buf) - c->have));
}

static void
conn_read (uv_stream_t *h, ssize_t nread, const uv_buf_t *buf)
{
  struct dns_conn *c = h->data;

  if (nread < 0)
    {
      conn_close (c);
      return;
    }
  c->have += (size_t) nread;
  uv_timer_again (&c->idle);
  /* Each message is a 2-byte length and the message.  */
  while (!c->closed && c->have >= 2)
    {
      size_t mlen = ldns_read_uint16 (c->buf);
      if (mlen == 0)
        {
          conn_close (c);
          return;
        }
      if (c->have < 2 + mlen)
        break;
      serve (c->s, c->buf + 2, mlen, LDNS_MAX_PACKETLEN, NULL, c);
      memmove (c->buf, c->buf + 2 + mlen, c->have - 2 - mlen);
      c->have -= 2 + mlen;
    }
}

static void
free_handle (uv_handle_t *h)
{
  free (h);
}

static void
on_connection (uv_stream_t *listener, int status)
{
  struct dns_server *s = listener->data;
  struct dns_conn *c;

  if (status < 0)
    {
      log_warning ("dns: accept: %s", uv_strerror (status));
      return;
    }
  c = calloc (1, sizeof (*c));
  if (c == NULL || uv_tcp_init (s->loop, &c->tcp) < 0)
    {
      /* Take the connection off the queue anyway, or it spins.  */
      uv_tcp_t *tmp = calloc (1, sizeof (*tmp));
      free (c);
      if (tmp && uv_tcp_init (s->loop, tmp) == 0)
        {
          uv_accept (listener, (uv_stream_t *) tmp);
          uv_close ((uv_handle_t *) tmp, free_handle);
        }
      else
        free (tmp);
      return;
    }
  uv_timer_init (s->loop, &c->idle);
  c->s = s;
  c->tcp.data = c->idle.data = c;
  c->refs = 1;
  c->open_handles = 2;
  s->refs++;
  s->n_conns++;
  LIST_ADD (s->conns, c);
  if (uv_accept (listener, (uv_stream_t *) &c->tcp) < 0 || s->n_conns > DNS_MAX_CONNS
      || uv_read_start ((uv_stream_t *) &c->tcp, conn_alloc, conn_read) < 0)
    {
      conn_close (c);
      return;
    }
  uv_timer_start (&c->idle, conn_idle, DNS_TCP_IDLE_MS, DNS_TCP_IDLE_MS);
}

/* -- lifecycle -- */

void
dns_server_set_timeout (struct dns_server *s, unsigned timeout_ms)
{
  s->timeout_ms = timeout_ms;
}

void
dns_server_free (struct dns_server *s)
{
  if (s == NULL || s->closing)
    return;
  s->closing = true;
  while (s->forwards)
    forward_end (s->forwards, NULL, 0);
  while (s->conns)
    conn_close (s->conns);
  if (s->has_udp)
    uv_close ((uv_handle_t *) &s->udp, listener_closed);
  if (s->has_tcp)
    uv_close ((uv_handle_t *) &s->tcp, listener_closed);
  server_unref (s);
}

static int
start_udp (struct dns_server *s, int fd, skiff_error_t *err)
{
  int ret = uv_udp_init (s->loop, &s->udp);
  if (ret < 0)
    {
      close (fd);
      return skiff_error_make (err, -ret, "dns: udp handle");
    }
  s->udp.data = s;
  s->has_udp = true;
  s->refs++;
  ret = uv_udp_open (&s->udp, fd);
  if (ret < 0)
    {
      close (fd);
      return skiff_error_make (err, -ret, "dns: open udp socket %d", fd);
    }
  ret = uv_udp_recv_start (&s->udp, udp_alloc, udp_recv);
  if (ret < 0)
    return skiff_error_make (err, -ret, "dns: receive on udp socket");
  return 0;
}

static int
start_tcp (struct dns_server *s, int fd, skiff_error_t *err)
{
  int ret = uv_tcp_init (s->loop, &s->tcp);
  if (ret < 0)
    {
      close (fd);
      return skiff_error_make (err, -ret, "dns: tcp handle");
    }
  s->tcp.data = s;
  s->has_tcp = true;
  s->refs++;
  ret = uv_tcp_open (&s->tcp, fd);
  if (ret < 0)
    {
      close (fd);
      return skiff_error_make (err, -ret, "dns: open tcp socket %d", fd);
    }
  ret = uv_listen ((uv_stream_t *) &s->tcp, 64, on_connection);
  if (ret < 0)
    return skiff_error_make (err, -ret, "dns: listen on tcp socket");
  return 0;
}

struct dns_server *
dns_server_new (uv_loop_t *loop, int udp_fd, int tcp_fd, const struct dns_resolver *r, skiff_error_t *err)
{
  struct dns_server *s = calloc (1, sizeof (*s));
  int ret = 0;

  if (s == NULL)
    {
      if (udp_fd >= 0)
        close (udp_fd);
      if (tcp_fd >= 0)
        close (tcp_fd);
      skiff_error_make (err, ENOMEM, "dns: allocate server");
      return NULL;
    }
  s->loop = loop;
  s->r = r;
  s->refs = 1;
  s->timeout_ms = DNS_TIMEOUT_MS;
  if (udp_fd >= 0)
    ret = start_udp (s, udp_fd, err);
  if (tcp_fd >= 0)
    {
      if (ret < 0)
        close (tcp_fd);
      else
        ret = start_tcp (s, tcp_fd, err);
    }
  if (ret < 0)
    {
      /* handles already opened close on the loop, which then frees s */
      dns_server_free (s);
      return NULL;
    }
  return s;
}
