/* fuzz_runtime_body.c — the runtime's decoders of outside bytes: the /init
 * and /run bodies (proto/runtime.h), base64 code and the zip central
 * directory check. Whatever decodes is re-encoded and decoded again; nothing
 * may crash, leak, or read outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/runtime.h"
#include "runtime/base64.h"
#include "runtime/zipcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void init_body(const char *p, size_t n)
{
	struct pr_rt_init in, again;
	struct hc_err err;
	struct hc_buf b;
	cJSON *tree = NULL, *tree2 = NULL;
	const cJSON *e;

	if (pr_rt_init_decode(p, n, &tree, &in, &err) != PR_RT_OK)
		return;
	cJSON_ArrayForEach(e, in.env)
	{
		char *v = pr_rt_env_string(e);
		free(v);
	}
	hc_buf_init(&b, 4 * n + 256);
	if (pr_rt_init_encode(&b, &in, &err) == 0 &&
	    pr_rt_init_decode(b.data, b.len, &tree2, &again, &err) != PR_RT_OK)
		abort(); /* what we encode we must be able to decode */
	cJSON_Delete(tree2);
	hc_buf_free(&b);
	if (in.binary) {
		size_t len;
		unsigned char *bin = rt_base64_decode(in.code, in.code_len, &len);
		if (bin)
			rt_zip_check(bin, len, 1 << 20, NULL, &err);
		free(bin);
	}
	cJSON_Delete(tree);
}

static void run_body(const char *p, size_t n)
{
	struct pr_rt_run in, again;
	struct hc_err err;
	struct hc_buf b;
	cJSON *tree = NULL, *tree2 = NULL;
	char *value = NULL;

	if (pr_rt_run_decode(p, n, &tree, &in, &err) < 0)
		return;
	if (in.value)
		value = cJSON_PrintUnformatted(in.value);
	in.value_json = value;
	in.value_len = value ? strlen(value) : 0;
	hc_buf_init(&b, 4 * n + 256);
	if (pr_rt_run_encode(&b, &in, &err) == 0 &&
	    pr_rt_run_decode(b.data, b.len, &tree2, &again, &err) < 0)
		abort();
	cJSON_Delete(tree2);
	hc_buf_free(&b);
	free(value);
	pr_rt_classify(200, p, n);
	cJSON_Delete(tree);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;

	init_body(p, size);
	run_body(p, size);
	rt_zip_check(data, size, 1 << 20, NULL, NULL);
	return 0;
}
