/* json.c — bounded JSON parsing and typed getters over cJSON (see json.h).
 *
 * Before cJSON sees the input, one pass over the bytes checks the nesting
 * depth (cJSON recurses per level) and that the text is valid UTF-8 (RFC
 * 8259 requires it; cJSON copies bytes blindly). cJSON 1.7.15's
 * ParseWithLength may read one byte past the given length (upstream issue
 * #804), so it always parses a NUL-terminated copy. */
#include "common/json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* 2^53: from here on a double cannot tell n from n + 1, so an integer
 * field must stay below it (JavaScript's MAX_SAFE_INTEGER is 2^53 - 1). */
#define JSON_MAX_EXACT 9007199254740992.0

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The index of the first byte from i on that is not whitespace (or len). */
static size_t skip_ws(const char *data, size_t len, size_t i)
{
	while (i < len && is_ws(data[i]))
		i++;
	return i;
}

int hc_json_blank(const char *data, size_t len)
{
	return skip_ws(data, len, 0) == len;
}

int hc_json_empty_object(const char *data, size_t len)
{
	size_t i = skip_ws(data, len, 0);
	if (i == len || data[i] != '{')
		return 0;
	i = skip_ws(data, len, i + 1);
	return i < len && data[i] == '}' && skip_ws(data, len, i + 1) == len;
}

/* Length of the UTF-8 sequence starting at p (at most n bytes), or 0 when
 * it is not valid (overlong, surrogate, beyond U+10FFFF, truncated). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];
	size_t len, i;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	/* The second byte's range excludes overlongs, surrogates, > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* Check depth and encoding without parsing. Brackets inside strings do not
 * count; an escape skips the next byte so \" does not end a string. */
static int json_scan(const char *data, size_t len, int max_depth, struct hc_err *err)
{
	const unsigned char *p = (const unsigned char *)data;
	int depth = 0, in_str = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = p[i];

		if (c >= 0x80) {
			size_t n = utf8_len(p + i, len - i);

			if (!n)
				return hc_err_set(err, "invalid UTF-8 in JSON at byte %zu", i);
			i += n;
			continue;
		}
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '[' || c == '{') {
			if (++depth > max_depth)
				return hc_err_set(err, "JSON nested deeper than %d at byte %zu",
						  max_depth, i);
		} else if (c == ']' || c == '}') {
			depth--;
		}
		i++;
	}
	return 0;
}

cJSON *hc_json_parse(const char *data, size_t len, int max_depth, struct hc_err *err)
{
	const char *end = NULL;
	cJSON *root = NULL;
	char small[512]; /* most bodies and results: no allocation for the copy */
	char *copy = NULL;
	size_t i;

	if (hc_json_blank(data, len)) {
		hc_err_set(err, "empty JSON body");
		goto out;
	}
	if (json_scan(data, len, max_depth, err) < 0)
		goto out;
	copy = len < sizeof small ? small : malloc(len + 1);
	if (!copy) {
		hc_err_set(err, "out of memory parsing JSON");
		goto out;
	}
	memcpy(copy, data, len);
	copy[len] = '\0';
	root = cJSON_ParseWithLengthOpts(copy, len, &end, 0);
	if (!root) {
		i = end && end >= copy && end <= copy + len ? (size_t)(end - copy) : 0;
		hc_err_set(err, "malformed JSON at byte %zu", i);
		goto out;
	}
	for (i = (size_t)(end - copy); i < len && is_ws(copy[i]); i++)
		;
	if (i < len) {
		hc_err_set(err, "malformed JSON at byte %zu: trailing data", i);
		cJSON_Delete(root);
		root = NULL;
	}
out:
	if (copy != small)
		free(copy);
	return root;
}

/* Look up key; 1 = found (non-null), 0 = absent or null and optional,
 * -1 = error (absent but required, or obj is not an object). */
static int json_find(const cJSON *obj, const char *key, int required, const cJSON **item,
		     struct hc_err *err)
{
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return hc_err_set(err, "expected a JSON object holding \"%s\"", key);
	it = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (!it || cJSON_IsNull(it)) {
		if (required)
			return hc_err_set(err, "missing field \"%s\"", key);
		return 0;
	}
	*item = it;
	return 1;
}

