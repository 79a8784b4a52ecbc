/* controller/kinds.h — the kinds this controller accepts at PUT and lists
 * at GET / (proto/kinds.h), from its `kinds` setting. */
#ifndef CTL_KINDS_H
#define CTL_KINDS_H

#include <stddef.h>

#include "common/err.h"
#include "proto/kinds.h"

/* setting: a list ("nodejs:20,python:3.11"), or "auto": the interpreters
 * of this host, found where hearth-runtime looks for them and asked their
 * version once (`node --version`, `python3 --version`: a fork at start,
 * never at request time), plus every versioned one there (node18,
 * python3.12). Blocking; start-up only. 0, or -1 with err. */
int ctl_kinds_setup(const char *setting, struct pr_kinds *out, struct hc_err *err);

/* The version an interpreter's `--version` printed, as a kind of family
 * ("nodejs" or "python"): "v20.20.2" -> "nodejs:20", "Python 3.11.7" ->
 * "python:3.11". 0, or -1 when text says no such version. */
int ctl_kinds_from_version(const char *family, const char *text, char *out, size_t outlen);

#endif
