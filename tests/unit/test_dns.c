/* The embedded DNS server: answers decided by dns_handle_query, then the
   server live on loopback (UDP and TCP, forwarding to a fake upstream that
   the test runs on another loopback port), then, as root, sockets bound in
   a network namespace the test creates.  Traffic stays on loopback.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <ldns/ldns.h>

#include "cleanup.h"
#include "dns.h"
#include "error.h"

#define WEB1 0xac120002u /* 172.18.0.2 */
#define WEB2 0xac120003u /* 172.18.0.3 */

/* ---- a fake resolver ---- */

struct fake
{
  char last[256];
  int calls;
};

static int
fake_lookup_a (void *data, const char *name, uint32_t *addrs, size_t max, size_t *n)
{
  struct fake *f = data;
  snprintf (f->last, sizeof (f->last), "%s", name);
  f->calls++;
  *n = 0;
  if (strcmp (name, "web") == 0 || strcmp (name, "web.mynet") == 0)
    {
      addrs[0] = WEB1;
      addrs[1] = WEB2;
      *n = 2;
    }
  else if (strcmp (name, "many") == 0)
    {
      for (*n = 0; *n < max; (*n)++)
        addrs[*n] = 0x0a000000u + (uint32_t) *n + 1;
    }
  else if (strcmp (name, "boom") == 0)
    return -1;
  return 0;
}

static int
fake_lookup_ptr (void *data, uint32_t addr, char **name)
{
  *name = addr == WEB1 ? strdup ("web.mynet") : NULL;
  return 0;
}

static struct fake fake_data;
static const char *const no_upstreams[] = { NULL };
static const char *const some_upstream[] = { "127.0.0.1:9", NULL };
static struct dns_resolver resolver = { fake_lookup_a, fake_lookup_ptr, some_upstream, &fake_data };

/* ---- message helpers (libldns) ---- */

static uint8_t *
make_query (const char *name, ldns_rr_type type, uint16_t id, size_t *len)
{
  ldns_pkt *q = ldns_pkt_query_new (ldns_dname_new_frm_str (name), type, LDNS_RR_CLASS_IN, LDNS_RD);
  uint8_t *wire = NULL;
  assert_non_null (q);
  ldns_pkt_set_id (q, id);
  assert_int_equal (ldns_pkt2wire (&wire, q, len), LDNS_STATUS_OK);
  ldns_pkt_free (q);
  return wire;
}

static ldns_pkt *
parse (const uint8_t *wire, size_t len)
{
  ldns_pkt *p = NULL;
  assert_int_equal (ldns_wire2pkt (&p, wire, len), LDNS_STATUS_OK);
  return p;
}

/* The A addresses of the answer, in order.  */
static size_t
answer_addrs (const ldns_pkt *p, uint32_t *out, size_t max)
{
  ldns_rr_list *an = ldns_pkt_answer (p);
  size_t i, n = 0;
  for (i = 0; i < ldns_rr_list_rr_count (an) && n < max; i++)
    {
      ldns_rr *rr = ldns_rr_list_rr (an, i);
      uint32_t be;
      assert_int_equal (ldns_rr_get_type (rr), LDNS_RR_TYPE_A);
      assert_int_equal (ldns_rr_ttl (rr), DNS_INTERNAL_TTL);
      memcpy (&be, ldns_rdf_data (ldns_rr_rdf (rr, 0)), 4);
      out[n++] = ntohl (be);
    }
  return n;
}

/* Runs dns_handle_query on (name, type) and returns the parsed reply, or
   NULL with *action set when there is none.  */
static ldns_pkt *
ask (const struct dns_resolver *r, const char *name, ldns_rr_type type, size_t max, enum dns_action *action)
{
  static unsigned rotation;
  skiff_error_t err = NULL;
  size_t qlen, rlen;
  uint8_t *reply = NULL;
  ldns_pkt *p = NULL;
  uint8_t *q = make_query (name, type, 0x1234, &qlen);

  if (dns_handle_query (r, q, qlen, max, &rotation, action, &reply, &rlen, &err) < 0)
    fail_msg ("dns_handle_query: %s", err->msg);
  free (q);
  if (*action != DNS_REPLY)
    {
      assert_null (reply);
      return NULL;
    }
  p = parse (reply, rlen);
  free (reply);
  assert_int_equal (ldns_pkt_id (p), 0x1234);
  assert_true (ldns_pkt_qr (p));
  assert_true (ldns_pkt_rd (p));
  assert_int_equal (ldns_pkt_qdcount (p), 1);
  return p;
}

