/* proto/trigger.h — OpenWhisk's trigger and rule documents, the rule links
 * a trigger holds, and the lines a trigger's activation logs.
 *
 * Shapes (core/entity/WhiskTrigger.scala, WhiskRule.scala):
 *   trigger {namespace, name, parameters, limits:{}, version, publish,
 *            annotations, rules?: {"ns/rule": {action:{path,name}, status}},
 *            updated}
 *   rule    {namespace, name, status?, trigger:{path,name}, action:{path,name},
 *            version, publish, annotations, updated}
 * hearth stores a trigger's document without its rules: the rule links live
 * in a hash of their own (PR_KEY_TRIGGER_RULES, one field per rule, the
 * link's JSON as its value), so rule writes never rewrite the trigger's
 * document. A rule's document is stored without its status, which is read
 * from its trigger's link (inactive when there is none), as OpenWhisk does.
 * This is the one place these JSON field names are spelled. */
#ifndef PR_TRIGGER_H
#define PR_TRIGGER_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "proto/action.h"

#define PR_FQN_MAX (3 * PR_NAME_MAX + 4) /* "/ns/pkg/name" */

#define PR_RULE_ACTIVE	 "active"
#define PR_RULE_INACTIVE "inactive"

/* A fully qualified entity name: namespace, package ("" = none), name. */
struct pr_fqn {
	char ns[PR_NAME_MAX + 1];
	char pkg[PR_NAME_MAX + 1];
	char name[PR_NAME_MAX + 1];
};

/* "ns/name" or "ns/pkg/name" (OpenWhisk's asString, no leading slash). */
void pr_fqn_string(const struct pr_fqn *f, char *out, size_t outlen);
/* The name within its namespace: "name" or "pkg/name". */
void pr_fqn_rel(const struct pr_fqn *f, char *out, size_t outlen);
/* {"path": "ns" or "ns/pkg", "name": name}. NULL on ENOMEM. */
cJSON *pr_fqn_to_json(const struct pr_fqn *f);
/* A name as a request gives it: a string "/ns/name", "ns/name",
 * "/ns/pkg/name", or an object {"path","name"}; "_" as the namespace is
 * own_ns. With max_segments 2 a package is refused. -1 with OpenWhisk's
 * message ("The fully qualified name of the entity must contain at least
 * the namespace and the name of the entity.", or the name check's). */
int pr_fqn_decode(const cJSON *v, const char *own_ns, int max_segments, struct pr_fqn *out,
		  struct hc_err *err);
/* The same from text. */
int pr_fqn_parse(const char *s, const char *own_ns, int max_segments, struct pr_fqn *out,
		 struct hc_err *err);

/* ---- PUT bodies ---- */

/* The fields of a trigger PUT (WhiskTriggerPut) or a rule PUT
 * (WhiskRulePut); pointers into root, NULL when absent. */
struct pr_entity_put {
	cJSON *root; /* owned */
	const cJSON *parameters, *annotations, *limits;
	const char *version;
	int publish; /* -1 = absent */
	/* rules only */
	int has_trigger, has_action;
	struct pr_fqn trigger, action;
};
void pr_entity_put_free(struct pr_entity_put *p);

/* A trigger PUT body (blank = {}): {key,value} arrays, 413 past 1 MB of
 * parameters or annotations, a semver version, and a "feed" annotation
 * that must be a valid entity path ("Feed name is not valid"). *status is
 * 400 or 413 on error. */
int pr_trigger_put_decode(const char *body, size_t len, struct pr_entity_put *out, int *status,
			  struct hc_err *err);
/* The stored trigger from put over old (NULL on create): absent fields keep
 * their old values, version upPatch on update. NULL on ENOMEM. */
cJSON *pr_trigger_build(const cJSON *old, const struct pr_entity_put *put, const char *ns,
			const char *name, uint64_t now_ms);
/* The API's trigger: a copy of doc with rules (an object, copied; NULL =
 * no "rules" field) before "updated". */
cJSON *pr_trigger_to_api(const cJSON *doc, const cJSON *rules);
/* The list summary: namespace, name, version, publish, annotations, updated. */
cJSON *pr_entity_summary(const cJSON *doc);
/* The trigger's parameters as an object (params array or NULL). */
const cJSON *pr_entity_parameters(const cJSON *doc);
/* The "feed" annotation of a stored trigger, or NULL. */
const char *pr_trigger_feed(const cJSON *doc);

/* A rule PUT body: trigger and action fully qualified ("_" = own_ns; the
 * action may be in a package), annotations, version, publish. */
int pr_rule_put_decode(const char *body, size_t len, const char *own_ns, struct pr_entity_put *out,
		       int *status, struct hc_err *err);
/* The stored rule (no status) from put over old (NULL on create; then
 * put must have both trigger and action). NULL on ENOMEM. */
cJSON *pr_rule_build(const cJSON *old, const struct pr_entity_put *put, const char *ns,
		     const char *name, uint64_t now_ms);
/* The trigger and action a stored rule names. -1 when it names none. */
int pr_rule_refs(const cJSON *doc, struct pr_fqn *trigger, struct pr_fqn *action);
/* The API's rule: doc with "status" after "name" (WhiskRuleResponse). */
cJSON *pr_rule_to_api(const cJSON *doc, const char *status);

/* ---- the links a trigger holds ---- */

/* The start of a link, up to the status's value:
 * {"action":{"path":"ns","name":"a"},"status":"   — the writer appends
 * the status and "\"}" (Redis scripts choose it atomically). malloc'd. */
char *pr_rule_link_prefix(const struct pr_fqn *action);
/* A stored link: its action and whether it is active. -1 when malformed. */
int pr_rule_link_parse(const char *text, size_t len, struct pr_fqn *action, int *active);

/* ---- what a fire logs ---- */

/* One rule's outcome as the trigger's activation logs it (Triggers.scala
 * RuleActivationResult.toJson, compact): statusCode, success, then
 * activationId (id not NULL) or error, rule ("ns/rule") and action. */
char *pr_rule_outcome(int status_code, const char *rule, const char *action, const char *id,
		      const char *error);
/* "Rule '<rule>' is inactive, action '<action>' was not activated." into out. */
void pr_msg_inactive_rule(char *out, size_t outlen, const char *rule, const char *action);

#endif
