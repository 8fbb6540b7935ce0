#include "ctr_dns.h"
#include "cleanup.h"
#include "dns.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "networks.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

struct ctr_dns
{
  struct dns_resolver r;
  struct dns_server *server;
  char **upstreams;
};

static bool
on_user_network (const struct ctr *c)
{
  size_t i;
  for (i = 0; i < c->rec->n_eps; i++)
    {
      struct network *n = networks_find (c->d, c->rec->eps[i].network_id);
      if (n && network_is_user_defined (n))
        return true;
    }
  return false;
}

static int
push (char ***v, size_t *n, const char *s)
{
  char **grown = realloc (*v, (*n + 2) * sizeof (char *));
  if (grown == NULL)
    return -1;
  *v = grown;
  if (((*v)[*n] = strdup (s)) == NULL)
    return -1;
  (*v)[++*n] = NULL;
  return 0;
}

char **
ctr_dns_upstreams (struct daemon *d, const char *host_config)
{
  cleanup_json yajl_val hc = NULL;
  cleanup_free char *text = NULL;
  char **v = calloc (1, sizeof (char *)), *line, *save = NULL;
  yajl_val dns;
  size_t i, n = 0;

  if (v == NULL)
    return NULL;
  json_parse (host_config ? host_config : "{}", &hc, NULL);
  dns = json_get (hc, "Dns");
  for (i = 0; dns && YAJL_IS_ARRAY (dns) && i < dns->u.array.len; i++)
    if (YAJL_IS_STRING (dns->u.array.values[i]) && push (&v, &n, dns->u.array.values[i]->u.string) < 0)
      goto oom;
  if (n == 0)
    for (i = 0; d->dns && d->dns[i]; i++)
      if (push (&v, &n, d->dns[i]) < 0)
        goto oom;
  if (n > 0 || fs_read_file ("/etc/resolv.conf", &text, NULL, NULL) < 0)
    return v;
  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char ns[128];
      struct in_addr a;
      if (sscanf (line, " nameserver %127s", ns) != 1 || inet_pton (AF_INET, ns, &a) != 1
          || strncmp (ns, "127.", 4) == 0)
        continue;
      if (push (&v, &n, ns) < 0)
        goto oom;
    }
  return v;
oom:
  cleanup_strvp (&v);
  return NULL;
}

/* ---- the answers -------------------------------------------------------- */

static bool
networks_shared (const struct ctr *asker, const char *network_id)
{
  size_t i;
  for (i = 0; i < asker->rec->n_eps; i++)
    if (strcmp (asker->rec->eps[i].network_id, network_id) == 0)
      return true;
  return false;
}

/* Whether `name` (lower case) names endpoint ep of container x: its name,
   name.network, or an alias.  */
static bool
names_endpoint (struct ctr *x, const struct record_endpoint *ep, const char *name)
{
  const char *cname = ctr_name (x);
  size_t len = strlen (cname), i;

  if (strcasecmp (name, cname) == 0)
    return true;
  if (strncasecmp (name, cname, len) == 0 && name[len] == '.' && strcasecmp (name + len + 1, ep->network) == 0)
    return true;
  for (i = 0; ep->aliases && ep->aliases[i]; i++)
    if (strcasecmp (name, ep->aliases[i]) == 0)
      return true;
  return false;
}

static int
lookup_a (void *data, const char *name, uint32_t *addrs, size_t max, size_t *n)
{
  struct ctr *asker = data;
  struct daemon *d = asker->d;
  size_t i, j, k;

  *n = 0;
  for (i = 0; i < d->n_containers && *n < max; i++)
    {
      struct ctr *x = d->containers[i];
      if (!containers_is_running (x))
        continue;
      for (j = 0; j < x->rec->n_eps && *n < max; j++)
        {
          const struct record_endpoint *ep = &x->rec->eps[j];
          struct network *net = networks_find (d, ep->network_id);
          struct in_addr a;
          bool dup = false;
          if (net == NULL || !network_is_user_defined (net) || !networks_shared (asker, ep->network_id)
              || !names_endpoint (x, ep, name) || inet_pton (AF_INET, ep->ip, &a) != 1)
            continue;
          for (k = 0; k < *n; k++)
            dup = dup || addrs[k] == ntohl (a.s_addr);
          if (!dup)
            addrs[(*n)++] = ntohl (a.s_addr);
        }
    }
  return 0;
}

