// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reading the settings: defaults, then the config file, then the command
 * line, each value through its row of the option table (options.c); then
 * the checks that need the whole configuration.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sip/binding.h"
#include "sip/dialog.h"
#include "fwd.h"
#include "options.h"
#include "options_int.h"
#include "media/media.h"
#include "media/sdp.h"
#include "sip/txn.h"

void opts_usage(FILE *f)
{
	fprintf(f, "usage: xdpsbc-sigd [options]\n"
		   "Every option is also a config-file key: \"name = value\".\n");
	for (unsigned int i = 0; i < sigd_nopts; i++)
		fprintf(f, "  --%-20s %-12s %s\n", sigd_opts[i].name,
			sigd_opts[i].arg ? sigd_opts[i].arg : "", sigd_opts[i].help);
	fprintf(f, "  --%-20s %-12s %s\n", "help", "", "this text");
	fprintf(f, "  --%-20s %-12s %s\n", "version", "", "print the version");
}

static void defaults(struct sigd_cfg *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->config, SIGD_CONFIG_DEFAULT);
	c->rtp_min = 20000;
	c->rtp_max = 29999;
	c->media_timeout = 60;
	c->latch_window = MEDIA_LATCH_WINDOW_DEFAULT;
	c->max_streams = MEDIA_MAX_STREAMS_DEFAULT;
	c->source_ports = MEDIA_SOURCE_PORTS_DEFAULT;
	c->max_dialogs = DLG_MAX_DEFAULT;
	c->max_dialogs_src = DLG_PER_SRC_DEFAULT;
	c->max_txns = TXN_MAX_DEFAULT;
	c->max_txns_src = TXN_PER_SRC_DEFAULT;
	c->max_reg_expires = BINDING_EXPIRES_DEFAULT;
	c->log_level = XS_LOG_INFO;
	/* For tests and benches that run sigd through scripts they do not own. */
	if (getenv("XDPSBC_DATAPATH"))
		xs_dp_parse(getenv("XDPSBC_DATAPATH"), &c->datapath);
	policy_cfg_defaults(&c->pol);
	xs_map_sizes_defaults(&c->map_sizes);
	tp_limits_default(&c->tcp);
	dns_cfg_default(&c->dns);
}

static const struct opt *find_opt(const char *name)
{
	for (unsigned int i = 0; i < sigd_nopts; i++)
		if (!strcmp(sigd_opts[i].name, name))
			return &sigd_opts[i];
	return NULL;
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* "key = value" lines; '#' starts a comment; blank lines are skipped. */
static int load_file(struct sigd_cfg *c, const char *path, bool must_exist)
{
	char line[4096], sect[POL_AOR_LEN + 32] = "", why[160];
	unsigned int lineno = 0;
	int err = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		if (!must_exist && errno == ENOENT)
			return 0;
		err = -errno;
		xs_log(XS_LOG_ERR, "config %s: %s\n", path, strerror(-err));
		return err;
	}
	while (fgets(line, sizeof(line), f)) {
		char *hash = strchr(line, '#'), *eq, *key, *val;
		const struct opt *o;

		lineno++;
		if (hash)
			*hash = 0;
		key = trim(line);
		if (!*key)
			continue;
		if (*key == '[') {
			/* [brand NAME], [company NAME], [user USER@DOMAIN]: policy sections. */
			if (policy_section_begin(&c->pol, key, sect, sizeof(sect), why,
						 sizeof(why))) {
				xs_log(XS_LOG_ERR, "config %s:%u: %s\n", path, lineno, why);
				err = -EINVAL;
				sect[0] = 0;
			}
			continue;
		}
		eq = strchr(key, '=');
		val = eq ? trim(eq + 1) : NULL;
		if (eq)
			*eq = 0;
		key = trim(key);
		if (sect[0]) {
			if (!val || policy_section_set(&c->pol, sect, key, val, why, sizeof(why))) {
				xs_log(XS_LOG_ERR, "config %s:%u: [%s]: %s\n", path, lineno, sect,
				       val ? why : "missing value");
				err = -EINVAL;
			}
			continue;
		}
		o = find_opt(key);
		if (!o || !strcmp(key, "config") || (!val && o->arg)) {
			xs_log(XS_LOG_ERR, "config %s:%u: unknown key or missing value '%s'\n",
			       path, lineno, key);
			err = -EINVAL;
			continue;
		}
		if (o->set(c, val)) {
			xs_log(XS_LOG_ERR, "config %s:%u: bad value for %s: '%s'\n", path, lineno,
			       key, val ? val : "");
			err = -EINVAL;
		}
	}
	fclose(f);
	return err;
}

