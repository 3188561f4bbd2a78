# SPDX-License-Identifier: GPL-2.0-only
# Reads `xdpsbc-sigd --help` and prints one record per option:
#   NAME \037 ARG \037 HELP        (ARG empty for a switch)
# The daemon prints "  --NAME<padded to 20> ARG<padded to 12> HELP", so ARG
# is whatever starts in the column after the padded name (a tab or blank
# separator would lose an empty ARG).
/^  --[a-z]/ {
	name = substr($1, 3)
	col = 4 + (length(name) > 20 ? length(name) : 20) + 2
	rest = substr($0, col)
	arg = ""
	if (substr(rest, 1, 1) != " ") {
		arg = rest
		sub(/ .*/, "", arg)
		rest = substr(rest, length(arg) + 1)
	}
	sub(/^ +/, "", rest)
	printf "%s\037%s\037%s\n", name, arg, rest
}
# With -v passthrough=1 the other lines are kept (and the usage line is set
# off by a blank line, so help2man does not run it into the next paragraph).
passthrough && !/^  --[a-z]/ {
	print
	if (/^usage:/)
		print ""
}
