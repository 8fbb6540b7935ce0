/* Running nft scripts with libnftables, in the calling thread's network
   namespace or, from a helper thread, in another one.  */
#include "nft.h"

#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>

#include "cleanup.h"

/* libnftables initialises process-wide state on first use and is not
   documented as thread-safe: one context at a time.  */
static pthread_mutex_t nft_lock = PTHREAD_MUTEX_INITIALIZER;

static void
cleanup_nft_ctxp (struct nft_ctx **ctx)
{
  if (*ctx)
    nft_ctx_free (*ctx);
}
#define cleanup_nft_ctx __attribute__ ((cleanup (cleanup_nft_ctxp)))

/* Work done with a context in the target namespace.  */
typedef int (*nft_job_fn) (struct nft_ctx *ctx, void *data, skiff_error_t *err);

struct nft_job
{
  const char *netns_path;
  nft_job_fn fn;
  void *data;
  int ret;
  skiff_error_t err;
};

static const char *
where (const char *netns_path)
{
  return netns_path ? netns_path : "the current network namespace";
}

/* The error output of ctx as the message of *err; each "<script>:" that
   starts a location (the memfd's path) becomes "line ".  */
static int
error_from_ctx (struct nft_ctx *ctx, const char *script, const char *what, skiff_error_t *err)
{
  const char *out = nft_ctx_get_error_buffer (ctx);
  cleanup_free char *msg = NULL;
  size_t len, slen = script ? strlen (script) : 0, n = 0;
  const char *p;

  if (out == NULL || *out == '\0')
    return skiff_error_make (err, 0, "%s: nft failed without a message", what);
  len = strlen (out);
  while (len > 0 && out[len - 1] == '\n')
    len--;
  msg = malloc (len + 1);
  if (msg == NULL)
    return skiff_error_make (err, ENOMEM, "%s", what);
  for (p = out; p < out + len;)
    {
      if (slen > 0 && (size_t) (out + len - p) > slen && strncmp (p, script, slen) == 0
          && p[slen] == ':')
        {
          /* "line " is shorter than any /proc/self/fd/N: msg has room.  */
          memcpy (msg + n, "line ", 5);
          n += 5;
          p += slen + 1;
          continue;
        }
      msg[n++] = *p++;
    }
  msg[n] = '\0';
  return skiff_error_make (err, 0, "%s: %s", what, msg);
}

/* Runs a one-line command; on failure the message is libnftables' error
   output.  */
static int
run_cmd (struct nft_ctx *ctx, const char *cmd, const char *what, skiff_error_t *err)
{
  if (nft_run_cmd_from_buffer (ctx, cmd) != 0)
    return error_from_ctx (ctx, NULL, what, err);
  return 0;
}

/* Runs a script.  libnftables 1.0.6 quotes the first line of a buffer in
   its error messages, whatever line failed, but the right line (and its
   number) of a file: so the script goes through a memfd.  */
static int
run_script (struct nft_ctx *ctx, const char *script, const char *what, skiff_error_t *err)
{
  cleanup_close int fd = -1;
  size_t len = strlen (script), done = 0;
  char path[64];

  fd = memfd_create ("skiff-nft", MFD_CLOEXEC);
  if (fd < 0)
    return skiff_error_make (err, errno, "%s: memfd_create", what);
  while (done < len)
    {
      ssize_t w = write (fd, script + done, len - done);
      if (w < 0 && errno == EINTR)
        continue;
      if (w < 0)
        return skiff_error_make (err, errno, "%s: write the script to a memfd", what);
      done += w;
    }
  snprintf (path, sizeof (path), "/proc/self/fd/%d", fd);
  if (nft_run_cmd_from_filename (ctx, path) != 0)
    return error_from_ctx (ctx, path, what, err);
  return 0;
}

