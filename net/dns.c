/* What the embedded DNS server answers: internal names from the resolver,
   the rest forwarded.  Messages are parsed and built with libldns.  */
#include "dns.h"
#include "cleanup.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <ldns/ldns.h>

static void
cleanup_pktp (ldns_pkt **p)
{
  if (*p)
    ldns_pkt_free (*p);
}
#define cleanup_pkt __attribute__ ((cleanup (cleanup_pktp)))

int
dns_parse_upstream (const char *s, struct sockaddr_in *out, skiff_error_t *err)
{
  char host[INET_ADDRSTRLEN];
  const char *colon = s ? strchr (s, ':') : NULL;
  size_t hlen = colon ? (size_t) (colon - s) : (s ? strlen (s) : 0);
  unsigned long port = 53;

  if (s == NULL || hlen == 0 || hlen >= sizeof (host))
    return skiff_error_make (err, 0, "invalid DNS server address `%s`", s ? s : "");
  memcpy (host, s, hlen);
  host[hlen] = '\0';
  memset (out, 0, sizeof (*out));
  out->sin_family = AF_INET;
  if (inet_pton (AF_INET, host, &out->sin_addr) != 1)
    return skiff_error_make (err, 0, "invalid DNS server address `%s`", s);
  if (colon)
    {
      char *end;
      errno = 0;
      port = strtoul (colon + 1, &end, 10);
      if (errno || colon[1] == '\0' || *end != '\0' || port == 0 || port > 65535)
        return skiff_error_make (err, 0, "invalid port in DNS server address `%s`", s);
    }
  out->sin_port = htons ((uint16_t) port);
  return 0;
}

/* A reply to q with its question, flags and rcode, no records.  */
static ldns_pkt *
reply_new (const ldns_pkt *q, ldns_pkt_rcode rcode, bool authoritative)
{
  ldns_rr_list *question = ldns_pkt_question (q);
  ldns_pkt *p = ldns_pkt_new ();
  size_t i;

  if (p == NULL)
    return NULL;
  ldns_pkt_set_id (p, ldns_pkt_id (q));
  ldns_pkt_set_qr (p, true);
  ldns_pkt_set_opcode (p, ldns_pkt_get_opcode (q));
  ldns_pkt_set_rd (p, ldns_pkt_rd (q));
  ldns_pkt_set_ra (p, true);
  ldns_pkt_set_aa (p, authoritative);
  ldns_pkt_set_rcode (p, rcode);
  for (i = 0; question && i < ldns_rr_list_rr_count (question); i++)
    {
      ldns_rr *rr = ldns_rr_clone (ldns_rr_list_rr (question, i));
      if (rr == NULL || !ldns_pkt_push_rr (p, LDNS_SECTION_QUESTION, rr))
        {
          ldns_rr_free (rr);
          ldns_pkt_free (p);
          return NULL;
        }
    }
  /* Answer EDNS with EDNS: some resolvers retry without it otherwise.  */
  if (ldns_pkt_edns (q))
    ldns_pkt_set_edns_udp_size (p, 4096);
  return p;
}

static int
to_wire (ldns_pkt *p, uint8_t **reply, size_t *reply_len, skiff_error_t *err)
{
  ldns_status st;
  if (p == NULL)
    return skiff_error_make (err, ENOMEM, "build DNS reply");
  st = ldns_pkt2wire (reply, p, reply_len);
  if (st != LDNS_STATUS_OK)
    return skiff_error_make (err, 0, "encode DNS reply: %s", ldns_get_errorstr_by_id (st));
  return 0;
}

int
dns_error_reply (const uint8_t *query, size_t len, int rcode, uint8_t **reply, size_t *reply_len, skiff_error_t *err)
{
  cleanup_pkt ldns_pkt *q = NULL;
  cleanup_pkt ldns_pkt *p = NULL;

  if (len < LDNS_HEADER_SIZE)
    return skiff_error_make (err, 0, "DNS message of %zu bytes has no header", len);
  if (ldns_wire2pkt (&q, query, len) == LDNS_STATUS_OK)
    p = reply_new (q, rcode, false);
  else
    {
      /* Unparsable: echo what the header says, without a question.  */
      q = NULL;
      p = ldns_pkt_new ();
      if (p)
        {
          ldns_pkt_set_id (p, LDNS_ID_WIRE (query));
          ldns_pkt_set_qr (p, true);
          ldns_pkt_set_opcode (p, LDNS_OPCODE_WIRE (query));
          ldns_pkt_set_rd (p, LDNS_RD_WIRE (query) != 0);
          ldns_pkt_set_ra (p, true);
          ldns_pkt_set_rcode (p, rcode);
        }
    }
  return to_wire (p, reply, reply_len, err);
}

