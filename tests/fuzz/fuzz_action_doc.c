/* fuzz_action_doc.c — the action PUT body decoder and everything built on a
 * decoded body: the stored document (create and update over the previous
 * one), its GET and list encodings, and reading it back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/action.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_limit_bounds b;
	struct pr_action_put p;
	struct hc_err err;
	int status;
	pr_limit_bounds_default(&b);
	if (pr_action_put_decode((const char *)data, size, &b, "guest", &p, &status, &err) < 0)
		return 0;
	cJSON *doc = pr_action_build(NULL, &p, "guest", "fuzz", "d", &b, 1, &err);
	if (doc) {
		cJSON *up = pr_action_build(doc, &p, "guest", "fuzz", "d", &b, 2, &err);
		struct pr_action_info info;
		if (up && pr_action_info(up, &b, &info, &err) == 0) {
			cJSON *m = pr_params_merge(info.parameters, NULL, info.annotations, &err);
			cJSON_Delete(m);
		}
		cJSON *api = pr_action_to_api(up ? up : doc, p.code, p.code_len);
		cJSON *sum = pr_action_summary(doc);
		cJSON_Delete(api);
		cJSON_Delete(sum);
		cJSON_Delete(up);
		cJSON_Delete(doc);
	}
	pr_action_put_free(&p);
	return 0;
}
