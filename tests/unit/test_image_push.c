/* image_push against a real registry (Debian's docker-registry on
   loopback, tests/lib/registry.bash), through a relaying proxy that logs
   the requests: monolithic and chunked uploads, skipped and mounted
   layers, every tag of a repository, the errors, token and basic auth;
   every pushed image is pulled back into another store and compared by
   image id and manifest digest.

   Skips the registry tests (77) without root, docker-registry, skopeo,
   apache2-utils, openssl or busybox-static.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>

#include "dist_meta.h"
#include "fs.h"
#include "manifest.h"
#include "push.h"
#include "reference.h"
#include "registry.h"
#include "store.h"
#include "test_image_util.h"
#include "test_registry_util.h"

struct event
{
  char id[80];
  char status[256];
  int64_t current, total;
};

struct t
{
  char *dir;
  char *root;
  struct image_store *s;
  struct registry reg;   /* the open registry */
  struct registry authreg;
  struct proxy *px;
  char addr[32];         /* the proxy's */
  char *alpine_id;       /* one layer: the busybox rootfs */
  char *two_id;          /* alpine's layer + /etc/motd */
  char *two_top_diff;
  struct push_opts o;
  struct event ev[4096];
  size_t n_ev;
  char done_tag[64], done_digest[80];
  int64_t done_size;
  int n_done;
  skiff_error_t err;
};

static void
on_progress (void *data, const char *id, const char *status, int64_t current, int64_t total)
{
  struct t *t = data;
  if (t->n_ev == sizeof (t->ev) / sizeof (t->ev[0]))
    return;
  snprintf (t->ev[t->n_ev].id, sizeof (t->ev[t->n_ev].id), "%s", id ? id : "");
  snprintf (t->ev[t->n_ev].status, sizeof (t->ev[t->n_ev].status), "%s", status);
  t->ev[t->n_ev].current = current;
  t->ev[t->n_ev].total = total;
  t->n_ev++;
}

static void
on_done (void *data, const char *tag, const char *digest, int64_t size)
{
  struct t *t = data;
  snprintf (t->done_tag, sizeof (t->done_tag), "%s", tag);
  snprintf (t->done_digest, sizeof (t->done_digest), "%s", digest);
  t->done_size = size;
  t->n_done++;
}

/* Events with status (a prefix when it ends with '*') for the layer
   diff_id (any when NULL).  */
static size_t
count (struct t *t, const char *status, const char *diff_id)
{
  size_t i, k = 0, sl = strlen (status);
  bool prefix = sl > 0 && status[sl - 1] == '*';
  char short_id[13] = "";
  if (diff_id)
    manifest_short_id (diff_id, short_id);
  for (i = 0; i < t->n_ev; i++)
    if ((prefix ? strncmp (t->ev[i].status, status, sl - 1) == 0 : strcmp (t->ev[i].status, status) == 0)
        && (diff_id == NULL || strcmp (t->ev[i].id, short_id) == 0))
      k++;
  return k;
}

static char *
ref (struct t *t, const char *rest)
{
  static char bufs[8][256];
  static unsigned next;
  char *b = bufs[next++ % 8];
  snprintf (b, 256, "%s/%s", t->addr, rest);
  return b;
}

static void
push_ok (struct t *t, const char *name, const char *tag)
{
  t->n_ev = 0;
  t->n_done = 0;
  skiff_error_release (&t->err);
  if (image_push (t->s, name, tag, &t->o, &t->err) < 0)
    fail_msg ("push %s %s: %s", name, tag ? tag : "", t->err->msg);
}

static int
push_fails (struct t *t, const char *name, const char *tag)
{
  int ret;
  t->n_ev = 0;
  skiff_error_release (&t->err);
  ret = image_push (t->s, name, tag, &t->o, &t->err);
  if (ret >= 0)
    fail_msg ("push %s succeeded", name);
  assert_non_null (t->err);
  return ret;
}


