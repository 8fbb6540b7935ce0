/* skiffd's shared state: one per process, owned by the libuv loop thread. */
#ifndef SKIFF_DAEMON_DAEMON_H
#define SKIFF_DAEMON_DAEMON_H

#include <stdbool.h>
#include <uv.h>
#include "error.h"

struct image_store;
struct image_server;
struct router;
struct http_server;
struct events;
struct ctr;
struct router;

struct daemon_options
{
  const char *host;          /* -H: unix:///run/skiff/skiff.sock */
  const char *root;          /* --root: /var/lib/skiff */
  const char *exec_root;     /* --exec-root: /run/skiff */
  const char *pidfile;       /* --pidfile: <exec-root>/skiffd.pid */
  const char *config_file;   /* --config-file: /etc/skiff/daemon.json */
  const char *log_level;     /* --log-level */
  const char *shim_path;     /* skiff-shim program */
  const char *init_path;     /* skiff-init program (--init) */
  const char *image_helper_path; /* skiff-image program (image operations) */
  unsigned image_helper_idle;    /* seconds the skiff-image fork server waits; 0: none */
  const char *seccomp_profile; /* Docker's default profile (JSON) */
};

struct daemon
{
  uv_loop_t *loop;
  struct daemon_options opts;
  char *socket_path;
  char *runtime_root;        /* <exec-root>/runtime */
  char *hostname;
  struct image_store *images;
  struct router *router;
  struct http_server *http;
  struct events *events;
  void *networks; /* struct networks, networks.c's */
  /* from daemon.json, NULL-terminated (or NULL) */
  char **registry_mirrors, **insecure_registries, **dns;
  struct image_server *image_server; /* image_server.h */
  struct ctr **containers;
  size_t n_containers, cap_containers;
  uv_signal_t sigterm, sigint, sighup;
  bool shutting_down;
};

/* In skiffd an error's `status` field carries the HTTP status to answer.  */
int daemon_error (skiff_error_t *err, int http_status, const char *fmt, ...) SKIFF_PRINTF (3, 4);
/* The HTTP status of an error (500 when none was set).  */
int daemon_error_status (skiff_error_t err);

#endif
