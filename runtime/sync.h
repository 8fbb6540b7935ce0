/* Messages between the runtime (parent) and the container's init or an
   exec'd process (child), over a SOCK_SEQPACKET socketpair.  A message can
   carry one file descriptor (the pty master).  */
#ifndef SKIFF_RUNTIME_SYNC_H
#define SKIFF_RUNTIME_SYNC_H

#include "error.h"

enum sync_type
{
  SYNC_GO = 1,         /* parent -> child: cgroup and id maps are in place */
  SYNC_HOOKS,          /* child -> parent: run prestart/createRuntime hooks now */
  SYNC_HOOKS_DONE,     /* parent -> child */
  SYNC_PTY,            /* child -> parent: carries the pty master */
  SYNC_READY,          /* child -> parent: set up, about to wait for `start` */
  SYNC_ERROR,          /* either way: text is the message */
};

struct sync_msg
{
  int type;
  int errno_;
  char text[1024];
};

/* Returns 0; *fd (may be NULL) receives a passed descriptor or -1.  On EOF
   returns -1 with an error saying the peer went away.  */
int sync_recv (int sock, struct sync_msg *msg, int *fd, skiff_error_t *err);
int sync_send (int sock, int type, int fd, skiff_error_t *err);
/* Sends SYNC_ERROR with the message of *err (and releases it).  */
void sync_send_error (int sock, skiff_error_t *err);
/* Waits for one message of type `want`; SYNC_ERROR becomes *err.  */
int sync_expect (int sock, int want, int *fd, skiff_error_t *err);

/* One-descriptor SCM_RIGHTS helpers, also used for the console socket.  */
int sync_send_fd (int sock, int fd, const void *data, size_t len);
int sync_recv_fd (int sock, int *fd, void *data, size_t len);

#endif
