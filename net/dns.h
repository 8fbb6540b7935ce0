/* The embedded DNS server (Docker's 127.0.0.11): answers A and PTR queries
   for container names from a resolver the daemon provides, and forwards the
   rest to upstream servers.  The wire format is libldns's job.

   dns.c decides what to answer (pure, no sockets); dns_server.c serves it on
   skiffd's libuv loop, over UDP and TCP, on sockets bound inside each
   container's network namespace.  */
#ifndef SKIFF_NET_DNS_H
#define SKIFF_NET_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <uv.h>
#include "error.h"

/* TTL of the answers for internal names (Docker's respTTL).  */
#define DNS_INTERNAL_TTL 600

/* What the daemon knows.  Names are passed lower-case, without the
   trailing dot.  Addresses are IPv4 in host byte order.
   lookup_a: up to max addresses of name into addrs, their count into *n;
     returns 0 (also when the name is unknown: *n = 0), <0 on failure.
   lookup_ptr: the name owning addr into *name (malloc'd, freed by the
     caller), or NULL when unknown; returns 0, <0 on failure.
   upstreams: NULL-terminated "a.b.c.d" or "a.b.c.d:port" (port 53 by
     default), tried in order; NULL or empty: nothing is forwarded.  */
struct dns_resolver
{
  int (*lookup_a) (void *data, const char *name, uint32_t *addrs, size_t max, size_t *n);
  int (*lookup_ptr) (void *data, uint32_t addr, char **name);
  const char *const *upstreams;
  void *data;
};

/* Most addresses given in one answer.  */
#define DNS_MAX_ADDRS 64

enum dns_action
{
  DNS_REPLY,   /* *reply holds the answer */
  DNS_FORWARD, /* send the query to the upstream servers */
  DNS_DROP,    /* not a query we can answer at all (no header): ignore it */
};

/* Decides the answer to the query in wire format.
   - A for a known name: the addresses, rotated by *rotation (incremented),
     so that consecutive queries spread over them (round-robin);
   - PTR of a known address (d.c.b.a.in-addr.arpa): its name;
   - AAAA and other types for a known name: an empty NOERROR answer;
   - an unknown name without a dot: NXDOMAIN;
   - anything else: DNS_FORWARD (*reply is then NULL);
   - without upstreams, SERVFAIL instead of DNS_FORWARD;
   - a malformed query or not exactly one question: FORMERR; an opcode
     other than QUERY: NOTIMP;
   - shorter than a header, or a response (QR set): DNS_DROP.
   max_size: the largest reply the transport takes (512 for plain UDP; the
   EDNS size the client advertises raises it; 65535 for TCP); a bigger
   answer is cut to whole records with TC set.
   *reply is malloc'd.  Returns <0 only when the resolver or memory fails.  */
int dns_handle_query (const struct dns_resolver *r, const uint8_t *query, size_t len, size_t max_size,
                      unsigned *rotation, enum dns_action *action, uint8_t **reply, size_t *reply_len,
                      skiff_error_t *err);

/* An empty answer with rcode (e.g. LDNS_RCODE_SERVFAIL) to the query, which
   must have at least a header.  */
int dns_error_reply (const uint8_t *query, size_t len, int rcode, uint8_t **reply, size_t *reply_len,
                     skiff_error_t *err);

/* Parses "a.b.c.d" or "a.b.c.d:port" into a sockaddr.  */
int dns_parse_upstream (const char *s, struct sockaddr_in *out, skiff_error_t *err);

/* ---- the server (dns_server.c) ---- */

/* A socket of type (SOCK_DGRAM or SOCK_STREAM), non-blocking and
   close-on-exec, bound to ip:port in the network namespace at netns_path
   (e.g. /run/skiff/netns/<id>).  A short-lived thread enters the namespace,
   so the calling thread and the rest of the process stay where they are;
   the socket stays in that namespace.  Not listening yet.  */
int dns_socket_in_netns_at (const char *netns_path, int type, const char *ip, unsigned port, int *fd,
                            skiff_error_t *err);
/* The same at 127.0.0.11:53, where containers look for it.  */
int dns_socket_in_netns (const char *netns_path, int type, int *fd, skiff_error_t *err);
/* The same in the calling thread's namespace (tests, and the host).  */
int dns_socket_bind (int type, const char *ip, unsigned port, int *fd, skiff_error_t *err);

struct dns_server;

/* Serves DNS on the loop from a bound UDP socket and a bound (not yet
   listening) TCP socket; either may be -1.  The server owns the fds from
   here on, also on failure.  r (and the strings it points to) must outlive
   the server.  Forwarded queries go out from an unbound UDP socket in the
   daemon's own namespace, one upstream after the other, each given the
   timeout (dns_server_set_timeout); when none answers: SERVFAIL.  */
struct dns_server *dns_server_new (uv_loop_t *loop, int udp_fd, int tcp_fd, const struct dns_resolver *r,
                                   skiff_error_t *err);
/* Per-upstream timeout in milliseconds (default 4000, Docker's).  */
void dns_server_set_timeout (struct dns_server *s, unsigned timeout_ms);
/* Stops serving and closes everything; the memory goes once the loop has
   run the close callbacks.  Pending forwards are abandoned.  */
void dns_server_free (struct dns_server *s);

#endif