/* The question's name, lower-case, without the trailing dot.  */
static char *
question_name (const ldns_rr *qrr)
{
  char *s = ldns_rdf2str (ldns_rr_owner (qrr));
  size_t n, i;
  if (s == NULL)
    return NULL;
  n = strlen (s);
  if (n > 0 && s[n - 1] == '.')
    s[--n] = '\0';
  for (i = 0; i < n; i++)
    s[i] = (char) tolower ((unsigned char) s[i]);
  return s;
}

/* "d.c.b.a.in-addr.arpa" into a.b.c.d (host order).  */
static bool
parse_reverse_name (const char *name, uint32_t *addr)
{
  static const char suffix[] = ".in-addr.arpa";
  size_t n = strlen (name), sl = sizeof (suffix) - 1;
  const char *p = name;
  uint32_t a = 0;
  int label;

  if (n <= sl || strcmp (name + n - sl, suffix) != 0)
    return false;
  for (label = 0; label < 4; label++)
    {
      unsigned v = 0, digits = 0;
      while (*p >= '0' && *p <= '9' && digits < 4)
        v = v * 10 + (unsigned) (*p++ - '0'), digits++;
      if (digits == 0 || digits > 3 || v > 255 || *p != '.')
        return false;
      p++;
      a |= (uint32_t) v << (8 * label);
    }
  if (p != name + n - sl + 1)
    return false;
  *addr = a;
  return true;
}

/* Appends an answer record (type, TTL, one rdata field) owned by the
   question's name.  Takes rdata.  */
static bool
push_answer (ldns_pkt *p, const ldns_rr *qrr, ldns_rr_type type, ldns_rdf *rdata)
{
  ldns_rr *rr = ldns_rr_new ();
  ldns_rdf *owner = ldns_rdf_clone (ldns_rr_owner (qrr));
  if (rr == NULL || owner == NULL || rdata == NULL)
    goto fail;
  ldns_rr_set_owner (rr, owner);
  owner = NULL;
  ldns_rr_set_type (rr, type);
  ldns_rr_set_class (rr, LDNS_RR_CLASS_IN);
  ldns_rr_set_ttl (rr, DNS_INTERNAL_TTL);
  if (!ldns_rr_push_rdf (rr, rdata))
    goto fail;
  rdata = NULL;
  if (!ldns_pkt_push_rr (p, LDNS_SECTION_ANSWER, rr))
    goto fail;
  return true;

fail:
  /* ldns has no cleanup attributes; one exit for its objects.  */
  ldns_rr_free (rr);
  if (owner)
    ldns_rdf_deep_free (owner);
  if (rdata)
    ldns_rdf_deep_free (rdata);
  return false;
}

/* The A answer with the first k of the n rotated addresses.  */
static ldns_pkt *
a_answer (const ldns_pkt *q, const ldns_rr *qrr, const uint32_t *addrs, size_t n, size_t start, size_t k)
{
  ldns_pkt *p = reply_new (q, LDNS_RCODE_NOERROR, true);
  size_t i;
  for (i = 0; p && i < k; i++)
    {
      uint32_t be = htonl (addrs[(start + i) % n]);
      if (!push_answer (p, qrr, LDNS_RR_TYPE_A, ldns_rdf_new_frm_data (LDNS_RDF_TYPE_A, 4, &be)))
        {
          ldns_pkt_free (p);
          return NULL;
        }
    }
  if (p && k < n)
    ldns_pkt_set_tc (p, true);
  return p;
}

static int
reply_a (const ldns_pkt *q, const ldns_rr *qrr, const uint32_t *addrs, size_t n, size_t limit, unsigned *rotation,
         uint8_t **reply, size_t *reply_len, skiff_error_t *err)
{
  size_t start = *rotation % n, k;
  (*rotation)++;
  /* Too big for the transport: drop records from the end and set TC, so
     the client can retry over TCP.  */
  for (k = n;; k--)
    {
      cleanup_pkt ldns_pkt *p = a_answer (q, qrr, addrs, n, start, k);
      if (to_wire (p, reply, reply_len, err) < 0)
        return -1;
      if (*reply_len <= limit || k == 0)
        return 0;
      free (*reply);
      *reply = NULL;
    }
}

