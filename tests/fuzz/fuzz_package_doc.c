/* fuzz_package_doc.c — the package PUT body decoder and what is built on
 * a decoded body: the stored document (create, and update over it), its
 * reply, summary and GET with actions, and parameter inheritance. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pr_package_put p;
	struct pr_package_info pi;
	struct hc_err err;
	int status;
	if (pr_package_put_decode((const char *)data, size, "guest", &p, &status, &err) < 0)
		return 0;
	cJSON *doc = pr_package_build(NULL, &p, "guest", "fuzz", 1, &err);
	if (doc) {
		cJSON *up = pr_package_build(doc, &p, "guest", "fuzz", 2, &err);
		if (up && pr_package_info(up, &pi) == 0) {
			cJSON *merged = pr_params_inherit(pi.parameters, p.parameters);
			char *init = pr_params_init_text(merged);
			free(init);
			cJSON_Delete(merged);
		}
		cJSON *sum = pr_package_summary(up ? up : doc);
		cJSON *acts = cJSON_CreateArray();
		cJSON *with = pr_package_with_actions(pr_package_to_api(doc), acts, p.parameters);
		cJSON_Delete(with);
		cJSON_Delete(acts);
		cJSON_Delete(sum);
		cJSON_Delete(up);
		cJSON_Delete(doc);
	}
	pr_package_put_free(&p);
	return 0;
}
