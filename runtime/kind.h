/* kind.h — runtime kinds: which family a kind belongs to, which host
 * interpreter runs it and which embedded launcher drives it. */
#ifndef RT_KIND_H
#define RT_KIND_H

#include <stddef.h>

#include "common/err.h"

enum rt_family {
	RT_FAM_NONE = 0,
	RT_FAM_NODEJS,	 /* nodejs, nodejs:20, nodejs:default ... */
	RT_FAM_PYTHON,	 /* python, python:3, python:3.11 ... */
	RT_FAM_BLACKBOX, /* blackbox, native: the code is the actionloop child */
};

/* Map a kind string to its family. Returns 0, or -1 with err for an unknown kind. */
int rt_kind_family(const char *kind, enum rt_family *out, struct hc_err *err);
const char *rt_family_name(enum rt_family f);

/* Nonzero for families run by an embedded launcher (an interpreter that can
 * start before the code is known: a stem cell). */
int rt_family_has_launcher(enum rt_family f);

/* Find the interpreter: override when non-empty, else the first executable of
 * the family's well-known paths (/usr/bin first: inside a container only /usr
 * is visible, never a pyenv shim), then $PATH. Writes the path into out.
 * Returns 0 or -1 with err. */
int rt_family_interpreter(enum rt_family f, const char *override, char *out, size_t outlen,
			  struct hc_err *err);

/* The interpreter for kind (of family f): override when non-empty; else
 * the one of exactly that version when the host has it (node18 for
 * nodejs:18, python3.11 for python:3.11, in proto/kinds.h's directories);
 * else the family's (rt_family_interpreter), which is the version the
 * controller found on the host when it accepted the kind. */
int rt_kind_interpreter(const char *kind, enum rt_family f, const char *override, char *out,
			size_t outlen, struct hc_err *err);

/* The node_modules that nodejs actions get on NODE_PATH (the openwhisk npm
 * client, as OpenWhisk's nodejs images ship it; `make` installs it in
 * build/node_modules, `make install` in PREFIX/lib/hearth/node_modules):
 * node_modules beside this executable, else ../lib/hearth/node_modules,
 * else /usr/local/lib/hearth/node_modules or /usr/lib/hearth/node_modules.
 * Inside a runc container the runtime's directory is /hearth (so
 * /hearth/node_modules) and /usr is the host's. 0 with the path in out, or
 * -1 when there is none. */
int rt_node_modules_dir(char *out, size_t outlen);

/* Register the launcher script of a family (main.c registers the embedded
 * ones, embed.h). text must outlive the process's use of it. */
void rt_family_set_launcher(enum rt_family f, const char *text, size_t len);

/* The registered launcher script and the file name to write it as; NULL
 * when the family has none or none was registered. */
const char *rt_family_launcher(enum rt_family f, size_t *len, const char **filename);

#endif
