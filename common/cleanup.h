/* Cleanup attributes: resources are released when their variable leaves
   scope, so an error path is a plain `return`.  */
#ifndef SKIFF_COMMON_CLEANUP_H
#define SKIFF_COMMON_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void
cleanup_freep (void *p)
{
  void **pp = (void **) p;
  free (*pp);
}

static inline void
cleanup_closep (int *fd)
{
  if (*fd >= 0)
    {
      int saved = errno;
      close (*fd);
      errno = saved;
    }
}

static inline void
cleanup_filep (FILE **f)
{
  if (*f)
    fclose (*f);
}

static inline void
cleanup_dirp (DIR **d)
{
  if (*d)
    closedir (*d);
}

/* A NULL-terminated array of strings.  */
static inline void
cleanup_strvp (char ***v)
{
  char **s;
  if (*v == NULL)
    return;
  for (s = *v; *s; s++)
    free (*s);
  free (*v);
}

#define cleanup_free __attribute__ ((cleanup (cleanup_freep)))
#define cleanup_close __attribute__ ((cleanup (cleanup_closep)))
#define cleanup_file __attribute__ ((cleanup (cleanup_filep)))
#define cleanup_dir __attribute__ ((cleanup (cleanup_dirp)))
#define cleanup_strv __attribute__ ((cleanup (cleanup_strvp)))

/* Hands ownership out of a cleanup variable.  */
#define steal_pointer(pp) __extension__ ({ __typeof__ (*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp) __extension__ ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#endif
