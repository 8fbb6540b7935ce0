/* The text of skiff's own nftables table, built from networks and published
   ports.  Pure: no I/O, no netlink; nft.c applies the result.  Every value
   that ends up in the text is validated and re-printed here, since some of
   it (host IPs, ports) comes from API bodies.  */
#include "nft.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* A validated network: canonical subnet text.  */
struct net_text
{
  char subnet[INET_ADDRSTRLEN + 4];
};

/* A validated port: canonical addresses, 0 host address = any.  */
struct port_text
{
  const char *proto;
  struct in_addr host;
  char host_ip[INET_ADDRSTRLEN];
  char container_ip[INET_ADDRSTRLEN];
};

static int
check_ifname (const char *name, skiff_error_t *err)
{
  size_t len, i;

  if (name == NULL || (len = strlen (name)) == 0)
    return skiff_error_make (err, EINVAL, "nftables: empty bridge name");
  if (len >= IFNAMSIZ)
    return skiff_error_make (err, EINVAL, "nftables: bridge name `%s` is longer than %d characters",
                             name, IFNAMSIZ - 1);
  for (i = 0; i < len; i++)
    {
      char c = name[i];
      if (! ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
             || c == '.' || c == '-'))
        return skiff_error_make (err, EINVAL, "nftables: invalid character in bridge name `%s`",
                                 name);
    }
  return 0;
}

static int
parse_ipv4 (const char *what, const char *s, struct in_addr *addr, skiff_error_t *err)
{
  if (s == NULL || inet_pton (AF_INET, s, addr) != 1)
    return skiff_error_make (err, EINVAL, "nftables: invalid IPv4 %s `%s`", what, s ? s : "(null)");
  return 0;
}

/* "172.17.0.1/16" -> "172.17.0.0/16".  */
static int
canonical_subnet (const char *subnet, char out[INET_ADDRSTRLEN + 4], skiff_error_t *err)
{
  char addr_s[INET_ADDRSTRLEN];
  char buf[INET_ADDRSTRLEN];
  const char *slash;
  struct in_addr addr;
  char *end;
  unsigned long len;
  uint32_t mask;

  if (subnet == NULL || (slash = strchr (subnet, '/')) == NULL
      || (size_t) (slash - subnet) >= sizeof (addr_s))
    return skiff_error_make (err, EINVAL, "nftables: invalid subnet `%s`",
                             subnet ? subnet : "(null)");
  memcpy (addr_s, subnet, slash - subnet);
  addr_s[slash - subnet] = '\0';
  errno = 0;
  len = strtoul (slash + 1, &end, 10);
  if (inet_pton (AF_INET, addr_s, &addr) != 1 || slash[1] < '0' || slash[1] > '9' || *end != '\0'
      || errno != 0 || len > 32)
    return skiff_error_make (err, EINVAL, "nftables: invalid subnet `%s`", subnet);
  mask = len == 0 ? 0 : htonl (0xffffffffu << (32 - len));
  addr.s_addr &= mask;
  inet_ntop (AF_INET, &addr, buf, sizeof (buf));
  snprintf (out, INET_ADDRSTRLEN + 4, "%s/%lu", buf, len);
  return 0;
}

static int
check_networks (const struct nft_network *nets, size_t n, struct net_text *texts,
                skiff_error_t *err)
{
  size_t i, j;

  for (i = 0; i < n; i++)
    {
      if (check_ifname (nets[i].bridge, err) < 0)
        return -1;
      if (canonical_subnet (nets[i].subnet, texts[i].subnet, err) < 0)
        return skiff_error_wrap (err, "network on bridge `%s`", nets[i].bridge);
      for (j = 0; j < i; j++)
        if (strcmp (nets[i].bridge, nets[j].bridge) == 0)
          return skiff_error_make (err, EINVAL, "nftables: bridge `%s` listed twice",
                                   nets[i].bridge);
    }
  return 0;
}

static int
check_ports (const struct nft_port *ports, size_t np, struct port_text *texts, skiff_error_t *err)
{
  struct in_addr c;
  size_t i, j;

  for (i = 0; i < np; i++)
    {
      const struct nft_port *p = &ports[i];
      struct port_text *t = &texts[i];

      if (p->proto == NULL
          || (strcmp (p->proto, "tcp") != 0 && strcmp (p->proto, "udp") != 0
              && strcmp (p->proto, "sctp") != 0))
        return skiff_error_make (err, EINVAL, "nftables: invalid protocol `%s` for published port %u",
                                 p->proto ? p->proto : "(null)", p->host_port);
      t->proto = p->proto;
      if (p->host_port == 0 || p->container_port == 0)
        return skiff_error_make (err, EINVAL, "nftables: invalid published port %u:%u/%s",
                                 p->host_port, p->container_port, p->proto);
      t->host.s_addr = 0;
      if (p->host_ip != NULL && p->host_ip[0] != '\0'
          && parse_ipv4 ("host address", p->host_ip, &t->host, err) < 0)
        return -1;
      inet_ntop (AF_INET, &t->host, t->host_ip, sizeof (t->host_ip));
      if (parse_ipv4 ("container address", p->container_ip, &c, err) < 0)
        return -1;
      inet_ntop (AF_INET, &c, t->container_ip, sizeof (t->container_ip));

      for (j = 0; j < i; j++)
        if (strcmp (t->proto, texts[j].proto) == 0 && p->host_port == ports[j].host_port
            && (t->host.s_addr == 0 || texts[j].host.s_addr == 0
                || t->host.s_addr == texts[j].host.s_addr))
          return skiff_error_make (err, EADDRINUSE, "nftables: port %s:%u/%s is published twice",
                                   t->host_ip, p->host_port, t->proto);
    }
  return 0;
}

