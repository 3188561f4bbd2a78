#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# help-filter.sh XDPSBC-SIGD --help: the daemon's --help, with each option
# written "--name ARG  help" as help2man expects (the daemon prints the
# argument in a column of its own, which help2man would take for the start
# of the description). Anything else is passed through to the binary.
bin=$1
shift
[ "${1:-}" = --help ] || exec "$bin" "$@"
"$bin" --help | awk -v passthrough=1 -f "$(dirname "$0")/opt-table.awk" |
	awk -F '\037' 'NF == 3 { printf "  %-30s  %s\n", "--" $1 ($2 != "" ? " " $2 : ""), $3; next }
	{ print }'
