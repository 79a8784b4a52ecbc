/* embed.h — the launcher scripts compiled into the runtime by the Makefile
 * (runtime/launchers/NAME.EXT -> rt_embed_NAME_EXT[], NUL-terminated, and
 * its length without the NUL). */
#ifndef RT_EMBED_H
#define RT_EMBED_H

#include <stddef.h>

extern const char rt_embed_node_js[];
extern const size_t rt_embed_node_js_len;
extern const char rt_embed_python_py[];
extern const size_t rt_embed_python_py_len;

#endif
