// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpsbc: the operator's command line for the XDP edge. A table of
 * subcommands ("block add", "media ports", ...); global options may appear
 * anywhere: -j/--json, -v/--verbose, --pin-root DIR, -h/--help.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const struct cmd *const tables[] = {cmds_iface, cmds_block, cmds_trust,
					   cmds_media, cmds_flood, cmds_stats,
					   cmds_fw,    cmds_ctl,   NULL};

static void usage_table(FILE *f, const char *prefix)
{
	for (int t = 0; tables[t]; t++)
		for (const struct cmd *cmd = tables[t]; cmd->name; cmd++)
			if (!prefix || !strncmp(cmd->name, prefix, strlen(prefix)))
				fprintf(f, "  xdpsbc %s %s\n      %s\n", cmd->name, cmd->args,
					cmd->help);
}

static void usage(FILE *f, const char *prefix)
{
	if (!prefix)
		fprintf(f,
			"usage: xdpsbc [-j] [-v] [--pin-root DIR] [--map-sizes LIST] COMMAND "
			"[ARGS]\n"
			"\n"
			"global options (anywhere on the line):\n"
			"  -j, --json        JSON output for listings\n"
			"  -v, --verbose     more messages (twice: libbpf/libxdp debug)\n"
			"  --pin-root DIR    maps under DIR (default $XDPSBC_PIN_ROOT, else %s)\n"
			"  --map-sizes LIST  sizes of maps this command creates: flood=N,flows=N,\n"
			"                    blocklist=N,trusted=N (default $XDPSBC_MAP_SIZES)\n"
			"  -h, --help        this text, or one command's: xdpsbc block add --help\n"
			"  -V, --version     the version\n"
			"\ncommands:\n",
			XS_PIN_ROOT_DEFAULT);
	usage_table(f, prefix);
}

/* The longest command name that the first words of @argv spell. */
static const struct cmd *find_cmd(int argc, char **argv, int *words)
{
	const struct cmd *best = NULL;
	char name[64];

	for (int w = 1; w <= 2 && w <= argc; w++) {
		snprintf(name, sizeof(name), "%s%s%s", argv[0], w == 2 ? " " : "",
			 w == 2 ? argv[1] : "");
		for (int t = 0; tables[t]; t++)
			for (const struct cmd *cmd = tables[t]; cmd->name; cmd++)
				if (!strcmp(cmd->name, name)) {
					best = cmd;
					*words = w;
				}
	}
	return best;
}

static bool group_exists(const char *word)
{
	size_t len = strlen(word);

	for (int t = 0; tables[t]; t++)
		for (const struct cmd *cmd = tables[t]; cmd->name; cmd++)
			if (!strncmp(cmd->name, word, len) && cmd->name[len] == ' ')
				return true;
	return false;
}

int main(int argc, char **argv)
{
	struct cli c = {.pin_root = NULL};
	char *args[256];
	const char *sizes = NULL;
	struct xs_map_sizes ms;
	char why[160];
	const struct cmd *cmd;
	int n = 0, verbose = 0, words = 0;
	bool help = false, dashdash = false;

	/* Pull the global options out wherever they are. */
	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		if (n >= 255)
			return cli_err("too many arguments");
		if (dashdash) {
			args[n++] = a;
		} else if (!strcmp(a, "-j") || !strcmp(a, "--json")) {
			c.json = true;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose++;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			help = true;
		} else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("xdpsbc %s\n", XDPSBC_VERSION);
			return 0;
		} else if (!strcmp(a, "--pin-root")) {
			if (++i >= argc)
				return cli_err("--pin-root needs a directory"), EXIT_USAGE;
			c.pin_root = argv[i];
		} else if (!strncmp(a, "--pin-root=", 11)) {
			c.pin_root = a + 11;
		} else if (!strcmp(a, "--map-sizes")) {
			if (++i >= argc)
				return cli_err("--map-sizes needs NAME=N,.."), EXIT_USAGE;
			sizes = argv[i];
		} else if (!strncmp(a, "--map-sizes=", 12)) {
			sizes = a + 12;
		} else {
			if (!strcmp(a, "--"))
				dashdash = true;
			args[n++] = a;
		}
	}
	args[n] = NULL;
	c.pin_root = xs_pin_root(c.pin_root);
	xs_log_set_level(verbose >= 2 ? XS_LOG_DEBUG : verbose ? XS_LOG_INFO : XS_LOG_WARN);
	xs_log_route_libs();
	/* Sizes apply to maps this run creates; pinned ones keep theirs. */
	xs_map_sizes_defaults(&ms);
	if (xs_map_sizes_env(&ms, why, sizeof(why)) ||
	    (sizes && xs_map_sizes_parse(sizes, &ms, why, sizeof(why))))
		return cli_err("map sizes: %s", why), EXIT_USAGE;
	xs_map_sizes_use(&ms);

	if (!n) {
		usage(help ? stdout : stderr, NULL);
		return help ? 0 : EXIT_USAGE;
	}
	cmd = find_cmd(n, args, &words);
	if (!cmd) {
		if (group_exists(args[0])) {
			if (help) {
				usage(stdout, args[0]);
				return 0;
			}
			fprintf(stderr,
				"xdpsbc %s: unknown or missing subcommand%s%s%s (xdpsbc %s --help "
				"lists them)\n",
				args[0], n > 1 ? " '" : "", n > 1 ? args[1] : "", n > 1 ? "'" : "",
				args[0]);
			return EXIT_USAGE;
		}
		cli_err("unknown command '%s' (xdpsbc --help lists them)", args[0]);
		return EXIT_USAGE;
	}
	if (help) {
		printf("usage: xdpsbc %s %s\n  %s\n", cmd->name, cmd->args, cmd->help);
		for (const struct opt *o = cmd->opts; o && (o->name || o->metavar); o++)
			if (o->name && o->help)
				printf("  %s%s%-*s %s\n", o->name, o->metavar ? " " : "",
				       (int)(20 - strlen(o->name) - (o->metavar ? 1 : 0)),
				       o->metavar ?: "", o->help);
		return 0;
	}
	c.cmd = cmd;
	return cli_run(&c, n - words, args + words);
}
