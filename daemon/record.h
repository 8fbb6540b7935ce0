/* The container record: what skiffd knows of one container, kept as
   <root>/containers/<id>/config.json (written atomically) and rendered as
   Docker's /containers/{id}/json.  */
#ifndef SKIFF_DAEMON_RECORD_H
#define SKIFF_DAEMON_RECORD_H

#include <stdbool.h>
#include <yajl/yajl_tree.h>
#include "error.h"
#include "ids.h"

struct record_state
{
  char status[16]; /* created, running, paused, restarting, removing, exited, dead */
  bool oom_killed;
  int pid;
  int exit_code;
  char *error;
  char *started_at;  /* RFC 3339 with nanoseconds, "0001-01-01T00:00:00Z" when never */
  char *finished_at;
};

/* One interface of the container on a bridge network while it runs.  */
struct record_endpoint
{
  char *network;     /* network name */
  char *network_id;
  char *endpoint_id; /* 64 hex */
  char *ip, *gateway, *mac; /* gateway "" when the route goes elsewhere */
  int prefix;
  char *ifname;      /* inside the container: eth0, eth1, ... */
  char *host_ifname; /* the host end of its veth pair */
  char **aliases;    /* names the embedded DNS answers on this network
                        (the container's own name and short id aside) */
};

struct record
{
  char id[ID_LEN + 1];
  char *name;        /* with Docker's leading '/' */
  char *created;
  char *image_id;    /* "sha256:..." */
  char *image_name;  /* as the client gave it */
  char *config;      /* Docker Config JSON (merged with the image's) */
  char *host_config; /* Docker HostConfig JSON */
  struct record_state state;
  int restart_count;
  bool manually_stopped; /* for unless-stopped and restarts at daemon start */
  char *log_path, *hosts_path, *hostname_path, *resolv_conf_path;
  /* The networks asked for besides HostConfig.NetworkMode's, and the
     endpoint settings of every one of them: Docker's
     NetworkingConfig.EndpointsConfig JSON object, or NULL.  */
  char *endpoints_config;
  /* While it runs: its interfaces (the NetworkMode network's first) and
     its published ports (Docker's NetworkSettings.Ports JSON, or NULL).  */
  struct record_endpoint *eps;
  size_t n_eps;
  char *ports;
};

void record_endpoint_clear (struct record_endpoint *ep);
/* Clears eps and ports.  */
void record_endpoints_clear (struct record *r);
/* Appends a copy of ep's strings; <0 without memory.  */
int record_endpoint_add (struct record *r, const struct record_endpoint *ep);
/* Removes eps[i] (freeing it).  */
void record_endpoint_remove (struct record *r, size_t i);
/* The endpoint on network (by name), or NULL.  */
struct record_endpoint *record_endpoint_on (const struct record *r, const char *network);

struct record *record_new (void);
void record_free (struct record *r);

/* JSON (de)serialisation of skiff's own file format.  */
char *record_to_json (const struct record *r);
int record_from_json (const char *text, struct record **out, skiff_error_t *err);

/* <root>/containers/<id>/config.json */
int record_save (const char *root, const struct record *r, skiff_error_t *err);
int record_load (const char *root, const char *id, struct record **out, skiff_error_t *err);

/* Setters that copy.  */
void record_set_status (struct record *r, const char *status);
void record_set_str (char **field, const char *value);

#define RECORD_ZERO_TIME "0001-01-01T00:00:00Z"

static inline void
cleanup_recordp (struct record **r)
{
  if (*r)
    record_free (*r);
}
#define cleanup_record __attribute__ ((cleanup (cleanup_recordp)))

#endif