static ldns_pkt *
ask_reply (const char *name, ldns_rr_type type, ldns_pkt_rcode rcode)
{
  enum dns_action action;
  ldns_pkt *p = ask (&resolver, name, type, 512, &action);
  assert_int_equal (action, DNS_REPLY);
  assert_int_equal (ldns_pkt_get_rcode (p), rcode);
  return p;
}

/* ---- dns_handle_query ---- */

static void
test_a_rotates (void **state)
{
  uint32_t a[4], b[4], c[4];
  ldns_pkt *p;

  p = ask_reply ("web", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
  assert_true (ldns_pkt_aa (p));
  assert_int_equal (answer_addrs (p, a, 4), 2);
  assert_string_equal (fake_data.last, "web");
  ldns_pkt_free (p);
  p = ask_reply ("web", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
  assert_int_equal (answer_addrs (p, b, 4), 2);
  ldns_pkt_free (p);
  p = ask_reply ("web", LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
  assert_int_equal (answer_addrs (p, c, 4), 2);
  ldns_pkt_free (p);
  /* both addresses each time, the first one alternating */
  assert_true ((a[0] == WEB1 && a[1] == WEB2) || (a[0] == WEB2 && a[1] == WEB1));
  assert_int_equal (b[0], a[1]);
  assert_int_equal (b[1], a[0]);
  assert_int_equal (c[0], a[0]);
}

static void
test_case_and_dot (void **state)
{
  static const char *const names[] = { "WEB", "Web.", "web.MyNet", "WEB.MYNET." };
  size_t i;
  for (i = 0; i < 4; i++)
    {
      uint32_t a[4];
      ldns_pkt *p = ask_reply (names[i], LDNS_RR_TYPE_A, LDNS_RCODE_NOERROR);
      char *owner;
      assert_int_equal (answer_addrs (p, a, 4), 2);
      /* the resolver sees lower case without the dot ... */
      assert_string_equal (fake_data.last, i < 2 ? "web" : "web.mynet");
      /* ... the answer keeps the name as asked */
      owner = ldns_rdf2str (ldns_rr_owner (ldns_rr_list_rr (ldns_pkt_answer (p), 0)));
      assert_int_equal (strncmp (owner, names[i], strlen (i < 2 ? "web" : "web.mynet")), 0);
      free (owner);
      ldns_pkt_free (p);
    }
}

static void
test_ptr (void **state)
{
  enum dns_action action;
  ldns_pkt *p = ask_reply ("2.0.18.172.in-addr.arpa.", LDNS_RR_TYPE_PTR, LDNS_RCODE_NOERROR);
  ldns_rr *rr;
  char *target;

  assert_int_equal (ldns_pkt_ancount (p), 1);
  rr = ldns_rr_list_rr (ldns_pkt_answer (p), 0);
  assert_int_equal (ldns_rr_get_type (rr), LDNS_RR_TYPE_PTR);
  target = ldns_rdf2str (ldns_rr_rdf (rr, 0));
  assert_string_equal (target, "web.mynet.");
  free (target);
  ldns_pkt_free (p);

  /* unknown addresses and malformed reverse names go upstream */
  assert_null (ask (&resolver, "9.0.18.172.in-addr.arpa", LDNS_RR_TYPE_PTR, 512, &action));
  assert_int_equal (action, DNS_FORWARD);
  assert_null (ask (&resolver, "300.0.18.172.in-addr.arpa", LDNS_RR_TYPE_PTR, 512, &action));
  assert_int_equal (action, DNS_FORWARD);
  assert_null (ask (&resolver, "0.18.172.in-addr.arpa", LDNS_RR_TYPE_PTR, 512, &action));
  assert_int_equal (action, DNS_FORWARD);
}

static void
test_unknown_and_other_types (void **state)
{
  enum dns_action action;
  struct dns_resolver isolated = resolver;
  ldns_pkt *p;

  /* internal-looking unknown name: NXDOMAIN, never forwarded */
  p = ask_reply ("nosuch", LDNS_RR_TYPE_A, LDNS_RCODE_NXDOMAIN);
  assert_int_equal (ldns_pkt_ancount (p), 0);
  ldns_pkt_free (p);
  p = ask_reply ("nosuch", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NXDOMAIN);
  ldns_pkt_free (p);
  /* AAAA (and MX) of a container: empty NOERROR */
  p = ask_reply ("web", LDNS_RR_TYPE_AAAA, LDNS_RCODE_NOERROR);
  assert_int_equal (ldns_pkt_ancount (p), 0);
  ldns_pkt_free (p);
  p = ask_reply ("web.mynet", LDNS_RR_TYPE_MX, LDNS_RCODE_NOERROR);
  assert_int_equal (ldns_pkt_ancount (p), 0);
  ldns_pkt_free (p);
  /* outside names go upstream; without upstreams: SERVFAIL */
  assert_null (ask (&resolver, "example.org", LDNS_RR_TYPE_A, 512, &action));
  assert_int_equal (action, DNS_FORWARD);
  assert_null (ask (&resolver, "example.org", LDNS_RR_TYPE_AAAA, 512, &action));
  assert_int_equal (action, DNS_FORWARD);
  isolated.upstreams = no_upstreams;
  p = ask (&isolated, "example.org", LDNS_RR_TYPE_A, 512, &action);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_SERVFAIL);
  ldns_pkt_free (p);
  isolated.upstreams = NULL;
  p = ask (&isolated, "example.org", LDNS_RR_TYPE_A, 512, &action);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_SERVFAIL);
  ldns_pkt_free (p);
}

static void
test_truncation (void **state)
{
  enum dns_action action;
  uint32_t a[DNS_MAX_ADDRS];
  ldns_pkt *p;
  size_t n;

  /* 64 records do not fit in 512 bytes: fewer, TC set */
  p = ask (&resolver, "many", LDNS_RR_TYPE_A, 512, &action);
  n = answer_addrs (p, a, DNS_MAX_ADDRS);
  assert_true (ldns_pkt_tc (p));
  assert_true (n > 0 && n < DNS_MAX_ADDRS);
  ldns_pkt_free (p);
  /* over TCP they all fit */
  p = ask (&resolver, "many", LDNS_RR_TYPE_A, 65535, &action);
  assert_false (ldns_pkt_tc (p));
  assert_int_equal (answer_addrs (p, a, DNS_MAX_ADDRS), DNS_MAX_ADDRS);
  ldns_pkt_free (p);
}

static void
test_bad_messages (void **state)
{
  unsigned rotation = 0;
  skiff_error_t err = NULL;
  enum dns_action action;
  uint8_t *reply = NULL;
  size_t qlen, rlen;
  uint8_t *q = make_query ("web", LDNS_RR_TYPE_A, 0xbeef, &qlen);
  uint8_t junk[16] = { 0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0x3f, 'x', 'y', 'z' };
  ldns_pkt *p;

  /* shorter than a header: dropped */
  assert_int_equal (dns_handle_query (&resolver, q, 11, 512, &rotation, &action, &reply, &rlen, &err), 0);
  assert_int_equal (action, DNS_DROP);
  /* a response: dropped */
  q[2] |= 0x80;
  assert_int_equal (dns_handle_query (&resolver, q, qlen, 512, &rotation, &action, &reply, &rlen, &err), 0);
  assert_int_equal (action, DNS_DROP);
  q[2] &= 0x7f;
  /* opcode NOTIFY: NOTIMP */
  q[2] = (uint8_t) ((q[2] & 0x87) | (LDNS_PACKET_NOTIFY << 3));
  assert_int_equal (dns_handle_query (&resolver, q, qlen, 512, &rotation, &action, &reply, &rlen, &err), 0);
  assert_int_equal (action, DNS_REPLY);
  p = parse (reply, rlen);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_NOTIMPL);
  assert_int_equal (ldns_pkt_id (p), 0xbeef);
  ldns_pkt_free (p);
  free (reply);
  free (q);

  /* a broken question: FORMERR with the client's id */
  assert_int_equal (dns_handle_query (&resolver, junk, sizeof (junk), 512, &rotation, &action, &reply, &rlen, &err), 0);
  assert_int_equal (action, DNS_REPLY);
  p = parse (reply, rlen);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_FORMERR);
  assert_int_equal (ldns_pkt_id (p), 0xabcd);
  assert_true (ldns_pkt_qr (p));
  ldns_pkt_free (p);
  free (reply);

  /* no question at all: FORMERR */
  junk[5] = 0;
  assert_int_equal (dns_handle_query (&resolver, junk, 12, 512, &rotation, &action, &reply, &rlen, &err), 0);
  p = parse (reply, rlen);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_FORMERR);
  ldns_pkt_free (p);
  free (reply);

  /* the resolver failing is an error for the caller */
  q = make_query ("boom", LDNS_RR_TYPE_A, 1, &qlen);
  assert_int_equal (dns_handle_query (&resolver, q, qlen, 512, &rotation, &action, &reply, &rlen, &err), -1);
  assert_non_null (err);
  assert_string_equal (err->msg, "look up `boom`");
  skiff_error_release (&err);
  free (q);
}