/* PTR: "name.network" of the container holding the address on a network
   the asker is on.  */
static int
lookup_ptr (void *data, uint32_t addr, char **name)
{
  struct ctr *asker = data;
  struct daemon *d = asker->d;
  size_t i, j;

  *name = NULL;
  for (i = 0; i < d->n_containers; i++)
    {
      struct ctr *x = d->containers[i];
      if (!containers_is_running (x))
        continue;
      for (j = 0; j < x->rec->n_eps; j++)
        {
          const struct record_endpoint *ep = &x->rec->eps[j];
          struct network *net = networks_find (d, ep->network_id);
          struct in_addr a;
          if (net == NULL || !network_is_user_defined (net) || !networks_shared (asker, ep->network_id)
              || inet_pton (AF_INET, ep->ip, &a) != 1 || ntohl (a.s_addr) != addr)
            continue;
          if (asprintf (name, "%s.%s", ctr_name (x), ep->network) < 0)
            {
              *name = NULL;
              return -1;
            }
          return 0;
        }
    }
  return 0;
}

/* ---- the server --------------------------------------------------------- */

static void
ctr_dns_free (struct ctr_dns *x)
{
  if (x == NULL)
    return;
  dns_server_free (x->server);
  cleanup_strvp (&x->upstreams);
  free (x);
}

int
ctr_dns_start (struct ctr *c, skiff_error_t *err)
{
  cleanup_free char *netns = NULL;
  struct ctr_dns *x;
  int udp = -1, tcp = -1;

  if (c->dns || !containers_is_running (c) || !on_user_network (c))
    return 0;
  netns = ctr_netns_path (c);
  x = calloc (1, sizeof (*x));
  if (x == NULL || netns == NULL)
    {
      free (x);
      return skiff_error_make (err, ENOMEM, "dns");
    }
  x->upstreams = ctr_dns_upstreams (c->d, c->rec->host_config);
  if (x->upstreams == NULL)
    {
      free (x);
      return skiff_error_make (err, ENOMEM, "dns");
    }
  /* The forwarder speaks IPv4 only: IPv6 servers (listed in resolv.conf
     on the default bridge) are left out here.  */
  {
    size_t i, k = 0;
    for (i = 0; x->upstreams[i]; i++)
      {
        struct sockaddr_in sin;
        if (dns_parse_upstream (x->upstreams[i], &sin, NULL) == 0)
          x->upstreams[k++] = x->upstreams[i];
        else
          free (x->upstreams[i]);
      }
    x->upstreams[k] = NULL;
  }
  x->r.lookup_a = lookup_a;
  x->r.lookup_ptr = lookup_ptr;
  x->r.upstreams = (const char *const *) x->upstreams;
  x->r.data = c;
  if (dns_socket_in_netns (netns, SOCK_DGRAM, &udp, err) < 0 || dns_socket_in_netns (netns, SOCK_STREAM, &tcp, err) < 0)
    {
      if (udp >= 0)
        close (udp);
      ctr_dns_free (x);
      return -1;
    }
  /* The server owns the fds from here on, also on failure.  */
  x->server = dns_server_new (c->d->loop, udp, tcp, &x->r, err);
  if (x->server == NULL)
    {
      ctr_dns_free (x);
      return -1;
    }
  c->dns = x;
  return 0;
}

void
ctr_dns_stop (struct ctr *c)
{
  ctr_dns_free (c->dns);
  c->dns = NULL;
}

void
ctr_dns_refresh (struct ctr *c)
{
  if (!on_user_network (c))
    ctr_dns_stop (c);
}
