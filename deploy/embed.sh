#!/bin/sh
# Turn a file into C: `const char SYM[]` (NUL-terminated) and `SYM_len`.
# usage: embed.sh FILE SYMBOL > out.c   (used for the runtime's launchers)
set -eu
printf '/* generated from %s by deploy/embed.sh; do not edit */\n#include <stddef.h>\n' "$1"
printf 'extern const char %s[];\nextern const size_t %s_len;\n' "$2" "$2"
printf 'const char %s[] = {\n' "$2"
od -An -v -tx1 "$1" | sed 's/ *\([0-9a-f][0-9a-f]\)/0x\1,/g'
printf '0x00};\nconst size_t %s_len = %s;\n' "$2" "$(wc -c < "$1" | tr -d ' ')"
