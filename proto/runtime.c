/* proto/runtime.c — encode/decode of the action-runtime /init and /run
 * bodies (see runtime.h for the protocol and its messages). */
#include "proto/runtime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/json.h"

/* Field names, spelled once. */
#define F_VALUE		 "value"
#define F_NAME		 "name"
#define F_MAIN		 "main"
#define F_CODE		 "code"
#define F_BINARY	 "binary"
#define F_ENV		 "env"
#define F_KIND		 "kind"
#define F_CONCURRENCY	 "concurrency"
#define F_ACTIVATION_ID	 "activation_id"
#define F_ACTION_NAME	 "action_name"
#define F_ACTION_VERSION "action_version"
#define F_NAMESPACE	 "namespace"
#define F_TRANSACTION_ID "transaction_id"
#define F_API_KEY	 "api_key"
#define F_DEADLINE	 "deadline"
#define F_TIMEOUT	 "timeout"
#define F_ERROR		 "error"

static cJSON *parse_object(const char *body, size_t len, struct hc_err *err)
{
	cJSON *root = hc_json_parse(body, len, PR_RT_MAX_DEPTH, err);
	if (!root)
		return NULL;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		hc_err_set(err, "the body must be a JSON object");
		return NULL;
	}
	return root;
}

/* Env keys become environment variable names: refuse what cannot be one. */
static int env_check(const cJSON *env, struct hc_err *err)
{
	const cJSON *e;
	int n = 0;

	if (!cJSON_IsObject(env))
		return hc_err_set(err, "field 'env' must be an object");
	cJSON_ArrayForEach(e, env)
	{
		if (++n > PR_RT_ENV_MAX)
			return hc_err_set(err, "field 'env' has more than %d entries",
					  PR_RT_ENV_MAX);
		if (!e->string || !e->string[0] || strchr(e->string, '=') ||
		    strlen(e->string) > 256)
			return hc_err_set(err, "field 'env' has an invalid variable name");
	}
	return 0;
}

enum pr_rt_decode pr_rt_init_decode(const char *body, size_t len, cJSON **tree,
				    struct pr_rt_init *out, struct hc_err *err)
{
	const cJSON *value = NULL, *code;
	int64_t conc = 1;
	cJSON *root;

	*tree = NULL;
	memset(out, 0, sizeof *out);
	out->main = "main";
	out->concurrency = 1;
	root = parse_object(body, len, err);
	if (!root)
		return PR_RT_BAD;
	if (hc_json_obj(root, F_VALUE, 0, &value, err) < 0)
		goto bad;
	if (!value) {
		/* OpenWhisk's runtimes treat a body without value like one without code. */
		cJSON_Delete(root);
		hc_err_set(err, PR_RT_MSG_NO_CODE);
		return PR_RT_NO_CODE;
	}
	if (hc_json_str(value, F_NAME, 0, &out->name, err) < 0 ||
	    hc_json_str(value, F_MAIN, 0, &out->main, err) < 0 ||
	    hc_json_bool(value, F_BINARY, 0, &out->binary, err) < 0 ||
	    hc_json_str(value, F_KIND, 0, &out->kind, err) < 0 ||
	    hc_json_obj(value, F_ENV, 0, &out->env, err) < 0 ||
	    hc_json_int(value, F_CONCURRENCY, 0, 1, PR_RT_CONCURRENCY_MAX, &conc, err) < 0)
		goto bad;
	out->concurrency = (int)conc;
	if (!out->main[0])
		out->main = "main";
	if (strlen(out->main) > PR_RT_MAIN_MAX) {
		hc_err_set(err, "field 'main' is longer than %d characters", PR_RT_MAIN_MAX);
		goto bad;
	}
	if (out->env && env_check(out->env, err) < 0)
		goto bad;
	code = cJSON_GetObjectItemCaseSensitive(value, F_CODE);
	if (code && !cJSON_IsNull(code) && !cJSON_IsString(code)) {
		hc_err_set(err, "field 'code' must be a string");
		goto bad;
	}
	if (!code || !cJSON_IsString(code) || !code->valuestring[0]) {
		cJSON_Delete(root);
		hc_err_set(err, PR_RT_MSG_NO_CODE);
		return PR_RT_NO_CODE;
	}
	out->code = code->valuestring;
	out->code_len = strlen(code->valuestring);
	*tree = root;
	return PR_RT_OK;
bad:
	cJSON_Delete(root);
	memset(out, 0, sizeof *out);
	return PR_RT_BAD;
}

char *pr_rt_env_string(const cJSON *v)
{
	if (cJSON_IsString(v))
		return strdup(v->valuestring);
	return hc_json_print(v);
}

