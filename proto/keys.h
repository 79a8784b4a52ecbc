/* proto/keys.h — every Redis key and pub/sub channel hearth uses.
 *
 * Keys are prefixed "hearth:". Durable data (namespaces, keys, actions,
 * code) lives without TTL in the AOF-backed Redis; activations and logs
 * expire. Formats are printf patterns; build keys with snprintf. */
#ifndef PR_KEYS_H
#define PR_KEYS_H

/* ---- identity ---- */
#define PR_KEY_AUTH	  "hearth:auth:%s" /* uuid -> hash {ns, hash (sha256 hex of key), created} */
#define PR_KEY_NS_KEYS	  "hearth:ns:%s:keys" /* ns -> set of uuids */
#define PR_KEY_NAMESPACES "hearth:namespaces" /* set of namespace names */

/* ---- entities ---- */
#define PR_KEY_ACTION "hearth:action:%s/%s" /* ns, name -> action JSON without exec.code */
#define PR_KEY_ACTIONS                                                                             \
	"hearth:actions:%s" /* ns -> zset of names, score = updated ms; also "pkg/name" of         \
			     * the actions in its packages (OpenWhisk lists them with the          \
			     * namespace's); "ns/pkg" -> zset of the package's names */
/* An action in package pkg is the document PR_KEY_ACTION with ns "ns/pkg"
 * (hearth:action:ns/pkg/name). Packages: hearth:package:ns/name, their
 * names in hearth:packages:ns (controller/entity.h, ctl_coll_packages). */
#define PR_KEY_CODE		"hearth:code:%s" /* digest (sha256 hex) -> code bytes as uploaded */
#define PR_KEY_CODE_REFS	"hearth:coderefs:%s" /* digest -> set of "ns/name" using it */
#define PR_KEY_ACTION_PREFIX	"hearth:action:" /* the prefixes of the three above, for scripts */
#define PR_KEY_CODE_PREFIX	"hearth:code:"
#define PR_KEY_CODE_REFS_PREFIX "hearth:coderefs:"
/* Packages, triggers and rules are controller/entity.c's documents
 * ("hearth:<kind>:<path>/<name>", names in "hearth:<kinds>:<path>"). A
 * trigger's rule links are a hash beside its document, and its alarm (the
 * built-in alarms feed, proto/alarm.h) a hash of its own; both go with the
 * trigger when it is deleted. */
#define PR_KEY_TRIGGER_RULES                                                                       \
	"hearth:trigrules:%s/%s" /* ns, trigger -> hash "ns/rule" -> link JSON (proto/trigger.h)   \
				  */
#define PR_KEY_ALARM                                                                               \
	"hearth:alarm:%s/%s" /* ns, trigger -> hash {spec, rev, state, reason, changed, fired} */
#define PR_KEY_ALARMS "hearth:alarms" /* zset "ns/trigger" -> its next period (unix ms) */
#define PR_KEY_ALARMS_PENDING                                                                      \
	"hearth:alarms:pending" /* zset "ns/trigger|period" -> when it was claimed (ms): claimed,  \
				   not yet handed to a controller */
#define PR_KEY_ALARM_FIRED                                                                         \
	"hearth:alarmfired:%s/%s:%lld" /* ns, trigger, period: set NX by the controller that fires \
					  it (TTL 1 day) */

/* ---- activations (expire after the activation TTL) ---- */
/* Records live in one string per PR_ACT_BUCKET_MS of creation time, which
 * an activation id carries in its first 12 hex digits
 * (pr_activation_id_new): each record is appended as "\n<id> <packed>"
 * (pr_activation_pack; packed JSON holds no raw newline), and a reader
 * finds "\n<id> ". APPEND is the cheapest write Redis has: a field per
 * record in a hash cost it twice the CPU per warm invoke (its dictionary
 * grew and rehashed), and a key per record more again, and more memory. A
 * record bigger than PR_ACT_LOG_MAX is a field of the bucket's hash
 * instead (PR_KEY_ACTIVATION), so a log stays small enough to search; a
 * reader tries the log first, then the hash, which also holds the records
 * written before the logs. A bucket's TTL covers its last record
 * (pr_activation_expiry). Build the keys with pr_activation_log_key and
 * pr_activation_key. The prefixes alone serve the warm invoke's record
 * write (no printf). */
