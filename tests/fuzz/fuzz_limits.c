/* fuzz_limits.c — the parsers of namespace limits and kinds: the `kinds`
 * setting (pr_kinds_parse) and what a PUT names (pr_kinds_resolve), an
 * override hash as Redis returns it (pr_ns_limits_apply: field, value
 * pairs, here NUL-separated in the input), sizes (pr_size_parse, the CLI's
 * --code-bytes), and OpenWhisk's base64 rule for code without
 * exec.binary (pr_code_is_binary). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/action.h"
#include "proto/kinds.h"
#include "proto/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct pr_kinds k;
	struct hc_err err;
	char out[PR_KIND_NAME_MAX];
	if (pr_kinds_parse(s, &k, &err) == 0) {
		cJSON *m = pr_kinds_manifest(&k);
		cJSON_Delete(m);
		for (int i = 0; i < k.n; i++)
			pr_kinds_resolve(&k, k.kind[i], out, sizeof(out), &err);
	}
	pr_kinds_parse(PR_KINDS_BUILTIN, &k, &err);
	pr_kinds_resolve(&k, s, out, sizeof(out), &err);
	char vname[32];
	pr_kind_versioned_name(s, vname, sizeof(vname));
	int64_t n;
	pr_size_parse(s, &n);
	pr_code_is_binary((const char *)data, size);
	/* "field\0value\0field\0value..." */
	const char *kv[16];
	size_t nkv = 0;
	for (size_t off = 0; off <= size && nkv < 16;) {
		kv[nkv++] = s + off;
		off += strlen(s + off) + 1;
	}
	struct pr_ns_limits l = {0};
	pr_ns_limits_apply(&l, kv, nkv);
	struct pr_limit_bounds b;
	pr_limit_bounds_default(&b);
	cJSON *j = pr_ns_limits_json(&l, &b, l.max_code_bytes);
	cJSON_Delete(j);
	free(s);
	return 0;
}