static void
write_nat (FILE *f, const struct nft_network *nets, size_t n, const struct net_text *nt,
           const struct nft_port *ports, size_t np, const struct port_text *pt)
{
  size_t i;

  /* nft 1.0.6 knows the name "dstnat" only for prerouting: -100 is its
     value.  */
  fputs ("\tchain prerouting {\n"
         "\t\ttype nat hook prerouting priority dstnat; policy accept;\n"
         "\t\tfib daddr type local jump published\n"
         "\t}\n"
         "\tchain output {\n"
         "\t\ttype nat hook output priority -100; policy accept;\n"
         "\t\tfib daddr type local jump published\n"
         "\t}\n"
         "\tchain published {\n",
         f);
  for (i = 0; i < np; i++)
    {
      fputs ("\t\t", f);
      if (pt[i].host.s_addr != 0)
        fprintf (f, "ip daddr %s ", pt[i].host_ip);
      fprintf (f, "%s dport %u dnat to %s:%u\n", pt[i].proto, ports[i].host_port,
               pt[i].container_ip, ports[i].container_port);
    }
  fputs ("\t}\n"
         "\tchain postrouting {\n"
         "\t\ttype nat hook postrouting priority srcnat; policy accept;\n",
         f);
  for (i = 0; i < n; i++)
    {
      if (nets[i].internal)
        continue;
      if (nets[i].masquerade)
        fprintf (f, "\t\tip saddr %s oifname != \"%s\" masquerade\n", nt[i].subnet, nets[i].bridge);
      fprintf (f, "\t\toifname \"%s\" ip saddr %s ct status dnat masquerade\n", nets[i].bridge,
               nt[i].subnet);
      fprintf (f, "\t\toifname \"%s\" ip saddr 127.0.0.0/8 masquerade\n", nets[i].bridge);
    }
  fputs ("\t}\n", f);
}

static void
write_filter (FILE *f, const struct nft_network *nets, size_t n)
{
  size_t i;

  fputs ("\tchain forward {\n"
         "\t\ttype filter hook forward priority filter; policy accept;\n",
         f);
  /* Internal networks first: not even established or DNAT'ed traffic
     crosses their bridge.  */
  for (i = 0; i < n; i++)
    if (nets[i].internal)
      fprintf (f,
               "\t\tiifname \"%s\" oifname != \"%s\" drop\n"
               "\t\toifname \"%s\" iifname != \"%s\" drop\n",
               nets[i].bridge, nets[i].bridge, nets[i].bridge, nets[i].bridge);
  fputs ("\t\tct state established,related accept\n"
         "\t\tct status dnat accept\n",
         f);
  /* What is left is new and not DNAT'ed.  Dropping it on its way into a
     bridge from any other interface isolates the bridges from each other
     (A to B is "into B") and keeps the outside from reaching containers
     except through published ports; leaving a bridge stays allowed.  */
  for (i = 0; i < n; i++)
    {
      if (nets[i].internal)
        continue;
      if (! nets[i].icc)
        fprintf (f, "\t\tiifname \"%s\" oifname \"%s\" drop\n", nets[i].bridge, nets[i].bridge);
      fprintf (f, "\t\toifname \"%s\" iifname != \"%s\" drop\n", nets[i].bridge, nets[i].bridge);
    }
  fputs ("\t}\n", f);
}

int
nft_ruleset_skiff (const struct nft_network *nets, size_t n, const struct nft_port *ports,
                   size_t np, char **ruleset, skiff_error_t *err)
{
  cleanup_free struct net_text *nt = NULL;
  cleanup_free struct port_text *pt = NULL;
  cleanup_free char *buf = NULL;
  size_t size = 0;
  FILE *f;
  int failed;

  *ruleset = NULL;
  nt = calloc (n ? n : 1, sizeof (*nt));
  pt = calloc (np ? np : 1, sizeof (*pt));
  if (nt == NULL || pt == NULL)
    return skiff_error_make (err, ENOMEM, "nftables: build ruleset");
  if (check_networks (nets, n, nt, err) < 0 || check_ports (ports, np, pt, err) < 0)
    return -1;

  /* A memory stream, not a file: the text stays in buf.  */
  f = open_memstream (&buf, &size);
  if (f == NULL)
    return skiff_error_make (err, errno, "nftables: build ruleset");
  fputs ("table " NFT_SKIFF_FAMILY " " NFT_SKIFF_TABLE "\n"
         "delete table " NFT_SKIFF_FAMILY " " NFT_SKIFF_TABLE "\n"
         "table " NFT_SKIFF_FAMILY " " NFT_SKIFF_TABLE " {\n",
         f);
  write_nat (f, nets, n, nt, ports, np, pt);
  write_filter (f, nets, n);
  fputs ("}\n", f);
  failed = ferror (f);
  if (fclose (f) != 0 || failed)
    return skiff_error_make (err, ENOMEM, "nftables: build ruleset");
  *ruleset = steal_pointer (&buf);
  return 0;
}
