/* zipcheck.h — vet a zip archive before `unzip` extracts it.
 *
 * Reads the archive's central directory (the list unzip itself extracts
 * from) and refuses anything that could write outside the code directory
 * or fill the disk: absolute names, ".." components, backslashes, symbolic
 * links, more than a bounded number of uncompressed bytes (zip bombs), and
 * zip64 archives (not needed for a 48 MB limit). Pure: no I/O. */
#ifndef RT_ZIPCHECK_H
#define RT_ZIPCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct rt_zip_info {
	size_t entries;
	uint64_t total_size; /* sum of uncompressed sizes */
};

/* Nonzero when data starts like a zip archive ("PK\3\4" or an empty "PK\5\6"). */
int rt_zip_is_zip(const unsigned char *data, size_t len);

/* Nonzero when name (len bytes) is a safe relative path inside the target. */
int rt_zip_name_ok(const char *name, size_t len);

/* Check the archive. Returns 0 (info filled if given), or -1 with err naming
 * the first offending entry or the structural problem. */
int rt_zip_check(const unsigned char *data, size_t len, uint64_t max_total,
		 struct rt_zip_info *info, struct hc_err *err);

#endif
