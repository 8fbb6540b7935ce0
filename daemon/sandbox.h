/* The files and namespaces a container gets besides its rootfs: its
   network namespace for --network none (a named netns with lo up), and
   /etc/hosts, /etc/hostname, /etc/resolv.conf.  Blocking; called from the
   thread pool.  */
#ifndef SKIFF_DAEMON_SANDBOX_H
#define SKIFF_DAEMON_SANDBOX_H

#include <stdbool.h>
#include "error.h"

/* Creates a network namespace with only lo (up), bind-mounted at path.  */
int sandbox_netns_create (const char *path, skiff_error_t *err);
/* Unmounts and removes it; a missing one is fine.  */
int sandbox_netns_remove (const char *path, skiff_error_t *err);

/* Writes hosts, hostname and resolv.conf for a container.  host_network:
   copies of the host's files; otherwise localhost entries and the host's
   resolv.conf without loopback name servers (as Docker does); ip, when
   given, is the container's address, listed with its hostname.  */
int sandbox_write_etc (const char *hosts, const char *hostname_path, const char *resolv, const char *hostname,
                       bool host_network, const char *ip, skiff_error_t *err);

#endif
