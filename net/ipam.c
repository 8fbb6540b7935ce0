/* IPv4 address management (Docker's default IPAM driver, IPv4 part).
   Allocated addresses live in a sorted array, so memory follows the number
   of containers, not the size of the subnet (a /8 costs nothing).  */
#include "ipam.h"
#include "cleanup.h"
#include "json.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ipam_pool
{
  struct ipam_subnet subnet;
  uint32_t gateway;
  bool has_range;
  struct ipam_subnet range;
  uint32_t lo, hi;       /* usable addresses of the subnet */
  uint32_t first, last;  /* where automatic allocation looks */
  bool serial;
  uint32_t next;         /* serial mode: where the next search starts */
  uint32_t *used;        /* sorted container addresses (not the gateway) */
  size_t n_used, cap;
  char subnet_s[IPAM_CIDR_LEN];
  char gateway_s[IPAM_ADDR_LEN];
  char range_s[IPAM_CIDR_LEN];
};

static uint32_t
prefix_mask (unsigned prefix)
{
  return prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
}

static uint32_t
subnet_end (const struct ipam_subnet *s)
{
  return s->addr | ~prefix_mask (s->prefix);
}

static bool
subnet_contains (const struct ipam_subnet *s, uint32_t addr)
{
  return (addr & prefix_mask (s->prefix)) == s->addr;
}

bool
ipam_parse_addr (const char *s, uint32_t *out)
{
  struct in_addr in;
  if (s == NULL || inet_pton (AF_INET, s, &in) != 1)
    return false;
  *out = ntohl (in.s_addr);
  return true;
}

