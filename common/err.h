/* err.h — an error message buffer passed down by callers.
 *
 * Functions that can fail return 0 / -1 (or a pointer / NULL) and, when the
 * caller passed a non-NULL struct hc_err, describe what went wrong in it. The
 * caller decides whether and how to log. Messages are short, lower case, and
 * say what to do where that is known. */
#ifndef HC_ERR_H
#define HC_ERR_H

#include <stdarg.h>

#define HC_ERR_MAX 256

struct hc_err {
	char msg[HC_ERR_MAX];
};

/* Set err->msg (if err is not NULL) from a printf format. Returns -1 so that
 * `return hc_err_set(err, "...")` reads naturally. */
int hc_err_set(struct hc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix the message already in err with "what: ". Returns -1. */
int hc_err_prefix(struct hc_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