/* The digest of the manifest the registry serves for repo:reference.  */
static char *
served_digest (struct t *t, const char *repo, const char *reference)
{
  cleanup_free char *url = NULL;
  cleanup_free char *body = NULL;
  if (asprintf (&url, "http://%s/v2/%s/manifests/%s", t->reg.addr, repo, reference) < 0)
    fail_msg ("asprintf");
  body = http_get (url, MANIFEST_ACCEPT);
  return sha256_text (body);
}

/* Pulls name into a new store: the same image id, and the digest
   reference is the pushed manifest's.  */
static void
pull_back (struct t *t, const char *name, const char *want_id, const char *want_digest)
{
  cleanup_free char *root = NULL;
  cleanup_free char *id = NULL;
  cleanup_free char *by_digest = NULL;
  cleanup_free char *again = NULL;
  cleanup_image_store struct image_store *s2 = NULL;
  cleanup_image_ref struct image_ref r = { 0 };
  cleanup_free char *repo = NULL;
  struct pull_opts po = { .username = t->o.username, .password = t->o.password };
  skiff_error_t err = NULL;
  static unsigned n;

  if (asprintf (&root, "%s/pullback-%u", t->dir, n++) < 0)
    fail_msg ("asprintf");
  if (image_store_open (root, &s2, &err) < 0)
    fail_msg ("%s", err->msg);
  if (image_pull (s2, name, &po, &id, &err) < 0)
    fail_msg ("pull back %s: %s", name, err->msg);
  assert_string_equal (id, want_id);
  assert_int_equal (image_ref_parse (name, &r, &err), 0);
  repo = image_ref_name (&r);
  if (asprintf (&by_digest, "%s@%s", repo, want_digest) < 0)
    fail_msg ("asprintf");
  assert_int_equal (image_resolve (s2, by_digest, &again, &err), 0);
  assert_string_equal (again, want_id);
}

static char *
resolve (struct t *t, const char *name)
{
  return tr_resolve (t->s, name);
}

/* ---- fixture ---- */


/* alpine:latest (imported busybox rootfs) and two:latest (that layer and
   one with /etc/motd, loaded from a docker-archive).  */
static void
make_images (struct t *t)
{
  cleanup_free char *make = lib ("make-rootfs.sh");
  cleanup_free char *rootfs = tu_path (t->dir, "rootfs");
  cleanup_free char *rootfs_tar = tu_path (t->dir, "rootfs.tar");
  cleanup_free char *motd = tu_path (t->dir, "motd.tar");
  cleanup_free char *cfg_path = tu_path (t->dir, "two.json");
  cleanup_free char *archive = tu_path (t->dir, "two.tar");
  cleanup_free char *cfg = NULL;
  cleanup_strv char **loaded = NULL;
  char d0[IMAGE_ID_LEN + 1], d1[IMAGE_ID_LEN + 1];
  const char *ids[] = { d0, d1, NULL };
  struct tu_tar tt;
  skiff_error_t err = NULL;
  int fd;

  if (sh ("sh '%s' '%s' >/dev/null && tar -C '%s' --numeric-owner -cf '%s' .", make, rootfs, rootfs, rootfs_tar) != 0)
    fail_msg ("make-rootfs.sh failed");
  fd = tu_open_read (rootfs_tar);
  if (image_import (t->s, fd, "alpine:latest", NULL, NULL, &t->alpine_id, &err) < 0)
    fail_msg ("import: %s", err->msg);
  close (fd);
  tt = tu_tar_open (motd, false);
  tu_dir (&tt, "etc/");
  tu_file (&tt, "etc/motd", "pushed in two layers\n");
  tu_tar_close (&tt);
  tu_diff_id (rootfs_tar, d0);
  tu_diff_id (motd, d1);
  t->two_top_diff = strdup (d1);
  cfg = tu_config ("/bin/sh", ids);
  tu_write (cfg_path, cfg);
  t->two_id = sha256_text (cfg);
  tt = tu_tar_open (archive, false);
  tu_tar_add_file (&tt, "two.json", cfg_path);
  tu_tar_add_file (&tt, "base/layer.tar", rootfs_tar);
  tu_tar_add_file (&tt, "motd/layer.tar", motd);
  tu_file (&tt, "manifest.json",
           "[{\"Config\":\"two.json\",\"RepoTags\":[\"two:latest\"],\"Layers\":[\"base/layer.tar\",\"motd/layer.tar\"]}]");
  tu_tar_close (&tt);
  fd = tu_open_read (archive);
  if (image_load (t->s, fd, &loaded, &err) < 0)
    fail_msg ("load: %s", err->msg);
  close (fd);
}

