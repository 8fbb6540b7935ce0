/* The OCI runtime configuration (config.json), parsed and validated.
 *
 * spec_load() checks everything that can be checked without touching the
 * system (types, namespace names, capability names, seccomp actions,
 * rlimit names, mount flags), so that a bad config fails before any
 * namespace, cgroup or state directory exists.  Unknown fields are
 * ignored, as runtime-spec requires.
 */
#ifndef SKIFF_RUNTIME_SPEC_H
#define SKIFF_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yajl/yajl_tree.h>
#include "error.h"

struct spec_mount
{
  char *destination;
  char *type;
  char *source;
  char **options;
  size_t n_options;
  /* derived from options */
  unsigned long flags;       /* MS_* flags to set */
  unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) or 0 */
  char *data;                /* options that are not flags, comma-joined */
  bool is_bind;
};

struct spec_hook
{
  char *path;
  char **args;
  char **env;
  int timeout; /* seconds, 0 = none */
};

struct spec_hook_list
{
  struct spec_hook *hooks;
  size_t n;
};

enum spec_hook_kind
{
  HOOK_PRESTART,
  HOOK_CREATE_RUNTIME,
  HOOK_CREATE_CONTAINER,
  HOOK_START_CONTAINER,
  HOOK_POSTSTART,
  HOOK_POSTSTOP,
  HOOK_KIND_COUNT
};

struct spec_rlimit
{
  int resource; /* RLIMIT_* */
  uint64_t soft, hard;
};

/* Capability sets as libcap values.  */
struct spec_capset
{
  int *caps;
  size_t n;
};

struct spec_capabilities
{
  struct spec_capset bounding, effective, inheritable, permitted, ambient;
};

struct spec_process
{
  bool terminal;
  unsigned int console_height, console_width;
  uid_t uid;
  gid_t gid;
  gid_t *additional_gids;
  size_t n_additional_gids;
  bool has_umask;
  mode_t umask;
  char **args;
  size_t n_args;
  char **env;
  size_t n_env;
  char *cwd;
  bool has_capabilities;
  struct spec_capabilities caps;
  struct spec_rlimit *rlimits;
  size_t n_rlimits;
  bool no_new_privileges;
  char *apparmor_profile;
  char *selinux_label;
  bool has_oom_score_adj;
  int oom_score_adj;
};

struct spec_namespace
{
  int type; /* CLONE_NEW* */
  char *path;
};

struct spec_id_mapping
{
  uint32_t container_id, host_id, size;
};

struct spec_device
{
  char *path;
  char type; /* 'c', 'b', 'u' or 'p' */
  int64_t major, minor;
  bool has_file_mode, has_uid, has_gid;
  mode_t file_mode;
  uid_t uid;
  gid_t gid;
};

struct spec_device_rule
{
  bool allow;
  char type;             /* 'a', 'c' or 'b' */
  int64_t major, minor;  /* -1 = any */
  char access[4];        /* subset of "rwm" */
};

struct spec_resources
{
  bool has_memory_limit, has_memory_reservation, has_memory_swap, has_memory_swappiness;
  int64_t memory_limit, memory_reservation, memory_swap;
  uint64_t memory_swappiness;
  bool disable_oom_killer;
  bool has_cpu_shares, has_cpu_quota, has_cpu_period;
  uint64_t cpu_shares, cpu_period;
  int64_t cpu_quota;
  char *cpuset_cpus, *cpuset_mems;
  bool has_pids_limit;
  int64_t pids_limit;
  struct spec_device_rule *devices;
  size_t n_devices;
  /* linux.resources.unified (cgroup v2 files), NULL-terminated pairs */
  char **unified_keys, **unified_values;
  size_t n_unified;
};

struct spec_seccomp_arg
{
  unsigned int index;
  uint64_t value, value_two;
  int op; /* enum scmp_compare */
};

struct spec_seccomp_rule
{
  char **names;
  size_t n_names;
  uint32_t action; /* SCMP_ACT_* with errno folded in */
  struct spec_seccomp_arg *args;
  size_t n_args;
};

struct spec_seccomp
{
  uint32_t default_action;
  uint32_t *archs; /* SCMP_ARCH_* */
  size_t n_archs;
  struct spec_seccomp_rule *rules;
  size_t n_rules;
  bool flag_log, flag_spec_allow;
};

struct spec_sysctl
{
  char *key, *value;
};

struct spec
{
  char *oci_version;
  char *bundle; /* absolute bundle directory */
  char *root_path; /* absolute rootfs path */
  bool root_readonly;
  struct spec_mount *mounts;
  size_t n_mounts;
  struct spec_process *process; /* NULL when absent */
  char *hostname;
  char *domainname;
  struct spec_hook_list hooks[HOOK_KIND_COUNT];
  yajl_val annotations; /* borrowed from tree */
  /* linux */
  struct spec_namespace *namespaces;
  size_t n_namespaces;
  struct spec_id_mapping *uid_mappings, *gid_mappings;
  size_t n_uid_mappings, n_gid_mappings;
  struct spec_device *devices;
  size_t n_devices;
  char *cgroups_path;
  bool has_resources;
  struct spec_resources resources;
  struct spec_sysctl *sysctl;
  size_t n_sysctl;
  struct spec_seccomp *seccomp; /* NULL when absent */
  unsigned long rootfs_propagation; /* 0 = default (rslave) */
  char **masked_paths;
  size_t n_masked_paths;
  char **readonly_paths;
  size_t n_readonly_paths;

  yajl_val tree; /* the parsed document, owned */
  bool check_files; /* while parsing: check that paths exist */
};

/* Loads <bundle>/config.json.  */
int spec_load (const char *bundle, struct spec **out, skiff_error_t *err);
/* Parses a config document; bundle makes relative paths absolute.  */
int spec_parse (const char *text, const char *bundle, struct spec **out, skiff_error_t *err);
/* Parses a config saved earlier, without checking that its paths exist.  */
int spec_parse_saved (const char *text, const char *bundle, struct spec **out, skiff_error_t *err);
/* Parses a process object alone (`exec --process`).  */
int spec_parse_process_file (const char *path, struct spec_process **out, skiff_error_t *err);
int spec_parse_process (yajl_val obj, const char *field, struct spec_process **out, skiff_error_t *err);
void spec_free (struct spec *s);
void spec_process_free (struct spec_process *p);

/* Name tables, exported for tests and for the `exec` flags.  */
int spec_namespace_type (const char *name);          /* CLONE_NEW* or -1 */
const char *spec_namespace_name (int type);
int spec_rlimit_resource (const char *name);          /* RLIMIT_* or -1 */
int spec_capability_value (const char *name);         /* CAP_* or -1 */
/* Parses mount options into flags/propagation/data.  */
int spec_mount_parse_options (struct spec_mount *m, skiff_error_t *err);
/* The default spec document written by `skiff-runtime spec`.  */
const char *spec_default_json (void);

int spec_has_namespace (const struct spec *s, int type, const char **path);

static inline void
cleanup_specp (struct spec **s)
{
  if (*s)
    spec_free (*s);
}
#define cleanup_spec __attribute__ ((cleanup (cleanup_specp)))

#endif