int hc_json_str(const cJSON *obj, const char *key, int required, const char **out,
		struct hc_err *err)
{
	const cJSON *it = NULL;
	int r = json_find(obj, key, required, &it, err);

	if (r <= 0)
		return r;
	if (!it || !cJSON_IsString(it) || !it->valuestring)
		return hc_err_set(err, "field \"%s\" must be a string", key);
	*out = it->valuestring;
	return 0;
}

int hc_json_int(const cJSON *obj, const char *key, int required, int64_t min, int64_t max,
		int64_t *out, struct hc_err *err)
{
	const cJSON *it = NULL;
	int r = json_find(obj, key, required, &it, err);
	double v;
	int64_t i;

	if (r <= 0)
		return r;
	if (!it || !cJSON_IsNumber(it))
		return hc_err_set(err, "field \"%s\" must be an integer", key);
	v = it->valuedouble;
	if (!isfinite(v) || v != floor(v))
		return hc_err_set(err, "field \"%s\" must be an integer", key);
	if (v >= JSON_MAX_EXACT || v <= -JSON_MAX_EXACT)
		return hc_err_set(err, "field \"%s\" is too large to be exact", key);
	i = (int64_t)v;
	if (i < min || i > max)
		return hc_err_set(err, "field \"%s\": %lld is out of range %lld..%lld", key,
				  (long long)i, (long long)min, (long long)max);
	*out = i;
	return 0;
}

int hc_json_bool(const cJSON *obj, const char *key, int required, int *out, struct hc_err *err)
{
	const cJSON *it = NULL;
	int r = json_find(obj, key, required, &it, err);

	if (r <= 0)
		return r;
	if (!cJSON_IsBool(it))
		return hc_err_set(err, "field \"%s\" must be true or false", key);
	*out = cJSON_IsTrue(it);
	return 0;
}

int hc_json_obj(const cJSON *obj, const char *key, int required, const cJSON **out,
		struct hc_err *err)
{
	const cJSON *it = NULL;
	int r = json_find(obj, key, required, &it, err);

	if (r <= 0)
		return r;
	if (!cJSON_IsObject(it))
		return hc_err_set(err, "field \"%s\" must be an object", key);
	*out = it;
	return 0;
}

int hc_json_arr(const cJSON *obj, const char *key, int required, const cJSON **out,
		struct hc_err *err)
{
	const cJSON *it = NULL;
	int r = json_find(obj, key, required, &it, err);

	if (r <= 0)
		return r;
	if (!cJSON_IsArray(it))
		return hc_err_set(err, "field \"%s\" must be an array", key);
	*out = it;
	return 0;
}

int hc_json_strcpy(const cJSON *obj, const char *key, int required, char *dst, size_t dstlen,
		   struct hc_err *err)
{
	const char *s = NULL;
	size_t n;

	if (hc_json_str(obj, key, required, &s, err) < 0)
		return -1;
	if (!s)
		return 0;
	n = strlen(s);
	if (n >= dstlen)
		return hc_err_set(err, "field \"%s\" is too long (at most %zu bytes)", key,
				  dstlen ? dstlen - 1 : 0);
	memcpy(dst, s, n + 1);
	return 0;
}

char *hc_json_print(const cJSON *item)
{
	return item ? cJSON_PrintUnformatted(item) : NULL;
}

int hc_json_add_str(cJSON *obj, const char *key, const char *val)
{
	return cJSON_AddStringToObject(obj, key, val ? val : "") ? 0 : -1;
}

/* Numbers are doubles in cJSON: values beyond 2^53 lose precision. */
int hc_json_add_int(cJSON *obj, const char *key, int64_t val)
{
	return cJSON_AddNumberToObject(obj, key, (double)val) ? 0 : -1;
}

int hc_json_add_bool(cJSON *obj, const char *key, int val)
{
	return cJSON_AddBoolToObject(obj, key, val ? 1 : 0) ? 0 : -1;
}