static int
reply_rcode (const ldns_pkt *q, ldns_pkt_rcode rcode, bool authoritative, uint8_t **reply, size_t *reply_len,
             skiff_error_t *err)
{
  cleanup_pkt ldns_pkt *p = reply_new (q, rcode, authoritative);
  return to_wire (p, reply, reply_len, err);
}

static int
reply_ptr (const ldns_pkt *q, const ldns_rr *qrr, const char *target, uint8_t **reply, size_t *reply_len,
           skiff_error_t *err)
{
  cleanup_pkt ldns_pkt *p = reply_new (q, LDNS_RCODE_NOERROR, true);
  ldns_rdf *name = ldns_dname_new_frm_str (target);
  if (name == NULL)
    return skiff_error_make (err, 0, "invalid name `%s` for a PTR answer", target);
  if (p == NULL || !push_answer (p, qrr, LDNS_RR_TYPE_PTR, name))
    return skiff_error_make (err, ENOMEM, "build PTR answer");
  return to_wire (p, reply, reply_len, err);
}

static bool
has_upstreams (const struct dns_resolver *r)
{
  return r->upstreams && r->upstreams[0];
}

int
dns_handle_query (const struct dns_resolver *r, const uint8_t *query, size_t len, size_t max_size, unsigned *rotation,
                  enum dns_action *action, uint8_t **reply, size_t *reply_len, skiff_error_t *err)
{
  cleanup_pkt ldns_pkt *q = NULL;
  cleanup_free char *name = NULL;
  uint32_t addrs[DNS_MAX_ADDRS];
  const ldns_rr *qrr;
  ldns_rr_type qtype;
  size_t n = 0, limit = max_size;

  *reply = NULL;
  *reply_len = 0;
  *action = DNS_REPLY;
  /* No header, or a response (never answer those: no loops).  */
  if (len < LDNS_HEADER_SIZE || LDNS_QR_WIRE (query))
    {
      *action = DNS_DROP;
      return 0;
    }
  if (ldns_wire2pkt (&q, query, len) != LDNS_STATUS_OK)
    {
      q = NULL;
      return dns_error_reply (query, len, LDNS_RCODE_FORMERR, reply, reply_len, err);
    }
  if (ldns_pkt_get_opcode (q) != LDNS_PACKET_QUERY)
    return reply_rcode (q, LDNS_RCODE_NOTIMPL, false, reply, reply_len, err);
  if (ldns_pkt_qdcount (q) != 1)
    return reply_rcode (q, LDNS_RCODE_FORMERR, false, reply, reply_len, err);
  if (ldns_pkt_edns (q) && ldns_pkt_edns_udp_size (q) > limit)
    limit = ldns_pkt_edns_udp_size (q);

  qrr = ldns_rr_list_rr (ldns_pkt_question (q), 0);
  qtype = ldns_rr_get_type (qrr);
  name = question_name (qrr);
  if (name == NULL)
    return skiff_error_make (err, ENOMEM, "read DNS question");

  if (ldns_rr_get_class (qrr) == LDNS_RR_CLASS_IN && name[0] != '\0')
    {
      if (qtype == LDNS_RR_TYPE_PTR)
        {
          cleanup_free char *target = NULL;
          uint32_t addr;
          if (parse_reverse_name (name, &addr))
            {
              if (r->lookup_ptr (r->data, addr, &target) < 0)
                return skiff_error_make (err, 0, "look up PTR `%s`", name);
              if (target)
                return reply_ptr (q, qrr, target, reply, reply_len, err);
            }
        }
      else
        {
          if (r->lookup_a (r->data, name, addrs, DNS_MAX_ADDRS, &n) < 0)
            return skiff_error_make (err, 0, "look up `%s`", name);
          if (n > DNS_MAX_ADDRS)
            n = DNS_MAX_ADDRS;
          if (n > 0 && qtype == LDNS_RR_TYPE_A)
            return reply_a (q, qrr, addrs, n, limit, rotation, reply, reply_len, err);
          /* A known container has no other records (no IPv6 here).  */
          if (n > 0)
            return reply_rcode (q, LDNS_RCODE_NOERROR, true, reply, reply_len, err);
        }
      /* A single label is a container name or nothing: do not leak it.  */
      if (strchr (name, '.') == NULL)
        return reply_rcode (q, LDNS_RCODE_NXDOMAIN, true, reply, reply_len, err);
    }
  if (!has_upstreams (r))
    return reply_rcode (q, LDNS_RCODE_SERVFAIL, false, reply, reply_len, err);
  *action = DNS_FORWARD;
  return 0;
}
