#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "fs.h"
#include "reference.h"
#include "store.h"
#include "test_image_util.h"

struct fixture
{
  char *dir;   /* scratch: layer tars, archives */
  char *root;  /* the daemon root */
  struct image_store *s;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  skiff_error_t err = NULL;
  f->dir = tu_mkdtemp ("store");
  f->root = tu_path (f->dir, "root");
  if (image_store_open (f->root, &f->s, &err) < 0)
    fail_msg ("%s", err->msg);
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  image_store_free (f->s);
  tu_rm_rf (f->dir);
  free (f->dir);
  free (f->root);
  free (f);
  return 0;
}

/* ---- fixtures: layers and archives ---- */

static char *
layer_base (struct fixture *f)
{
  char *p = tu_path (f->dir, "base.tar");
  struct tu_tar t = tu_tar_open (p, false);
  tu_dir (&t, "bin/");
  tu_file (&t, "bin/sh", "#!fake shell\n");
  tu_dir (&t, "etc/");
  tu_file (&t, "etc/hosts", "h1\n");
  tu_dir (&t, "old/");
  tu_file (&t, "old/file", "old\n");
  tu_dir (&t, "d/");
  tu_file (&t, "d/a", "a\n");
  tu_tar_close (&t);
  return p;
}

static char *
layer_top (struct fixture *f)
{
  char *p = tu_path (f->dir, "top.tar");
  struct tu_tar t = tu_tar_open (p, false);
  tu_file (&t, ".wh.old", "");
  tu_dir (&t, "d/");
  tu_file (&t, "d/.wh..wh..opq", "");
  tu_file (&t, "d/b", "b\n");
  tu_file (&t, "etc/hosts", "h2\n");
  tu_tar_close (&t);
  return p;
}

static char *
layer_named (struct fixture *f, const char *name)
{
  cleanup_free char *file = NULL;
  char *p;
  struct tu_tar t;
  if (asprintf (&file, "%s.tar", name) < 0)
    fail_msg ("asprintf");
  p = tu_path (f->dir, file);
  t = tu_tar_open (p, false);
  tu_file (&t, name, name);
  tu_tar_close (&t);
  return p;
}

struct spec
{
  const char *tags;        /* JSON: "[\"a:1\"]" or "null" */
  const char *layers[4];   /* layer tar files, NULL-terminated */
  const char *cmd;
  const char *diff_ids[4]; /* override (bad ids); NULL: computed */
  char id[IMAGE_ID_LEN + 1];
};

/* Writes a docker-archive.  oci: docker 25+ layout (blobs/sha256/...,
   manifest.json first); else legacy (manifest.json last).  */
static char *
make_archive (struct fixture *f, const char *name, bool oci, bool gzip, struct spec *imgs, size_t n)
{
  char *out = tu_path (f->dir, name);
  struct tu_tar t = tu_tar_open (out, gzip);
  char *manifest = strdup ("[");
  size_t i, j;

  for (i = 0; i < n; i++)
    {
      char ids[4][IMAGE_ID_LEN + 1];
      const char *idv[5] = { 0 };
      cleanup_free char *config = NULL;
      cleanup_free char *config_file = NULL;
      cleanup_free char *config_name = NULL;
      cleanup_free char *layers = strdup ("");
      char *m = NULL;
      char hex[65];
      skiff_error_t err = NULL;

      for (j = 0; imgs[i].layers[j]; j++)
        {
          cleanup_free char *lname = NULL;
          char *nl = NULL;
          tu_diff_id (imgs[i].layers[j], ids[j]);
          idv[j] = imgs[i].diff_ids[j] ? imgs[i].diff_ids[j] : ids[j];
          if (asprintf (&lname, oci ? "blobs/sha256/%s" : "%s/layer.tar", ids[j] + 7) < 0
              || asprintf (&nl, "%s%s\"%s\"", layers, j ? "," : "", lname) < 0)
            fail_msg ("asprintf");
          free (layers);
          layers = nl;
          tu_tar_add_file (&t, lname, imgs[i].layers[j]);
        }
      config = tu_config (imgs[i].cmd, idv);
      assert_int_equal (store_sha256_hex (config, strlen (config), hex, &err), 0);
      snprintf (imgs[i].id, sizeof (imgs[i].id), "sha256:%s", hex);
      if (asprintf (&config_name, oci ? "blobs/sha256/%s" : "%s.json", hex) < 0)
        fail_msg ("asprintf");
      config_file = tu_path (f->dir, "config.tmp");
      tu_write (config_file, config);
      tu_tar_add_file (&t, config_name, config_file);
      if (asprintf (&m, "%s%s{\"Config\":\"%s\",\"RepoTags\":%s,\"Layers\":[%s]}", manifest, i ? "," : "", config_name,
                    imgs[i].tags, layers)
          < 0)
        fail_msg ("asprintf");
      free (manifest);
      manifest = m;
    }
  {
    cleanup_free char *mfile = tu_path (f->dir, "manifest.tmp");
    char *m = NULL;
    if (asprintf (&m, "%s]", manifest) < 0)
      fail_msg ("asprintf");
    free (manifest);
    tu_write (mfile, m);
    free (m);
    tu_tar_add_file (&t, "manifest.json", mfile);
    if (oci)
      {
        cleanup_free char *lfile = tu_path (f->dir, "layout.tmp");
        tu_write (lfile, "{\"imageLayoutVersion\":\"1.0.0\"}");
        tu_tar_add_file (&t, "oci-layout", lfile);
      }
  }
  tu_tar_close (&t);
  return out;
}

