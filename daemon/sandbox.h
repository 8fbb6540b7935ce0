/* The files and namespaces a container gets besides its rootfs: its
   network namespace for --network none (a named netns with lo up), and
   /etc/hosts, /etc/hostname, /etc/resolv.conf.  Blocking; called from the
   thread pool.  */
#ifndef SKIFF_DAEMON_SANDBOX_H
#define SKIFF_DAEMON_SANDBOX_H

#include <stdbool.h>
#include "error.h"

struct nl_netns;

/* Creates a network namespace with only lo (up), bind-mounted at path.
   ns not NULL: also a netlink socket opened in it (nl_endpoint.ns) by the
   thread that made it.  */
int sandbox_netns_create (const char *path, struct nl_netns **ns, skiff_error_t *err);
/* Unmounts and removes it; a missing one is fine.  */
int sandbox_netns_remove (const char *path, skiff_error_t *err);

/* What a container's /etc/hosts, /etc/hostname and /etc/resolv.conf say.  */
struct sandbox_etc
{
  const char *hosts, *hostname_path, *resolv; /* the files to write */
  const char *hostname;
  bool host_network;  /* copies of the host's files */
  const char *ip;     /* the container's address, listed with its
                         hostname; NULL: none */
  bool embedded_dns;  /* resolv.conf names 127.0.0.11 (user-defined
                         networks) */
  const char *const *dns; /* else the name servers it names (NULL or
                             empty: Docker's fallback, Google's) */
  const char *const *dns_search;  /* --dns-search: replaces the host's
                                     search domains; NULL or empty: kept */
  const char *const *dns_options; /* --dns-option: replaces the host's
                                     options; NULL or empty: kept */
};

/* Writes the three files.  resolv.conf keeps the host's search and options
   lines (not its options when the embedded DNS is used) and replaces its
   name servers.  */
int sandbox_write_etc (const struct sandbox_etc *e, skiff_error_t *err);

#endif
