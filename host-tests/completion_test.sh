#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The bash completion (tools/cowstat.bash-completion) completes commands, each command's
# options, pids after -p/--tree and for tree/show, and the command to run after "run --".
set -u
. "$(dirname "$0")/../tools/cowstat.bash-completion"
n=0
fail=0

# complete WORDS...: COMPREPLY for the last word (which may be empty).
complete_words() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMPREPLY=()
	_cowstat
	printf '%s\n' "${COMPREPLY[@]}" | sort
}

expect() {
	local what=$1 want=$2 got
	shift 2
	got=$(complete_words "$@" | tr '\n' ' ' | sed 's/ $//')
	n=$((n + 1))
	if [ "$got" = "$want" ]; then
		echo "ok $n $what"
	else
		echo "not ok $n $what"
		echo "#   want: $want"
		echo "#   got:  $got"
		fail=1
	fi
}

# contains WHAT WORD WORDS...: the completion of WORDS includes WORD.
contains() {
	local what=$1 word=$2
	shift 2
	n=$((n + 1))
	if complete_words "$@" | grep -qx -- "$word"; then
		echo "ok $n $what"
	else
		echo "not ok $n $what"
		fail=1
	fi
}

echo "TAP version 13"
expect "commands" "--help -h export ps run show top trace tree version" cowstat ""
expect "commands starting with t" "top trace tree" cowstat t
expect "top options starting with --" "--bytes --delay --help --iterations --json --pages --pid --tree" \
	cowstat top --
expect "run options" "-- --bytes --help --interval --json --output --pages --plot -h -i -o" cowstat run -
expect "nothing after -d" "" cowstat top -d ""
contains "pids after -p" "$$" cowstat top -p ""
contains "pids for tree" "$$" cowstat tree ""
# A minimal Debian has no ps(1) (procps): pids must come without it. A ps that is called
# leaves a mark.
ps_mark=$(mktemp -u)
ps() { : > "$ps_mark"; }
contains "pids for show, ps(1) shadowed" "$$" cowstat show ""
n=$((n + 1))
if [ ! -e "$ps_mark" ]; then echo "ok $n pids read without calling ps(1)"; else echo "not ok $n pids read without calling ps(1)"; rm -f "$ps_mark"; fail=1; fi
unset -f ps
contains "the command to run after run --" "bash" cowstat run -- ba
expect "trace options: its own, not top's --delay/--iterations" \
	"-- --bytes --folded --help --json --output --pages --pid --svg --tree --weight -b -d -h -n -o -p -q -t" cowstat trace -
expect "the weights of trace --folded's stacks" "faults pages" cowstat trace --folded x.folded --weight ""
expect "ps options" "--bytes --help --json --pages --pid --tree -h -p -t" cowstat ps -
expect "version options" "--help --json -h" cowstat version -
expect "export options" "--family --help --interval --listen --max-series --per-process --snapshot-interval --textfile -h" cowstat export -
expect "tree options after the PID" "--bytes --help --json --pages" cowstat tree 1 --
# Every long option offered is one the command takes (the tool refuses the others).
cowstat=${COWSTAT:-$(dirname "$0")/../tools/cowstat}
for cmd in run top tree show ps trace export version; do
	bad=
	for opt in $(complete_words cowstat "$cmd" --); do
		[ "$opt" = -- ] && continue
		if timeout 10 "$cowstat" "$cmd" "$opt" < /dev/null 2>&1 >/dev/null |
			grep -q 'unrecognized option'; then
			bad="$bad $opt"
		fi
	done
	n=$((n + 1))
	if [ -z "$bad" ]; then echo "ok $n $cmd takes every option completed"; else echo "not ok $n $cmd refuses:$bad"; fail=1; fi
done
echo "1..$n"
exit $fail