static int
setup (void **state)
{
  struct t *t = calloc (1, sizeof (*t));
  cleanup_free char *regdir = NULL;
  skiff_error_t err = NULL;

  t->dir = tu_mkdtemp ("push");
  t->root = tu_path (t->dir, "root");
  if (image_store_open (t->root, &t->s, &err) < 0)
    fail_msg ("%s", err->msg);
  regdir = tu_path (t->dir, "registry");
  registry_up (&t->reg, regdir, NULL, "none");
  t->px = proxy_start (t->reg.port);
  snprintf (t->addr, sizeof (t->addr), "127.0.0.1:%d", t->px->port);
  t->o.progress = on_progress;
  t->o.done = on_done;
  t->o.data = t;
  make_images (t);
  *state = t;
  return 0;
}

static int
teardown (void **state)
{
  struct t *t = *state;
  tr_stop_all ();
  registry_down (&t->reg);
  registry_down (&t->authreg);
  image_store_free (t->s);
  skiff_error_release (&t->err);
  tu_rm_rf (t->dir);
  free (t->dir);
  free (t->root);
  free (t->alpine_id);
  free (t->two_id);
  free (t->two_top_diff);
  free (t);
  return 0;
}

static void
tag (struct t *t, const char *source, const char *target)
{
  skiff_error_t err = NULL;
  if (image_tag (t->s, source, target, &err) < 0)
    fail_msg ("tag %s: %s", target, err->msg);
}

/* ---- tests ---- */

static void
test_push_and_pull_back (void **state)
{
  struct t *t = *state;
  cleanup_free char *status = NULL;
  cleanup_free char *head = NULL;
  cleanup_free char *served = NULL;
  cleanup_free char *by_digest = NULL;
  cleanup_free char *id = NULL;

  tag (t, "two", ref (t, "library/pushed:v1"));
  push_ok (t, ref (t, "library/pushed"), "v1");
  if (asprintf (&head, "The push refers to repository [%s]", ref (t, "library/pushed")) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->ev[0].status, head);
  assert_int_equal (count (t, "Preparing", NULL), 2);
  assert_int_equal (count (t, "Pushed", NULL), 2);
  assert_int_equal (count (t, "Pushed", t->two_top_diff), 1);
  assert_true (count (t, "Pushing", t->two_top_diff) >= 1);
  /* The final line and the aux message agree with the registry.  */
  assert_int_equal (t->n_done, 1);
  assert_string_equal (t->done_tag, "v1");
  served = served_digest (t, "library/pushed", "v1");
  assert_string_equal (t->done_digest, served);
  if (asprintf (&status, "v1: digest: %s size: %lld", served, (long long) t->done_size) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->ev[t->n_ev - 1].status, status);
  /* Monolithic uploads: POST + PUT per blob (2 layers, 1 config).  */
  assert_int_equal (proxy_count (t->px, "POST", "/v2/library/pushed/blobs/uploads/"), 3);
  assert_int_equal (proxy_count (t->px, "PUT", "digest=sha256"), 3);
  assert_int_equal (proxy_count (t->px, "PATCH", "/"), 0);
  assert_int_equal (proxy_count (t->px, "PUT", "/v2/library/pushed/manifests/v1"), 1);
  /* RepoDigests of the pushed image.  */
  if (asprintf (&by_digest, "%s@%s", ref (t, "library/pushed"), served) < 0)
    fail_msg ("asprintf");
  id = resolve (t, by_digest);
  assert_non_null (id);
  assert_string_equal (id, t->two_id);
  pull_back (t, ref (t, "library/pushed:v1"), t->two_id, served);
}

