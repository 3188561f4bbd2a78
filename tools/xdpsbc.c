// SPDX-License-Identifier: GPL-2.0-only
/*
 * xdpsbc: the operator's command line for the XDP edge. A table of
 * subcommands ("block add", "media ports", ...); global options may appear
 * anywhere: -j/--json, -v/--verbose, --pin-root DIR, -h/--help.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include "cli.h"

static const struct cmd *const tables[] = {cmds_iface, cmds_block, cmds_trust,
					   cmds_media, cmds_flood, cmds_stats,
					   cmds_fw,    cmds_ctl,   NULL};

int cli_err(const char *fmt, ...)
{
	va_list ap;

	fputs("xdpsbc: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int cli_usage_err(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "xdpsbc %s: ", c->cmd ? c->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (c->cmd)
		fprintf(stderr, " (usage: xdpsbc %s %s)", c->cmd->name, c->cmd->args);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

int cli_fail(int ret, const char *what)
{
	return cli_err("%s: %s", what, strerror(-ret));
}

int cli_parse_cidr(const char *s, struct xs_cidr *out)
{
	int ret = xs_cidr_parse(s, out);

	if (ret == -ERANGE)
		cli_err("invalid CIDR '%s': prefix length longer than the address (/32 for IPv4, "
			"/128 for IPv6)",
			s);
	else if (ret)
		cli_err("invalid CIDR '%s': expected ADDRESS[/PREFIXLEN], e.g. 192.0.2.0/24 or "
			"2001:db8::/32",
			s);
	return ret ? EXIT_USAGE : 0;
}

int cli_ifindex(const char *name)
{
	unsigned int idx = if_nametoindex(name);

	if (!idx) {
		cli_err("unknown interface '%s'", name);
		return -ENODEV;
	}
	return idx;
}

void cli_iso_time(int64_t wall, char *buf, size_t len)
{
	time_t t = wall;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Why the pin root could not be locked, in one line. */
int cli_lock_err(struct cli *c, int ret)
{
	if (ret == -EWOULDBLOCK)
		return cli_err("%s is locked by another xdpsbc run (waited; XDPSBC_LOCK_TIMEOUT "
			       "sets how long)",
			       c->pin_root);
	if (ret == -ENOTSUP)
		return cli_err("pin root %s is not on a bpf filesystem (use a directory under "
			       "/sys/fs/bpf)",
			       c->pin_root);
	return cli_err("cannot lock %s: %s", c->pin_root, strerror(-ret));
}

int cli_open(struct cli *c, bool create, struct xs_maps *m, int *lock_fd)
{
	int ret;

	*lock_fd = -1;
	if (lock_fd && create) {
		ret = xs_lock(c->pin_root);
		if (ret < 0)
			return cli_lock_err(c, ret);
		*lock_fd = ret;
	}
	ret = xs_maps_open(c->pin_root, create, m);
	if (ret) {
		xs_unlock(*lock_fd);
		*lock_fd = -1;
		if (ret == -ENOENT)
			return cli_err("no xdpsbc maps pinned under %s", c->pin_root);
		return cli_err("cannot open the maps under %s: %s", c->pin_root, strerror(-ret));
	}
	return 0;
}

int cli_open_listing(struct cli *c, struct xs_maps *m)
{
	int ret = xs_maps_open(c->pin_root, false, m);

	if (ret == -ENOENT)
		return 0;
	return ret ? cli_fail(ret, c->pin_root) : 1;
}

void cli_close(struct xs_maps *m, int lock_fd)
{
	if (lock_fd >= 0) /* a change: the nftables backend follows, if installed */
		fw_sync_after_change(m);
	xs_maps_close(m);
	xs_unlock(lock_fd);
}

/*
 * Options are matched by name; "--opt=value" and "--opt value" both work.
 * "--" ends options, so a reason may start with a dash.
 */
int cli_args(struct cli *c, int argc, char **argv, const struct opt *opts, int min, int max,
	     char ***pos, int *npos)
{
	static char *out[16];
	bool dashdash = false;
	int n = 0;

	for (int i = 0; i < argc; i++) {
		const struct opt *o = NULL;
		char *a = argv[i], *eq;
		size_t len;

		if (dashdash || a[0] != '-' || !a[1]) {
			if (n >= 16 || n >= max)
				return cli_usage_err(c, "unexpected argument '%s'", a);
			out[n++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			dashdash = true;
			continue;
		}
		eq = strchr(a, '=');
		len = eq ? (size_t)(eq - a) : strlen(a);
		for (const struct opt *p = opts; p && p->name; p++)
			if (strlen(p->name) == len && !strncmp(p->name, a, len))
				o = p;
		if (!o)
			return cli_usage_err(c, "unknown option '%s'", a);
		if (!o->metavar) {
			if (eq)
				return cli_usage_err(c, "%s takes no value", o->name);
			*o->val = "1";
		} else if (eq) {
			*o->val = eq + 1;
		} else if (i + 1 < argc) {
			*o->val = argv[++i];
		} else {
			return cli_usage_err(c, "%s needs a value (%s)", o->name, o->metavar);
		}
	}
	if (n < min)
		return cli_usage_err(c, "missing argument");
	*pos = out;
	*npos = n;
	return 0;
}

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
			"usage: xdpsbc [-j] [-v] [--pin-root DIR] COMMAND [ARGS]\n"
			"\n"
			"global options (anywhere on the line):\n"
			"  -j, --json        JSON output for listings\n"
			"  -v, --verbose     more messages (twice: libbpf/libxdp debug)\n"
			"  --pin-root DIR    maps under DIR (default $XDPSBC_PIN_ROOT, else %s)\n"
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
		return 0;
	}
	c.cmd = cmd;
	fw_cmd = cmd->name;
	return cmd->fn(&c, n - words, args + words);
}
