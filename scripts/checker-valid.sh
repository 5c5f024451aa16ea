#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Does the checker (sparse) understand the C that kernel headers of 6.14 and later use? Print 1
# if it does, 0 if not: the answer that their Makefile expects from scripts/checker-valid.sh
# before it honours C=1/C=2. Debian's linux-headers-7.3 packages leave that script out, and
# without it kbuild turns sparse off with only a make warning; setup.sh installs this one in
# the headers trees of the cached roots (scripts/root.sh) that miss it.
#
#   checker-valid.sh CHECKER [FLAGS...]
command -v "$1" > /dev/null 2>&1 || { echo 0; exit 0; }
src=$(mktemp --suffix=.c) || exit 1
trap 'rm -f "$src"' EXIT
# __typeof_unqual__ (gcc 14, sparse 0.6.5) is what the newer headers need.
printf 'static inline int f(const int *p)\n{\n\t__typeof_unqual__(*p) v = *p;\n\treturn v;\n}\n' > "$src"
# sparse exits 0 even on errors: look at what it prints.
if "$@" "$src" 2>&1 | grep -q 'error'; then
	echo 0
else
	echo 1
fi