static int
load_file (struct fixture *f, const char *path, char ***lines, skiff_error_t *err)
{
  cleanup_close int fd = tu_open_read (path);
  return image_load (f->s, fd, lines, err);
}

static void
expect_lines (char **lines, const char *const *want)
{
  size_t i;
  for (i = 0; want[i]; i++)
    {
      if (lines[i] == NULL)
        fail_msg ("missing line `%s`", want[i]);
      assert_string_equal (lines[i], want[i]);
    }
  assert_null (lines[i]);
}

static size_t
count_dir (struct fixture *f, const char *sub)
{
  cleanup_free char *p = NULL;
  cleanup_dir DIR *d = NULL;
  struct dirent *de;
  size_t n = 0;
  if (asprintf (&p, "%s/image/%s", f->root, sub) < 0)
    fail_msg ("asprintf");
  d = opendir (p);
  assert_non_null (d);
  while ((de = readdir (d)))
    if (de->d_name[0] != '.')
      n++;
  return n;
}

static const char *
chain_dir (struct fixture *f, const char *chain, const char *rel)
{
  static char bufs[4][PATH_MAX];
  static unsigned next;
  char *b = bufs[next++ % 4];
  snprintf (b, PATH_MAX, "%s/image/layers/%s/diff/%s", f->root, chain + 7, rel);
  return b;
}

static char *
resolve (struct fixture *f, const char *name)
{
  char *id = NULL;
  skiff_error_t err = NULL;
  if (image_resolve (f->s, name, &id, &err) < 0)
    fail_msg ("resolve %s: %s", name, err->msg);
  return id;
}

static void
chain_ids_of (struct fixture *f, const char *id, char ***chains)
{
  struct store_image img = { 0 };
  skiff_error_t err = NULL;
  store_lock (f->s);
  if (store_image_read_locked (f->s, id, &img, &err) < 0)
    fail_msg ("%s", err->msg);
  store_unlock (f->s);
  *chains = steal_pointer (&img.chain_ids);
  store_image_clear (&img);
}

/* ---- tests ---- */

static void
test_load_legacy (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *l2 = layer_top (f);
  struct spec img = { "[\"test/two:1.0\"]", { l1, l2, NULL }, "/bin/sh" };
  cleanup_free char *ar = make_archive (f, "two.tar", false, false, &img, 1);
  cleanup_strv char **lines = NULL;
  cleanup_strv char **chains = NULL;
  static const char *const want[] = { "Loaded image: test/two:1.0", NULL };
  skiff_error_t err = NULL;
  struct stat st;
  char v[4];
  char shortid[13], prefixed[20];
  cleanup_free char *hosts = NULL;

  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  expect_lines (lines, want);

  /* Every way to name it.  */
  snprintf (shortid, sizeof (shortid), "%.12s", img.id + 7);
  snprintf (prefixed, sizeof (prefixed), "sha256:%.6s", img.id + 7);
  {
    const char *names[] = { "test/two:1.0", "docker.io/test/two:1.0", shortid, prefixed, img.id, img.id + 7 };
    size_t i;
    for (i = 0; i < sizeof (names) / sizeof (names[0]); i++)
      {
        cleanup_free char *id = resolve (f, names[i]);
        assert_string_equal (id, img.id);
      }
  }

  chain_ids_of (f, img.id, &chains);
  assert_non_null (chains[1]);
  assert_int_equal (stat (chain_dir (f, chains[0], "old/file"), &st), 0);
  assert_int_equal (lstat (chain_dir (f, chains[1], "old"), &st), 0);
  assert_true (S_ISCHR (st.st_mode));
  assert_int_equal (getxattr (chain_dir (f, chains[1], "d"), "trusted.overlay.opaque", v, sizeof (v)), 1);
  assert_int_equal (stat (chain_dir (f, chains[1], "d/b"), &st), 0);
  hosts = tu_read (chain_dir (f, chains[1], "etc"), "hosts");
  assert_string_equal (hosts, "h2\n");
  /* No staging left behind.  */
  assert_int_equal (count_dir (f, "tmp"), 0);
  assert_int_equal (count_dir (f, "layers"), 2);
}

static void
test_load_oci_gzip (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *la = layer_named (f, "extra");
  struct spec imgs[2] = {
    { "null", { l1, NULL }, "/a" },
    { "[\"localhost:5000/x:1\",\"x\"]", { l1, la, NULL }, "/b" },
  };
  cleanup_free char *ar = make_archive (f, "oci.tar.gz", true, true, imgs, 2);
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;
  char line0[128];
  const char *want[4];

  /* "x" without tag is not a valid RepoTag.  */
  assert_int_equal (load_file (f, ar, &lines, &err), IMAGE_ERR_INVALID);
  assert_string_equal (err->msg, "invalid tag \"x\"");
  skiff_error_release (&err);
  assert_int_equal (count_dir (f, "configs"), 0);

  imgs[1].tags = "[\"localhost:5000/x:1\",\"x:latest\"]";
  free (ar);
  ar = make_archive (f, "oci2.tar.gz", true, true, imgs, 2);
  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  snprintf (line0, sizeof (line0), "Loaded image ID: %s", imgs[0].id);
  want[0] = line0;
  want[1] = "Loaded image: localhost:5000/x:1";
  want[2] = "Loaded image: x:latest";
  want[3] = NULL;
  expect_lines (lines, want);
  /* The shared base layer is stored once.  */
  assert_int_equal (count_dir (f, "layers"), 2);
  assert_int_equal (count_dir (f, "configs"), 2);
}