static int apply_argv(struct sigd_cfg *c, int argc, char **argv, bool only_config)
{
	struct option lo[sigd_nopts + 3];
	int idx, ch;

	for (unsigned int i = 0; i < sigd_nopts; i++)
		lo[i] = (struct option){sigd_opts[i].name,
					sigd_opts[i].arg ? required_argument : no_argument, NULL,
					1000 + i};
	lo[sigd_nopts] = (struct option){"help", no_argument, NULL, 'h'};
	lo[sigd_nopts + 1] = (struct option){"version", no_argument, NULL, 'V'};
	lo[sigd_nopts + 2] = (struct option){0};
	optind = 0;
	opterr = !only_config;
	while ((ch = getopt_long(argc, argv, "hV", lo, &idx)) != -1) {
		const struct opt *o;

		if (ch == 'V') {
			if (!only_config) {
				printf("xdpsbc-sigd %s\n", XDPSBC_VERSION);
				return 1;
			}
			continue;
		}
		if (ch == 'h') {
			if (!only_config) {
				opts_usage(stdout);
				return 1;
			}
			continue;
		}
		if (ch < 1000) {
			if (only_config)
				continue;
			opts_usage(stderr);
			return -EINVAL;
		}
		o = &sigd_opts[ch - 1000];
		if (only_config != !strcmp(o->name, "config"))
			continue;
		if (o->set(c, optarg)) {
			xs_log(XS_LOG_ERR, "bad value for --%s: '%s'\n", o->name,
			       optarg ? optarg : "");
			return -EINVAL;
		}
	}
	if (!only_config && optind < argc) {
		xs_log(XS_LOG_ERR, "unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}

int opts_load(struct sigd_cfg *c, int argc, char **argv)
{
	char why[160];
	int err;
	bool explicit;

	defaults(c);
	/* For tests and scripts, as $XDPSBC_DATAPATH: the file and flags win. */
	if (xs_map_sizes_env(&c->map_sizes, why, sizeof(why))) {
		xs_log(XS_LOG_ERR, "map sizes: %s\n", why);
		return -EINVAL;
	}
	err = apply_argv(c, argc, argv, true);
	if (err)
		return err;
	explicit = strcmp(c->config, SIGD_CONFIG_DEFAULT) != 0;
	c->cfg_pass = 1;
	if (strcmp(c->config, "none")) {
		err = load_file(c, c->config, explicit);
		if (err)
			return err;
	}
	c->cfg_pass = 2;
	err = apply_argv(c, argc, argv, false);
	if (!err && !c->nlisten)
		err = sigd_set_listen(c, "0.0.0.0:5060");
	if (!err && !c->state_dir[0] &&
	    xs_instance_dir(xs_pin_root(c->pin_root[0] ? c->pin_root : NULL), c->state_dir,
			    sizeof(c->state_dir))) {
		xs_log(XS_LOG_ERR, "no state directory for this pin root: set --state-dir\n");
		return -EINVAL;
	}
	return err;
}

int opts_validate(const struct sigd_cfg *c)
{
	char why[160];

	if (policy_cfg_check(&c->pol, why, sizeof(why))) {
		xs_log(XS_LOG_ERR, "policy: %s\n", why);
		return -EINVAL;
	}
	if (sigd_cfg_check_net(c))
		return -EINVAL;
	if (!c->upstream[0] && !c->ndomains) {
		/* Routing by Request-URI to any domain would be an open relay. */
		xs_log(XS_LOG_ERR, "set --upstream or --domains (no open relay)\n");
		return -EINVAL;
	}
	return 0;
}