static int add_field(struct hc_buf *b, int *first, const char *key, const char *val)
{
	if (!val)
		return 0;
	if (hc_buf_adds(b, *first ? "\"" : ",\"") < 0 || hc_buf_adds(b, key) < 0 ||
	    hc_buf_adds(b, "\":") < 0 || hc_buf_add_json_str(b, val, strlen(val)) < 0)
		return -1;
	*first = 0;
	return 0;
}

int pr_rt_init_encode(struct hc_buf *out, const struct pr_rt_init *in, struct hc_err *err)
{
	int first = 1;
	char *env = NULL;
	int rc = -1;

	if (hc_buf_adds(out, "{\"" F_VALUE "\":{") < 0 ||
	    add_field(out, &first, F_NAME, in->name) < 0 ||
	    add_field(out, &first, F_MAIN, in->main) < 0 ||
	    add_field(out, &first, F_KIND, in->kind) < 0)
		goto out;
	if (hc_buf_adds(out, first ? "\"" F_CODE "\":" : ",\"" F_CODE "\":") < 0 ||
	    hc_buf_add_json_str(out, in->code ? in->code : "", in->code ? in->code_len : 0) < 0 ||
	    hc_buf_addf(out, ",\"" F_BINARY "\":%s", in->binary ? "true" : "false") < 0)
		goto out;
	if (in->concurrency > 1 &&
	    hc_buf_addf(out, ",\"" F_CONCURRENCY "\":%d", in->concurrency) < 0)
		goto out;
	if (in->env) {
		env = hc_json_print(in->env);
		if (!env || hc_buf_adds(out, ",\"" F_ENV "\":") < 0 || hc_buf_adds(out, env) < 0)
			goto out;
	}
	if (hc_buf_adds(out, "}}") < 0)
		goto out;
	rc = 0;
out:
	free(env);
	if (rc < 0)
		hc_err_set(err, "cannot encode /init body: %s", strerror(errno ? errno : ENOMEM));
	return rc;
}

/* deadline: OpenWhisk sends epoch ms as a string; accept a number too. */
static int get_ms(const cJSON *root, const char *key, int64_t *out, struct hc_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
	char *end;
	long long n;

	if (!v || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsNumber(v)) {
		if (v->valuedouble < 0 || v->valuedouble > 9.0e15)
			return hc_err_set(err, "field '%s' is out of range", key);
		*out = (int64_t)v->valuedouble;
		return 0;
	}
	if (!cJSON_IsString(v))
		return hc_err_set(err, "field '%s' must be a number of milliseconds", key);
	if (!v->valuestring[0]) /* an empty deadline means none */
		return 0;
	errno = 0;
	n = strtoll(v->valuestring, &end, 10);
	if (errno || *end || n < 0 || n > 9000000000000000LL)
		return hc_err_set(err, "field '%s' must be a number of milliseconds", key);
	*out = n;
	return 0;
}

int pr_rt_run_decode(const char *body, size_t len, cJSON **tree, struct pr_rt_run *out,
		     struct hc_err *err)
{
	cJSON *root;

	*tree = NULL;
	memset(out, 0, sizeof *out);
	root = parse_object(body, len, err);
	if (!root)
		return -1;
	out->value = cJSON_GetObjectItemCaseSensitive(root, F_VALUE);
	if (cJSON_IsNull(out->value))
		out->value = NULL;
	if (hc_json_str(root, F_ACTIVATION_ID, 0, &out->activation_id, err) < 0 ||
	    hc_json_str(root, F_ACTION_NAME, 0, &out->action_name, err) < 0 ||
	    hc_json_str(root, F_ACTION_VERSION, 0, &out->action_version, err) < 0 ||
	    hc_json_str(root, F_NAMESPACE, 0, &out->namespace_, err) < 0 ||
	    hc_json_str(root, F_TRANSACTION_ID, 0, &out->transaction_id, err) < 0 ||
	    hc_json_str(root, F_API_KEY, 0, &out->api_key, err) < 0 ||
	    get_ms(root, F_DEADLINE, &out->deadline_ms, err) < 0 ||
	    get_ms(root, F_TIMEOUT, &out->timeout_ms, err) < 0)
		goto bad;
	if (out->activation_id && strlen(out->activation_id) > PR_RT_ID_MAX) {
		hc_err_set(err, "field 'activation_id' is longer than %d characters", PR_RT_ID_MAX);
		goto bad;
	}
	*tree = root;
	return 0;
bad:
	cJSON_Delete(root);
	memset(out, 0, sizeof *out);
	return -1;
}