static int
run_job_here (struct nft_job *job, skiff_error_t *err)
{
  cleanup_nft_ctx struct nft_ctx *ctx = NULL;
  int fd;

  /* nft_ctx_new exits the process when it cannot open its netlink socket
     (EMFILE, ENOBUFS...): try one first, under the lock.  */
  fd = socket (AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0)
    return skiff_error_make (err, errno, "nftables: open netfilter netlink socket in %s",
                             where (job->netns_path));
  close (fd);

  ctx = nft_ctx_new (NFT_CTX_DEFAULT);
  if (ctx == NULL)
    return skiff_error_make (err, ENOMEM, "nftables: create context in %s",
                             where (job->netns_path));
  if (nft_ctx_buffer_error (ctx) != 0 || nft_ctx_buffer_output (ctx) != 0)
    return skiff_error_make (err, ENOMEM, "nftables: buffer output in %s",
                             where (job->netns_path));
  return job->fn (ctx, job->data, err);
}

static int
run_job_locked (struct nft_job *job, skiff_error_t *err)
{
  int ret;

  pthread_mutex_lock (&nft_lock);
  ret = run_job_here (job, err);
  pthread_mutex_unlock (&nft_lock);
  return ret;
}

/* The helper thread: enters the namespace and dies with it.  */
static void *
job_thread (void *arg)
{
  struct nft_job *job = arg;
  cleanup_close int fd = -1;

  fd = open (job->netns_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      job->ret = skiff_error_make (&job->err, errno, "nftables: open network namespace `%s`",
                                   job->netns_path);
      return NULL;
    }
  if (setns (fd, CLONE_NEWNET) < 0)
    {
      job->ret = skiff_error_make (&job->err, errno, "nftables: enter network namespace `%s`",
                                   job->netns_path);
      return NULL;
    }
  job->ret = run_job_locked (job, &job->err);
  return NULL;
}

static int
run_job (const char *netns_path, nft_job_fn fn, void *data, skiff_error_t *err)
{
  struct nft_job job = { .netns_path = netns_path, .fn = fn, .data = data };
  pthread_t thread;
  int r;

  if (netns_path == NULL)
    return run_job_locked (&job, err);

  r = pthread_create (&thread, NULL, job_thread, &job);
  if (r != 0)
    return skiff_error_make (err, r, "nftables: start a thread for `%s`", netns_path);
  r = pthread_join (thread, NULL);
  if (r != 0)
    return skiff_error_make (err, r, "nftables: wait for the thread for `%s`", netns_path);
  if (job.ret < 0)
    {
      if (err != NULL && *err == NULL)
        *err = job.err;
      else
        skiff_error_release (&job.err);
      return -1;
    }
  return 0;
}

struct apply_data
{
  const char *netns_path;
  const char *script;
  const char *what;
};

static int
apply_fn (struct nft_ctx *ctx, void *data, skiff_error_t *err)
{
  struct apply_data *d = data;
  cleanup_free char *what = NULL;

  if (asprintf (&what, "nftables: %s in %s", d->what, where (d->netns_path)) < 0)
    return skiff_error_make (err, ENOMEM, "nftables: %s", d->what);
  return run_script (ctx, d->script, what, err);
}

int
nft_apply (const char *netns_path, const char *ruleset, skiff_error_t *err)
{
  struct apply_data d = { netns_path, ruleset, "apply ruleset" };

  if (ruleset == NULL)
    return skiff_error_make (err, EINVAL, "nftables: no ruleset to apply");
  return run_job (netns_path, apply_fn, &d, err);
}

static int
check_table_name (const char *family, const char *name, skiff_error_t *err)
{
  static const char *const families[] = { "ip", "ip6", "inet", "arp", "bridge", "netdev" };
  size_t i, len;

  for (i = 0; i < sizeof (families) / sizeof (families[0]); i++)
    if (family != NULL && strcmp (family, families[i]) == 0)
      break;
  if (i == sizeof (families) / sizeof (families[0]))
    return skiff_error_make (err, EINVAL, "nftables: invalid table family `%s`",
                             family ? family : "(null)");
  len = name ? strlen (name) : 0;
  if (len == 0 || len > 255)
    return skiff_error_make (err, EINVAL, "nftables: invalid table name `%s`",
                             name ? name : "(null)");
  for (i = 0; i < len; i++)
    {
      char c = name[i];
      if (! ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
             || c == '-'))
        return skiff_error_make (err, EINVAL, "nftables: invalid table name `%s`", name);
    }
  return 0;
}

