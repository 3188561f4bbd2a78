/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The xdpsbc CLI: a table of commands with typed options, the one sequence
 * that opens the maps, acts and closes them (cli.c), JSON output (json.c).
 */
#ifndef XDPSBC_CLI_H
#define XDPSBC_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "lib/xdpsbc.h"
#include "fw/fw.h" /* XS_NFT_SYNC_*: what a command re-syncs */

/* Exit codes: 0 ok, 1 the operation failed, 2 bad usage or input. */
#define EXIT_USAGE 2

struct cli {
	const char *pin_root;
	bool json;
	const struct cmd *cmd; /* the command running */
	uint32_t given;	       /* bit i: option i of cmd->opts was on the command line */
};

/* How a command uses the pinned maps; cli_run() opens them before its handler. */
enum cli_maps {
	CLI_MAPS_NONE,	 /* the handler opens what it needs; its @m is NULL */
	CLI_MAPS_READ,	 /* opened when pinned; @m is NULL when nothing is pinned */
	CLI_MAPS_CHANGE, /* the pin root locked, the maps opened (created when missing),
			  * and after the handler the nft sets in .nft_sync re-synced */
};

/*
 * A command: "block add". Its options and positional arguments (.opts) are
 * parsed, before the handler runs, into a struct of .args_size bytes that
 * the handler gets as @args: handlers never see the argument strings.
 */
struct cmd {
	const char *name;
	int (*fn)(struct cli *c, const struct xs_maps *m, void *args);
	const char *args; /* the synopsis, for --help */
	const char *help;
	const struct opt *opts; /* NULL-name-and-metavar terminated; NULL: none */
	size_t args_size;
	enum cli_maps maps;
	/*
	 * The nft sets a change re-syncs while table inet xdpsbc is installed
	 * (XS_NFT_SYNC_BLOCK | _TRUST | _CONFIG; datapath.h). Part of the
	 * command's definition, so a new command states what it touches.
	 */
	unsigned int nft_sync;
};

/*
 * Typed options, in the manner of xdp-tools' DEFINE_OPTION: the parser
 * writes the value at .off in the command's argument struct, of the C type
 * the option type names (checked at compile time by the macros below).
 */
enum cli_opt_type {
	CLI_OPT_FLAG,	    /* bool, true when given */
	CLI_OPT_STR,	    /* const char * */
	CLI_OPT_U32,	    /* uint32_t in [.min, .max] */
	CLI_OPT_DURATION,   /* uint64_t seconds, 0 = "permanent" (xs_duration_parse) */
	CLI_OPT_SECONDS,    /* uint32_t, a duration of at least a second, not permanent */
	CLI_OPT_CIDR,	    /* struct xs_cidr (xs_cidr_parse) */
	CLI_OPT_PORT_RANGE, /* struct cli_port_range (xs_port_range_parse) */
	CLI_OPT_PORT_LIST,  /* uint16_t[XS_FLOOD_PORTS_MAX], "P,P", zero-terminated */
	CLI_OPT_WORD,	    /* int: the index of the word in .words */
	CLI_OPT_IFACE,	    /* struct cli_iface: a name that exists */
};

struct cli_port_range {
	uint16_t lo, hi;
};

struct cli_iface {
	const char *name;
	int ifindex;
};

struct opt {
	const char *name;    /* "--for"; NULL: a positional argument (all are required) */
	const char *metavar; /* "DURATION"; NULL for a flag */
	enum cli_opt_type type;
	size_t off;
	uint32_t min, max;	  /* CLI_OPT_U32 */
	const char *const *words; /* CLI_OPT_WORD: NULL-terminated */
	const char *expect;	  /* CLI_OPT_WORD: "on or off", for the error */
	const char *help;
};

#define CLI_CTYPE_FLAG	     bool
#define CLI_CTYPE_STR	     const char *
#define CLI_CTYPE_U32	     uint32_t
#define CLI_CTYPE_DURATION   uint64_t
#define CLI_CTYPE_SECONDS    uint32_t
#define CLI_CTYPE_CIDR	     struct xs_cidr
#define CLI_CTYPE_PORT_RANGE struct cli_port_range
#define CLI_CTYPE_PORT_LIST  uint16_t[XS_FLOOD_PORTS_MAX]
#define CLI_CTYPE_WORD	     int
#define CLI_CTYPE_IFACE	     struct cli_iface

/* offsetof(@S, @m), refused at compile time when @m is not of type @T. */
#define CLI_OFF(S, m, T)  \
	(offsetof(S, m) + \
	 0 * sizeof(char[__builtin_types_compatible_p(__typeof__(((S *)0)->m), T) ? 1 : -1]))

/* An option "--name" of @type stored in @S.@m; then .metavar, .help, ... */
#define DEFINE_OPTION(_name, _type, S, m, ...)                                                   \
	{                                                                                        \
		.name = _name, .type = CLI_OPT_##_type, .off = CLI_OFF(S, m, CLI_CTYPE_##_type), \
		__VA_ARGS__                                                                      \
	}
/* A positional argument shown as @_meta in errors. */
#define DEFINE_ARG(_meta, _type, S, m, ...)                          \
	{                                                            \
		.metavar = _meta, .type = CLI_OPT_##_type,           \
		.off = CLI_OFF(S, m, CLI_CTYPE_##_type), __VA_ARGS__ \
	}
#define END_OPTIONS                           \
	{                                     \
		.name = NULL, .metavar = NULL \
	}

/* Was option @name (of c->cmd->opts) on the command line? */
bool cli_given(const struct cli *c, const char *name);

/* Parse @argv into a fresh argument struct and run c->cmd as its .maps says. */
int cli_run(struct cli *c, int argc, char **argv);
/*
 * The change sequence on its own, for a handler that only sometimes changes
 * state ("media turn on|off|status"): lock, open (creating), @act, re-sync
 * the command's nft sets, close. Returns @act's result, or the exit code of
 * a failed lock or open.
 */
int cli_change(struct cli *c, int (*act)(struct cli *c, const struct xs_maps *m, void *args),
	       void *args);
/* Read xs_config, change it with @edit, write it back; for CLI_MAPS_CHANGE handlers. */
int cli_config_edit(const struct xs_maps *m, void (*edit)(struct xs_config *cfg, const void *arg),
		    const void *arg);

int cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_err(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report -errno @ret of @what ("blocklist add"), return 1. */
int cli_fail(int ret, const char *what);
int cli_lock_err(struct cli *c, int ret);

void cli_iso_time(int64_t wall, char *buf, size_t len);
/* The settings block of status and media status. */
void status_settings(const struct xs_config *cfg, bool json);
/* Per attached interface: can the relay forward (cmd_ready.c). */
void status_readiness(struct cli *c);

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
void json_raw(const char *key, const char *text);
void json_done(void); /* newline after the top-level value */

extern const struct cmd cmds_iface[], cmds_block[], cmds_trust[], cmds_media[], cmds_stats[];
extern const struct cmd cmds_flood[]; /* flood status|on|off|set, bans */
extern const struct cmd cmds_ctl[];   /* calls, policy: asked of xdpsbc-sigd */
int ctl_query(const char *cmd, bool json, const char *path, char *buf, size_t len);
extern const struct cmd cmds_fw[]; /* the nftables backend */
/* cmd_fw.c: the nft state as a JSON object "nftables" or a text line. */
int fw_status_fields(bool json);

#endif /* XDPSBC_CLI_H */