#define PR_ACT_BUCKET_MS      100
#define PR_ACT_LOG_MAX	      8192
#define PR_KEY_ACT_LOG_PREFIX "hearth:actl:"
#define PR_KEY_ACT_LOG                                                                             \
	PR_KEY_ACT_LOG_PREFIX                                                                      \
	"%llu" /* creation ms / PR_ACT_BUCKET_MS -> string of "\n<id> <packed>" */
#define PR_KEY_ACTIVATION_PREFIX "hearth:actb:"
#define PR_KEY_ACTIVATION                                                                          \
	PR_KEY_ACTIVATION_PREFIX                                                                   \
	"%llu" /* creation ms / PR_ACT_BUCKET_MS -> hash id -> packed record */
/* The index, by start time, per namespace and action name: one list of ids
 * per action and PR_ACT_SLICE_MS, the names with records in each slice,
 * and two directories of slice numbers: the namespace's (every name) and
 * each action's, so a list by name walks only that action's seconds and a
 * list of the namespace merges its names' slices second by second. A
 * record is indexed by its id's time, which is its start (for a forwarded
 * activation, when the first controller took it), so ids order records by
 * start (then id): a slice's ids are pushed as records end and sorted
 * when read (SORT_RO ... ALPHA, in C), and a push costs Redis no
 * dictionary. (Zsets cost twice the push; one index for the whole TTL grew
 * to millions of members and a third of Redis's CPU went to cache misses.)
 * Names hold no '/' or ':' (proto/action.c), so "<ns>/<name>" never meets
 * "<ns>". Build the keys with pr_activation_slice_key, _names_key and
 * _dir_key. */
#define PR_ACT_SLICE_MS		1000
#define PR_KEY_ACT_SLICE_PREFIX "hearth:actq:"
#define PR_KEY_ACT_NAMES_PREFIX "hearth:actnames:"
#define PR_KEY_ACT_DIR_PREFIX	"hearth:actdir:"
#define PR_KEY_ACT_SLICE                                                                           \
	PR_KEY_ACT_SLICE_PREFIX                                                                    \
	"%s/%s:%llu" /* ns, name, start ms / PR_ACT_SLICE_MS -> list of ids */
#define PR_KEY_ACT_NAMES PR_KEY_ACT_NAMES_PREFIX "%s:%llu" /* ns, slice number -> set of names */
#define PR_KEY_ACT_DIR                                                                             \
	PR_KEY_ACT_DIR_PREFIX "%s"   /* ns, or ns/name -> zset of slice numbers (score = member) */
#define PR_KEY_LOGS "hearth:logs:%s" /* id -> list of formatted log lines (agent writes) */

/* ---- namespace limits (controller/limits.c, proto/limits.h) ---- */
#define PR_KEY_NS_LIMITS                                                                           \
	"hearth:limits:%s" /* ns -> hash of the operator's overrides (`hearth admin limits`) */
/* Counters shared by every controller loop. Each loop counts locally and
 * adds its counts to these once a second (controller/limits.c), reading
 * back the totals: */
#define PR_KEY_RATE_INV_PREFIX                                                                     \
	"hearth:rate:inv:" /* + ns ":" minute (ms / 60000) -> invocations charged, PEXPIRE 2 min   \
			    */
#define PR_KEY_RATE_FIRE_PREFIX                                                                    \
	"hearth:rate:fire:" /* + ns ":" minute -> trigger fires charged, likewise */
