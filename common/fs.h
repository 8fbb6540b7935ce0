/* Safe file I/O: whole-file reads, atomic writes, directories, and path
   resolution confined under a root directory.  */
#ifndef SKIFF_COMMON_FS_H
#define SKIFF_COMMON_FS_H

#include <stddef.h>
#include <sys/types.h>
#include "error.h"

/* Reads the whole file into a NUL-terminated buffer (*len without the NUL).  */
int fs_read_file (const char *path, char **out, size_t *len, skiff_error_t *err);

/* Writes all of data to fd, again after EINTR and short writes.  0, or -1
   with errno set.  */
int fs_write_all (int fd, const void *data, size_t len);

/* Writes data to a temporary file beside path, fsyncs it, renames it over
   path and fsyncs the directory: readers see the old or the new content,
   never a mix.  */
int fs_write_file_atomic (const char *path, const void *data, size_t len, mode_t mode, skiff_error_t *err);

/* The same without the fsyncs: readers and a crash of the writer still
   see the old or the new content, but a power loss may lose the file.
   For files that do not outlive a reboot (the exec root is a tmpfs) or
   that are written anew at every container start; an fsync costs
   milliseconds, several of them per `run`.  */
int fs_write_file_replace (const char *path, const void *data, size_t len, mode_t mode, skiff_error_t *err);

/* Writes a short string to an existing file (cgroup and /proc knobs).  */
int fs_write_string (const char *path, const char *value, skiff_error_t *err);

/* mkdir -p; existing directories are fine.  */
int fs_mkdir_p (const char *path, mode_t mode, skiff_error_t *err);

/* rm -rf of a directory tree that skiff owns; missing path is fine.
   Does not cross mount points.  */
int fs_remove_tree (const char *path, skiff_error_t *err);

/* Opens path inside root as if root were "/": "..", absolute symlinks and
   symlinks pointing outside are all resolved inside root (openat2 with
   RESOLVE_IN_ROOT).  flags are open(2) flags.  */
int fs_open_in_root (int rootfd, const char *path, int flags, mode_t mode, skiff_error_t *err);

/* Joins root and path, making sure the result stays lexically under root
   (".." components cannot climb out).  Returns a malloc'd string.  */
char *fs_join_under (const char *root, const char *path);

/* Makes an absolute, lexically clean path from path relative to base.  */
char *fs_absolute (const char *base, const char *path);

int fs_exists (const char *path);

#endif