static void
expect_nothing_stored (struct fixture *f)
{
  cleanup_free char *list = NULL;
  skiff_error_t err = NULL;
  assert_int_equal (count_dir (f, "configs"), 0);
  assert_int_equal (count_dir (f, "layers"), 0);
  assert_int_equal (count_dir (f, "tmp"), 0);
  assert_int_equal (image_list_json (f->s, false, &list, &err), 0);
  assert_string_equal (list, "[]");
}

static void
test_load_bad_diff_id (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *l2 = layer_top (f);
  char wrong[IMAGE_ID_LEN + 1];
  struct spec img = { "[\"bad:1\"]", { l1, l2, NULL }, "/x", { NULL, wrong } };
  cleanup_free char *ar = NULL;
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;

  tu_diff_id (l1, wrong);
  ar = make_archive (f, "bad.tar", false, false, &img, 1);
  assert_int_equal (load_file (f, ar, &lines, &err), IMAGE_ERR_INVALID);
  assert_non_null (strstr (err->msg, "invalid diffID for layer 1"));
  skiff_error_release (&err);
  assert_null (lines);
  expect_nothing_stored (f);
}

static void
test_load_hostile_layer (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *evil = tu_path (f->dir, "evil.tar");
  struct tu_tar t = tu_tar_open (evil, false);
  struct spec img = { "[\"evil:1\"]", { l1, evil, NULL }, "/x" };
  cleanup_free char *ar = NULL;
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;

  tu_symlink (&t, "link", "/");
  tu_file (&t, "link/etc/x", "pwned");
  tu_tar_close (&t);
  ar = make_archive (f, "evil-image.tar", false, false, &img, 1);
  assert_int_equal (load_file (f, ar, &lines, &err), IMAGE_ERR_INVALID);
  assert_non_null (strstr (err->msg, "`link/etc/x`: path goes through a symlink"));
  skiff_error_release (&err);
  assert_false (fs_exists ("/etc/x"));
  /* The good base layer was staged, but not committed.  */
  expect_nothing_stored (f);
}

static void
test_load_garbage (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *p = tu_path (f->dir, "garbage");
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;
  struct tu_tar t = tu_tar_open (p, false);
  tu_file (&t, "hello", "no manifest here");
  tu_tar_close (&t);
  assert_int_equal (load_file (f, p, &lines, &err), IMAGE_ERR_INVALID);
  assert_string_equal (err->msg, "invalid archive: manifest.json not found");
  skiff_error_release (&err);
  expect_nothing_stored (f);
}

static void
load_two_sharing (struct fixture *f, struct spec imgs[2])
{
  cleanup_free char *ar = make_archive (f, "pair.tar", false, false, imgs, 2);
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;
  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
}

static void
test_list_inspect (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *l2 = layer_top (f);
  cleanup_free char *l3 = layer_named (f, "three");
  struct spec imgs[2] = { { "[\"a:1\"]", { l1, l2, NULL }, "/a" }, { "[\"b:1\"]", { l1, l3, NULL }, "/b" } };
  cleanup_free char *list = NULL;
  cleanup_free char *insp = NULL;
  cleanup_free char *config = NULL;
  cleanup_json yajl_val lv = NULL;
  cleanup_json yajl_val iv = NULL;
  cleanup_json yajl_val cv = NULL;
  skiff_error_t err = NULL;
  static const char *const keys[] = { "Containers", "Created", "Id", "Labels", "ParentId", "RepoDigests",
                                      "RepoTags", "SharedSize", "Size", "VirtualSize" };
  size_t i;
  yajl_val e, layers, gd;

  load_two_sharing (f, imgs);
  assert_int_equal (image_list_json (f->s, false, &list, &err), 0);
  lv = tu_parse (list);
  assert_true (YAJL_IS_ARRAY (lv));
  assert_int_equal (lv->u.array.len, 2);
  e = lv->u.array.values[0];
  for (i = 0; i < sizeof (keys) / sizeof (keys[0]); i++)
    if (json_get (e, keys[i]) == NULL)
      fail_msg ("list entry lacks %s", keys[i]);
  assert_int_equal (YAJL_GET_INTEGER (json_get (e, "Created")), 1704164645);
  assert_int_equal (YAJL_GET_INTEGER (json_get (e, "Containers")), -1);
  assert_true (YAJL_IS_ARRAY (json_get (e, "RepoDigests")));
  assert_true (YAJL_GET_INTEGER (json_get (e, "Size")) > 0);

  assert_int_equal (image_inspect_json (f->s, "a:1", &insp, &err), 0);
  iv = tu_parse (insp);
  {
    const char *id_path[] = { "Id", NULL };
    const char *tag_path[] = { "RepoTags", NULL };
    const char *gd_path[] = { "GraphDriver", "Name", NULL };
    const char *lt_path[] = { "Metadata", "LastTagTime", NULL };
    const char *os_path[] = { "Os", NULL };
    const char *cmd_path[] = { "Config", "Cmd", NULL };
    const char *rt_path[] = { "RootFS", "Type", NULL };
    const char *created_path[] = { "Created", NULL };
    assert_string_equal (tu_str (iv, id_path), imgs[0].id);
    assert_string_equal (YAJL_GET_STRING (yajl_tree_get (iv, tag_path, yajl_t_array)->u.array.values[0]), "a:1");
    assert_string_equal (tu_str (iv, gd_path), "overlay2");
    assert_string_equal (tu_str (iv, os_path), "linux");
    assert_string_equal (tu_str (iv, rt_path), "layers");
    assert_string_equal (tu_str (iv, created_path), "2024-01-02T03:04:05.123456789Z");
    assert_non_null (tu_str (iv, lt_path));
    assert_string_not_equal (tu_str (iv, lt_path), "0001-01-01T00:00:00Z");
    assert_string_equal (YAJL_GET_STRING (yajl_tree_get (iv, cmd_path, yajl_t_array)->u.array.values[0]), "/a");
  }
  layers = json_get (json_get (iv, "RootFS"), "Layers");
  assert_int_equal (layers->u.array.len, 2);
  gd = json_get (json_get (iv, "GraphDriver"), "Data");
  {
    const char *up[] = { "GraphDriver", "Data", "UpperDir", NULL };
    assert_non_null (tu_str (iv, up));
    assert_non_null (strstr (tu_str (iv, up), "/image/layers/"));
  }
  assert_non_null (json_get (gd, "LowerDir"));
  assert_non_null (json_get (iv, "ContainerConfig"));

  /* The config blob is returned byte for byte.  */
  assert_int_equal (image_config_json (f->s, imgs[1].id, &config, &err), 0);
  cv = tu_parse (config);
  {
    const char *p[] = { "config", "Env", NULL };
    assert_string_equal (YAJL_GET_STRING (yajl_tree_get (cv, p, yajl_t_array)->u.array.values[0]), "PATH=/bin");
  }
}

