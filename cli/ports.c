#include "ports.h"
#include "cleanup.h"
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "80" or "8000-8010" into [lo, hi].  */
static int
parse_range (const char *s, unsigned *lo, unsigned *hi)
{
  char *end;
  unsigned long a, b;
  if (*s == '\0')
    return -1;
  a = strtoul (s, &end, 10);
  if (end == s || a == 0 || a > 65535)
    return -1;
  b = a;
  if (*end == '-')
    {
      const char *t = end + 1;
      b = strtoul (t, &end, 10);
      if (end == t || b < a || b > 65535)
        return -1;
    }
  if (*end != '\0')
    return -1;
  *lo = a;
  *hi = b;
  return 0;
}

int
ports_parse (const char *spec, struct port_binding **list, size_t *n, skiff_error_t *err)
{
  cleanup_free char *copy = strdup (spec);
  char *proto = NULL, *parts[3] = { NULL, NULL, NULL }, *p, *slash;
  const char *ip = "", *hostp = "", *ctrp;
  unsigned clo, chi, hlo = 0, hhi = 0, i, k = 0;

  if (copy == NULL)
    return skiff_error_make (err, ENOMEM, "publish");
  slash = strrchr (copy, '/');
  if (slash)
    {
      *slash = '\0';
      proto = slash + 1;
      if (strcmp (proto, "tcp") != 0 && strcmp (proto, "udp") != 0 && strcmp (proto, "sctp") != 0)
        return skiff_error_make (err, 0, "invalid proto: %s", proto);
    }
  /* ip:host:ctr, host:ctr or ctr; an IPv6 address comes in brackets.  */
  p = copy;
  if (*p == '[')
    {
      char *close = strchr (p, ']');
      if (close == NULL || close[1] != ':')
        return skiff_error_make (err, 0, "invalid ip address: %s", spec);
      *close = '\0';
      parts[k++] = p + 1;
      p = close + 2;
    }
  while (k < 3)
    {
      char *colon = strchr (p, ':');
      parts[k++] = p;
      if (colon == NULL)
        break;
      *colon = '\0';
      p = colon + 1;
    }
  if (strchr (p, ':'))
    return skiff_error_make (err, 0, "invalid port format: %s", spec);
  if (k == 3)
    {
      ip = parts[0];
      hostp = parts[1];
      ctrp = parts[2];
    }
  else if (k == 2)
    {
      hostp = parts[0];
      ctrp = parts[1];
    }
  else
    ctrp = parts[0];
  if (parse_range (ctrp, &clo, &chi) < 0)
    return skiff_error_make (err, 0, "invalid containerPort: %s", ctrp);
  if (*hostp && parse_range (hostp, &hlo, &hhi) < 0)
    return skiff_error_make (err, 0, "invalid hostPort: %s", hostp);
  if (*hostp && hhi - hlo != chi - clo && hlo != hhi)
    return skiff_error_make (err, 0, "invalid ranges specified for container and host Ports: %s and %s", ctrp, hostp);
  for (i = 0; i <= chi - clo; i++)
    {
      struct port_binding *nl = realloc (*list, (*n + 1) * sizeof (**list)), *b;
      if (nl == NULL)
        return skiff_error_make (err, ENOMEM, "publish");
      *list = nl;
      b = &nl[*n];
      memset (b, 0, sizeof (*b));
      snprintf (b->key, sizeof (b->key), "%u/%s", clo + i, proto ? proto : "tcp");
      snprintf (b->host_ip, sizeof (b->host_ip), "%s", ip);
      if (*hostp)
        snprintf (b->host_port, sizeof (b->host_port), "%u", hlo == hhi ? hlo : hlo + i);
      (*n)++;
    }
  return 0;
}

/* Whether list[i]'s key came earlier in the list (one entry per key).  */
static bool
key_seen_before (const struct port_binding *list, size_t i)
{
  size_t j;
  for (j = 0; j < i; j++)
    if (strcmp (list[j].key, list[i].key) == 0)
      return true;
  return false;
}

void
ports_gen_exposed (yajl_gen g, const struct port_binding *list, size_t n)
{
  size_t i;
  json_gen_str (g, "ExposedPorts");
  yajl_gen_map_open (g);
  for (i = 0; i < n; i++)
    {
      if (key_seen_before (list, i))
        continue;
      json_gen_str (g, list[i].key);
      yajl_gen_map_open (g);
      yajl_gen_map_close (g);
    }
  yajl_gen_map_close (g);
}

void
ports_gen_bindings (yajl_gen g, const struct port_binding *list, size_t n)
{
  size_t i, j;
  yajl_gen_map_open (g);
  for (i = 0; i < n; i++)
    {
      if (key_seen_before (list, i))
        continue;
      json_gen_str (g, list[i].key);
      yajl_gen_array_open (g);
      for (j = i; j < n; j++)
        if (strcmp (list[j].key, list[i].key) == 0)
          {
            yajl_gen_map_open (g);
            json_gen_kv_str (g, "HostIp", list[j].host_ip);
            json_gen_kv_str (g, "HostPort", list[j].host_port);
            yajl_gen_map_close (g);
          }
      yajl_gen_array_close (g);
    }
  yajl_gen_map_close (g);
}
