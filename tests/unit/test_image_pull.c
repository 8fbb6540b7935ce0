/* image_pull against a real registry: Debian's docker-registry
   (distribution 2.8) started by tests/lib/registry.bash on loopback, fed
   by skopeo (docker-archives written by image_save) and by hand-made
   manifests (zstd, uncompressed, indexes).  In-process helpers: an RS256
   token server for `auth: token`, and a relaying proxy that logs requests,
   cuts transfers or plays a mirror without the image.

   Skips with 77 when docker-registry, skopeo or busybox-static is missing
   (after running the manifest parser tests, which need none of them).  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "fs.h"
#include "manifest.h"
#include "reference.h"
#include "registry.h"
#include "store.h"
#include "test_image_util.h"
#include "test_registry_util.h"

/* ---- fixture images ---- */

static char *
sha256_file (const char *path)
{
  char *out = malloc (IMAGE_ID_LEN + 1);
  tu_diff_id (path, out);
  return out;
}


enum comp
{
  C_TAR,
  C_GZIP,
  C_ZSTD
};

struct pushed
{
  char *manifest; /* the JSON text */
  char *digest;   /* of the manifest */
  char *config;   /* config digest = image id */
  char *layer;    /* layer blob digest */
  char *diff_id;
};

static void
pushed_clear (struct pushed *p)
{
  free (p->manifest);
  free (p->digest);
  free (p->config);
  free (p->layer);
  free (p->diff_id);
  memset (p, 0, sizeof (*p));
}

struct bed
{
  char *dir;
  struct registry reg;
  char *storage;
  char *rootfs_tar;
  /* alpine:latest from image_import + image_save + skopeo */
  char *alpine_id;
  char *alpine_digest;
  char *alpine_layer;
  int64_t alpine_layer_size;
  char *two_id;
  char *two_layer; /* its second layer */
  struct pushed zstd, tar, tamper, arm64, amd64, armv7, dock_amd64;
  char *index_digest;
  char *list_digest;
  char *armonly_digest;
  unsigned counter;
};
static struct bed bed;