static void
test_resolve_errors (void **state)
{
  struct fixture *f = *state;
  char *id = NULL;
  skiff_error_t err = NULL;

  assert_int_equal (image_resolve (f->s, "alpine", &id, &err), IMAGE_ERR_NOT_FOUND);
  assert_string_equal (err->msg, "No such image: alpine:latest");
  skiff_error_release (&err);
  assert_int_equal (image_resolve (f->s, "docker.io/library/alpine:3", &id, &err), IMAGE_ERR_NOT_FOUND);
  assert_string_equal (err->msg, "No such image: alpine:3");
  skiff_error_release (&err);
  assert_int_equal (image_resolve (f->s, "abc123", &id, &err), IMAGE_ERR_NOT_FOUND);
  assert_string_equal (err->msg, "No such image: abc123:latest");
  skiff_error_release (&err);
  assert_int_equal (image_resolve (f->s, "Bad:Name", &id, &err), IMAGE_ERR_INVALID);
  assert_non_null (strstr (err->msg, "invalid reference format"));
  skiff_error_release (&err);
  assert_null (id);
}

static void
test_tag_and_remove_shared_layer (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *l2 = layer_top (f);
  cleanup_free char *l3 = layer_named (f, "three");
  struct spec imgs[2] = { { "[\"a:1\"]", { l1, l2, NULL }, "/a" }, { "[\"b:1\"]", { l1, l3, NULL }, "/b" } };
  cleanup_strv char **ca = NULL;
  cleanup_strv char **cb = NULL;
  cleanup_free char *j1 = NULL;
  cleanup_free char *j2 = NULL;
  cleanup_free char *j3 = NULL;
  cleanup_free char *want = NULL;
  cleanup_free char *id = NULL;
  skiff_error_t err = NULL;
  char shortid[13];

  load_two_sharing (f, imgs);
  chain_ids_of (f, imgs[0].id, &ca);
  chain_ids_of (f, imgs[1].id, &cb);
  assert_string_equal (ca[0], cb[0]);

  assert_int_equal (image_tag (f->s, "a:1", "a", &err), 0);
  id = resolve (f, "a:latest");
  assert_string_equal (id, imgs[0].id);
  assert_int_equal (image_tag (f->s, "nope", "x", &err), IMAGE_ERR_NOT_FOUND);
  skiff_error_release (&err);
  assert_int_equal (image_tag (f->s, "a:1", "x@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                               &err),
                    IMAGE_ERR_INVALID);
  skiff_error_release (&err);

  /* One of two tags: untag only.  */
  assert_int_equal (image_remove (f->s, "a:1", false, NULL, NULL, &j1, &err), 0);
  assert_string_equal (j1, "[{\"Untagged\":\"a:1\"}]");

  /* The last tag: the image and its own layer go, the shared one stays.  */
  assert_int_equal (image_remove (f->s, "a", false, NULL, NULL, &j2, &err), 0);
  if (asprintf (&want, "[{\"Untagged\":\"a:latest\"},{\"Deleted\":\"%s\"},{\"Deleted\":\"%s\"}]", imgs[0].id, ca[1]) < 0)
    fail_msg ("asprintf");
  assert_string_equal (j2, want);
  assert_true (fs_exists (chain_dir (f, ca[0], "bin/sh")));
  assert_false (fs_exists (chain_dir (f, ca[1], "")));
  assert_int_equal (count_dir (f, "layers"), 2);

  /* By short id: untags and deletes, now the shared layer too.  */
  snprintf (shortid, sizeof (shortid), "%.12s", imgs[1].id + 7);
  assert_int_equal (image_remove (f->s, shortid, false, NULL, NULL, &j3, &err), 0);
  free (want);
  if (asprintf (&want, "[{\"Untagged\":\"b:1\"},{\"Deleted\":\"%s\"},{\"Deleted\":\"%s\"},{\"Deleted\":\"%s\"}]", imgs[1].id,
                cb[1], cb[0])
      < 0)
    fail_msg ("asprintf");
  assert_string_equal (j3, want);
  assert_int_equal (count_dir (f, "layers"), 0);
  assert_int_equal (count_dir (f, "configs"), 0);
  assert_int_equal (count_dir (f, "tmp"), 0);
}

struct usage
{
  const char *cid;
  bool running;
};

static bool
in_use_cb (const char *image_id, char **cid, bool *running, void *arg)
{
  struct usage *u = arg;
  if (u->cid == NULL)
    return false;
  *cid = strdup (u->cid);
  *running = u->running;
  return true;
}

static void
test_remove_conflicts (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  struct spec img = { "[\"c:1\"]", { l1, NULL }, "/c" };
  cleanup_free char *ar = make_archive (f, "c.tar", false, false, &img, 1);
  cleanup_strv char **lines = NULL;
  cleanup_free char *msg = NULL;
  cleanup_free char *j = NULL;
  struct usage u = { "c0ffee0123456789abcdef", false };
  skiff_error_t err = NULL;
  char *out = NULL;

  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_int_equal (image_remove (f->s, "c:1", false, in_use_cb, &u, &out, &err), IMAGE_ERR_CONFLICT);
  if (asprintf (&msg,
                "conflict: unable to remove repository reference \"c:1\" (must force) - container c0ffee012345 is using "
                "its referenced image %.12s",
                img.id + 7)
      < 0)
    fail_msg ("asprintf");
  assert_string_equal (err->msg, msg);
  skiff_error_release (&err);

  assert_int_equal (image_remove (f->s, img.id + 7, false, in_use_cb, &u, &out, &err), IMAGE_ERR_CONFLICT);
  assert_non_null (strstr (err->msg, "(must be forced) - image is being used by stopped container c0ffee012345"));
  skiff_error_release (&err);

  u.running = true;
  assert_int_equal (image_remove (f->s, img.id, true, in_use_cb, &u, &out, &err), IMAGE_ERR_CONFLICT);
  assert_non_null (strstr (err->msg, "(cannot be forced) - image is being used by running container c0ffee012345"));
  skiff_error_release (&err);
  assert_null (out);
  /* Nothing changed so far.  */
  free (resolve (f, "c:1"));

  /* Forced by name: the tag goes, the used image stays (dangling).  */
  assert_int_equal (image_remove (f->s, "c:1", true, in_use_cb, &u, &j, &err), 0);
  assert_string_equal (j, "[{\"Untagged\":\"c:1\"}]");
  free (resolve (f, img.id));
  assert_int_equal (count_dir (f, "layers"), 1);
}

static void
test_import_with_changes (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *rootfs = tu_path (f->dir, "rootfs.tar.gz");
  struct tu_tar t = tu_tar_open (rootfs, true);
  static const char *const changes[] = {
    "CMD [\"/bin/sh\"]", "ENV A=b \"C=d e\"", "env LEGACY with spaces", "WORKDIR /x", "WORKDIR y",
    "EXPOSE 80 53/udp",  "USER 1000",        "ENTRYPOINT echo hi",     "LABEL k=v", NULL,
  };
  static const char *const bad[] = { "FOO bar", NULL };
  cleanup_free char *id = NULL;
  cleanup_free char *config = NULL;
  cleanup_json yajl_val v = NULL;
  cleanup_strv char **chains = NULL;
  skiff_error_t err = NULL;
  char *bad_id = NULL;
  yajl_val c, env, ep;
  int fd;

  tu_dir (&t, "bin/");
  tu_file (&t, "bin/true", "exit 0\n");
  tu_tar_close (&t);

  fd = tu_open_read (rootfs);
  assert_int_equal (image_import (f->s, fd, "imp", bad, NULL, &bad_id, &err), IMAGE_ERR_INVALID);
  close (fd);
  assert_string_equal (err->msg, "FOO is not a valid change command");
  skiff_error_release (&err);

  fd = tu_open_read (rootfs);
  if (image_import (f->s, fd, "imp", changes, NULL, &id, &err) < 0)
    fail_msg ("%s", err->msg);
  close (fd);
  assert_true (image_ref_is_digest (id));
  free (resolve (f, "imp:latest"));
  assert_int_equal (image_config_json (f->s, id, &config, &err), 0);
  v = tu_parse (config);
  c = json_get (v, "config");
  assert_string_equal (YAJL_GET_STRING (json_get (v, "comment")), "Imported from -");
  assert_string_equal (YAJL_GET_STRING (json_get (c, "Cmd")->u.array.values[0]), "/bin/sh");
  env = json_get (c, "Env");
  assert_int_equal (env->u.array.len, 3);
  assert_string_equal (YAJL_GET_STRING (env->u.array.values[0]), "A=b");
  assert_string_equal (YAJL_GET_STRING (env->u.array.values[1]), "C=d e");
  assert_string_equal (YAJL_GET_STRING (env->u.array.values[2]), "LEGACY=with spaces");
  assert_string_equal (YAJL_GET_STRING (json_get (c, "WorkingDir")), "/x/y");
  assert_string_equal (YAJL_GET_STRING (json_get (c, "User")), "1000");
  assert_non_null (json_get (json_get (c, "ExposedPorts"), "80/tcp"));
  assert_non_null (json_get (json_get (c, "ExposedPorts"), "53/udp"));
  ep = json_get (c, "Entrypoint");
  assert_int_equal (ep->u.array.len, 3);
  assert_string_equal (YAJL_GET_STRING (ep->u.array.values[2]), "echo hi");
  assert_string_equal (YAJL_GET_STRING (json_get (json_get (c, "Labels"), "k")), "v");

  chain_ids_of (f, id, &chains);
  assert_true (fs_exists (chain_dir (f, chains[0], "bin/true")));
}

static void
test_save_load_roundtrip (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *l2 = layer_top (f);
  struct spec img = { "[\"test/two:1.0\",\"test/two:2\"]", { l1, l2, NULL }, "/bin/sh" };
  cleanup_free char *ar = make_archive (f, "two.tar", false, false, &img, 1);
  cleanup_free char *rootfs = tu_path (f->dir, "rootfs.tar.gz");
  cleanup_free char *saved = tu_path (f->dir, "saved.tar");
  cleanup_free char *root2 = tu_path (f->dir, "root2");
  cleanup_free char *imported = NULL;
  cleanup_strv char **lines = NULL;
  cleanup_strv char **lines2 = NULL;
  struct image_store *s2 = NULL;
  skiff_error_t err = NULL;
  const char *names[] = { "test/two", "imp:1", NULL };
  struct tu_tar t = tu_tar_open (rootfs, true);
  int fd;

  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  /* A gzip'd import: save must write the uncompressed layer.  */
  tu_file (&t, "hello", "world");
  tu_tar_close (&t);
  fd = tu_open_read (rootfs);
  assert_int_equal (image_import (f->s, fd, "imp:1", NULL, "my message", &imported, &err), 0);
  close (fd);

  fd = open (saved, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  assert_true (fd >= 0);
  if (image_save (f->s, names, fd, &err) < 0)
    fail_msg ("%s", err->msg);
  close (fd);

  if (image_store_open (root2, &s2, &err) < 0)
    fail_msg ("%s", err->msg);
  fd = tu_open_read (saved);
  if (image_load (s2, fd, &lines2, &err) < 0)
    fail_msg ("%s", err->msg);
  close (fd);
  {
    static const char *const want[] = { "Loaded image: test/two:1.0", "Loaded image: test/two:2",
                                        "Loaded image: imp:1", NULL };
    expect_lines (lines2, want);
  }
  {
    const char *checks[][2] = { { "test/two:1.0", img.id }, { "test/two:2", img.id }, { "imp:1", imported } };
    size_t i;
    for (i = 0; i < 3; i++)
      {
        char *id = NULL;
        if (image_resolve (s2, checks[i][0], &id, &err) < 0)
          fail_msg ("%s", err->msg);
        assert_string_equal (id, checks[i][1]);
        free (id);
      }
  }
  image_store_free (s2);

  /* The archive is an OCI image layout with Docker's manifest.json.  */
  {
    char cmd[PATH_MAX + 64];
    FILE *p;
    char buf[4096];
    size_t n;
    snprintf (cmd, sizeof (cmd), "tar -tf '%s'", saved);
    p = popen (cmd, "r");
    n = fread (buf, 1, sizeof (buf) - 1, p);
    buf[n] = '\0';
    pclose (p);
    assert_non_null (strstr (buf, "manifest.json"));
    assert_non_null (strstr (buf, "oci-layout"));
    assert_non_null (strstr (buf, "index.json"));
    assert_non_null (strstr (buf, "blobs/sha256/"));
    assert_non_null (strstr (buf, img.id + 7));
  }

  /* Unknown names fail before anything is written.  */
  {
    const char *missing[] = { "nope:1", NULL };
    assert_int_equal (image_save (f->s, missing, 1, &err), IMAGE_ERR_NOT_FOUND);
    skiff_error_release (&err);
  }
}

static void
test_reopen_and_gc (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  struct spec img = { "[\"keep:1\"]", { l1, NULL }, "/k" };
  cleanup_free char *ar = make_archive (f, "k.tar", false, false, &img, 1);
  cleanup_free char *orphan = NULL;
  cleanup_free char *stale = NULL;
  cleanup_free char *id = NULL;
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;

  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  if (asprintf (&orphan, "%s/image/layers/%064d/diff", f->root, 0) < 0
      || asprintf (&stale, "%s/image/tmp/load-crashed", f->root) < 0)
    fail_msg ("asprintf");
  assert_int_equal (fs_mkdir_p (orphan, 0700, &err), 0);
  assert_int_equal (fs_mkdir_p (stale, 0700, &err), 0);
  image_store_free (f->s);
  f->s = NULL;
  if (image_store_open (f->root, &f->s, &err) < 0)
    fail_msg ("%s", err->msg);
  id = resolve (f, "keep:1");
  assert_string_equal (id, img.id);
  assert_false (fs_exists (orphan));
  assert_false (fs_exists (stale));
  assert_int_equal (count_dir (f, "layers"), 1);
}

struct loader
{
  struct fixture *f;
  const char *path;
  int ret;
  char *msg;
};

static void *
load_thread (void *arg)
{
  struct loader *l = arg;
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;
  l->ret = load_file (l->f, l->path, &lines, &err);
  if (err)
    l->msg = strdup (err->msg);
  skiff_error_release (&err);
  return NULL;
}

static void
test_concurrent_loads (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  cleanup_free char *l2 = layer_top (f);
  cleanup_free char *l3 = layer_named (f, "three");
  struct spec a = { "[\"a:1\"]", { l1, l2, NULL }, "/a" };
  struct spec b = { "[\"b:1\"]", { l1, l3, NULL }, "/b" };
  cleanup_free char *ara = make_archive (f, "ca.tar", false, false, &a, 1);
  cleanup_free char *arb = make_archive (f, "cb.tar", true, false, &b, 1);
  struct loader la = { f, ara, 0, NULL }, lb = { f, arb, 0, NULL };
  cleanup_free char *list = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;
  pthread_t ta, tb;
  int round;

  for (round = 0; round < 3; round++)
    {
      assert_int_equal (pthread_create (&ta, NULL, load_thread, &la), 0);
      assert_int_equal (pthread_create (&tb, NULL, load_thread, &lb), 0);
      pthread_join (ta, NULL);
      pthread_join (tb, NULL);
      if (la.ret < 0 || lb.ret < 0)
        fail_msg ("concurrent load: %s / %s", la.msg ? la.msg : "ok", lb.msg ? lb.msg : "ok");
    }
  assert_int_equal (image_list_json (f->s, false, &list, &err), 0);
  v = tu_parse (list);
  assert_int_equal (v->u.array.len, 2);
  assert_int_equal (count_dir (f, "layers"), 3);
  assert_int_equal (count_dir (f, "tmp"), 0);
}

/* ---- a second process on the store (skiff-image beside skiffd) ---- */

/* Runs fn in a child process that joined the store as `name`; returns
   its wait status.  The child reports through its exit status only.  */
static int
in_joined_child (struct fixture *f, const char *name, int (*fn) (struct image_store *s, void *arg), void *arg,
                 bool keep_open)
{
  int status = 0;
  pid_t pid = fork ();

  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct image_store *s = NULL;
      skiff_error_t err = NULL;
      int ret;
      if (image_store_join (f->root, name, &s, &err) < 0)
        _exit (10);
      ret = fn (s, arg);
      if (!keep_open)
        image_store_free (s);
      _exit (ret < 0 ? 11 : 0);
    }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  return status;
}

static int
child_load (struct image_store *s, void *arg)
{
  cleanup_close int fd = open (arg, O_RDONLY | O_CLOEXEC);
  cleanup_strv char **lines = NULL;
  skiff_error_t err = NULL;
  return fd < 0 ? -1 : image_load (s, fd, &lines, &err);
}

/* What a joined process commits is seen by the owner at its next call:
   the tag table is reloaded because the generation in image/lock moved.  */
static void
test_joined_process_commits (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  struct spec img = { "[\"joined:1\"]", { l1, NULL }, "/j" };
  cleanup_free char *ar = make_archive (f, "j.tar", false, false, &img, 1);
  cleanup_free char *id = NULL;
  cleanup_free char *list = NULL;
  cleanup_json yajl_val v = NULL;
  skiff_error_t err = NULL;

  /* The owner's table is loaded (and empty) before the child runs.  */
  assert_int_equal (image_list_json (f->s, false, &list, &err), 0);
  v = tu_parse (list);
  assert_int_equal (v->u.array.len, 0);
  assert_int_equal (in_joined_child (f, "loader", child_load, ar, false), 0);
  id = resolve (f, "joined:1");
  assert_string_equal (id, img.id);
  /* The child's staging directory went with it.  */
  assert_int_equal (count_dir (f, "tmp"), 0);
  /* And the owner's own change is seen by a joined process in turn.  */
  assert_int_equal (image_tag (f->s, "joined:1", "joined:2", &err), 0);
  {
    struct image_store *s = NULL;
    cleanup_free char *id2 = NULL;
    assert_int_equal (image_store_join (f->root, "reader", &s, &err), 0);
    assert_int_equal (image_resolve (s, "joined:2", &id2, &err), 0);
    assert_string_equal (id2, img.id);
    image_store_free (s);
  }
}

static int
child_stage_and_die (struct image_store *s, void *arg)
{
  cleanup_free char *dir = NULL;
  skiff_error_t err = NULL;
  /* Half of an operation: a staging directory with something in it.  */
  if (store_make_staging (s, "load", &dir, &err) < 0 || fs_write_file_atomic (tu_at (dir, "half"), "x", 1, 0600, &err) < 0)
    return -1;
  raise (SIGKILL);
  return 0;
}

/* A joined process killed in the middle leaves only its staging
   directory, which the owner removes; no tag, config or layer changed.  */
static void
test_joined_process_killed (void **state)
{
  struct fixture *f = *state;
  int status = in_joined_child (f, "killed", child_stage_and_die, NULL, true);
  skiff_error_t err = NULL;

  assert_true (WIFSIGNALED (status));
  assert_int_equal (count_dir (f, "tmp"), 1);
  assert_int_equal (image_store_remove_staging (f->s, "killed", &err), 0);
  assert_int_equal (count_dir (f, "tmp"), 0);
  assert_int_equal (count_dir (f, "configs"), 0);
  assert_int_equal (count_dir (f, "layers"), 0);
  /* Names that would leave image/tmp are refused.  */
  assert_int_equal (image_store_remove_staging (f->s, "../layers", &err), -1);
  skiff_error_release (&err);
}

struct lock_pipes
{
  int locked[2], release[2];
};

static int
child_hold_lock (struct image_store *s, void *arg)
{
  struct lock_pipes *p = arg;
  char c;
  store_lock (s);
  if (write (p->locked[1], "L", 1) != 1 || read (p->release[0], &c, 1) != 1)
    return -1;
  store_unlock (s);
  return 0;
}

/* store_lock excludes other processes: an flock on image/lock.  */
static void
test_lock_across_processes (void **state)
{
  struct fixture *f = *state;
  struct lock_pipes p;
  cleanup_close int fd = -1;
  int status = 0;
  pid_t pid;
  char c;

  assert_int_equal (pipe (p.locked), 0);
  assert_int_equal (pipe (p.release), 0);
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0)
    {
      struct image_store *s = NULL;
      skiff_error_t err = NULL;
      _exit (image_store_join (f->root, "locker", &s, &err) < 0 || child_hold_lock (s, &p) < 0 ? 1 : 0);
    }
  assert_int_equal (read (p.locked[0], &c, 1), 1);
  fd = open (tu_at (f->root, "image/lock"), O_RDWR | O_CLOEXEC);
  assert_true (fd >= 0);
  assert_int_equal (flock (fd, LOCK_EX | LOCK_NB), -1);
  assert_int_equal (errno, EWOULDBLOCK);
  assert_int_equal (write (p.release[1], "R", 1), 1);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_int_equal (status, 0);
  assert_int_equal (flock (fd, LOCK_EX | LOCK_NB), 0);
  close (p.locked[0]);
  close (p.locked[1]);
  close (p.release[0]);
  close (p.release[1]);
}

