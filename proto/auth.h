/* proto/auth.h — API keys: the "uuid:key" credential and how it is stored.
 *
 * A credential is OpenWhisk's: a UUID (36 chars) and a 64-character
 * alphanumeric key, sent as HTTP Basic "uuid:key". Redis holds, per uuid,
 * the hash PR_KEY_AUTH {ns, hash = sha256 hex of the key, created}; the
 * namespace's set of uuids (PR_KEY_NS_KEYS) and the set of namespaces
 * (PR_KEY_NAMESPACES). Every change is announced on PR_CH_KEYS (payload:
 * the uuid) so controllers drop their cached copy.
 *
 * The create/delete helpers are blocking (hiredis sync): for the CLI's
 * `hearth admin key create|delete`, start-up and tests. */
#ifndef PR_AUTH_H
#define PR_AUTH_H

#include <hiredis/hiredis.h>
#include <stddef.h>

#include "common/err.h"

#define PR_AUTH_UUID_LEN 36
#define PR_AUTH_KEY_LEN	 64
#define PR_AUTH_CRED_LEN (PR_AUTH_UUID_LEN + 1 + PR_AUTH_KEY_LEN)

/* Field names of the PR_KEY_AUTH hash. */
#define PR_AUTH_F_NS	  "ns"
#define PR_AUTH_F_HASH	  "hash"
#define PR_AUTH_F_CREATED "created"

/* OpenWhisk's default credentials (ansible/files/auth.guest, auth.whisk.system). */
#define PR_AUTH_GUEST                                                                              \
	"23bc46b1-71f6-4ed5-8c54-816aa4f8c502:"                                                    \
	"123zO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"
#define PR_AUTH_SYSTEM                                                                             \
	"789c46b1-71f6-4ed5-8c54-816aa4f8c502:"                                                    \
	"abczO3xZCLrMN6v2BKK1dXYFpXlPkccOFqm12CdAsMgRU4VrNZ9lyGVCGuMDGIwP"

struct pr_cred {
	char uuid[PR_AUTH_UUID_LEN + 1];
	char key[PR_AUTH_KEY_LEN + 1];
};

/* Parse "uuid:key" (len bytes). The uuid must be 8-4-4-4-12 hex and the key
 * exactly 64 alphanumeric characters. Returns 0 or -1 with err. */
int pr_cred_parse(const char *s, size_t len, struct pr_cred *out, struct hc_err *err);

/* Parse an Authorization header value "Basic <base64(uuid:key)>" (the
 * scheme is case-insensitive). Returns 0 or -1 with err. */
int pr_cred_from_basic(const char *header, struct pr_cred *out, struct hc_err *err);

/* sha256 hex of the key, as stored. */
void pr_cred_hash(const struct pr_cred *c, char out[65]);

/* Constant-time comparison of the key's hash with a stored hash. 1 = match. */
int pr_cred_matches(const struct pr_cred *c, const char *stored_hash);

/* Standard base64 (with padding) decode of len bytes into out (outlen, NUL
 * terminated). Returns the decoded length or -1. Encode likewise. */
long pr_base64_decode(const char *in, size_t len, char *out, size_t outlen);
long pr_base64_encode(const void *in, size_t len, char *out, size_t outlen);

/* A namespace name: 1..256 chars of [A-Za-z0-9_@.-], not "_". */
int pr_namespace_valid(const char *ns);

/* Create a key for ns (creating the namespace if new). cred_in may give the
 * uuid:key to install (e.g. OpenWhisk's guest key); NULL makes a new random
 * one. The credential is written to out ("uuid:key"). Returns 0 or -1 with
 * err (bad namespace or credential, uuid already used by another namespace,
 * Redis failure). */
int pr_auth_key_create(redisContext *rc, const char *ns, const char *cred_in,
		       char out[PR_AUTH_CRED_LEN + 1], struct hc_err *err);

/* Delete the key with this uuid. Returns 0, or -1 with err (unknown uuid,
 * Redis failure). */
int pr_auth_key_delete(redisContext *rc, const char *uuid, struct hc_err *err);

/* Delete a namespace and every key of it (actions are left for the operator
 * to remove). Returns 0 or -1 with err. */
int pr_auth_ns_delete(redisContext *rc, const char *ns, struct hc_err *err);

#endif
