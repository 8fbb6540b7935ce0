/* layer_stream.c: a layer unpacked by a job while "the download" (the
   test, on the main thread) writes its blob into a file.  */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "fs.h"
#include "layer_stream.h"
#include "test_image_util.h"

struct fixture
{
  char *sandbox;
  char *layer; /* the gzip tarball the download delivers */
  char *partial; /* what the download writes */
  char *dir;     /* the job's staging dir */
  char diff_id[IMAGE_ID_LEN + 1];
  char *bytes;
  size_t len;
  int fd;
  struct blob_feed *feed;
  struct unpack_slots *slots;
};

static int
setup (void **state)
{
  struct fixture *f = calloc (1, sizeof (*f));
  skiff_error_t err = NULL;
  struct tu_tar t;
  char *big = malloc (200001);
  size_t i;
  unsigned x = 1;

  f->sandbox = tu_mkdtemp ("stream");
  f->layer = tu_path (f->sandbox, "layer.tar.gz");
  f->partial = tu_path (f->sandbox, "blob.partial");
  f->dir = tu_path (f->sandbox, "layer-0");
  /* Incompressible content: the blob spans many reads.  */
  for (i = 0; i < 200000; i++)
    {
      x = x * 1103515245 + 12345;
      big[i] = 'a' + (x >> 16) % 26;
    }
  big[200000] = '\0';
  t = tu_tar_open (f->layer, true);
  tu_dir (&t, "etc/");
  tu_file (&t, "etc/hostname", "streamed\n");
  tu_file (&t, "etc/big", big);
  tu_symlink (&t, "etc/link", "hostname");
  tu_tar_close (&t);
  free (big);
  tu_diff_id (f->layer, f->diff_id);
  if (fs_read_file (f->layer, &f->bytes, &f->len, &err) < 0)
    fail_msg ("%s", err->msg);
  assert_true (f->len > 100000);
  f->fd = open (f->partial, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  f->feed = blob_feed_new ();
  f->slots = unpack_slots_new (1);
  if (f->fd < 0 || f->feed == NULL || f->slots == NULL)
    return -1;
  *state = f;
  return 0;
}

static int
teardown (void **state)
{
  struct fixture *f = *state;
  close (f->fd);
  blob_feed_free (f->feed);
  unpack_slots_free (f->slots);
  tu_rm_rf (f->sandbox);
  free (f->sandbox);
  free (f->layer);
  free (f->partial);
  free (f->dir);
  free (f->bytes);
  free (f);
  return 0;
}

static struct layer_job *
start (struct fixture *f, const char *diff_id)
{
  struct layer_job_spec spec = { .feed = f->feed,
                                 .slots = f->slots,
                                 .fd = fcntl (f->fd, F_DUPFD_CLOEXEC, 0),
                                 .dir = f->dir,
                                 .tar = f->partial,
                                 .index = 3,
                                 .diff_id = diff_id,
                                 .chain_id = "sha256:0000000000000000000000000000000000000000000000000000000000000001",
                                 .parent = NULL };
  struct layer_job *j = NULL;
  skiff_error_t err = NULL;
  if (layer_job_start (&spec, &j, &err) < 0)
    fail_msg ("%s", err->msg);
  return j;
}

/* Writes bytes [from, to) of the blob, in steps, publishing each.  */
static void
deliver (struct fixture *f, size_t from, size_t to)
{
  while (from < to)
    {
      size_t n = to - from < 7000 ? to - from : 7000;
      assert_int_equal (pwrite (f->fd, f->bytes + from, n, from), (ssize_t) n);
      from += n;
      blob_feed_grow (f->feed, from);
    }
}

static void
check_staged (struct fixture *f)
{
  cleanup_free char *meta = tu_read (f->dir, "layer.json");
  cleanup_free char *host = tu_read (f->dir, "diff/etc/hostname");
  cleanup_json yajl_val v = tu_parse (meta);
  struct stat a, b;
  char target[32];
  ssize_t n;

  assert_string_equal (host, "streamed\n");
  assert_string_equal (tu_str (v, (const char *[]){ "diff_id", NULL }), f->diff_id);
  assert_int_equal (stat (tu_at (f->dir, "diff/etc/big"), &a), 0);
  assert_int_equal (a.st_size, 200000);
  n = readlink (tu_at (f->dir, "diff/etc/link"), target, sizeof (target));
  assert_int_equal (n, 8);
  /* layer.tar is the blob itself.  */
  assert_int_equal (stat (tu_at (f->dir, "layer.tar"), &a), 0);
  assert_int_equal (stat (f->partial, &b), 0);
  assert_int_equal (a.st_ino, b.st_ino);
}

static void
test_follows_the_download (void **state)
{
  struct fixture *f = *state;
  struct layer_job *j = start (f, f->diff_id);
  skiff_error_t err = NULL;

  deliver (f, 0, f->len);
  /* All bytes are there but not verified: the layer is not complete.  */
  assert_false (tu_exists (f->dir, "layer.json"));
  blob_feed_end (f->feed, true);
  if (layer_job_finish (j, &err) < 0)
    fail_msg ("%s", err->msg);
  check_staged (f);
}

/* The download finds its bytes bad and starts over from nothing (a
   resumed file, or a server that ignored the Range): so does the job,
   whatever it made of the first bytes.  */
static void
test_starts_over (void **state)
{
  struct fixture *f = *state;
  struct layer_job *j = start (f, f->diff_id);
  cleanup_free char *junk = malloc (50000);
  skiff_error_t err = NULL;

  /* A gzip header, then garbage: the job fails on it and waits.  */
  memcpy (junk, f->bytes, 10);
  memset (junk + 10, 'x', 50000 - 10);
  assert_int_equal (pwrite (f->fd, junk, 50000, 0), 50000);
  blob_feed_grow (f->feed, 50000);
  assert_int_equal (ftruncate (f->fd, 0), 0);
  blob_feed_restart (f->feed);
  deliver (f, 0, f->len / 2);
  assert_int_equal (ftruncate (f->fd, 0), 0);
  blob_feed_restart (f->feed);
  deliver (f, 0, f->len);
  blob_feed_end (f->feed, true);
  if (layer_job_finish (j, &err) < 0)
    fail_msg ("%s", err->msg);
  check_staged (f);
}

static void
test_failed_download (void **state)
{
  struct fixture *f = *state;
  struct layer_job *j = start (f, f->diff_id);
  skiff_error_t err = NULL;

  deliver (f, 0, f->len / 2);
  blob_feed_end (f->feed, false);
  assert_true (layer_job_finish (j, &err) < 0);
  assert_non_null (strstr (err->msg, "the download failed"));
  assert_false (tu_exists (f->dir, "layer.json"));
  skiff_error_release (&err);
}

static void
test_wrong_diff_id (void **state)
{
  struct fixture *f = *state;
  const char *wrong = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
  cleanup_free char *want = NULL;
  struct layer_job *j = start (f, wrong);
  skiff_error_t err = NULL;

  deliver (f, 0, f->len);
  blob_feed_end (f->feed, true);
  assert_int_equal (layer_job_finish (j, &err), IMAGE_ERR_INVALID);
  if (asprintf (&want, "invalid diffID for layer 3: expected \"%s\", got \"%s\"", wrong, f->diff_id) < 0)
    fail_msg ("asprintf");
  assert_string_equal (err->msg, want);
  assert_false (tu_exists (f->dir, "layer.json"));
  skiff_error_release (&err);
}

/* A hostile layer fails the job with the entry's name once the blob is
   verified; with a wrong diff id, that is the error.  */
static void
test_hostile_layer (void **state)
{
  struct fixture *f = *state;
  char diff_id[IMAGE_ID_LEN + 1];
  struct layer_job *j;
  skiff_error_t err = NULL;
  struct tu_tar t = tu_tar_open (f->layer, true);

  tu_file (&t, "ok", "fine");
  tu_file (&t, "../escape", "no");
  tu_tar_close (&t);
  tu_diff_id (f->layer, diff_id);
  free (f->bytes);
  f->bytes = NULL;
  if (fs_read_file (f->layer, &f->bytes, &f->len, &err) < 0)
    fail_msg ("%s", err->msg);
  j = start (f, diff_id);
  deliver (f, 0, f->len);
  blob_feed_end (f->feed, true);
  assert_int_equal (layer_job_finish (j, &err), IMAGE_ERR_INVALID);
  assert_non_null (strstr (err->msg, "layer entry `../escape`: path is outside the layer"));
  assert_false (tu_exists (f->sandbox, "escape"));
  skiff_error_release (&err);
}

/* With one slot, jobs take turns; both complete.  */
static void
test_jobs_share_slots (void **state)
{
  struct fixture *f = *state;
  cleanup_free char *dir2 = tu_path (f->sandbox, "layer-1");
  struct layer_job *a = start (f, f->diff_id), *b;
  skiff_error_t err = NULL;
  char *first = f->dir;

  f->dir = dir2;
  b = start (f, f->diff_id);
  f->dir = first;
  deliver (f, 0, f->len);
  blob_feed_end (f->feed, true);
  if (layer_job_finish (a, &err) < 0 || layer_job_finish (b, &err) < 0)
    fail_msg ("%s", err->msg);
  check_staged (f);
  f->dir = dir2;
  check_staged (f);
  f->dir = first;
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_follows_the_download, setup, teardown),
    cmocka_unit_test_setup_teardown (test_starts_over, setup, teardown),
    cmocka_unit_test_setup_teardown (test_failed_download, setup, teardown),
    cmocka_unit_test_setup_teardown (test_wrong_diff_id, setup, teardown),
    cmocka_unit_test_setup_teardown (test_hostile_layer, setup, teardown),
    cmocka_unit_test_setup_teardown (test_jobs_share_slots, setup, teardown),
  };
  if (geteuid () != 0)
    {
      fprintf (stderr, "skipped: needs root (owners of unpacked files)\n");
      return 77; /* automake's SKIP */
    }
  return cmocka_run_group_tests (tests, NULL, NULL);
}
