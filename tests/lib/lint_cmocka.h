/* lint_cmocka.h — cmocka as the static analyzer must see it; `make lint`
 * includes it before each test file, nothing else does.
 *
 * cmocka's checks are functions that longjmp out when a check fails, but
 * cmocka.h does not say so, and the analyzer then follows each failed
 * check onward: a pointer just asserted non-null is "null" on the next
 * line. Here the functions behind the assert_* macros become expressions
 * that do not return when the check fails, so the analyzer knows what a
 * passed check implies. */
#ifndef TH_LINT_CMOCKA_H
#define TH_LINT_CMOCKA_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

void th_lint_failed(void) __attribute__((noreturn));

/* cmocka's own names, reserved or not */
/* NOLINTBEGIN(bugprone-reserved-identifier) */
#undef _assert_true
#undef _assert_int_equal
#undef _assert_int_not_equal
#undef _assert_in_range
#undef _fail
#undef _skip
#define _assert_true(result, expr, file, line)	((result) ? (void)0 : th_lint_failed())
#define _assert_int_equal(a, b, file, line)	((a) == (b) ? (void)0 : th_lint_failed())
#define _assert_int_not_equal(a, b, file, line) ((a) != (b) ? (void)0 : th_lint_failed())
#define _assert_in_range(value, lo, hi, file, line)                                                \
	((value) >= (lo) && (value) <= (hi) ? (void)0 : th_lint_failed())
#define _fail(file, line) th_lint_failed()
#define _skip(file, line) th_lint_failed()
/* NOLINTEND(bugprone-reserved-identifier) */

#endif