void
ipam_format_addr (uint32_t addr, char out[IPAM_ADDR_LEN])
{
  snprintf (out, IPAM_ADDR_LEN, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
}

void
ipam_format_cidr (const struct ipam_subnet *s, char out[IPAM_CIDR_LEN])
{
  char a[IPAM_ADDR_LEN];
  ipam_format_addr (s->addr, a);
  snprintf (out, IPAM_CIDR_LEN, "%s/%u", a, s->prefix);
}

int
ipam_parse_cidr (const char *s, struct ipam_subnet *out, skiff_error_t *err)
{
  char addr[IPAM_ADDR_LEN];
  const char *slash, *p;
  unsigned prefix = 0;
  uint32_t a;

  if (s == NULL)
    return skiff_error_make (err, 0, "invalid CIDR address: ");
  slash = strchr (s, '/');
  if (slash == NULL || (size_t) (slash - s) >= sizeof (addr) || slash[1] == '\0' || strlen (slash + 1) > 2)
    return skiff_error_make (err, 0, "invalid CIDR address: %s", s);
  for (p = slash + 1; *p; p++)
    {
      if (*p < '0' || *p > '9')
        return skiff_error_make (err, 0, "invalid CIDR address: %s", s);
      prefix = prefix * 10 + (unsigned) (*p - '0');
    }
  memcpy (addr, s, slash - s);
  addr[slash - s] = '\0';
  if (prefix > 32 || !ipam_parse_addr (addr, &a))
    return skiff_error_make (err, 0, "invalid CIDR address: %s", s);
  out->addr = a & prefix_mask (prefix);
  out->prefix = prefix;
  return 0;
}

static bool
subnets_overlap (const struct ipam_subnet *a, const struct ipam_subnet *b)
{
  return a->addr <= subnet_end (b) && b->addr <= subnet_end (a);
}

int
ipam_subnet_overlaps (const char *a, const char *b, skiff_error_t *err)
{
  struct ipam_subnet sa, sb;
  if (ipam_parse_cidr (a, &sa, err) < 0 || ipam_parse_cidr (b, &sb, err) < 0)
    return -1;
  return subnets_overlap (&sa, &sb) ? 1 : 0;
}

/* 1 when s overlaps one of used, 0 when not, <0 on a bad entry.  */
static int
overlaps_any (const struct ipam_subnet *s, const char *const *used, skiff_error_t *err)
{
  struct ipam_subnet u;
  for (; used && *used; used++)
    {
      if (ipam_parse_cidr (*used, &u, err) < 0)
        return -1;
      if (subnets_overlap (s, &u))
        return 1;
    }
  return 0;
}

int
ipam_subnet_check_free (const char *subnet, const char *const *used, skiff_error_t *err)
{
  struct ipam_subnet s;
  int ret;
  if (ipam_parse_cidr (subnet, &s, err) < 0)
    return -1;
  ret = overlaps_any (&s, used, err);
  if (ret < 0)
    return ret;
  if (ret > 0)
    return skiff_error_make (err, 0, "Pool overlaps with other one on this address space");
  return 0;
}

/* A default pool: base cut into subnets of `size` bits.  */
struct split
{
  const char *base;
  unsigned size;
};

static int
next_from (const struct split *pools, size_t n, const char *const *used, char out[IPAM_CIDR_LEN], skiff_error_t *err)
{
  size_t i;
  for (i = 0; i < n; i++)
    {
      struct ipam_subnet base, s;
      uint64_t a, end;
      if (ipam_parse_cidr (pools[i].base, &base, err) < 0)
        return -1;
      end = subnet_end (&base);
      s.prefix = pools[i].size;
      for (a = base.addr; a <= end; a += (uint64_t) 1 << (32 - pools[i].size))
        {
          int ret;
          s.addr = (uint32_t) a;
          ret = overlaps_any (&s, used, err);
          if (ret < 0)
            return ret;
          if (ret == 0)
            {
              ipam_format_cidr (&s, out);
              return 0;
            }
        }
    }
  return skiff_error_make (err, 0, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
}

int
ipam_next_default_subnet (const char *const *used, char out[IPAM_CIDR_LEN], skiff_error_t *err)
{
  /* Docker 20.10's localScopeDefaultNetworks.  */
  static const struct split pools[] = {
    { "172.17.0.0/16", 16 }, { "172.18.0.0/16", 16 }, { "172.19.0.0/16", 16 }, { "172.20.0.0/14", 16 },
    { "172.24.0.0/14", 16 }, { "172.28.0.0/14", 16 }, { "192.168.0.0/16", 20 },
  };
  return next_from (pools, sizeof (pools) / sizeof (pools[0]), used, out, err);
}

int
ipam_next_global_subnet (const char *const *used, char out[IPAM_CIDR_LEN], skiff_error_t *err)
{
  static const struct split pools[] = { { "10.0.0.0/8", 24 } };
  return next_from (pools, 1, used, out, err);
}

/* ---- pools ---- */

/* Index of the first used address >= a.  */
static size_t
lower_bound (const struct ipam_pool *pool, uint32_t a)
{
  size_t lo = 0, hi = pool->n_used;
  while (lo < hi)
    {
      size_t mid = lo + (hi - lo) / 2;
      if (pool->used[mid] < a)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static bool
is_used (const struct ipam_pool *pool, uint32_t a)
{
  size_t i;
  if (a == pool->gateway)
    return true;
  i = lower_bound (pool, a);
  return i < pool->n_used && pool->used[i] == a;
}

static int
mark_used (struct ipam_pool *pool, uint32_t a, skiff_error_t *err)
{
  size_t i = lower_bound (pool, a);
  if (pool->n_used == pool->cap)
    {
      size_t cap = pool->cap ? pool->cap * 2 : 16;
      uint32_t *u = realloc (pool->used, cap * sizeof (*u));
      if (u == NULL)
        return skiff_error_make (err, ENOMEM, "allocate address table of %s", pool->subnet_s);
      pool->used = u;
      pool->cap = cap;
    }
  memmove (pool->used + i + 1, pool->used + i, (pool->n_used - i) * sizeof (*pool->used));
  pool->used[i] = a;
  pool->n_used++;
  return 0;
}

/* The lowest free address in [from, to], or false.  */
static bool
find_free (const struct ipam_pool *pool, uint64_t from, uint64_t to, uint32_t *out)
{
  size_t i;
  uint64_t a = from;
  if (from > to)
    return false;
  i = lower_bound (pool, (uint32_t) from);
  while (a <= to)
    {
      if (a == pool->gateway)
        a++;
      else if (i < pool->n_used && pool->used[i] == a)
        a++, i++;
      else
        {
          *out = (uint32_t) a;
          return true;
        }
    }
  return false;
}

struct ipam_pool *
ipam_pool_new (const char *subnet, const char *gateway, const char *ip_range, skiff_error_t *err)
{
  cleanup_free struct ipam_pool *pool = calloc (1, sizeof (*pool));
  if (pool == NULL)
    {
      skiff_error_make (err, ENOMEM, "allocate pool for %s", subnet ? subnet : "");
      return NULL;
    }
  if (ipam_parse_cidr (subnet, &pool->subnet, err) < 0)
    return NULL;
  pool->lo = pool->subnet.addr;
  pool->hi = subnet_end (&pool->subnet);
  /* /31 and /32 have no network and broadcast address (RFC 3021).  */
  if (pool->subnet.prefix <= 30)
    pool->lo++, pool->hi--;
  ipam_format_cidr (&pool->subnet, pool->subnet_s);

  if (gateway && *gateway)
    {
      if (!ipam_parse_addr (gateway, &pool->gateway))
        {
          skiff_error_make (err, 0, "invalid gateway address %s in Ipam configuration", gateway);
          return NULL;
        }
      if (!subnet_contains (&pool->subnet, pool->gateway))
        {
          skiff_error_make (err, 0, "no matching subnet for gateway %s", gateway);
          return NULL;
        }
      if (pool->gateway < pool->lo || pool->gateway > pool->hi)
        {
          skiff_error_make (err, 0, "failed to allocate gateway (%s): Address already in use", gateway);
          return NULL;
        }
    }
  else
    pool->gateway = pool->lo;
  ipam_format_addr (pool->gateway, pool->gateway_s);

  pool->first = pool->lo;
  pool->last = pool->hi;
  if (ip_range && *ip_range)
    {
      if (ipam_parse_cidr (ip_range, &pool->range, err) < 0)
        return NULL;
      if (pool->range.prefix < pool->subnet.prefix || !subnet_contains (&pool->subnet, pool->range.addr))
        {
          skiff_error_make (err, 0, "no matching subnet for range %s", ip_range);
          return NULL;
        }
      pool->has_range = true;
      ipam_format_cidr (&pool->range, pool->range_s);
      if (pool->range.addr > pool->first)
        pool->first = pool->range.addr;
      if (subnet_end (&pool->range) < pool->last)
        pool->last = subnet_end (&pool->range);
    }
  pool->next = pool->first;
  return steal_pointer (&pool);
}

void
ipam_pool_free (struct ipam_pool *pool)
{
  if (pool == NULL)
    return;
  free (pool->used);
  free (pool);
}

void
ipam_pool_set_serial (struct ipam_pool *pool, bool serial)
{
  pool->serial = serial;
}

/* Parses addr and checks that it is in the subnet.  */
static int
parse_member (const struct ipam_pool *pool, const char *addr, uint32_t *out, skiff_error_t *err)
{
  if (!ipam_parse_addr (addr, out))
    return skiff_error_make (err, 0, "%s is not an IPv4 address", addr ? addr : "");
  if (!subnet_contains (&pool->subnet, *out))
    return skiff_error_make (err, 0, "Invalid address %s: It does not belong to any of this network's subnets", addr);
  return 0;
}

int
ipam_alloc (struct ipam_pool *pool, const char *want, char out[IPAM_ADDR_LEN], skiff_error_t *err)
{
  uint32_t a;

  if (want)
    {
      if (parse_member (pool, want, &a, err) < 0)
        return -1;
      if (a < pool->lo || a > pool->hi || is_used (pool, a))
        return skiff_error_make (err, 0, "Address already in use");
    }
  else
    {
      bool found;
      if (pool->serial)
        found = find_free (pool, pool->next, pool->last, &a) || find_free (pool, pool->first, pool->next, &a);
      else
        found = find_free (pool, pool->first, pool->last, &a);
      if (!found)
        return skiff_error_make (err, 0, "no available IPv4 addresses on this network's address pools");
      pool->next = a >= pool->last ? pool->first : a + 1;
    }
  if (mark_used (pool, a, err) < 0)
    return -1;
  ipam_format_addr (a, out);
  return 0;
}

int
ipam_release (struct ipam_pool *pool, const char *addr, skiff_error_t *err)
{
  uint32_t a;
  size_t i;

  if (parse_member (pool, addr, &a, err) < 0)
    return -1;
  if (a == pool->gateway)
    return skiff_error_make (err, 0, "cannot release gateway address %s of %s", addr, pool->subnet_s);
  i = lower_bound (pool, a);
  if (i < pool->n_used && pool->used[i] == a)
    {
      memmove (pool->used + i, pool->used + i + 1, (pool->n_used - i - 1) * sizeof (*pool->used));
      pool->n_used--;
    }
  return 0;
}

bool
ipam_is_allocated (const struct ipam_pool *pool, const char *addr)
{
  uint32_t a;
  return ipam_parse_addr (addr, &a) && subnet_contains (&pool->subnet, a) && is_used (pool, a);
}

size_t
ipam_pool_count (const struct ipam_pool *pool)
{
  return pool->n_used;
}

const char *
ipam_pool_subnet (const struct ipam_pool *pool)
{
  return pool->subnet_s;
}

const char *
ipam_pool_gateway (const struct ipam_pool *pool)
{
  return pool->gateway_s;
}

const char *
ipam_pool_ip_range (const struct ipam_pool *pool)
{
  return pool->range_s;
}

void
ipam_pool_addr_cidr (const struct ipam_pool *pool, const char *addr, char out[IPAM_CIDR_LEN])
{
  snprintf (out, IPAM_CIDR_LEN, "%s/%u", addr, pool->subnet.prefix);
}

/* ---- JSON ---- */

static void
gen_config (const struct ipam_pool *pool, yajl_gen g)
{
  json_gen_kv_str (g, "Subnet", pool->subnet_s);
  json_gen_kv_str (g, "Gateway", pool->gateway_s);
  json_gen_kv_str (g, "IPRange", pool->range_s);
  json_gen_kv_bool (g, "Serial", pool->serial);
}

void
ipam_pool_gen_config (const struct ipam_pool *pool, yajl_gen g)
{
  yajl_gen_map_open (g);
  gen_config (pool, g);
  yajl_gen_map_close (g);
}

bool
ipam_pool_same_config (const struct ipam_pool *a, const struct ipam_pool *b)
{
  return strcmp (a->subnet_s, b->subnet_s) == 0 && strcmp (a->gateway_s, b->gateway_s) == 0
         && strcmp (a->range_s, b->range_s) == 0 && a->serial == b->serial;
}

void
ipam_pool_gen (const struct ipam_pool *pool, yajl_gen g)
{
  char a[IPAM_ADDR_LEN];
  size_t i;

  yajl_gen_map_open (g);
  gen_config (pool, g);
  ipam_format_addr (pool->next, a);
  json_gen_kv_str (g, "Next", a);
  json_gen_str (g, "Allocated");
  yajl_gen_array_open (g);
  for (i = 0; i < pool->n_used; i++)
    {
      ipam_format_addr (pool->used[i], a);
      json_gen_str (g, a);
    }
  yajl_gen_array_close (g);
  yajl_gen_map_close (g);
}

char *
ipam_pool_to_json (const struct ipam_pool *pool)
{
  cleanup_gen yajl_gen g = json_gen_new (false);
  if (g == NULL)
    return NULL;
  ipam_pool_gen (pool, g);
  return json_gen_steal (g, NULL);
}

static void
cleanup_poolp (struct ipam_pool **p)
{
  ipam_pool_free (*p);
}
#define cleanup_pool __attribute__ ((cleanup (cleanup_poolp)))

static struct ipam_pool *
pool_from_value (yajl_val v, skiff_error_t *err)
{
  cleanup_free char *subnet = NULL, *gateway = NULL, *range = NULL, *next = NULL;
  cleanup_pool struct ipam_pool *pool = NULL;
  bool serial = false;
  yajl_val alloc = NULL;
  size_t i;

  if (v == NULL || !YAJL_IS_OBJECT (v))
    {
      skiff_error_make (err, 0, "expected an object");
      return NULL;
    }
  if (json_get_string_req (v, "Subnet", "Subnet", &subnet, err) < 0
      || json_get_string_req (v, "Gateway", "Gateway", &gateway, err) < 0
      || json_get_string (v, "IPRange", "IPRange", &range, err) < 0
      || json_get_bool (v, "Serial", "Serial", &serial, err) < 0
      || json_get_string (v, "Next", "Next", &next, err) < 0
      || json_get_array (v, "Allocated", "Allocated", &alloc, err) < 0)
    return NULL;
  pool = ipam_pool_new (subnet, gateway, range, err);
  if (pool == NULL)
    return NULL;
  pool->serial = serial;
  for (i = 0; alloc && i < alloc->u.array.len; i++)
    {
      char out[IPAM_ADDR_LEN];
      yajl_val a = alloc->u.array.values[i];
      if (!YAJL_IS_STRING (a))
        {
          skiff_error_make (err, 0, "invalid field `Allocated[%zu]`: expected a string", i);
          return NULL;
        }
      if (ipam_alloc (pool, YAJL_GET_STRING (a), out, err) < 0)
        {
          skiff_error_wrap (err, "Allocated[%zu] `%s`", i, YAJL_GET_STRING (a));
          return NULL;
        }
    }
  if (next)
    {
      uint32_t n;
      if (!ipam_parse_addr (next, &n) || n < pool->first || n > pool->last)
        {
          skiff_error_make (err, 0, "invalid field `Next`: `%s` is not in the allocation range", next);
          return NULL;
        }
      pool->next = n;
    }
  return steal_pointer (&pool);
}

struct ipam_pool *
ipam_pool_from_value (yajl_val v, skiff_error_t *err)
{
  struct ipam_pool *pool = pool_from_value (v, err);
  if (pool == NULL)
    skiff_error_wrap (err, "invalid IPAM state");
  return pool;
}

struct ipam_pool *
ipam_pool_from_json (const char *text, skiff_error_t *err)
{
  cleanup_json yajl_val v = NULL;
  if (json_parse (text, &v, err) < 0)
    return NULL;
  return ipam_pool_from_value (v, err);
}