int pr_rt_run_encode(struct hc_buf *out, const struct pr_rt_run *in, struct hc_err *err)
{
	int first = 0;

	if (hc_buf_adds(out, "{\"" F_VALUE "\":") < 0)
		goto fail;
	if (in->value_json ? hc_buf_add(out, in->value_json, in->value_len) < 0
			   : hc_buf_adds(out, "{}") < 0)
		goto fail;
	if (add_field(out, &first, F_ACTIVATION_ID, in->activation_id) < 0 ||
	    add_field(out, &first, F_ACTION_NAME, in->action_name) < 0 ||
	    add_field(out, &first, F_ACTION_VERSION, in->action_version) < 0 ||
	    add_field(out, &first, F_NAMESPACE, in->namespace_) < 0 ||
	    add_field(out, &first, F_TRANSACTION_ID, in->transaction_id) < 0 ||
	    add_field(out, &first, F_API_KEY, in->api_key) < 0)
		goto fail;
	/* deadline as a string, as OpenWhisk's invoker sends it */
	if (in->deadline_ms > 0 &&
	    (hc_buf_adds(out, ",\"" F_DEADLINE "\":\"") < 0 ||
	     hc_buf_add_int(out, in->deadline_ms) < 0 || hc_buf_addc(out, '"') < 0))
		goto fail;
	if (in->timeout_ms > 0 && (hc_buf_adds(out, ",\"" F_TIMEOUT "\":") < 0 ||
				   hc_buf_add_int(out, in->timeout_ms) < 0))
		goto fail;
	if (hc_buf_addc(out, '}') < 0)
		goto fail;
	return 0;
fail:
	return hc_err_set(err, "cannot encode /run body: %s", strerror(errno ? errno : ENOMEM));
}

enum pr_rt_outcome pr_rt_classify(long status, const char *body, size_t len)
{
	enum pr_rt_outcome o = PR_RT_DEV_ERROR;
	cJSON *root;

	if (status != 200)
		return PR_RT_DEV_ERROR;
	root = hc_json_parse(body, len, PR_RT_MAX_DEPTH, NULL);
	if (cJSON_IsArray(root))
		o = PR_RT_SUCCESS;
	else if (cJSON_IsObject(root))
		o = cJSON_GetObjectItemCaseSensitive(root, F_ERROR) ? PR_RT_APP_ERROR
								    : PR_RT_SUCCESS;
	cJSON_Delete(root);
	return o;
}

/* ---- the reply's meta header ---- */

static const char *const fate_words[] = {"", "timeout", "exited", "oom", "broken"};

void pr_rt_meta_format(char *out, size_t outlen, const struct pr_rt_meta *m)
{
	struct hc_buf b = HC_BUF_FIXED_N(out, outlen);
	if (m->log_bytes >= 0)
		hc_buf_adds(&b, "logs="), hc_buf_add_int(&b, m->log_bytes);
	if (m->fate != PR_RT_FATE_OK &&
	    (unsigned)m->fate < sizeof(fate_words) / sizeof(*fate_words)) {
		if (b.len)
			hc_buf_adds(&b, "; ");
		hc_buf_adds(&b, "fate="), hc_buf_adds(&b, fate_words[m->fate]);
	}
}

void pr_rt_meta_parse(const char *v, size_t len, struct pr_rt_meta *m)
{
	m->log_bytes = -1;
	m->fate = PR_RT_FATE_OK;
	const char *p = v, *end = v ? v + len : NULL;
	while (p && p < end) {
		while (p < end && (*p == ' ' || *p == ';'))
			p++;
		const char *e = p;
		while (e < end && *e != ';')
			e++;
		size_t n = (size_t)(e - p);
		if (n > 5 && !memcmp(p, "logs=", 5)) {
			int64_t x = 0;
			const char *q = p + 5;
			for (; q < e && *q >= '0' && *q <= '9' && x < INT64_MAX / 10; q++)
				x = x * 10 + (*q - '0');
			if (q == e || *q == ' ')
				m->log_bytes = x;
		} else if (n > 5 && !memcmp(p, "fate=", 5)) {
			size_t wl = n - 5;
			while (wl && p[5 + wl - 1] == ' ')
				wl--;
			m->fate = PR_RT_FATE_BROKEN;
			for (unsigned i = 1; i < sizeof(fate_words) / sizeof(*fate_words); i++)
				if (strlen(fate_words[i]) == wl &&
				    !memcmp(p + 5, fate_words[i], wl))
					m->fate = (enum pr_rt_fate)i;
		}
		p = e;
	}
}
