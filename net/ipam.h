/* IPv4 address management, as Docker's default IPAM driver does it: pools
   (subnet, gateway, optional --ip-range), address allocation and release,
   the default subnets for networks created without --subnet, and overlap
   checks.  Pure: no I/O; the daemon persists a pool through its JSON form.

   Error messages are Docker's where Docker has one (daemon or CLI).  */
#ifndef SKIFF_NET_IPAM_H
#define SKIFF_NET_IPAM_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "error.h"

/* "255.255.255.255" + NUL; "255.255.255.255/32" + NUL.  */
#define IPAM_ADDR_LEN 16
#define IPAM_CIDR_LEN 19

/* An IPv4 network in host byte order; addr has no host bits set.  */
struct ipam_subnet
{
  uint32_t addr;
  unsigned prefix;
};

/* Parses "a.b.c.d/n" (host bits are cleared, as Docker does).
   Error: "invalid CIDR address: <s>".  */
int ipam_parse_cidr (const char *s, struct ipam_subnet *out, skiff_error_t *err);
/* Parses a dotted IPv4 address into host byte order; false when invalid.  */
bool ipam_parse_addr (const char *s, uint32_t *out);
void ipam_format_addr (uint32_t addr, char out[IPAM_ADDR_LEN]);
void ipam_format_cidr (const struct ipam_subnet *s, char out[IPAM_CIDR_LEN]);

/* 1 when the two CIDRs share an address, 0 when not, <0 on a bad CIDR.  */
int ipam_subnet_overlaps (const char *a, const char *b, skiff_error_t *err);

/* Fails with "Pool overlaps with other one on this address space" when
   subnet overlaps one of used (a NULL-terminated list of CIDRs, or NULL).  */
int ipam_subnet_check_free (const char *subnet, const char *const *used, skiff_error_t *err);

/* The first subnet of Docker's local default pools (172.17.0.0/16 ..
   172.31.0.0/16, then 192.168.0.0/16 cut into /20s) that overlaps none of
   used.  Put the host's own interface networks in used too, as Docker does.
   Error when all are taken: "could not find an available, non-overlapping
   IPv4 address pool among the defaults to assign to the network".  */
int ipam_next_default_subnet (const char *const *used, char out[IPAM_CIDR_LEN], skiff_error_t *err);
/* The same over the swarm (global scope) default pool, 10.0.0.0/8 cut
   into /24s, for overlay networks.  */
int ipam_next_global_subnet (const char *const *used, char out[IPAM_CIDR_LEN], skiff_error_t *err);

struct ipam_pool;

/* A pool for subnet.  gateway NULL: the first host address; ip_range NULL:
   the whole subnet.  The gateway is allocated in the pool.  The network and
   broadcast addresses are never handed out (except in /31 and /32).
   Errors: "invalid CIDR address: ..", "invalid gateway address <gw> in Ipam
   configuration", "no matching subnet for gateway <gw>", "no matching subnet
   for range <range>", "failed to allocate gateway (<gw>): Address already in
   use" (gateway on the network or broadcast address).  */
struct ipam_pool *ipam_pool_new (const char *subnet, const char *gateway, const char *ip_range, skiff_error_t *err);
void ipam_pool_free (struct ipam_pool *pool);

/* Serial allocation (what swarm asks of Docker's IPAM): each allocation
   continues after the previous one and wraps at the end of the range, so a
   released address is not handed out again at once.  Off by default: then,
   as for Docker's local networks, the lowest free address is taken.  */
void ipam_pool_set_serial (struct ipam_pool *pool, bool serial);

/* Allocates an address into out.  want NULL: the next free one in the
   range.  want given (a container's --ip): any address of the subnet, also
   outside --ip-range (as in Docker, which lets users keep static addresses
   outside the range).  Errors: "<want> is not an IPv4 address",
   "Invalid address <want>: It does not belong to any of this network's
   subnets", "Address already in use", "no available IPv4 addresses on this
   network's address pools".  */
int ipam_alloc (struct ipam_pool *pool, const char *want, char out[IPAM_ADDR_LEN], skiff_error_t *err);

/* Returns addr to the pool.  Releasing a free address is a no-op (as in
   Docker); the gateway and addresses outside the subnet are errors.  */
int ipam_release (struct ipam_pool *pool, const char *addr, skiff_error_t *err);

bool ipam_is_allocated (const struct ipam_pool *pool, const char *addr);
/* Container addresses in use (the gateway not counted).  */
size_t ipam_pool_count (const struct ipam_pool *pool);

/* Canonical strings of the pool's configuration ("" for no ip range).  */
const char *ipam_pool_subnet (const struct ipam_pool *pool);
const char *ipam_pool_gateway (const struct ipam_pool *pool);
const char *ipam_pool_ip_range (const struct ipam_pool *pool);
/* "172.18.0.2/16": addr with the subnet's prefix length.  */
void ipam_pool_addr_cidr (const struct ipam_pool *pool, const char *addr, char out[IPAM_CIDR_LEN]);

/* State as a JSON object:
   {"Subnet":"..","Gateway":"..","IPRange":"..","Serial":false,
    "Next":"..","Allocated":["..",...]}.
   ipam_pool_gen writes it into a generator (for embedding in a bigger
   record); ipam_pool_to_json returns it as a malloc'd string.
   ipam_pool_gen_config writes the configuration only (Subnet, Gateway,
   IPRange, Serial): what does not change while the pool is in use.  */
void ipam_pool_gen (const struct ipam_pool *pool, yajl_gen g);
void ipam_pool_gen_config (const struct ipam_pool *pool, yajl_gen g);
/* Whether two pools have the same configuration.  */
bool ipam_pool_same_config (const struct ipam_pool *a, const struct ipam_pool *b);
char *ipam_pool_to_json (const struct ipam_pool *pool);
/* Rebuilds a pool from that object, checking everything as ipam_pool_new
   and ipam_alloc do (a stored file is not trusted blindly).  */
struct ipam_pool *ipam_pool_from_value (yajl_val v, skiff_error_t *err);
struct ipam_pool *ipam_pool_from_json (const char *text, skiff_error_t *err);

#endif
