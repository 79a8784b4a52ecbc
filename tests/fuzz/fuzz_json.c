/* fuzz_json.c — hc_json_parse and the typed getters over arbitrary bytes.
 * Anything parsed is printed, re-parsed and queried; nothing may crash,
 * leak, or read outside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void query(const cJSON *j)
{
	struct hc_err err;
	const cJSON *o = NULL, *a = NULL, *it;
	const char *s = NULL;
	char buf[16];
	int64_t i = 0;
	int b = 0;

	hc_json_str(j, "name", 0, &s, &err);
	hc_json_int(j, "timeout", 0, 0, 300000, &i, &err);
	hc_json_int(j, "memory", 1, INT64_MIN, INT64_MAX, &i, &err);
	hc_json_bool(j, "blocking", 0, &b, &err);
	hc_json_strcpy(j, "kind", 0, buf, sizeof(buf), &err);
	if (hc_json_obj(j, "params", 0, &o, &err) == 0 && o)
		hc_json_str(o, "x", 1, &s, &err);
	if (hc_json_arr(j, "list", 0, &a, &err) == 0 && a)
		cJSON_ArrayForEach(it, a) hc_json_int(it, "n", 0, -1, 1, &i, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hc_err err;
	cJSON *j, *again;
	char *text;

	j = hc_json_parse((const char *)data, size, HC_JSON_MAX_DEPTH, &err);
	if (!j)
		return 0;
	query(j);
	text = hc_json_print(j);
	if (text) {
		/* What we print must parse again (depth can only be the same). */
		again = hc_json_parse(text, strlen(text), HC_JSON_MAX_DEPTH, &err);
		if (!again)
			abort();
		cJSON_Delete(again);
		free(text);
	}
	cJSON_Delete(j);
	return 0;
}
