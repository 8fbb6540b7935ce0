/* What networks.c and network_create.c share: the network record and the
   table.  */
#ifndef SKIFF_DAEMON_NETWORKS_INTERNAL_H
#define SKIFF_DAEMON_NETWORKS_INTERNAL_H

#include "ids.h"
#include "networks.h"

struct ipam_pool;

struct network
{
  char id[ID_LEN + 1];
  char *name, *driver, *created, *bridge;
  char *options, *labels; /* JSON object texts */
  bool builtin, internal, attachable, icc, masquerade;
  int mtu;
  struct ipam_pool *pool; /* bridge networks */
};

struct networks
{
  struct network **all;
  size_t n;
  char *rules; /* the ruleset last applied, NULL before the first */
};

void network_free (struct network *n);
/* Writes the network's file atomically.  */
int network_save (struct daemon *d, const struct network *n, skiff_error_t *err);
/* Removes the network's file.  */
int network_unlink (struct daemon *d, const struct network *n, skiff_error_t *err);
/* Adds n to the table (which then owns it).  */
int networks_add (struct daemon *d, struct network *n, skiff_error_t *err);
/* Takes n out of the table and frees it.  */
void networks_drop (struct daemon *d, struct network *n);
/* Creates or updates the bridge device of a bridge network: address, MTU,
   up, route_localnet (published ports reached from the host's loopback).  */
int network_bridge_setup (const struct network *n, skiff_error_t *err);
/* Applies the driver options (enable_icc, enable_ip_masquerade, mtu) kept
   in n->options to the fields that use them.  */
int network_apply_options (struct network *n, skiff_error_t *err);

#endif
