/* str.h — bounded string copy without printf (hot paths: snprintf's
 * "%s" cost a fifth of the controller's instructions per warm invoke). */
#ifndef HC_STR_H
#define HC_STR_H

#include <string.h>

/* Copy src into dst (n bytes, n > 0), truncating, always terminated; NULL
 * copies as "". Returns strlen(src), as strlcpy: >= n means it was cut. */
static inline size_t hc_strlcpy(char *dst, const char *src, size_t n)
{
	if (!src)
		src = "";
	size_t len = strlen(src);
	size_t k = len < n ? len : n - 1;
	memcpy(dst, src, k);
	dst[k] = '\0';
	return len;
}

#endif