/* Digest references (RepoDigests, set by pulls and pushes): rmi of one
   untags it alone; rmi of the last tag of a repository also drops that
   repository's digest references, as Docker's ImageDelete does, so that
   the image goes.  */
static void
test_remove_digest_refs (void **state)
{
  static const char dgst[] = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  struct fixture *f = *state;
  cleanup_free char *l1 = layer_base (f);
  struct spec img = { "[\"d:1\"]", { l1, NULL }, "/d" };
  cleanup_free char *ar = make_archive (f, "d.tar", false, false, &img, 1);
  cleanup_strv char **lines = NULL;
  cleanup_free char *j1 = NULL;
  cleanup_free char *j2 = NULL;
  cleanup_free char *j3 = NULL;
  cleanup_free char *want = NULL;
  cleanup_free char *by_digest = NULL;
  cleanup_free char *id = NULL;
  skiff_error_t err = NULL;

  if (load_file (f, ar, &lines, &err) < 0)
    fail_msg ("%s", err->msg);
  if (asprintf (&by_digest, "d@%s", dgst) < 0)
    fail_msg ("asprintf");
  {
    store_scoped_lock (f->s);
    assert_int_equal (store_set_tag_locked (f->s, "docker.io/library/d@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", img.id, &err), 0);
    assert_int_equal (store_set_tag_locked (f->s, "docker.io/library/e@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", img.id, &err), 0);
    assert_int_equal (store_save_tags_locked (f->s, &err), 0);
  }
  id = resolve (f, by_digest);
  assert_string_equal (id, img.id);

  /* By digest: only that reference goes.  */
  assert_int_equal (image_remove (f->s, by_digest, false, NULL, NULL, &j1, &err), 0);
  if (asprintf (&want, "[{\"Untagged\":\"%s\"}]", by_digest) < 0)
    fail_msg ("asprintf");
  assert_string_equal (j1, want);
  assert_int_equal (image_remove (f->s, by_digest, false, NULL, NULL, &j2, &err), IMAGE_ERR_NOT_FOUND);
  skiff_error_release (&err);
  free (resolve (f, "d:1"));

  /* The last tag of d, with e's digest reference left: the tag goes, the
     image stays for e.  */
  assert_int_equal (image_tag (f->s, "d:1", "e:2", &err), 0);
  assert_int_equal (image_remove (f->s, "e:2", false, NULL, NULL, &j2, &err), 0);
  /* e had no tag left: its digest reference went with the tag.  */
  free (want);
  if (asprintf (&want, "[{\"Untagged\":\"e:2\"},{\"Untagged\":\"e@%s\"}]", dgst) < 0)
    fail_msg ("asprintf");
  assert_string_equal (j2, want);
  free (resolve (f, "d:1"));

  /* A tag and a digest reference of one repository are a single
     reference: rmi by id untags both and deletes the image.  */
  {
    store_scoped_lock (f->s);
    assert_int_equal (store_set_tag_locked (f->s, "docker.io/library/d@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", img.id, &err), 0);
    assert_int_equal (store_save_tags_locked (f->s, &err), 0);
  }
  assert_int_equal (image_remove (f->s, img.id + 7, false, NULL, NULL, &j3, &err), 0);
  free (want);
  if (asprintf (&want, "[{\"Untagged\":\"d:1\"},{\"Untagged\":\"d@%s\"},{\"Deleted\":\"%s\"}", dgst, img.id) < 0)
    fail_msg ("asprintf");
  assert_memory_equal (j3, want, strlen (want));
  assert_non_null (strstr (j3, "\"Deleted\""));
  assert_int_equal (count_dir (f, "configs"), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_load_legacy, setup, teardown),
    cmocka_unit_test_setup_teardown (test_load_oci_gzip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_load_bad_diff_id, setup, teardown),
    cmocka_unit_test_setup_teardown (test_load_hostile_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_load_garbage, setup, teardown),
    cmocka_unit_test_setup_teardown (test_list_inspect, setup, teardown),
    cmocka_unit_test_setup_teardown (test_resolve_errors, setup, teardown),
    cmocka_unit_test_setup_teardown (test_tag_and_remove_shared_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove_conflicts, setup, teardown),
    cmocka_unit_test_setup_teardown (test_remove_digest_refs, setup, teardown),
    cmocka_unit_test_setup_teardown (test_import_with_changes, setup, teardown),
    cmocka_unit_test_setup_teardown (test_save_load_roundtrip, setup, teardown),
    cmocka_unit_test_setup_teardown (test_reopen_and_gc, setup, teardown),
    cmocka_unit_test_setup_teardown (test_concurrent_loads, setup, teardown),
    cmocka_unit_test_setup_teardown (test_joined_process_commits, setup, teardown),
    cmocka_unit_test_setup_teardown (test_joined_process_killed, setup, teardown),
    cmocka_unit_test_setup_teardown (test_lock_across_processes, setup, teardown),
  };
  if (geteuid () != 0)
    {
      fprintf (stderr, "skipped: needs root (owners, device nodes and trusted.* xattrs)\n");
      return 77; /* automake's SKIP */
    }
  return cmocka_run_group_tests (tests, NULL, NULL);
}