#define PR_KEY_INFLIGHT_PREFIX                                                                     \
	"hearth:inflight:" /* + ns -> hash owner (controller loop) -> "count:ms" (fresh for 3 s),  \
			      PEXPIRE 10 s */
/* What a namespace stores, for its quotas: "a:<name>" -> code bytes of that
 * action, "code" -> their sum, "actions" -> how many, "v" -> 1 once counted
 * (a namespace from before the quotas is counted at its first PUT). */
#define PR_KEY_NS_USAGE "hearth:usage:%s"
#define PR_KEY_LOG_BYTES_PREFIX                                                                    \
	"hearth:logbytes:" /* + ns ":" day (ms / 86400000) -> log bytes stored that day (agent),   \
			      PEXPIRE 2 days */

/* ---- scheduler ---- */
#define PR_KEY_LEADER "hearth:scheduler:leader" /* lease: leader id, PX ttl */
#define PR_KEY_EPOCH  "hearth:scheduler:epoch"	/* INCR on every win */
#define PR_KEY_LEADER_INFO                                                                         \
	"hearth:scheduler:info"		  /* hash {id, url, epoch} of the current leader           \
					   */
#define PR_KEY_OWNERS "hearth:owners"	  /* hash container id -> owner controller id */
#define PR_KEY_WARM   "hearth:warm:%s/%s" /* ns, name -> hash container id -> owner (shared view) */
#define PR_KEY_ASSIGNED                                                                            \
	"hearth:scheduler:assigned" /* hash container id -> pr_assignment JSON: the action a       \
				       container was given (a prewarm's agent labels stay empty)   \
				     */

/* ---- agents / hosts ---- */
#define PR_KEY_AGENT                                                                               \
	"hearth:agent:%s" /* agent id -> hash {url, host, memory, used, containers, draining}, TTL \
			   */
#define PR_KEY_AGENTS "hearth:agents" /* set of agent ids ever registered */
#define PR_KEY_AGENT_EPOCH                                                                         \
	"hearth:agent:%s:epoch" /* highest scheduler epoch the agent has seen                      \
				 */
#define PR_KEY_AGENT_CONTAINERS                                                                    \
	"hearth:agent:%s:containers" /* hash container id -> descriptor JSON */
/* Set of agent ids an operator drained (`hearth host drain`): the leader
 * reads it with each host on every refresh and places no new container
 * there; free and stem-cell containers on it are destroyed. Kept apart from
 * PR_KEY_AGENT so heartbeats never overwrite it and it outlives an agent
 * restart; `hearth host undrain` removes the id. The CLI also publishes
 * {"event":"drained"|"undrained"} on PR_CH_HOSTS so the leader acts at once. */
#define PR_KEY_DRAINING "hearth:draining"

/* ---- controllers ---- */
#define PR_KEY_CONTROLLER "hearth:controller:%s" /* controller id -> hash {url}, TTL */
#define PR_KEY_CONTROLLER_STOPPED                                                                  \
	"hearth:controller-stopped:%s" /* controller id: stopped just now, short TTL */
#define PR_KEY_CONTROLLER_URLS                                                                     \
	"hearth:controllers" /* zset controller URL -> its last heartbeat (ms): where the          \
				scheduler sends alarm fires */

/* ---- pub/sub channels ---- */
#define PR_CH_LEADER	 "hearth:ch:leader"	/* "{id, url, epoch}" on every win */
#define PR_CH_CONTAINERS "hearth:ch:containers" /* container events: dead, destroyed, warm */
#define PR_CH_HOSTS	 "hearth:ch:hosts"	/* host joined / lost / drained */
#define PR_CH_ENTITIES                                                                             \
	"hearth:ch:entities" /* "ns/name" changed: drop cached action ("ns/pkg/name": every cached \
				action) */
#define PR_CH_PACKAGES                                                                             \
	"hearth:ch:packages"	    /* "ns/name" of a package changed: drop every cached action */
#define PR_CH_KEYS "hearth:ch:keys" /* uuid changed: drop cached key */

#endif