static void
test_push_again_and_mount (void **state)
{
  struct t *t = *state;
  cleanup_free char *first = NULL;

  tag (t, "two", ref (t, "library/a:1"));
  push_ok (t, ref (t, "library/a"), "1");
  first = strdup (t->done_digest);

  /* Again: the registry has every blob; the digest is the same.  */
  proxy_reset_log (t->px);
  push_ok (t, ref (t, "library/a"), "1");
  assert_int_equal (count (t, "Layer already exists", NULL), 2);
  assert_int_equal (count (t, "Pushed", NULL), 0);
  assert_int_equal (proxy_count (t->px, "POST", "/blobs/uploads/"), 0);
  assert_string_equal (t->done_digest, first);

  /* Without the layer metadata the compression gives the same blobs,
     which the registry is asked about.  */
  {
    cleanup_free char *dir = tu_path (t->root, "image/distribution");
    assert_int_equal (sh ("rm -f '%s'/*.json", dir), 0);
  }
  proxy_reset_log (t->px);
  push_ok (t, ref (t, "library/a"), "1");
  assert_int_equal (count (t, "Layer already exists", NULL), 2);
  assert_int_equal (proxy_count (t->px, "POST", "/blobs/uploads/"), 0);
  assert_string_equal (t->done_digest, first);

  /* Another repository of the registry: mounted, not uploaded.  */
  tag (t, "two", ref (t, "library/b:2"));
  proxy_reset_log (t->px);
  push_ok (t, ref (t, "library/b:2"), NULL);
  assert_int_equal (count (t, "Mounted from library/a", NULL), 2);
  assert_int_equal (proxy_count (t->px, "POST", "/v2/library/b/blobs/uploads/?mount=sha256:"), 2);
  assert_int_equal (proxy_count (t->px, "POST", "from=library/a"), 2);
  assert_int_equal (proxy_count (t->px, "PATCH", "/"), 0);
  /* Only the config went up (the config blob is per repository).  */
  assert_int_equal (proxy_count (t->px, "PUT", "digest="), 1);
  assert_string_equal (t->done_digest, first);
  pull_back (t, ref (t, "library/b:2"), t->two_id, first);

}

/* The layer digests of a manifest the registry serves.  */
static char **
served_layers (struct t *t, const char *repo, const char *reference)
{
  cleanup_free char *url = NULL;
  cleanup_free char *body = NULL;
  cleanup_json yajl_val root = NULL;
  char **out = calloc (8, sizeof (char *));
  yajl_val layers;
  size_t i;
  if (asprintf (&url, "http://%s/v2/%s/manifests/%s", t->reg.addr, repo, reference) < 0)
    fail_msg ("asprintf");
  body = http_get (url, MANIFEST_ACCEPT);
  root = tu_parse (body);
  layers = json_get (root, "layers");
  assert_true (layers && YAJL_IS_ARRAY (layers) && layers->u.array.len < 8);
  for (i = 0; i < layers->u.array.len; i++)
    out[i] = strdup (json_str_or (json_get (layers->u.array.values[i], "digest"), ""));
  return out;
}

/* An image pushed by someone else (skopeo, with its own gzip) and pulled:
   a push to another repository mounts the blobs the pull recorded, and
   the manifest lists those very blobs.  */
