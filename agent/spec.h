/* agent/spec.h — OCI bundles for the runc backend, without any image.
 *
 * Every container of an agent shares one read-only root filesystem: empty
 * mount points plus, for the host's top-level /bin /lib /lib64 /sbin..., the
 * same symlink into /usr where the host has merged /usr, or a read-only bind
 * where they are real directories. /usr and /etc come from the host
 * (read-only binds), the directory holding hearth-runtime is bound read-only
 * at /hearth, and /tmp is a private tmpfs. Only config.json is per
 * container. See MEASURED.md for the recipe this follows. */
#ifndef AGT_SPEC_H
#define AGT_SPEC_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "common/err.h"

#define AGT_PATH_MAX	     512
#define AGT_ROOTFS_MAX_BINDS 8

/* Where the runtime binary appears inside a container. */
#define AGT_RUNTIME_MOUNT "/hearth"
/* Where the runtime keeps /init's code inside a container (on the tmpfs). */
#define AGT_CONTAINER_WORKDIR "/tmp/action"

struct agt_rootfs {
	char path[AGT_PATH_MAX];
	/* host top-level dirs that are real directories and must be bound */
	char binds[AGT_ROOTFS_MAX_BINDS][16];
	int nbinds;
};

/* Create (or refresh) the shared rootfs at dir (made absolute): mount points
 * usr etc tmp proc dev sys hearth, and for each of bin sbin lib lib32 lib64
 * libx32 that exists on the host (host_root, "/" normally; tests pass
 * another tree) either a copy of its symlink or a mount point to bind.
 * Blocking (start-up only). 0 or -1 with err. */
int agt_rootfs_prepare(const char *dir, const char *host_root, struct agt_rootfs *out,
		       struct hc_err *err);

/* What one container's config.json needs. */
struct agt_spec {
	const struct agt_rootfs *rootfs;
	const char *runtime_dir;  /* host directory holding the runtime binary */
	const char *runtime_name; /* its file name, e.g. "hearth-runtime" */
	const char *host;	  /* address the runtime listens on */
	int port;
	const char *unix_name; /* passed as --unix when not NULL/"" ("@name") */
	const char *kind;
	const char *api_host;	  /* passed as --api-host when not NULL/"" */
	const char *log_level;	  /* passed as --log-level when not NULL/"" */
	int memory_mb;		  /* memory limit (and memory+swap limit) */
	int pids_limit;		  /* 0 = none */
	int tmp_mb;		  /* size of the /tmp tmpfs */
	const char *cgroups_path; /* absolute, "/hearth/<agent>/<container>" */
};

/* Build the OCI runtime config (caller frees with cJSON_Delete), or NULL
 * with err. */
cJSON *agt_spec_build(const struct agt_spec *s, struct hc_err *err);

/* Write config.json into bundle_dir (created if missing). Blocking, small.
 * 0 or -1 with err. */
int agt_spec_write(const char *bundle_dir, const cJSON *config, struct hc_err *err);

#endif