/* A compressed copy of a file through libarchive's raw writer.  */
static void
compress_file (const char *in, const char *out, enum comp c)
{
  cleanup_free char *data = NULL;
  size_t len = 0;
  skiff_error_t err = NULL;
  struct archive *a = archive_write_new ();
  struct archive_entry *e = archive_entry_new ();

  if (fs_read_file (in, &data, &len, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (archive_write_set_format_raw (a), ARCHIVE_OK);
  assert_int_equal (c == C_ZSTD ? archive_write_add_filter_zstd (a) : archive_write_add_filter_gzip (a), ARCHIVE_OK);
  assert_int_equal (archive_write_open_filename (a, out), ARCHIVE_OK);
  archive_entry_set_pathname (e, "layer");
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_size (e, len);
  assert_int_equal (archive_write_header (a, e), ARCHIVE_OK);
  assert_int_equal (archive_write_data (a, data, len), (la_ssize_t) len);
  assert_int_equal (archive_write_close (a), ARCHIVE_OK);
  archive_write_free (a);
  archive_entry_free (e);
}

static char *
put_blob (const char *repo, const char *file)
{
  cleanup_free char *script = lib ("registry.bash");
  return sh_out ("bash '%s' put-blob %s '%s' '%s'", script, bed.reg.addr, repo, file);
}

static void
put_manifest (const char *repo, const char *ref, const char *media_type, const char *text)
{
  cleanup_free char *script = lib ("registry.bash");
  cleanup_free char *file = NULL;
  if (asprintf (&file, "%s/manifest-%u.json", bed.dir, bed.counter++) < 0)
    fail_msg ("asprintf");
  tu_write (file, text);
  if (sh ("bash '%s' put-manifest %s '%s' '%s' '%s' '%s'", script, bed.reg.addr, repo, ref, media_type, file) != 0)
    fail_msg ("put manifest %s:%s", repo, ref);
}

/* An image of one layer holding /marker (and `filler` bytes of noise),
   pushed by hand; tag NULL pushes the manifest by digest only.  */
static void
push_image (const char *repo, const char *tag, bool oci, enum comp comp, const char *arch, const char *variant,
            const char *marker, size_t filler, struct pushed *out)
{
  static const char *const oci_layer[] = { "application/vnd.oci.image.layer.v1.tar",
                                           "application/vnd.oci.image.layer.v1.tar+gzip",
                                           "application/vnd.oci.image.layer.v1.tar+zstd" };
  cleanup_free char *tar = NULL;
  cleanup_free char *blob = NULL;
  cleanup_free char *cfg_path = NULL;
  cleanup_free char *cfg = NULL;
  cleanup_free char *noise = calloc (filler + 1, 1);
  struct tu_tar t;
  struct stat st_blob, st_cfg;
  unsigned n = bed.counter++;
  size_t i;

  if (asprintf (&tar, "%s/layer-%u.tar", bed.dir, n) < 0 || asprintf (&blob, "%s/layer-%u.blob", bed.dir, n) < 0
      || asprintf (&cfg_path, "%s/config-%u.json", bed.dir, n) < 0)
    fail_msg ("asprintf");
  for (i = 0; i < filler; i++)
    noise[i] = "0123456789abcdef"[random () % 16];
  t = tu_tar_open (tar, false);
  tu_file (&t, "marker", marker);
  if (filler)
    tu_file (&t, "noise", noise);
  tu_tar_close (&t);
  out->diff_id = sha256_file (tar);
  if (comp == C_TAR)
    {
      if (link (tar, blob) < 0)
        fail_msg ("link");
    }
  else
    compress_file (tar, blob, comp);
  if (asprintf (&cfg,
                "{\"architecture\":\"%s\",%s%s%s\"os\":\"linux\",\"config\":{\"Cmd\":[\"/marker\"]},"
                "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                arch, variant ? "\"variant\":\"" : "", variant ? variant : "", variant ? "\"," : "", out->diff_id)
      < 0)
    fail_msg ("asprintf");
  tu_write (cfg_path, cfg);
  out->layer = put_blob (repo, blob);
  out->config = put_blob (repo, cfg_path);
  assert_int_equal (stat (blob, &st_blob), 0);
  assert_int_equal (stat (cfg_path, &st_cfg), 0);
  if (asprintf (&out->manifest,
                "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"config\":{\"mediaType\":\"%s\",\"size\":%lld,"
                "\"digest\":\"%s\"},\"layers\":[{\"mediaType\":\"%s\",\"size\":%lld,\"digest\":\"%s\"}]}",
                oci ? MEDIA_TYPE_OCI_MANIFEST : MEDIA_TYPE_DOCKER_MANIFEST,
                oci ? "application/vnd.oci.image.config.v1+json" : "application/vnd.docker.container.image.v1+json",
                (long long) st_cfg.st_size, out->config,
                oci ? oci_layer[comp] : "application/vnd.docker.image.rootfs.diff.tar.gzip", (long long) st_blob.st_size,
                out->layer)
      < 0)
    fail_msg ("asprintf");
  out->digest = sha256_text (out->manifest);
  put_manifest (repo, tag ? tag : out->digest, oci ? MEDIA_TYPE_OCI_MANIFEST : MEDIA_TYPE_DOCKER_MANIFEST,
                out->manifest);
}

static char *
push_index (const char *repo, const char *tag, const char *media_type, const struct pushed *const *children,
            const char *const *platforms)
{
  char *text = strdup ("");
  size_t i;
  for (i = 0; children[i]; i++)
    {
      char *n = NULL;
      if (asprintf (&n, "%s%s{\"mediaType\":\"%s\",\"size\":%zu,\"digest\":\"%s\",\"platform\":%s}", text, i ? "," : "",
                    strstr (children[i]->manifest, MEDIA_TYPE_OCI_MANIFEST) ? MEDIA_TYPE_OCI_MANIFEST
                                                                           : MEDIA_TYPE_DOCKER_MANIFEST,
                    strlen (children[i]->manifest), children[i]->digest, platforms[i])
          < 0)
        fail_msg ("asprintf");
      free (text);
      text = n;
    }
  {
    char *full = NULL;
    if (asprintf (&full, "{\"schemaVersion\":2,\"mediaType\":\"%s\",\"manifests\":[%s]}", media_type, text) < 0)
      fail_msg ("asprintf");
    free (text);
    put_manifest (repo, tag, media_type, full);
    text = sha256_text (full);
    free (full);
  }
  return text;
}

/* First layer digest and size of a manifest served by the registry.  */
static void
manifest_layer (const char *repo, const char *ref, char **digest, int64_t *size, char **manifest_digest)
{
  cleanup_free char *url = NULL;
  cleanup_free char *body = NULL;
  yajl_val root, layers, first;
  if (asprintf (&url, "http://%s/v2/%s/manifests/%s", bed.reg.addr, repo, ref) < 0)
    fail_msg ("asprintf");
  body = http_get (url, MANIFEST_ACCEPT);
  root = tu_parse (body);
  layers = json_get (root, "layers");
  assert_true (layers && YAJL_IS_ARRAY (layers) && layers->u.array.len > 0);
  first = layers->u.array.values[layers->u.array.len - 1];
  {
    const char *d = YAJL_IS_STRING (json_get (first, "digest")) ? YAJL_GET_STRING (json_get (first, "digest")) : NULL;
    assert_non_null (d);
    *digest = strdup (d);
  }
  if (size)
    *size = YAJL_GET_INTEGER (json_get (first, "size"));
  if (manifest_digest)
    *manifest_digest = sha256_text (body);
  yajl_tree_free (root);
}

static void
make_alpine (void)
{
  cleanup_free char *make = lib ("make-rootfs.sh");
  cleanup_free char *rootfs = tu_path (bed.dir, "rootfs");
  cleanup_free char *fixroot = tu_path (bed.dir, "fixture-store");
  cleanup_free char *archive = tu_path (bed.dir, "alpine.tar");
  cleanup_free char *script = lib ("registry.bash");
  cleanup_image_store struct image_store *fs = NULL;
  const char *names[] = { "alpine:latest", NULL };
  skiff_error_t err = NULL;
  int fd;

  bed.rootfs_tar = tu_path (bed.dir, "rootfs.tar");
  if (sh ("sh '%s' '%s' && tar -C '%s' --numeric-owner -cf '%s' .", make, rootfs, rootfs, bed.rootfs_tar) != 0)
    fail_msg ("make-rootfs.sh failed");
  if (image_store_open (fixroot, &fs, &err) < 0)
    fail_msg ("%s", err->msg);
  fd = tu_open_read (bed.rootfs_tar);
  if (image_import (fs, fd, "alpine:latest", NULL, NULL, &bed.alpine_id, &err) < 0)
    fail_msg ("import: %s", err->msg);
  close (fd);
  fd = open (archive, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  if (image_save (fs, names, fd, &err) < 0)
    fail_msg ("save: %s", err->msg);
  close (fd);
  if (sh ("bash '%s' push-archive %s '%s' library/alpine:latest", script, bed.reg.addr, archive) != 0)
    fail_msg ("skopeo push of alpine failed");
  manifest_layer ("library/alpine", "latest", &bed.alpine_layer, &bed.alpine_layer_size, &bed.alpine_digest);
}

/* alpine:two = the alpine layer + a layer with /etc/motd, as a
   hand-made docker-archive pushed by skopeo.  */
static void
make_two (void)
{
  cleanup_free char *motd = tu_path (bed.dir, "motd.tar");
  cleanup_free char *cfg_path = tu_path (bed.dir, "two.json");
  cleanup_free char *archive = tu_path (bed.dir, "two.tar");
  cleanup_free char *script = lib ("registry.bash");
  cleanup_free char *cfg = NULL;
  char d0[IMAGE_ID_LEN + 1], d1[IMAGE_ID_LEN + 1];
  const char *ids[] = { d0, d1, NULL };
  struct tu_tar t = tu_tar_open (motd, false);

  tu_dir (&t, "etc/");
  tu_file (&t, "etc/motd", "two layers\n");
  tu_tar_close (&t);
  tu_diff_id (bed.rootfs_tar, d0);
  tu_diff_id (motd, d1);
  cfg = tu_config ("/bin/sh", ids);
  tu_write (cfg_path, cfg);
  bed.two_id = sha256_text (cfg);
  t = tu_tar_open (archive, false);
  tu_tar_add_file (&t, "two.json", cfg_path);
  tu_tar_add_file (&t, "base/layer.tar", bed.rootfs_tar);
  tu_tar_add_file (&t, "motd/layer.tar", motd);
  tu_file (&t, "manifest.json",
           "[{\"Config\":\"two.json\",\"RepoTags\":[\"alpine:two\"],\"Layers\":[\"base/layer.tar\",\"motd/layer.tar\"]}]");
  tu_tar_close (&t);
  if (sh ("bash '%s' push-archive %s '%s' library/alpine:two", script, bed.reg.addr, archive) != 0)
    fail_msg ("skopeo push of alpine:two failed");
  manifest_layer ("library/alpine", "two", &bed.two_layer, NULL, NULL);
}


static int
group_setup (void **state)
{
  cleanup_free char *regdir = NULL;
  char *blob = NULL;
  int fd;
  unsigned char c;
  struct stat st;

  srandom (time (NULL));
  unsetenv ("http_proxy");
  unsetenv ("https_proxy");
  unsetenv ("HTTPS_PROXY");
  unsetenv ("ALL_PROXY");
  unsetenv ("all_proxy");
  bed.dir = tu_mkdtemp ("pull");
  regdir = tu_path (bed.dir, "registry");
  registry_up (&bed.reg, regdir, NULL, "none");
  bed.storage = tu_path (regdir, "storage");
  make_alpine ();
  make_two ();
  push_image ("library/zstd", "latest", true, C_ZSTD, "amd64", NULL, "zstd layer\n", 0, &bed.zstd);
  push_image ("library/plain", "latest", true, C_TAR, "amd64", NULL, "uncompressed layer\n", 0, &bed.tar);
  push_image ("library/tamper", "latest", false, C_GZIP, "amd64", NULL, "tampered\n", 200000, &bed.tamper);
  /* Multi-platform: an OCI index (arm64 first) and a Docker manifest
     list (arm/v7 first).  */
  push_image ("library/multi", NULL, true, C_GZIP, "arm64", "v8", "arm64\n", 0, &bed.arm64);
  push_image ("library/multi", NULL, true, C_GZIP, "amd64", NULL, "amd64\n", 0, &bed.amd64);
  {
    const struct pushed *children[] = { &bed.arm64, &bed.amd64, NULL };
    const char *platforms[] = { "{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}",
                                "{\"architecture\":\"amd64\",\"os\":\"linux\"}" };
    const struct pushed *only_arm[] = { &bed.arm64, NULL };
    bed.index_digest = push_index ("library/multi", "latest", MEDIA_TYPE_OCI_INDEX, children, platforms);
    bed.armonly_digest = push_index ("library/multi", "armonly", MEDIA_TYPE_OCI_INDEX, only_arm, platforms);
  }
  push_image ("library/multilist", NULL, false, C_GZIP, "arm", "v7", "armv7\n", 0, &bed.armv7);
  push_image ("library/multilist", NULL, false, C_GZIP, "amd64", NULL, "docker amd64\n", 0, &bed.dock_amd64);
  {
    const struct pushed *children[] = { &bed.armv7, &bed.dock_amd64, NULL };
    const char *platforms[] = { "{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}",
                                "{\"architecture\":\"amd64\",\"os\":\"linux\"}" };
    bed.list_digest = push_index ("library/multilist", "latest", MEDIA_TYPE_DOCKER_LIST, children, platforms);
  }
  /* Corrupt the tamper layer in the registry's storage, size unchanged.  */
  if (asprintf (&blob, "%s/docker/registry/v2/blobs/sha256/%.2s/%s/data", bed.storage, bed.tamper.layer + 7,
                bed.tamper.layer + 7)
      < 0)
    fail_msg ("asprintf");
  fd = open (blob, O_RDWR | O_CLOEXEC);
  if (fd < 0 || fstat (fd, &st) < 0)
    fail_msg ("open %s", blob);
  assert_int_equal (pread (fd, &c, 1, st.st_size / 2), 1);
  c ^= 0xff;
  assert_int_equal (pwrite (fd, &c, 1, st.st_size / 2), 1);
  close (fd);
  free (blob);
  *state = &bed;
  return 0;
}

static int
group_teardown (void **state)
{
  struct pushed *all[] = { &bed.zstd, &bed.tar, &bed.tamper, &bed.arm64, &bed.amd64, &bed.armv7, &bed.dock_amd64 };
  size_t i;

  registry_down (&bed.reg);
  if (bed.dir)
    tu_rm_rf (bed.dir);
  for (i = 0; i < sizeof (all) / sizeof (all[0]); i++)
    pushed_clear (all[i]);
  free (bed.dir);
  free (bed.storage);
  free (bed.rootfs_tar);
  free (bed.alpine_id);
  free (bed.alpine_digest);
  free (bed.alpine_layer);
  free (bed.two_id);
  free (bed.two_layer);
  free (bed.index_digest);
  free (bed.list_digest);
  free (bed.armonly_digest);
  memset (&bed, 0, sizeof (bed));
  return 0;
}

/* ---- progress ---- */

struct event
{
  char id[80];
  char status[256];
  int64_t current, total;
};

struct events
{
  struct event v[2048];
  size_t n;
};

static void
on_progress (void *data, const char *id, const char *status, int64_t current, int64_t total)
{
  struct events *e = data;
  if (e->n == sizeof (e->v) / sizeof (e->v[0]))
    return;
  snprintf (e->v[e->n].id, sizeof (e->v[e->n].id), "%s", id ? id : "");
  snprintf (e->v[e->n].status, sizeof (e->v[e->n].status), "%s", status);
  e->v[e->n].current = current;
  e->v[e->n].total = total;
  e->n++;
}

/* Events with this status (prefix when it ends with '*'), for id (any
   when NULL; a digest is shortened to 12 hex digits).  */
static size_t
count (const struct events *e, const char *status, const char *id)
{
  size_t i, k = 0, sl = strlen (status);
  char short_id[13] = "";
  bool prefix = sl > 0 && status[sl - 1] == '*';
  if (id)
    manifest_short_id (id, short_id);
  for (i = 0; i < e->n; i++)
    if ((prefix ? strncmp (e->v[i].status, status, sl - 1) == 0 : strcmp (e->v[i].status, status) == 0)
        && (id == NULL || strcmp (e->v[i].id, short_id) == 0))
      k++;
  return k;
}

static bool
has_event (const struct events *e, const char *id, const char *status)
{
  size_t i;
  for (i = 0; i < e->n; i++)
    if (strcmp (e->v[i].status, status) == 0 && strcmp (e->v[i].id, id ? id : "") == 0)
      return true;
  return false;
}

/* ---- per test: a fresh store ---- */

/* What a test starts is stopped by teardown too, so that a failing
   assertion leaves no registry process or thread behind.  */
struct t
{
  char *dir;
  char *root;
  struct image_store *s;
  struct events ev;
  struct pull_opts o;
  skiff_error_t err;
  struct registry reg;
};

static struct t *current;

static int
setup (void **state)
{
  struct t *t = calloc (1, sizeof (*t));
  skiff_error_t err = NULL;
  t->dir = tu_mkdtemp ("pullstore");
  t->root = tu_path (t->dir, "root");
  if (image_store_open (t->root, &t->s, &err) < 0)
    fail_msg ("%s", err->msg);
  t->o.progress = on_progress;
  t->o.data = &t->ev;
  current = t;
  *state = t;
  return 0;
}

static int
teardown (void **state)
{
  struct t *t = *state;
  registry_down (&t->reg);
  tr_stop_all ();
  current = NULL;
  image_store_free (t->s);
  skiff_error_release (&t->err);
  tu_rm_rf (t->dir);
  free (t->dir);
  free (t->root);
  free (t);
  return 0;
}

static char *
ref (const char *addr, const char *rest)
{
  static char bufs[8][256];
  static unsigned next;
  char *b = bufs[next++ % 8];
  snprintf (b, 256, "%s/%s", addr, rest);
  return b;
}

/* Pulls and fails the test on error; returns the image id.  */
static char *
pull_ok (struct t *t, const char *r)
{
  char *id = NULL;
  t->ev.n = 0;
  if (image_pull (t->s, r, &t->o, &id, &t->err) < 0)
    fail_msg ("pull %s: %s", r, t->err->msg);
  return id;
}

static int
pull_fails (struct t *t, const char *r)
{
  char *id = NULL;
  int ret;
  t->ev.n = 0;
  skiff_error_release (&t->err);
  ret = image_pull (t->s, r, &t->o, &id, &t->err);
  if (ret >= 0)
    fail_msg ("pull %s succeeded (%s)", r, id);
  assert_non_null (t->err);
  return ret;
}

static char *
resolve (struct t *t, const char *name)
{
  return tr_resolve (t->s, name);
}

static size_t
dir_entries (const char *dir)
{
  DIR *d = opendir (dir);
  struct dirent *de;
  size_t n = 0;
  if (d == NULL)
    return 0;
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  closedir (d);
  return n;
}

static const char *
layer_file (struct t *t, const char *chain, const char *path)
{
  static char buf[PATH_MAX];
  snprintf (buf, sizeof (buf), "%s/image/layers/%s/diff/%s", t->root, chain + 7, path);
  return buf;
}

/* ---- manifest parsing (no registry needed) ---- */

static void
test_manifest_parse (void **state)
{
  static const char docker[] = "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_DOCKER_MANIFEST "\","
                               "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\","
                               "\"size\":10,\"digest\":\"sha256:"
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\"layers\":[{"
                               "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+zstd\",\"size\":5,\"digest\":"
                               "\"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}]}";
  static const char schema1[] = "{\"schemaVersion\":1,\"name\":\"x\",\"tag\":\"latest\",\"fsLayers\":[]}";
  static const char index_[] = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST "\","
                               "\"size\":1,\"digest\":\"sha256:"
                               "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\",\"platform\":{"
                               "\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}},{\"mediaType\":\""
                               MEDIA_TYPE_OCI_MANIFEST "\",\"size\":1,\"digest\":\"sha256:"
                               "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd\",\"platform\":{"
                               "\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},{\"mediaType\":\""
                               MEDIA_TYPE_OCI_MANIFEST "\",\"size\":1,\"digest\":\"sha256:"
                               "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\",\"platform\":{"
                               "\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}";
  static const char bad_layer[] = "{\"schemaVersion\":2,\"mediaType\":\"" MEDIA_TYPE_OCI_MANIFEST "\","
                                  "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                                  "\"size\":10,\"digest\":\"sha256:"
                                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"},\"layers\":[{"
                                  "\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+encrypted\",\"size\":5,"
                                  "\"digest\":\"sha256:"
                                  "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"}]}";
  struct manifest m;
  const struct manifest_descriptor *d;
  skiff_error_t err = NULL;

  assert_int_equal (manifest_parse (MEDIA_TYPE_DOCKER_MANIFEST "; charset=utf-8", docker, strlen (docker), &m, &err), 0);
  assert_int_equal (m.kind, MANIFEST_IMAGE);
  assert_int_equal (m.n_layers, 1);
  assert_int_equal (m.layers[0].compression, LAYER_ZSTD);
  assert_int_equal (m.config.size, 10);
  manifest_clear (&m);

  /* Served as something else than it says it is.  */
  assert_true (manifest_parse (MEDIA_TYPE_OCI_INDEX, docker, strlen (docker), &m, &err) < 0);
  assert_non_null (strstr (err->msg, "served as"));
  skiff_error_release (&err);

  assert_true (manifest_parse ("application/json", schema1, strlen (schema1), &m, &err) < 0);
  assert_string_equal (err->msg, "schema 1 images are not supported");
  skiff_error_release (&err);
  assert_true (manifest_parse (MEDIA_TYPE_DOCKER_SCHEMA1_SIGNED, schema1, strlen (schema1), &m, &err) < 0);
  assert_string_equal (err->msg, "schema 1 images are not supported");
  skiff_error_release (&err);

  assert_true (manifest_parse (NULL, bad_layer, strlen (bad_layer), &m, &err) < 0);
  assert_non_null (strstr (err->msg, "unsupported layer media type"));
  skiff_error_release (&err);

  /* No mediaType in the body: the OCI index is told by its structure.  */
  assert_int_equal (manifest_parse (NULL, index_, strlen (index_), &m, &err), 0);
  assert_int_equal (m.kind, MANIFEST_INDEX);
  assert_int_equal (m.n_manifests, 3);
  assert_int_equal (manifest_select (&m, "linux", "arm", "v6", &d, &err), 0);
  assert_string_equal (d->digest + 7, "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
  assert_int_equal (manifest_select (&m, "linux", "arm64", "", &d, &err), 0);
  assert_string_equal (d->variant, "v8");
  assert_true (manifest_select (&m, "linux", "amd64", "", &d, &err) < 0);
  assert_string_equal (err->msg, "no matching manifest for linux/amd64 in the manifest list entries");
  skiff_error_release (&err);
  manifest_clear (&m);

  assert_true (manifest_parse (NULL, "{\"schemaVersion\":2,\"layers\":[]}\0x", 33, &m, &err) < 0);
  skiff_error_release (&err);
}

/* ---- pulls ---- */

static void
check_blob_cache_empty (struct t *t)
{
  cleanup_free char *blobs = tu_path (t->root, "image/tmp/blobs");
  assert_int_equal (dir_entries (blobs), 0);
}

static void
test_pull_by_tag (void **state)
{
  struct t *t = *state;
  cleanup_free char *id = NULL;
  cleanup_free char *by_digest = NULL;
  cleanup_free char *again = NULL;
  cleanup_free char *status = NULL;
  cleanup_free char *digest_line = NULL;
  cleanup_free char *repos = NULL;
  char short_layer[13];

  id = pull_ok (t, ref (bed.reg.addr, "library/alpine:latest"));
  /* The image id is the config's digest: the one image_import made.  */
  assert_string_equal (id, bed.alpine_id);
  again = resolve (t, ref (bed.reg.addr, "library/alpine:latest"));
  assert_non_null (again);
  assert_string_equal (again, id);
  /* RepoDigests: name@<manifest digest> is a reference to the image.  */
  if (asprintf (&by_digest, "%s/library/alpine@%s", bed.reg.addr, bed.alpine_digest) < 0)
    fail_msg ("asprintf");
  free (again);
  again = resolve (t, by_digest);
  assert_non_null (again);
  assert_string_equal (again, id);
  repos = tu_read (t->root, "image/repositories.json");
  assert_non_null (strstr (repos, by_digest));
  /* The layer is unpacked (single layer: chain id = diff id).  */
  {
    cleanup_image_store struct image_store *unused = NULL;
    cleanup_free char *cfg = NULL;
    skiff_error_t err = NULL;
    yajl_val root, diff;
    assert_int_equal (image_config_json (t->s, id, &cfg, &err), 0);
    root = tu_parse (cfg);
    diff = json_get (json_get (root, "rootfs"), "diff_ids");
    assert_true (diff && YAJL_IS_ARRAY (diff) && diff->u.array.len == 1);
    assert_true (fs_exists (layer_file (t, YAJL_GET_STRING (diff->u.array.values[0]), "bin/busybox")));
    yajl_tree_free (root);
  }
  /* Docker's progress messages, in order where it matters.  */
  manifest_short_id (bed.alpine_layer, short_layer);
  assert_true (has_event (&t->ev, "latest", "Pulling from library/alpine"));
  assert_string_equal (t->ev.v[0].status, "Pulling from library/alpine");
  assert_int_equal (count (&t->ev, "Pulling fs layer", bed.alpine_layer), 1);
  assert_true (count (&t->ev, "Downloading", bed.alpine_layer) >= 1);
  assert_int_equal (count (&t->ev, "Verifying Checksum", bed.alpine_layer), 1);
  assert_int_equal (count (&t->ev, "Download complete", bed.alpine_layer), 1);
  assert_int_equal (count (&t->ev, "Extracting", bed.alpine_layer), 1);
  assert_int_equal (count (&t->ev, "Pull complete", bed.alpine_layer), 1);
  if (asprintf (&digest_line, "Digest: %s", bed.alpine_digest) < 0
      || asprintf (&status, "Status: Downloaded newer image for %s/library/alpine:latest", bed.reg.addr) < 0)
    fail_msg ("asprintf");
  assert_true (has_event (&t->ev, NULL, digest_line));
  assert_string_equal (t->ev.v[t->ev.n - 1].status, status);
  {
    size_t i;
    int64_t last = -1;
    for (i = 0; i < t->ev.n; i++)
      if (strcmp (t->ev.v[i].status, "Downloading") == 0)
        {
          assert_int_equal (t->ev.v[i].total, bed.alpine_layer_size);
          assert_true (t->ev.v[i].current >= last);
          last = t->ev.v[i].current;
        }
  }
  check_blob_cache_empty (t);
}

static void
test_pull_by_digest (void **state)
{
  struct t *t = *state;
  cleanup_free char *r = NULL;
  cleanup_free char *id = NULL;
  cleanup_free char *tagged = NULL;
  cleanup_free char *status = NULL;

  if (asprintf (&r, "%s/library/alpine@%s", bed.reg.addr, bed.alpine_digest) < 0)
    fail_msg ("asprintf");
  id = pull_ok (t, r);
  assert_string_equal (id, bed.alpine_id);
  assert_true (has_event (&t->ev, bed.alpine_digest, "Pulling from library/alpine"));
  if (asprintf (&status, "Status: Downloaded newer image for %s", r) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->ev.v[t->ev.n - 1].status, status);
  /* Only the digest reference: no tag was pulled.  */
  tagged = resolve (t, ref (bed.reg.addr, "library/alpine:latest"));
  assert_null (tagged);
  free (id);
  id = resolve (t, r);
  assert_non_null (id);

  /* A digest that the registry does not have.  */
  free (r);
  if (asprintf (&r, "%s/library/alpine@sha256:%064d", bed.reg.addr, 0) < 0)
    fail_msg ("asprintf");
  assert_int_equal (pull_fails (t, r), IMAGE_ERR_NOT_FOUND);
  assert_non_null (strstr (t->err->msg, "not found"));
}

static void
test_second_pull_downloads_nothing (void **state)
{
  struct t *t = *state;
  struct proxy *px = proxy_start (bed.reg.port);
  char addr[32];
  cleanup_free char *id1 = NULL;
  cleanup_free char *id2 = NULL;
  cleanup_free char *id3 = NULL;
  cleanup_free char *status = NULL;

  snprintf (addr, sizeof (addr), "127.0.0.1:%d", px->port);
  id1 = pull_ok (t, ref (addr, "library/alpine:latest"));
  assert_int_equal (proxy_count (px, "GET", "/blobs/"), 2); /* config and layer */

  proxy_reset_log (px);
  id2 = pull_ok (t, ref (addr, "library/alpine:latest"));
  assert_string_equal (id1, id2);
  /* One HEAD for the digest; no manifest GET, no blob.  */
  assert_int_equal (proxy_count (px, "HEAD", "/manifests/latest"), 1);
  assert_int_equal (proxy_count (px, "GET", "/manifests/"), 0);
  assert_int_equal (proxy_count (px, NULL, "/blobs/"), 0);
  assert_int_equal (count (&t->ev, "Downloading", NULL), 0);
  assert_int_equal (count (&t->ev, "Pulling fs layer", NULL), 0);
  if (asprintf (&status, "Status: Image is up to date for %s/library/alpine:latest", addr) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->ev.v[t->ev.n - 1].status, status);

  /* alpine:two shares the base layer: "Already exists", one download.  */
  proxy_reset_log (px);
  id3 = pull_ok (t, ref (addr, "library/alpine:two"));
  assert_string_equal (id3, bed.two_id);
  assert_int_equal (count (&t->ev, "Already exists", NULL), 1);
  assert_int_equal (count (&t->ev, "Already exists", bed.alpine_layer), 1);
  assert_int_equal (count (&t->ev, "Pulling fs layer", NULL), 1);
  assert_int_equal (count (&t->ev, "Pull complete", bed.two_layer), 1);
  assert_int_equal (proxy_count (px, "GET", "/blobs/"), 2); /* config and the new layer */
  assert_int_equal (proxy_count (px, "GET", bed.alpine_layer), 0);
  {
    cleanup_free char *cfg = NULL;
    skiff_error_t err = NULL;
    assert_int_equal (image_config_json (t->s, id3, &cfg, &err), 0);
  }
  proxy_stop (px);
  check_blob_cache_empty (t);
}

static void
test_multi_platform (void **state)
{
  struct t *t = *state;
  cleanup_free char *id = NULL;
  cleanup_free char *by_index = NULL;
  cleanup_free char *again = NULL;
  const char *os, *arch, *variant;

  manifest_host_platform (&os, &arch, &variant);
  if (strcmp (arch, "amd64") != 0)
    skip ();
  id = pull_ok (t, ref (bed.reg.addr, "library/multi:latest"));
  assert_string_equal (id, bed.amd64.config);
  assert_true (fs_exists (layer_file (t, bed.amd64.diff_id, "marker")));
  /* RepoDigests name the index, as Docker's do.  */
  if (asprintf (&by_index, "%s/library/multi@%s", bed.reg.addr, bed.index_digest) < 0)
    fail_msg ("asprintf");
  again = resolve (t, by_index);
  assert_non_null (again);
  assert_string_equal (again, id);
  /* The arm64 blobs were never fetched.  */
  assert_int_equal (count (&t->ev, "Pulling fs layer", bed.arm64.layer), 0);

  free (id);
  id = pull_ok (t, ref (bed.reg.addr, "library/multilist:latest"));
  assert_string_equal (id, bed.dock_amd64.config);

  assert_int_equal (pull_fails (t, ref (bed.reg.addr, "library/multi:armonly")), IMAGE_ERR_NOT_FOUND);
  assert_string_equal (t->err->msg, "no matching manifest for linux/amd64 in the manifest list entries");

  /* --platform picks another entry, even with the host's image here.  */
  free (id);
  t->o.platform = "linux/arm64/v8";
  id = pull_ok (t, ref (bed.reg.addr, "library/multi:latest"));
  assert_string_equal (id, bed.arm64.config);
  t->o.platform = "linux";
  assert_int_equal (pull_fails (t, ref (bed.reg.addr, "library/multi:latest")), IMAGE_ERR_INVALID);
  assert_string_equal (t->err->msg, "invalid platform \"linux\": expected os/architecture[/variant]");
  t->o.platform = NULL;
}

static void
test_zstd_and_uncompressed (void **state)
{
  struct t *t = *state;
  cleanup_free char *id1 = NULL;
  cleanup_free char *id2 = NULL;
  cleanup_free char *m1 = NULL;
  cleanup_free char *m2 = NULL;
  skiff_error_t err = NULL;

  id1 = pull_ok (t, ref (bed.reg.addr, "library/zstd:latest"));
  assert_string_equal (id1, bed.zstd.config);
  if (fs_read_file (layer_file (t, bed.zstd.diff_id, "marker"), &m1, NULL, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_string_equal (m1, "zstd layer\n");
  id2 = pull_ok (t, ref (bed.reg.addr, "library/plain:latest"));
  assert_string_equal (id2, bed.tar.config);
  if (fs_read_file (layer_file (t, bed.tar.diff_id, "marker"), &m2, NULL, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_string_equal (m2, "uncompressed layer\n");
}

static void
test_errors (void **state)
{
  struct t *t = *state;
  cleanup_free char *want = NULL;

  assert_int_equal (pull_fails (t, "Alpine:Latest"), IMAGE_ERR_INVALID);
  assert_non_null (strstr (t->err->msg, "invalid reference format"));
  assert_int_equal (pull_fails (t, ref (bed.reg.addr, "library/alpine:nope")), IMAGE_ERR_NOT_FOUND);
  if (asprintf (&want, "manifest for %s/library/alpine:nope not found: manifest unknown: manifest unknown",
                bed.reg.addr)
      < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->err->msg, want);
  /* Nothing was announced before the error: the daemon can still answer
     with a status code.  */
  assert_int_equal (t->ev.n, 0);
  assert_int_equal (pull_fails (t, ref (bed.reg.addr, "library/nothing:latest")), IMAGE_ERR_NOT_FOUND);
  assert_non_null (strstr (t->err->msg, "not found"));
  /* Connection refused.  */
  {
    char addr[32];
    snprintf (addr, sizeof (addr), "127.0.0.1:%d", dead_port ());
    assert_int_equal (pull_fails (t, ref (addr, "library/alpine:latest")), IMAGE_ERR);
    assert_non_null (strstr (t->err->msg, "/v2/"));
  }
}

static void
test_tampered_blob (void **state)
{
  struct t *t = *state;
  cleanup_free char *want = NULL;
  cleanup_free char *configs = tu_path (t->root, "image/configs");
  cleanup_free char *layers = tu_path (t->root, "image/layers");
  cleanup_free char *partial = NULL;
  cleanup_free char *complete = NULL;

  assert_int_equal (pull_fails (t, ref (bed.reg.addr, "library/tamper:latest")), IMAGE_ERR);
  if (asprintf (&want, "filesystem layer verification failed for digest %s", bed.tamper.layer) < 0)
    fail_msg ("asprintf");
  assert_string_equal (t->err->msg, want);
  /* Nothing stored: no image, no layer, no tag, no cached blob.  */
  assert_int_equal (dir_entries (configs), 0);
  assert_int_equal (dir_entries (layers), 0);
  assert_false (tu_exists (t->root, "image/repositories.json"));
  if (asprintf (&partial, "image/tmp/blobs/%s.partial", bed.tamper.layer + 7) < 0
      || asprintf (&complete, "image/tmp/blobs/%s", bed.tamper.layer + 7) < 0)
    fail_msg ("asprintf");
  assert_false (tu_exists (t->root, partial));
  assert_false (tu_exists (t->root, complete));
  assert_int_equal (count (&t->ev, "Pull complete", NULL), 0);
}

/* GETs of path in the proxy's log, copied out.  */
static size_t
blob_gets (struct proxy *px, const char *path, struct logged *out, size_t max)
{
  size_t n, i, k = 0;
  cleanup_free struct logged *log = proxy_log (px, &n);
  for (i = 0; i < n; i++)
    if (strstr (log[i].path, path) && strcmp (log[i].method, "GET") == 0 && k < max)
      out[k++] = log[i];
  return k;
}

static void
test_resume_truncated (void **state)
{
  struct t *t = *state;
  struct proxy *px = proxy_start (bed.reg.port);
  char addr[32], range[64], path[128];
  cleanup_free char *id = NULL;
  cleanup_free char *partial = NULL;
  struct logged g[16];
  struct stat st;

  assert_true (bed.alpine_layer_size > 6 * CUT_BYTES);
  snprintf (addr, sizeof (addr), "127.0.0.1:%d", px->port);
  snprintf (path, sizeof (path), "/blobs/%s", bed.alpine_layer);

  /* One broken transfer: the pull resumes it with a Range request.  */
  proxy_rules (px, path, 1, false, false);
  id = pull_ok (t, ref (addr, "library/alpine:latest"));
  assert_string_equal (id, bed.alpine_id);
  assert_int_equal (blob_gets (px, path, g, 16), 2);
  assert_string_equal (g[0].range, "");
  assert_int_equal (g[0].body, CUT_BYTES);
  snprintf (range, sizeof (range), "bytes=%d-", CUT_BYTES);
  assert_string_equal (g[1].range, range);
  assert_int_equal (g[1].body, bed.alpine_layer_size - CUT_BYTES);

  /* Every attempt broken: the pull fails, the partial file stays, and
     the next pull continues from it.  */
  {
    skiff_error_t err = NULL;
    cleanup_free char *deleted = NULL;
    assert_int_equal (image_remove (t->s, id, true, NULL, NULL, &deleted, &err), 0);
  }
  proxy_reset_log (px);
  proxy_rules (px, path, 100, false, false);
  pull_fails (t, ref (addr, "library/alpine:latest"));
  if (asprintf (&partial, "%s/image/tmp/blobs/%s.partial", t->root, bed.alpine_layer + 7) < 0)
    fail_msg ("asprintf");
  assert_int_equal (stat (partial, &st), 0);
  assert_true (st.st_size >= CUT_BYTES && st.st_size < bed.alpine_layer_size);
  proxy_reset_log (px);
  proxy_rules (px, path, 0, false, false);
  free (id);
  id = pull_ok (t, ref (addr, "library/alpine:latest"));
  assert_string_equal (id, bed.alpine_id);
  snprintf (range, sizeof (range), "bytes=%lld-", (long long) st.st_size);
  assert_int_equal (blob_gets (px, path, g, 16), 1);
  assert_string_equal (g[0].range, range);
  assert_int_equal (g[0].body, bed.alpine_layer_size - st.st_size);

  /* A partial file with wrong bytes: resumed, found bad, fetched again
     from the start, and the pull still succeeds.  */
  {
    skiff_error_t err = NULL;
    cleanup_free char *deleted = NULL;
    cleanup_free char *junk = calloc (CUT_BYTES + 1, 1);
    assert_int_equal (image_remove (t->s, id, true, NULL, NULL, &deleted, &err), 0);
    memset (junk, 'x', CUT_BYTES);
    tu_write (partial, junk);
  }
  proxy_reset_log (px);
  free (id);
  id = pull_ok (t, ref (addr, "library/alpine:latest"));
  assert_string_equal (id, bed.alpine_id);
  snprintf (range, sizeof (range), "bytes=%d-", CUT_BYTES);
  assert_int_equal (blob_gets (px, path, g, 16), 2);
  assert_string_equal (g[0].range, range);
  assert_string_equal (g[1].range, "");
  assert_int_equal (g[1].body, bed.alpine_layer_size);
  proxy_stop (px);
  check_blob_cache_empty (t);
}

static void
test_mirrors (void **state)
{
  struct t *t = *state;
  struct proxy *mirror = proxy_start (bed.reg.port);
  struct proxy *origin = proxy_start (bed.reg.port);
  char dead[64], mirror_url[64], origin_url[64];
  const char *mirrors[] = { dead, mirror_url, NULL };
  cleanup_free char *id = NULL;
  cleanup_free char *root2 = NULL;
  cleanup_image_store struct image_store *s2 = NULL;
  skiff_error_t err = NULL;

  snprintf (dead, sizeof (dead), "http://127.0.0.1:%d", dead_port ());
  snprintf (mirror_url, sizeof (mirror_url), "http://127.0.0.1:%d/", mirror->port);
  snprintf (origin_url, sizeof (origin_url), "http://127.0.0.1:%d", origin->port);
  t->o.mirrors = mirrors;
  t->o.docker_io_url = origin_url;

  /* docker.io/library/alpine: the dead mirror, then the live one.  */
  id = pull_ok (t, "alpine");
  assert_string_equal (id, bed.alpine_id);
  assert_true (proxy_count (mirror, "GET", "/v2/library/alpine/manifests/") >= 1);
  assert_int_equal (proxy_count (mirror, "GET", "/blobs/"), 2);
  assert_int_equal (proxy_count (origin, NULL, "/"), 0);
  free (id);
  id = resolve (t, "alpine:latest");
  assert_non_null (id);
  assert_string_equal (id, bed.alpine_id);

  /* A mirror without the image: the origin serves it.  */
  proxy_rules (mirror, NULL, 0, true, false);
  proxy_reset_log (mirror);
  root2 = tu_path (t->dir, "root2");
  if (image_store_open (root2, &s2, &err) < 0)
    fail_msg ("%s", err->msg);
  free (id);
  id = NULL;
  if (image_pull (s2, "alpine:latest", &t->o, &id, &err) < 0)
    fail_msg ("pull: %s", err->msg);
  assert_string_equal (id, bed.alpine_id);
  assert_true (proxy_count (mirror, NULL, "/manifests/latest") >= 1);
  assert_int_equal (proxy_count (mirror, NULL, "/blobs/"), 0);
  assert_int_equal (proxy_count (origin, "GET", "/blobs/"), 2);

  /* Mirrors are for docker.io only.  */
  proxy_reset_log (mirror);
  free (id);
  id = pull_ok (t, ref (bed.reg.addr, "library/zstd:latest"));
  assert_int_equal (proxy_count (mirror, NULL, "/"), 0);

  proxy_stop (mirror);
  proxy_stop (origin);
}

struct racer
{
  struct image_store *s;
  const char *ref;
  struct events ev;
  char *id;
  skiff_error_t err;
  int ret;
};

static void *
racer_main (void *arg)
{
  struct racer *r = arg;
  struct pull_opts o = { .progress = on_progress, .data = &r->ev };
  r->ret = image_pull (r->s, r->ref, &o, &r->id, &r->err);
  return NULL;
}

/* Four pulls of two images sharing a layer, at once, into one store.  */
static void
test_concurrent_pulls (void **state)
{
  struct t *t = *state;
  static struct racer r[4];
  pthread_t th[4];
  size_t i;

  memset (r, 0, sizeof (r));
  for (i = 0; i < 4; i++)
    {
      r[i].s = t->s;
      r[i].ref = ref (bed.reg.addr, i % 2 ? "library/alpine:two" : "library/alpine:latest");
      assert_int_equal (pthread_create (&th[i], NULL, racer_main, &r[i]), 0);
    }
  for (i = 0; i < 4; i++)
    pthread_join (th[i], NULL);
  for (i = 0; i < 4; i++)
    {
      if (r[i].ret < 0)
        fail_msg ("pull %zu: %s", i, r[i].err->msg);
      assert_string_equal (r[i].id, i % 2 ? bed.two_id : bed.alpine_id);
      free (r[i].id);
    }
  {
    cleanup_free char *a = resolve (t, ref (bed.reg.addr, "library/alpine:latest"));
    cleanup_free char *b = resolve (t, ref (bed.reg.addr, "library/alpine:two"));
    cleanup_free char *layers = tu_path (t->root, "image/layers");
    assert_non_null (a);
    assert_non_null (b);
    assert_int_equal (dir_entries (layers), 2);
  }
  check_blob_cache_empty (t);
}

/* Blobs served elsewhere (S3, a CDN): the registry answers 307.  */
static void
test_blob_redirect (void **state)
{
  struct t *t = *state;
  struct proxy *px = proxy_start (bed.reg.port);
  char addr[32];
  cleanup_free char *id = NULL;

  proxy_rules (px, NULL, 0, false, true);
  snprintf (addr, sizeof (addr), "127.0.0.1:%d", px->port);
  id = pull_ok (t, ref (addr, "library/alpine:two"));
  assert_string_equal (id, bed.two_id);
  assert_int_equal (proxy_count (px, "GET", "/blobs/"), 3);
  proxy_stop (px);
}

static void
test_token_auth (void **state)
{
  struct t *t = *state;
  cleanup_free char *dir = tu_path (t->dir, "token-registry");
  cleanup_free char *mode = NULL;
  cleanup_free char *id = NULL;
  cleanup_free char *want = NULL;
  cleanup_free char *crt = NULL;
  struct registry *reg = &t->reg;
  struct token_server *ts;
  skiff_error_t err = NULL;

  assert_int_equal (mkdir (dir, 0700), 0);
  ts = token_start (dir);
  crt = tu_path (dir, "token.crt");
  if (asprintf (&mode, "token http://127.0.0.1:%d/token %s %s '%s'", ts->port, TOKEN_SERVICE, TOKEN_ISSUER, crt) < 0)
    fail_msg ("asprintf");
  /* The same images as the open registry, behind token auth.  */
  registry_up (reg, dir, bed.storage, mode);

  /* Anonymous: the token grants nothing, the registry says no.  */
  assert_int_equal (pull_fails (t, ref (reg->addr, "library/alpine:latest")), IMAGE_ERR_NOT_FOUND);
  if (asprintf (&want, "pull access denied for %s/library/alpine, repository does not exist or may require 'docker login'",
                reg->addr)
      < 0)
    fail_msg ("asprintf");
  assert_memory_equal (t->err->msg, want, strlen (want));

  /* With credentials: 401 -> one token -> every request reuses it.  */
  t->o.username = USER;
  t->o.password = PASS;
  ts->requests = 0;
  id = pull_ok (t, ref (reg->addr, "library/alpine:latest"));
  assert_string_equal (id, bed.alpine_id);
  assert_int_equal (ts->requests, 1);
  assert_int_equal (ts->with_creds, 1);

  /* A token that does not grant the pull: refreshed after the 401.  */
  {
    cleanup_image_store struct image_store *s2 = NULL;
    cleanup_free char *root2 = tu_path (t->dir, "root2");
    cleanup_free char *id2 = NULL;
    if (image_store_open (root2, &s2, &err) < 0)
      fail_msg ("%s", err->msg);
    ts->requests = 0;
    ts->bad_next = 1;
    if (image_pull (s2, ref (reg->addr, "library/alpine:latest"), &t->o, &id2, &err) < 0)
      fail_msg ("pull: %s", err->msg);
    assert_string_equal (id2, bed.alpine_id);
    assert_int_equal (ts->requests, 2);
  }

  /* Wrong password: the token server refuses.  */
  t->o.password = "wrong";
  pull_fails (t, ref (reg->addr, "library/zstd:latest"));
  assert_non_null (strstr (t->err->msg, "incorrect username or password"));

  registry_down (reg);
  token_stop (ts);
}

static void
test_basic_auth (void **state)
{
  struct t *t = *state;
  cleanup_free char *dir = tu_path (t->dir, "basic-registry");
  cleanup_free char *id = NULL;
  cleanup_free char *want = NULL;
  struct registry *reg = &t->reg;

  registry_up (reg, dir, bed.storage, "htpasswd " USER " " PASS);
  pull_fails (t, ref (reg->addr, "library/alpine:latest"));
  assert_non_null (strstr (t->err->msg, "no basic auth credentials"));

  t->o.username = USER;
  t->o.password = "wrong";
  assert_int_equal (pull_fails (t, ref (reg->addr, "library/alpine:latest")), IMAGE_ERR_NOT_FOUND);
  if (asprintf (&want, "pull access denied for %s/library/alpine", reg->addr) < 0)
    fail_msg ("asprintf");
  assert_memory_equal (t->err->msg, want, strlen (want));

  t->o.password = PASS;
  id = pull_ok (t, ref (reg->addr, "library/alpine:latest"));
  assert_string_equal (id, bed.alpine_id);
  registry_down (reg);
}

static void
test_insecure_policy (void **state)
{
  static const char *const none[] = { NULL };
  static const char *const listed[] = { "10.1.0.0/16", "reg.example:5000", NULL };
  struct registry_endpoint *eps = NULL;
  struct pull_opts o = { 0 };
  skiff_error_t err = NULL;
  size_t n = 0;

  assert_true (registry_is_insecure ("127.0.0.1:5000", none));
  assert_true (registry_is_insecure ("127.9.9.9", NULL));
  assert_true (registry_is_insecure ("localhost:5000", NULL));
  assert_true (registry_is_insecure ("[::1]:5000", NULL));
  assert_false (registry_is_insecure ("128.0.0.1:5000", NULL));
  assert_false (registry_is_insecure ("reg.example:5000", none));
  assert_true (registry_is_insecure ("reg.example:5000", listed));
  assert_false (registry_is_insecure ("reg.example:5001", listed));
  assert_true (registry_is_insecure ("10.1.2.3:443", listed));
  assert_false (registry_is_insecure ("10.2.0.1", listed));

  /* A secure registry: https with verification only.  */
  assert_int_equal (registry_endpoints ("quay.io", &o, &eps, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (eps[0].url, "https://quay.io");
  assert_true (eps[0].tls_verify);
  registry_endpoints_free (eps, n);
  /* Loopback: https without verification, then http.  */
  assert_int_equal (registry_endpoints ("127.0.0.1:5000", &o, &eps, &n, &err), 0);
  assert_int_equal (n, 2);
  assert_string_equal (eps[0].url, "https://127.0.0.1:5000");
  assert_false (eps[0].tls_verify);
  assert_true (eps[0].http_fallback);
  assert_string_equal (eps[1].url, "http://127.0.0.1:5000");
  registry_endpoints_free (eps, n);
  /* docker.io: the default origin.  */
  assert_int_equal (registry_endpoints ("docker.io", &o, &eps, &n, &err), 0);
  assert_int_equal (n, 1);
  assert_string_equal (eps[0].url, "https://registry-1.docker.io");
  assert_true (eps[0].tls_verify);
  registry_endpoints_free (eps, n);
  /* Mirrors with a path are refused.  */
  {
    const char *bad[] = { "https://mirror.example/v2/", NULL };
    o.mirrors = bad;
    assert_true (registry_endpoints ("docker.io", &o, &eps, &n, &err) < 0);
    skiff_error_release (&err);
  }
}

int
main (void)
{
  /* One cmocka group per run (one TAP plan): the offline tests alone when
     the registry tools or root are missing, else all of them.  */
  const struct CMUnitTest offline[] = {
    cmocka_unit_test (test_manifest_parse),
    cmocka_unit_test (test_insecure_policy),
  };
  const struct CMUnitTest all[] = {
    cmocka_unit_test (test_manifest_parse),
    cmocka_unit_test (test_insecure_policy),
    cmocka_unit_test_setup_teardown (test_pull_by_tag, setup, teardown),
    cmocka_unit_test_setup_teardown (test_pull_by_digest, setup, teardown),
    cmocka_unit_test_setup_teardown (test_second_pull_downloads_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown (test_multi_platform, setup, teardown),
    cmocka_unit_test_setup_teardown (test_zstd_and_uncompressed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tampered_blob, setup, teardown),
    cmocka_unit_test_setup_teardown (test_resume_truncated, setup, teardown),
    cmocka_unit_test_setup_teardown (test_mirrors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_blob_redirect, setup, teardown),
    cmocka_unit_test_setup_teardown (test_concurrent_pulls, setup, teardown),
    cmocka_unit_test_setup_teardown (test_token_auth, setup, teardown),
    cmocka_unit_test_setup_teardown (test_basic_auth, setup, teardown),
  };
  int ret;

  signal (SIGPIPE, SIG_IGN);
  curl_global_init (CURL_GLOBAL_DEFAULT);
  if (!tools_available () || geteuid () != 0)
    {
      fprintf (stderr, "registry tests not run: they need root, docker-registry, skopeo, apache2-utils, openssl "
                       "and busybox-static\n");
      return cmocka_run_group_tests_name ("offline", offline, NULL, NULL);
    }
  ret = cmocka_run_group_tests_name ("image_pull", all, group_setup, group_teardown);
  /* Also after a failed group setup: no registry, no directory left.  */
  group_teardown (NULL);
  return ret;
}