static void
test_mount_pulled_layers (void **state)
{
  struct t *t = *state;
  cleanup_free char *script = lib ("registry.bash");
  cleanup_free char *archive = tu_path (t->dir, "two-save.tar");
  cleanup_free char *pulled = NULL;
  cleanup_free char *deleted = NULL;
  cleanup_strv char **theirs = NULL;
  cleanup_strv char **ours = NULL;
  const char *names[] = { "two:latest", NULL };
  struct pull_opts po = { 0 };
  skiff_error_t err = NULL;
  int fd;

  fd = open (archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  if (image_save (t->s, names, fd, &err) < 0)
    fail_msg ("save: %s", err->msg);
  close (fd);
  if (sh ("bash '%s' push-archive %s '%s' library/sk:1", script, t->reg.addr, archive) != 0)
    fail_msg ("skopeo push failed");
  assert_int_equal (image_remove (t->s, "two:latest", false, NULL, NULL, &deleted, &err), 0);
  if (image_pull (t->s, ref (t, "library/sk:1"), &po, &pulled, &err) < 0)
    fail_msg ("pull: %s", err->msg);
  assert_string_equal (pulled, t->two_id);
  theirs = served_layers (t, "library/sk", "1");

  tag (t, ref (t, "library/sk:1"), ref (t, "library/c:3"));
  proxy_reset_log (t->px);
  push_ok (t, ref (t, "library/c"), "3");
  assert_int_equal (count (t, "Mounted from library/sk", NULL), 2);
  assert_int_equal (proxy_count (t->px, "PUT", "digest="), 1); /* the config only */
  ours = served_layers (t, "library/c", "3");
  assert_string_equal (ours[0], theirs[0]);
  assert_string_equal (ours[1], theirs[1]);
  assert_null (ours[2]);
  pull_back (t, ref (t, "library/c:3"), t->two_id, t->done_digest);
}

/* Blobs above the chunk size go up in PATCHes.  */
static void
test_chunked_upload (void **state)
{
  struct t *t = *state;
  size_t i, n, patches = 0;
  cleanup_free struct logged *log = NULL;

  t->o.chunk_size = 64 * 1024;
  tag (t, "alpine", ref (t, "library/chunked:1"));
  push_ok (t, ref (t, "library/chunked"), "1");
  log = proxy_log (t->px, &n);
  for (i = 0; i < n; i++)
    if (strcmp (log[i].method, "PATCH") == 0)
      {
        patches++;
        /* Each piece is at most one chunk.  */
        assert_true (log[i].body <= 64 * 1024);
      }
  assert_true (patches >= 3);
  assert_true (count (t, "Pushing", NULL) >= 2);
  pull_back (t, ref (t, "library/chunked:1"), t->alpine_id, t->done_digest);
}

static void
test_all_tags_and_errors (void **state)
{
  struct t *t = *state;
  cleanup_free char *want = NULL;

  tag (t, "alpine", ref (t, "library/many:x"));
  tag (t, "two", ref (t, "library/many:y"));
  push_ok (t, ref (t, "library/many"), NULL);
  assert_int_equal (t->n_done, 2);
  assert_int_equal (count (t, "x: digest: *", NULL), 1);
  assert_int_equal (count (t, "y: digest: *", NULL), 1);
  pull_back (t, ref (t, "library/many:y"), t->two_id, t->done_digest);

  assert_int_equal (push_fails (t, ref (t, "library/many"), "nope"), IMAGE_ERR_NOT_FOUND);
  if (asprintf (&want, "tag does not exist: %s", ref (t, "library/many:nope")) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->err->msg, want);
  assert_int_equal (t->n_ev, 0);
  assert_int_equal (push_fails (t, ref (t, "library/none"), NULL), IMAGE_ERR_NOT_FOUND);
  free (want);
  if (asprintf (&want, "An image does not exist locally with the tag: %s", ref (t, "library/none")) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->err->msg, want);
  assert_int_equal (push_fails (t, "Bad/Name", NULL), IMAGE_ERR_INVALID);
  free (want);
  if (asprintf (&want, "%s@sha256:%064d", ref (t, "library/many"), 0) < 0)
    fail_msg ("asprintf");
  assert_int_equal (push_fails (t, want, NULL), IMAGE_ERR_INVALID);
  assert_string_equal (t->err->msg, "cannot push a digest reference");
  /* Nothing listens: a transport error naming the URL.  */
  {
    char name[64];
    snprintf (name, sizeof (name), "127.0.0.1:%d/x", dead_port ());
    tag (t, "alpine", name);
    assert_int_equal (push_fails (t, name, NULL), IMAGE_ERR);
    assert_non_null (strstr (t->err->msg, "/v2/"));
  }
}

static void
test_token_auth (void **state)
{
  struct t *t = *state;
  cleanup_free char *dir = tu_path (t->dir, "token-registry");
  cleanup_free char *crt = NULL;
  cleanup_free char *mode = NULL;
  cleanup_free char *storage = tu_path (t->dir, "registry/storage");
  cleanup_free char *name = NULL;
  char *unescaped = NULL;
  struct token_server *ts;
  int len = 0;

  assert_int_equal (mkdir (dir, 0700), 0);
  ts = token_start (dir);
  crt = tu_path (dir, "token.crt");
  if (asprintf (&mode, "token http://127.0.0.1:%d/token %s %s '%s'", ts->port, TOKEN_SERVICE, TOKEN_ISSUER, crt) < 0)
    fail_msg ("asprintf");
  registry_up (&t->authreg, dir, storage, mode);
  if (asprintf (&name, "%s/library/tok:1", t->authreg.addr) < 0)
    fail_msg ("asprintf");
  tag (t, "two", name);

  /* Anonymous: the token grants nothing.  */
  push_fails (t, name, NULL);
  assert_string_equal (t->err->msg, "denied: requested access to the resource is denied");

  t->o.username = USER;
  t->o.password = PASS;
  ts->requests = 0;
  push_ok (t, name, NULL);
  assert_int_equal (ts->with_creds, ts->requests);
  unescaped = curl_easy_unescape (NULL, ts->last_path, 0, &len);
  assert_non_null (strstr (unescaped, "scope=repository:library/tok:pull,push"));
  /* The pushed image comes back through the same token server.  */
  pull_back (t, name, t->two_id, t->done_digest);

  t->o.password = "wrong";
  push_fails (t, name, NULL);
  assert_non_null (strstr (t->err->msg, "incorrect username or password"));
  curl_free (unescaped);
}

static void
test_basic_auth (void **state)
{
  struct t *t = *state;
  cleanup_free char *dir = tu_path (t->dir, "basic-registry");
  cleanup_free char *name = NULL;

  registry_up (&t->authreg, dir, NULL, "htpasswd " USER " " PASS);
  if (asprintf (&name, "%s/library/basic:1", t->authreg.addr) < 0)
    fail_msg ("asprintf");
  tag (t, "alpine", name);
  push_fails (t, name, NULL);
  assert_non_null (strstr (t->err->msg, "no basic auth credentials"));
  t->o.username = USER;
  t->o.password = "wrong";
  push_fails (t, name, NULL);
  assert_string_equal (t->err->msg, "unauthorized: authentication required");
  t->o.password = PASS;
  push_ok (t, name, NULL);
  pull_back (t, name, t->alpine_id, t->done_digest);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_push_and_pull_back, setup, teardown),
    cmocka_unit_test_setup_teardown (test_push_again_and_mount, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mount_pulled_layers, setup, teardown),
    cmocka_unit_test_setup_teardown (test_chunked_upload, setup, teardown),
    cmocka_unit_test_setup_teardown (test_all_tags_and_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_token_auth, setup, teardown),
    cmocka_unit_test_setup_teardown (test_basic_auth, setup, teardown),
  };

  signal (SIGPIPE, SIG_IGN);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  if (!tools_available () || geteuid () != 0)
    {
      fprintf (stderr, "registry tests not run: they need root, docker-registry, skopeo, apache2-utils, openssl "
                       "and busybox-static\n");
      return 77;
    }
  return cmocka_run_group_tests_name ("image_push", tests, NULL, NULL);
}
