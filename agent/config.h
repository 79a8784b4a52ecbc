/* agent/config.h — hearth-agent's settings (one table, common/config.h). */
#ifndef AGT_CONFIG_H
#define AGT_CONFIG_H

#include <stdint.h>

#include "common/config.h"

/* Where the agents of one machine keep their state dirs when run as root
 * (shared by all of them; the last one to stop removes it). */
#define AGT_STATE_PARENT "/run/hearth-agent"

struct agt_config {
	char *id;   /* agent id; NULL = a new id at start */
	char *addr; /* HTTP bind address */
	int64_t port;
	char *host_address; /* where runtimes listen and descriptors point; NULL = addr */
	char *url;	    /* advertised base URL; NULL = http://host-address:port */
	int64_t memory_mb;  /* capacity for containers */
	char *backend;	    /* "runc" | "process" | "auto" */
	char *runtime;	    /* path to hearth-runtime; NULL = next to this binary */
	char *state_dir;    /* NULL = AGT_STATE_PARENT/<id> (root) or $TMPDIR/hearth-agent-<id> */
	char *port_range;   /* "20000-29999" */
	char *redis;	    /* redis URL */
	char *token;	    /* cluster token */
	int64_t heartbeat_ms;
	int64_t activation_ttl_ms;
	int64_t pids_limit;
	int64_t threads;
	int64_t create_timeout_ms;
	int64_t log_wait_ms; /* how long /log waits for the end sentinel */
	int64_t log_buffer;  /* bytes kept per container stream */
	int64_t tmp_size;    /* bytes of a runc container's /tmp tmpfs */
	char *api_host;	     /* passed to runtimes as --api-host */
	char *runc;	     /* runc binary (looked up in PATH) */
	char *cgroup_root;   /* "/sys/fs/cgroup" */
	int process_rlimit;  /* process backend: RLIMIT_DATA from the memory limit */
	int local_socket;    /* runtimes also listen on an abstract local socket */
};

extern const struct hc_config_spec agt_config_spec;

/* Load defaults, file, environment and argv (hc_config_load) and fill the
 * derived defaults (id, host_address, state_dir, runtime path). Returns an
 * hc_config_result. */
enum hc_config_result agt_config_load(struct agt_config *cfg, int argc, char **argv,
				      struct hc_err *err);
void agt_config_free(struct agt_config *cfg);

#endif
