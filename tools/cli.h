/* SPDX-License-Identifier: GPL-2.0-only */
/* The xdpsbc CLI: command table, option parsing, JSON output. */
#ifndef XDPSBC_CLI_H
#define XDPSBC_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include "loader.h"

/* Exit codes: 0 ok, 1 the operation failed, 2 bad usage or input. */
#define EXIT_USAGE 2

struct cli {
	const char *pin_root;
	bool json;
	const struct cmd *cmd; /* the command running, for its usage line */
};

/* A command: "block add", its argument synopsis and what it does. */
struct cmd {
	const char *name;
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *args;
	const char *help;
};

/* A typed option of one command (in the manner of xdp-tools' DEFINE_OPTION). */
struct opt {
	const char *name;    /* "--for" */
	const char *metavar; /* NULL: a flag */
	const char **val;    /* the argument, or "1" for a flag */
	const char *help;
};

/*
 * Split @argv into options (per @opts) and positional arguments; requires
 * between @min and @max positionals. Prints a one-line error and returns
 * EXIT_USAGE on anything else, 0 when fine.
 */
int cli_args(struct cli *c, int argc, char **argv, const struct opt *opts, int min, int max,
	     char ***pos, int *npos);
int cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_err(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report -errno @ret of @what ("blocklist add"), return 1. */
int cli_fail(int ret, const char *what);

/* Open the pinned maps (creating them when @create) and, to change state, lock first. */
int cli_lock_err(struct cli *c, int ret);
int cli_open(struct cli *c, bool create, struct xs_maps *m, int *lock_fd);
/* For listings: 1 maps open, 0 nothing pinned (an empty list), <0 reported. */
int cli_open_listing(struct cli *c, struct xs_maps *m);
void cli_close(struct xs_maps *m, int lock_fd);

int cli_parse_cidr(const char *s, struct xs_cidr *out);
int cli_ifindex(const char *name);
void cli_iso_time(int64_t wall, char *buf, size_t len);
/* The settings block of status and media status. */
void status_settings(const struct xs_config *cfg, bool json);

/* JSON: one document on stdout, built with nested begin/end calls. */
void json_obj_begin(const char *key);
void json_obj_end(void);
void json_arr_begin(const char *key);
void json_arr_end(void);
void json_str(const char *key, const char *val);
void json_u64(const char *key, uint64_t val);
void json_i64(const char *key, int64_t val);
void json_bool(const char *key, bool val);
void json_null(const char *key);
void json_done(void); /* newline after the top-level value */

extern const struct cmd cmds_iface[], cmds_block[], cmds_trust[], cmds_media[], cmds_stats[];
extern const struct cmd cmds_flood[]; /* flood status|on|off|set, bans */
extern const struct cmd cmds_ctl[];   /* calls, policy: asked of xdpsbc-sigd */

/* cmd_fw.c: the nftables backend. */
extern const struct cmd cmds_fw[];
int fw_status_fields(bool json);
/* Re-sync the nft sets from the maps when the nft table is installed. */
void fw_sync_after_change(const struct xs_maps *m);
extern const char *fw_cmd; /* the command running, set before it runs */

#endif /* XDPSBC_CLI_H */
