/* json.h — bounded parsing and typed access over cJSON.
 *
 * Parsing refuses input nested deeper than a limit before cJSON sees it
 * (cJSON recurses), and typed getters report a missing or wrongly typed
 * field with a message naming it, so request handlers can answer 400 with
 * a clear error in one line. */
#ifndef HC_JSON_H
#define HC_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define HC_JSON_MAX_DEPTH 64

/* Parse len bytes (need not be NUL-terminated). Refuses nesting deeper than
 * max_depth, trailing garbage, and empty input. Returns a tree the caller
 * frees with cJSON_Delete, or NULL with err set ("malformed JSON at byte N"). */
cJSON *hc_json_parse(const char *data, size_t len, int max_depth, struct hc_err *err);

/* Whether len bytes are only JSON whitespace (or nothing), and whether they
 * are an empty object ({} with whitespace around or inside): what needs no
 * parse. */
int hc_json_blank(const char *data, size_t len);
int hc_json_empty_object(const char *data, size_t len);

/* Typed getters. With required != 0 a missing (or null) field is an error;
 * otherwise *out is left untouched when the field is absent or null, so set
 * defaults first. All return 0, or -1 with err naming the field. */
int hc_json_str(const cJSON *obj, const char *key, int required, const char **out,
		struct hc_err *err);
/* Integers must be whole numbers within [min, max]. */
int hc_json_int(const cJSON *obj, const char *key, int required, int64_t min, int64_t max,
		int64_t *out, struct hc_err *err);
int hc_json_bool(const cJSON *obj, const char *key, int required, int *out, struct hc_err *err);
int hc_json_obj(const cJSON *obj, const char *key, int required, const cJSON **out,
		struct hc_err *err);
int hc_json_arr(const cJSON *obj, const char *key, int required, const cJSON **out,
		struct hc_err *err);

/* Copy a string field into a fixed buffer; too long is an error. */
int hc_json_strcpy(const cJSON *obj, const char *key, int required, char *dst, size_t dstlen,
		   struct hc_err *err);

/* Print compactly. Returns malloc'd text (free with free()), or NULL. */
char *hc_json_print(const cJSON *item);

/* Add helpers that return 0 / -1 instead of a pointer, for encode paths. */
int hc_json_add_str(cJSON *obj, const char *key, const char *val);
int hc_json_add_int(cJSON *obj, const char *key, int64_t val);
int hc_json_add_bool(cJSON *obj, const char *key, int val);

#endif