static void
test_parse_upstream (void **state)
{
  static const char *const bad[] = { "", "1.2.3", "1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65536", "1.2.3.4:5x", "::1" };
  struct sockaddr_in sin;
  skiff_error_t err = NULL;
  size_t i;

  assert_int_equal (dns_parse_upstream ("203.0.113.53", &sin, &err), 0);
  assert_int_equal (ntohs (sin.sin_port), 53);
  assert_int_equal (ntohl (sin.sin_addr.s_addr), 0xcb007135);
  assert_int_equal (dns_parse_upstream ("127.0.0.1:5353", &sin, &err), 0);
  assert_int_equal (ntohs (sin.sin_port), 5353);
  for (i = 0; i < sizeof (bad) / sizeof (bad[0]); i++)
    {
      assert_int_equal (dns_parse_upstream (bad[i], &sin, &err), -1);
      assert_non_null (err);
      skiff_error_release (&err);
    }
}

/* ---- live: the server on loopback ---- */

/* A fake upstream server: a UDP socket the test polls; answers A queries
   with 192.0.2.<n> (n = its number) unless silent.  */
struct upstream
{
  int fd;
  unsigned port;
  bool silent;
  int queries;
  char last_name[256];
  uint16_t last_id;
};

static void
upstream_open (struct upstream *u, bool silent)
{
  skiff_error_t err = NULL;
  struct sockaddr_in sin;
  socklen_t sl = sizeof (sin);
  memset (u, 0, sizeof (*u));
  u->silent = silent;
  if (dns_socket_bind (SOCK_DGRAM, "127.0.0.1", 0, &u->fd, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (getsockname (u->fd, (struct sockaddr *) &sin, &sl), 0);
  u->port = ntohs (sin.sin_port);
}

static void
upstream_serve (struct upstream *u, uint32_t answer)
{
  uint8_t buf[4096];
  struct sockaddr_in from;
  socklen_t fl = sizeof (from);
  ssize_t n = recvfrom (u->fd, buf, sizeof (buf), MSG_DONTWAIT, (struct sockaddr *) &from, &fl);
  ldns_pkt *q = NULL, *r;
  ldns_rr *qrr, *rr = NULL;
  char *name, line[512];
  uint8_t *wire = NULL;
  size_t wlen;
  struct in_addr in = { htonl (answer) };

  if (n <= 0)
    return;
  u->queries++;
  assert_int_equal (ldns_wire2pkt (&q, buf, (size_t) n), LDNS_STATUS_OK);
  u->last_id = ldns_pkt_id (q);
  qrr = ldns_rr_list_rr (ldns_pkt_question (q), 0);
  name = ldns_rdf2str (ldns_rr_owner (qrr));
  snprintf (u->last_name, sizeof (u->last_name), "%s", name);
  if (!u->silent)
    {
      r = ldns_pkt_new ();
      ldns_pkt_set_id (r, ldns_pkt_id (q));
      ldns_pkt_set_qr (r, true);
      ldns_pkt_set_rd (r, true);
      ldns_pkt_set_ra (r, true);
      ldns_pkt_push_rr (r, LDNS_SECTION_QUESTION, ldns_rr_clone (qrr));
      snprintf (line, sizeof (line), "%s 300 IN A %s", name, inet_ntoa (in));
      assert_int_equal (ldns_rr_new_frm_str (&rr, line, 0, NULL, NULL), LDNS_STATUS_OK);
      ldns_pkt_push_rr (r, LDNS_SECTION_ANSWER, rr);
      assert_int_equal (ldns_pkt2wire (&wire, r, &wlen), LDNS_STATUS_OK);
      assert_int_equal (sendto (u->fd, wire, wlen, 0, (struct sockaddr *) &from, fl), (ssize_t) wlen);
      free (wire);
      ldns_pkt_free (r);
    }
  free (name);
  ldns_pkt_free (q);
}

static int64_t
now_ms (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct live
{
  uv_loop_t loop;
  struct dns_server *server;
  struct dns_resolver r;
  const char *ups[3];
  char up_names[2][32];
  struct upstream up[2];
  unsigned udp_port, tcp_port;
};

/* Runs the loop and the fake upstreams until the client fd is readable or
   the deadline passes.  */
static bool
pump_until_readable (struct live *l, int client, int timeout_ms)
{
  int64_t deadline = now_ms () + timeout_ms;
  while (now_ms () < deadline)
    {
      struct pollfd pfd = { .fd = client, .events = POLLIN };
      size_t i;
      uv_run (&l->loop, UV_RUN_NOWAIT);
      for (i = 0; i < 2; i++)
        if (l->up[i].fd >= 0)
          upstream_serve (&l->up[i], 0xc0000200u + (uint32_t) i + 1);
      if (poll (&pfd, 1, 5) == 1)
        return true;
    }
  return false;
}

static unsigned
bound_port (int fd)
{
  struct sockaddr_in sin;
  socklen_t sl = sizeof (sin);
  assert_int_equal (getsockname (fd, (struct sockaddr *) &sin, &sl), 0);
  return ntohs (sin.sin_port);
}

static int
live_setup (void **state)
{
  struct live *l = calloc (1, sizeof (*l));
  skiff_error_t err = NULL;
  int ufd = -1, tfd = -1;
  size_t i;

  assert_non_null (l);
  assert_int_equal (uv_loop_init (&l->loop), 0);
  for (i = 0; i < 2; i++)
    {
      upstream_open (&l->up[i], i == 0);
      snprintf (l->up_names[i], sizeof (l->up_names[i]), "127.0.0.1:%u", l->up[i].port);
      l->ups[i] = l->up_names[i];
    }
  l->r = resolver;
  l->r.upstreams = l->ups;
  if (dns_socket_bind (SOCK_DGRAM, "127.0.0.1", 0, &ufd, &err) < 0
      || dns_socket_bind (SOCK_STREAM, "127.0.0.1", 0, &tfd, &err) < 0)
    fail_msg ("%s", err->msg);
  l->udp_port = bound_port (ufd);
  l->tcp_port = bound_port (tfd);
  l->server = dns_server_new (&l->loop, ufd, tfd, &l->r, &err);
  if (l->server == NULL)
    fail_msg ("dns_server_new: %s", err->msg);
  dns_server_set_timeout (l->server, 150);
  *state = l;
  return 0;
}

static int
live_teardown (void **state)
{
  struct live *l = *state;
  dns_server_free (l->server);
  /* every handle of the server closes: the loop ends on its own */
  assert_int_equal (uv_run (&l->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal (uv_loop_close (&l->loop), 0);
  close (l->up[0].fd);
  close (l->up[1].fd);
  free (l);
  return 0;
}

static int
udp_client (unsigned port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true (fd >= 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  assert_int_equal (connect (fd, (struct sockaddr *) &sin, sizeof (sin)), 0);
  return fd;
}

/* One query over UDP; the parsed reply, or NULL when none came.  */
static ldns_pkt *
udp_ask (struct live *l, int fd, const char *name, ldns_rr_type type, uint16_t id, int timeout_ms)
{
  uint8_t buf[4096];
  size_t qlen;
  uint8_t *q = make_query (name, type, id, &qlen);
  ssize_t n;

  assert_int_equal (send (fd, q, qlen, 0), (ssize_t) qlen);
  free (q);
  if (!pump_until_readable (l, fd, timeout_ms))
    return NULL;
  n = recv (fd, buf, sizeof (buf), 0);
  assert_true (n > 0);
  return parse (buf, (size_t) n);
}

static void
test_live_udp (void **state)
{
  struct live *l = *state;
  cleanup_close int fd = udp_client (l->udp_port);
  uint32_t a[4], b[4];
  ldns_pkt *p;

  p = udp_ask (l, fd, "web", LDNS_RR_TYPE_A, 7, 2000);
  assert_non_null (p);
  assert_int_equal (ldns_pkt_id (p), 7);
  assert_int_equal (answer_addrs (p, a, 4), 2);
  ldns_pkt_free (p);
  p = udp_ask (l, fd, "WEB.", LDNS_RR_TYPE_A, 8, 2000);
  assert_non_null (p);
  assert_int_equal (answer_addrs (p, b, 4), 2);
  ldns_pkt_free (p);
  assert_int_equal (b[0], a[1]);
  assert_int_equal (b[1], a[0]);

  p = udp_ask (l, fd, "2.0.18.172.in-addr.arpa", LDNS_RR_TYPE_PTR, 9, 2000);
  assert_non_null (p);
  assert_int_equal (ldns_pkt_ancount (p), 1);
  ldns_pkt_free (p);

  p = udp_ask (l, fd, "nosuch", LDNS_RR_TYPE_A, 10, 2000);
  assert_non_null (p);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_NXDOMAIN);
  ldns_pkt_free (p);
  /* nothing internal reached the upstreams */
  assert_int_equal (l->up[0].queries + l->up[1].queries, 0);
}

static void
test_live_forward (void **state)
{
  struct live *l = *state;
  cleanup_close int fd = udp_client (l->udp_port);
  uint32_t a[4];
  ldns_pkt *p;

  /* the first upstream is silent: after its timeout the second answers,
     and the answer comes back with the client's id */
  p = udp_ask (l, fd, "www.example.org", LDNS_RR_TYPE_A, 0x4242, 3000);
  assert_non_null (p);
  assert_int_equal (ldns_pkt_id (p), 0x4242);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_NOERROR);
  assert_int_equal (ldns_pkt_ancount (p), 1);
  memcpy (a, ldns_rdf_data (ldns_rr_rdf (ldns_rr_list_rr (ldns_pkt_answer (p), 0), 0)), 4);
  assert_int_equal (ntohl (a[0]), 0xc0000202u); /* 192.0.2.2 from upstream 2 */
  ldns_pkt_free (p);
  assert_int_equal (l->up[0].queries, 1);
  assert_int_equal (l->up[1].queries, 1);
  assert_string_equal (l->up[1].last_name, "www.example.org.");

  /* both silent: SERVFAIL once each has had its timeout */
  l->up[1].silent = true;
  {
    int64_t t0 = now_ms ();
    p = udp_ask (l, fd, "www.example.net", LDNS_RR_TYPE_A, 0x4343, 3000);
    assert_non_null (p);
    assert_true (now_ms () - t0 >= 2 * 150 - 20);
  }
  assert_int_equal (ldns_pkt_id (p), 0x4343);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_SERVFAIL);
  assert_int_equal (ldns_pkt_qdcount (p), 1);
  ldns_pkt_free (p);
  assert_int_equal (l->up[0].queries, 2);
  assert_int_equal (l->up[1].queries, 2);
}

static void
test_live_forward_pending_at_free (void **state)
{
  struct live *l = *state;
  cleanup_close int fd = udp_client (l->udp_port);
  size_t qlen;
  uint8_t *q = make_query ("slow.example.org", LDNS_RR_TYPE_A, 1, &qlen);
  int64_t deadline = now_ms () + 2000;

  /* a forward in flight when the server goes: teardown must still end the
     loop with every handle closed */
  assert_int_equal (send (fd, q, qlen, 0), (ssize_t) qlen);
  free (q);
  while (l->up[0].queries == 0 && now_ms () < deadline)
    {
      uv_run (&l->loop, UV_RUN_NOWAIT);
      upstream_serve (&l->up[0], 0);
      poll (NULL, 0, 2);
    }
  assert_int_equal (l->up[0].queries, 1);
}

static int
tcp_client (unsigned port)
{
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (fd >= 0);
  sin.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  /* the kernel completes the handshake from the listen backlog */
  assert_int_equal (connect (fd, (struct sockaddr *) &sin, sizeof (sin)), 0);
  return fd;
}

static void
tcp_send_query (int fd, const char *name, ldns_rr_type type, uint16_t id)
{
  size_t qlen;
  uint8_t *q = make_query (name, type, id, &qlen);
  uint8_t *framed = malloc (qlen + 2);
  ldns_write_uint16 (framed, (uint16_t) qlen);
  memcpy (framed + 2, q, qlen);
  assert_int_equal (write (fd, framed, qlen + 2), (ssize_t) qlen + 2);
  free (framed);
  free (q);
}

/* Reads one length-prefixed reply.  */
static ldns_pkt *
tcp_read_reply (struct live *l, int fd)
{
  uint8_t buf[70000];
  size_t have = 0;
  int64_t deadline = now_ms () + 3000;

  while (now_ms () < deadline)
    {
      ssize_t n;
      if (have >= 2 && have >= 2u + ldns_read_uint16 (buf))
        return parse (buf + 2, ldns_read_uint16 (buf));
      if (!pump_until_readable (l, fd, (int) (deadline - now_ms ())))
        break;
      /* one reply at a time: read the length, then exactly the message */
      n = recv (fd, buf + have, have < 2 ? 2 - have : 2u + ldns_read_uint16 (buf) - have, 0);
      if (n <= 0)
        break;
      have += (size_t) n;
    }
  fail_msg ("no TCP reply");
  return NULL;
}

static void
test_live_tcp (void **state)
{
  struct live *l = *state;
  cleanup_close int fd = tcp_client (l->tcp_port);
  uint32_t a[DNS_MAX_ADDRS];
  ldns_pkt *p;

  /* two pipelined queries, answered in order */
  tcp_send_query (fd, "many", LDNS_RR_TYPE_A, 21);
  tcp_send_query (fd, "nosuch", LDNS_RR_TYPE_A, 22);
  p = tcp_read_reply (l, fd);
  assert_int_equal (ldns_pkt_id (p), 21);
  assert_false (ldns_pkt_tc (p));
  assert_int_equal (answer_addrs (p, a, DNS_MAX_ADDRS), DNS_MAX_ADDRS);
  ldns_pkt_free (p);
  p = tcp_read_reply (l, fd);
  assert_int_equal (ldns_pkt_id (p), 22);
  assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_NXDOMAIN);
  ldns_pkt_free (p);

  /* forwarded over TCP too (the upstream itself is asked over UDP) */
  tcp_send_query (fd, "mirror.example.org", LDNS_RR_TYPE_A, 23);
  p = tcp_read_reply (l, fd);
  assert_int_equal (ldns_pkt_id (p), 23);
  assert_int_equal (ldns_pkt_ancount (p), 1);
  ldns_pkt_free (p);
  assert_string_equal (l->up[1].last_name, "mirror.example.org.");
}

/* ---- as root: sockets inside a network namespace ---- */

struct netns_fixture
{
  char name[64];
  char path[128];
};

static int
run_cmd (const char *fmt, const char *arg)
{
  char cmd[256];
  snprintf (cmd, sizeof (cmd), fmt, arg);
  return system (cmd);
}

static int
netns_setup (void **state)
{
  struct netns_fixture *n;
  if (geteuid () != 0)
    {
      *state = NULL;
      return 0;
    }
  n = calloc (1, sizeof (*n));
  snprintf (n->name, sizeof (n->name), "skiff-dnstest-%d", (int) getpid ());
  snprintf (n->path, sizeof (n->path), "/run/netns/%s", n->name);
  if (run_cmd ("ip netns add %s", n->name) != 0 || run_cmd ("ip -n %s link set lo up", n->name) != 0)
    {
      run_cmd ("ip netns del %s 2>/dev/null", n->name);
      free (n);
      return -1;
    }
  *state = n;
  return 0;
}

static int
netns_teardown (void **state)
{
  struct netns_fixture *n = *state;
  if (n == NULL)
    return 0;
  run_cmd ("ip netns del %s", n->name);
  free (n);
  return 0;
}

/* A client socket connected to 127.0.0.11:53 from inside the namespace,
   made by a thread of its own like the server's.  */
struct client_job
{
  int nsfd, type, fd;
};

static void *
client_thread (void *arg)
{
  struct client_job *j = arg;
  struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons (53) };
  int fd;
  if (setns (j->nsfd, CLONE_NEWNET) < 0)
    return NULL;
  fd = socket (AF_INET, j->type | SOCK_CLOEXEC, 0);
  inet_pton (AF_INET, "127.0.0.11", &sin.sin_addr);
  if (fd >= 0 && connect (fd, (struct sockaddr *) &sin, sizeof (sin)) == 0)
    j->fd = fd;
  else if (fd >= 0)
    close (fd);
  return NULL;
}

static int
client_in_netns (const char *path, int type)
{
  struct client_job j = { .type = type, .fd = -1 };
  pthread_t th;
  j.nsfd = open (path, O_RDONLY | O_CLOEXEC);
  assert_true (j.nsfd >= 0);
  assert_int_equal (pthread_create (&th, NULL, client_thread, &j), 0);
  assert_int_equal (pthread_join (th, NULL), 0);
  close (j.nsfd);
  assert_true (j.fd >= 0);
  return j.fd;
}

static ino_t
ns_inode (const char *path)
{
  struct stat st;
  assert_int_equal (stat (path, &st), 0);
  return st.st_ino;
}

static void
test_netns_socket (void **state)
{
  struct netns_fixture *n = *state;
  ino_t before, target;
  skiff_error_t err = NULL;
  int ufd = -1, tfd = -1, fd;
  struct live *l;

  if (n == NULL)
    skip ();
  before = ns_inode ("/proc/thread-self/ns/net");
  target = ns_inode (n->path);
  assert_true (before != target);

  if (dns_socket_in_netns (n->path, SOCK_DGRAM, &ufd, &err) < 0
      || dns_socket_in_netns (n->path, SOCK_STREAM, &tfd, &err) < 0)
    fail_msg ("dns_socket_in_netns: %s", err->msg);
  /* this thread stayed where it was; the sockets live in the namespace */
  assert_int_equal (ns_inode ("/proc/thread-self/ns/net"), before);
  {
    struct stat st;
    int nsfd = ioctl (ufd, SIOCGSKNS);
    assert_true (nsfd >= 0);
    assert_int_equal (fstat (nsfd, &st), 0);
    assert_int_equal (st.st_ino, target);
    close (nsfd);
  }
  assert_int_equal (bound_port (ufd), 53);

  /* a second bind of the same address in the namespace fails clearly */
  assert_int_equal (dns_socket_in_netns (n->path, SOCK_DGRAM, &fd, &err), -1);
  assert_non_null (strstr (err->msg, "bind udp 127.0.0.11:53: Address already in use"));
  assert_non_null (strstr (err->msg, n->path));
  skiff_error_release (&err);
  assert_int_equal (dns_socket_in_netns ("/run/netns/skiff-dnstest-missing", SOCK_DGRAM, &fd, &err), -1);
  assert_string_equal (err->msg, "open network namespace `/run/netns/skiff-dnstest-missing`: No such file or directory");
  skiff_error_release (&err);

  l = calloc (1, sizeof (*l));
  assert_int_equal (uv_loop_init (&l->loop), 0);
  l->up[0].fd = l->up[1].fd = -1;
  l->r = resolver;
  l->r.upstreams = no_upstreams;
  l->server = dns_server_new (&l->loop, ufd, tfd, &l->r, &err);
  assert_non_null (l->server);

  /* queried from inside the namespace, over UDP and TCP */
  {
    cleanup_close int c = client_in_netns (n->path, SOCK_DGRAM);
    uint32_t a[4];
    ldns_pkt *p = udp_ask (l, c, "web", LDNS_RR_TYPE_A, 99, 2000);
    assert_non_null (p);
    assert_int_equal (answer_addrs (p, a, 4), 2);
    ldns_pkt_free (p);
  }
  {
    cleanup_close int c = client_in_netns (n->path, SOCK_STREAM);
    ldns_pkt *p;
    tcp_send_query (c, "example.org", LDNS_RR_TYPE_A, 100);
    p = tcp_read_reply (l, c);
    assert_int_equal (ldns_pkt_get_rcode (p), LDNS_RCODE_SERVFAIL);
    ldns_pkt_free (p);
  }
  dns_server_free (l->server);
  assert_int_equal (uv_run (&l->loop, UV_RUN_DEFAULT), 0);
  assert_int_equal (uv_loop_close (&l->loop), 0);
  free (l);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_a_rotates),
    cmocka_unit_test (test_case_and_dot),
    cmocka_unit_test (test_ptr),
    cmocka_unit_test (test_unknown_and_other_types),
    cmocka_unit_test (test_truncation),
    cmocka_unit_test (test_bad_messages),
    cmocka_unit_test (test_parse_upstream),
    cmocka_unit_test_setup_teardown (test_live_udp, live_setup, live_teardown),
    cmocka_unit_test_setup_teardown (test_live_forward, live_setup, live_teardown),
    cmocka_unit_test_setup_teardown (test_live_forward_pending_at_free, live_setup, live_teardown),
    cmocka_unit_test_setup_teardown (test_live_tcp, live_setup, live_teardown),
    cmocka_unit_test_setup_teardown (test_netns_socket, netns_setup, netns_teardown),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
