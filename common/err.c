/* err.c — filling the caller's error message buffer (see err.h). */
#include "common/err.h"

#include <stdio.h>
#include <string.h>

int hc_err_set(struct hc_err *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int hc_err_prefix(struct hc_err *err, const char *fmt, ...)
{
	char old[HC_ERR_MAX];
	size_t n;
	va_list ap;

	if (!err)
		return -1;
	/* Copy first: the new prefix is written over the start of msg. */
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n < sizeof(err->msg) - 1)
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", old);
	return -1;
}
