#!/bin/sh
# Print compile_commands.json for editors and clang-tidy.
# usage: compile-commands.sh 'CC CFLAGS' file.c...
cc="$1"; shift
dir=$(pwd)
echo "["
sep=""
for f in "$@"; do
  cmd=$(printf '%s -c %s' "$cc" "$f" | sed 's/\\/\\\\/g; s/"/\\"/g')
  printf '%s{"directory":"%s","file":"%s","command":"%s"}\n' "$sep" "$dir" "$f" "$cmd"
  sep=","
done
echo "]"