int
nft_table_delete (const char *netns_path, const char *family, const char *name,
                  skiff_error_t *err)
{
  cleanup_free char *script = NULL;
  cleanup_free char *what = NULL;
  struct apply_data d = { netns_path, NULL, NULL };

  if (check_table_name (family, name, err) < 0)
    return -1;
  /* Adding first makes the delete succeed on a missing table, atomically.  */
  if (asprintf (&script, "table %s %s\ndelete table %s %s\n", family, name, family, name) < 0
      || asprintf (&what, "delete table %s %s", family, name) < 0)
    return skiff_error_make (err, ENOMEM, "nftables: delete table %s %s", family, name);
  d.script = script;
  d.what = what;
  return run_job (netns_path, apply_fn, &d, err);
}

struct list_data
{
  const char *netns_path;
  const char *family;
  const char *name;
  bool want_text;
  bool exists;
  char *text;
};

/* `list tables` prints one "table <family> <name>" line per table.  */
static bool
tables_contain (const char *listing, const char *family, const char *name)
{
  size_t flen = strlen (family), nlen = strlen (name);
  const char *line = listing;

  while (line != NULL && *line != '\0')
    {
      if (strncmp (line, "table ", 6) == 0 && strncmp (line + 6, family, flen) == 0
          && line[6 + flen] == ' ' && strncmp (line + 7 + flen, name, nlen) == 0
          && (line[7 + flen + nlen] == '\n' || line[7 + flen + nlen] == '\0'))
        return true;
      line = strchr (line, '\n');
      if (line != NULL)
        line++;
    }
  return false;
}

static int
list_fn (struct nft_ctx *ctx, void *data, skiff_error_t *err)
{
  struct list_data *d = data;
  cleanup_free char *cmd = NULL;
  cleanup_free char *what = NULL;
  const char *out;

  if (asprintf (&cmd, "list tables %s", d->family) < 0
      || asprintf (&what, "nftables: list table %s %s in %s", d->family, d->name,
                   where (d->netns_path)) < 0)
    return skiff_error_make (err, ENOMEM, "nftables: list table %s %s", d->family, d->name);
  if (run_cmd (ctx, cmd, what, err) < 0)
    return -1;
  out = nft_ctx_get_output_buffer (ctx);
  d->exists = out != NULL && tables_contain (out, d->family, d->name);
  if (! d->want_text)
    return 0;
  if (! d->exists)
    return skiff_error_make (err, ENOENT, "%s", what);

  free (cmd);
  cmd = NULL;
  if (asprintf (&cmd, "list table %s %s", d->family, d->name) < 0)
    return skiff_error_make (err, ENOMEM, "%s", what);
  if (run_cmd (ctx, cmd, what, err) < 0)
    return -1;
  out = nft_ctx_get_output_buffer (ctx);
  d->text = strdup (out ? out : "");
  if (d->text == NULL)
    return skiff_error_make (err, ENOMEM, "%s", what);
  return 0;
}

int
nft_table_exists (const char *netns_path, const char *family, const char *name, bool *exists,
                  skiff_error_t *err)
{
  struct list_data d = { .netns_path = netns_path, .family = family, .name = name };

  if (check_table_name (family, name, err) < 0 || run_job (netns_path, list_fn, &d, err) < 0)
    return -1;
  *exists = d.exists;
  return 0;
}

int
nft_table_list (const char *netns_path, const char *family, const char *name, char **text,
                skiff_error_t *err)
{
  struct list_data d = { .netns_path = netns_path, .family = family, .name = name,
                         .want_text = true };

  *text = NULL;
  if (check_table_name (family, name, err) < 0 || run_job (netns_path, list_fn, &d, err) < 0)
    {
      free (d.text);
      return -1;
    }
  *text = d.text;
  return 0;
}
