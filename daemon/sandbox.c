#include "sandbox.h"
#include "cleanup.h"
#include "fs.h"
#include "netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

/* A thread of its own enters a new network namespace (a namespace is a
   property of the thread), brings lo up, opens the netlink socket the
   interfaces will be made with if asked, and bind-mounts the namespace on
   the path; the namespace outlives the thread through that mount.  A
   thread costs far less than the fork of the daemon this used to be.  */
struct netns_job
{
  const char *path;
  bool want_ns;
  struct nl_netns *ns;
  skiff_error_t err; /* nl_netns_here's */
  int errno_;
  const char *what;
};

static void *
netns_thread (void *arg)
{
  struct netns_job *j = arg;
  struct ifreq ifr;
  cleanup_close int s = -1;

  if (unshare (CLONE_NEWNET) < 0)
    {
      j->what = "create a network namespace";
      goto fail;
    }
  s = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0)
    {
      j->what = "socket";
      goto fail;
    }
  memset (&ifr, 0, sizeof (ifr));
  strcpy (ifr.ifr_name, "lo");
  if (ioctl (s, SIOCGIFFLAGS, &ifr) < 0)
    {
      j->what = "read the flags of lo";
      goto fail;
    }
  ifr.ifr_flags |= IFF_UP;
  if (ioctl (s, SIOCSIFFLAGS, &ifr) < 0)
    {
      j->what = "bring lo up";
      goto fail;
    }
  if (j->want_ns && nl_netns_here (j->path, &j->ns, &j->err) < 0)
    return NULL;
  if (mount ("/proc/thread-self/ns/net", j->path, NULL, MS_BIND, NULL) < 0)
    {
      j->what = "bind the network namespace";
      goto fail;
    }
  return NULL;

fail:
  j->errno_ = errno;
  return NULL;
}

int
sandbox_netns_create (const char *path, struct nl_netns **ns, skiff_error_t *err)
{
  struct netns_job j = { .path = path, .want_ns = ns != NULL };
  pthread_t t;
  int fd, r;
  cleanup_free char *dir = strdup (path);
  char *slash = dir ? strrchr (dir, '/') : NULL;

  if (slash == NULL)
    return skiff_error_make (err, EINVAL, "netns path `%s`", path);
  *slash = '\0';
  if (fs_mkdir_p (dir, 0755, err) < 0)
    return -1;
  fd = open (path, O_CREAT | O_WRONLY | O_CLOEXEC, 0444);
  if (fd < 0)
    return skiff_error_make (err, errno, "create `%s`", path);
  close (fd);
  r = pthread_create (&t, NULL, netns_thread, &j);
  if (r != 0)
    {
      unlink (path);
      return skiff_error_make (err, r, "start a thread for a network namespace");
    }
  pthread_join (t, NULL);
  if (j.what || j.err)
    {
      nl_netns_free (j.ns);
      unlink (path);
      if (j.err)
        {
          if (err)
            *err = j.err;
          else
            skiff_error_release (&j.err);
          return -1;
        }
      return skiff_error_make (err, j.errno_, "%s on `%s`", j.what, path);
    }
  if (ns)
    *ns = j.ns;
  return 0;
}

int
sandbox_netns_remove (const char *path, skiff_error_t *err)
{
  if (umount2 (path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return skiff_error_make (err, errno, "unmount `%s`", path);
  if (unlink (path) < 0 && errno != ENOENT)
    return skiff_error_make (err, errno, "remove `%s`", path);
  return 0;
}

/* Written anew at every start: no fsync (Docker does none either).  */
static int
write_text (const char *path, const char *text, skiff_error_t *err)
{
  return fs_write_file_replace (path, text, strlen (text), 0644, err);
}

static int
copy_file (const char *from, const char *to, skiff_error_t *err)
{
  cleanup_free char *text = NULL;
  if (fs_read_file (from, &text, NULL, NULL) < 0)
    return write_text (to, "", err);
  return write_text (to, text, err);
}

/* The host's resolv.conf with its name server lines replaced: by
   127.0.0.11 and Docker's "options ndots:0" for the embedded DNS, else by
   the given servers (Docker's fallback when there are none is Google's
   public servers).  */
static char *
container_resolv_conf (const struct sandbox_etc *e)
{
  cleanup_free char *text = NULL;
  char *out = NULL, *line, *save = NULL;
  size_t len = 0, i;
  FILE *f;

  if (fs_read_file ("/etc/resolv.conf", &text, NULL, NULL) < 0)
    text = strdup ("");
  if (text == NULL)
    return NULL;
  f = open_memstream (&out, &len);
  if (f == NULL)
    return NULL;
  bool own_search = e->dns_search && e->dns_search[0], own_options = e->dns_options && e->dns_options[0];
  bool ndots = false;

  for (line = strtok_r (text, "\n", &save); line; line = strtok_r (NULL, "\n", &save))
    {
      char word[16] = "";
      sscanf (line, " %15s", word);
      if (strcmp (word, "nameserver") == 0)
        continue;
      if ((strcmp (word, "search") == 0 || strcmp (word, "domain") == 0) && own_search)
        continue;
      if (strcmp (word, "options") == 0 && (own_options || e->embedded_dns))
        continue;
      fprintf (f, "%s\n", line);
    }
  if (own_search)
    {
      fprintf (f, "search");
      for (i = 0; e->dns_search[i]; i++)
        fprintf (f, " %s", e->dns_search[i]);
      fprintf (f, "\n");
    }
  if (e->embedded_dns)
    fprintf (f, "nameserver 127.0.0.11\n");
  else if (e->dns && e->dns[0])
    for (i = 0; e->dns[i]; i++)
      fprintf (f, "nameserver %s\n", e->dns[i]);
  else
    fprintf (f, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
  if (own_options || e->embedded_dns)
    {
      fprintf (f, "options");
      for (i = 0; own_options && e->dns_options[i]; i++)
        {
          fprintf (f, " %s", e->dns_options[i]);
          ndots = ndots || strncmp (e->dns_options[i], "ndots:", 6) == 0;
        }
      /* Docker's default with its embedded server: names with a dot are
         tried as they are first.  */
      if (e->embedded_dns && !ndots)
        fprintf (f, " ndots:0");
      fprintf (f, "\n");
    }
  fclose (f);
  return out;
}

int
sandbox_write_etc (const struct sandbox_etc *e, skiff_error_t *err)
{
  cleanup_free char *hn = NULL, *rc = NULL, *own = NULL;
  const char *ip = e->ip;

  if (asprintf (&hn, "%s\n", e->hostname) < 0)
    return skiff_error_make (err, ENOMEM, "hostname");
  if (write_text (e->hostname_path, hn, err) < 0)
    return -1;
  if (e->host_network)
    return copy_file ("/etc/hosts", e->hosts, err) < 0 ? -1 : copy_file ("/etc/resolv.conf", e->resolv, err);
  if (asprintf (&own,
                "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                "ff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n%s%s%s%s",
                ip ? ip : "", ip ? "\t" : "", ip ? e->hostname : "", ip ? "\n" : "")
      < 0)
    return skiff_error_make (err, ENOMEM, "hosts");
  if (write_text (e->hosts, own, err) < 0)
    return -1;
  rc = container_resolv_conf (e);
  if (rc == NULL)
    return skiff_error_make (err, ENOMEM, "resolv.conf");
  return write_text (e->resolv, rc, err);
}
