/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Edge security policy: trusted sources, tenants ("companies")
 * grouped in brands with authorised source networks, road-warrior users,
 * concurrent-call limits, scanner User-Agents, brute-force blocking and
 * message sanity limits.
 *
 * The settings (struct policy_cfg) live in struct sigd_cfg and come from the
 * option table (global keys) and from the config file's [brand NAME],
 * [company NAME] and [user USER@DOMAIN] sections (policy_conf.c). The run
 * time state (struct policy: counters, per-source failure counts) survives a
 * reload; call counts are not kept here at all but derived from the dialog
 * table, which records each call's company, brand and road-warrior user, so
 * every way a call can end (BYE, failure, timeout, restart) uncounts it.
 */
#ifndef XDPSBC_SIGD_POLICY_H
#define XDPSBC_SIGD_POLICY_H

#include <stdio.h>
#include "sigd.h"

#define POL_NAME_LEN	 64
#define POL_DOMAIN_LEN	 96
#define POL_AOR_LEN	 160
#define POL_MAX_TRUSTED	 64
#define POL_MAX_UA	 16
#define POL_UA_LEN	 64
#define POL_MAX_BRANDS	 32
#define POL_MAX_COMPANY	 64
#define POL_MAX_USERS	 256
#define POL_MAX_CO_DOM	 8
#define POL_MAX_CO_CIDRS 16

struct pol_brand {
	char name[POL_NAME_LEN];
	unsigned int max_calls; /* 0: no limit */
};

struct pol_company {
	char name[POL_NAME_LEN];
	char brand[POL_NAME_LEN]; /* "" = none */
	char domains[POL_MAX_CO_DOM][POL_DOMAIN_LEN];
	unsigned int ndomains;
	struct xs_cidr auth[POL_MAX_CO_CIDRS]; /* none: any source may use it */
	unsigned int nauth;
	unsigned int max_calls; /* 0: no limit */
};

struct pol_user {
	char aor[POL_AOR_LEN]; /* user@domain, lower-case domain */
	unsigned int rw_calls; /* outgoing calls allowed from non-authorised sources */
};

struct policy_cfg {
	struct xs_cidr trusted[POL_MAX_TRUSTED];
	unsigned int ntrusted;
	char scanner_ua[POL_MAX_UA][POL_UA_LEN];
	unsigned int nscanner;
	uint64_t scanner_block_s;  /* 0: permanent */
	unsigned int bf_threshold; /* failures per window before a block; 0: off */
	unsigned int bf_window_s;
	unsigned int bf_block_s, bf_block_max_s;
	unsigned int bf_forget_s; /* a source's offence count is forgotten after this */
	unsigned int max_msg;	  /* bytes */
	unsigned int max_ruri;	  /* bytes */
	struct pol_brand brands[POL_MAX_BRANDS];
	unsigned int nbrands;
	struct pol_company companies[POL_MAX_COMPANY];
	unsigned int ncompanies;
	struct pol_user users[POL_MAX_USERS];
	unsigned int nusers;
	/*
	 * A client request whose source is in no company's authorised-ips and
	 * whose From domain belongs to no company is refused (no-tenant).
	 */
	bool require_tenant;
};

enum pol_reason {
#define POL_REASON(e, label, code, phrase) POL_##e,
#include "policy/reasons.inc"
#undef POL_REASON
	POL_REASON_MAX
};

const char *pol_reason_label(enum pol_reason r);
int pol_reason_code(enum pol_reason r);
const char *pol_reason_phrase(enum pol_reason r);

/* Defaults: scanner patterns, thresholds, sizes. */
void policy_cfg_defaults(struct policy_cfg *pc);
/*
 * A "[kind name]" header (kind brand, company or user) or a key = value line
 * inside one. @sect is the parser's current section ("" before any); returns
 * 0, or -EINVAL/-E2BIG with @err filled in.
 */
int policy_section_begin(struct policy_cfg *pc, const char *hdr, char *sect, size_t sect_len,
			 char *err, size_t err_len);
int policy_section_set(struct policy_cfg *pc, const char *sect, const char *key, const char *val,
		       char *err, size_t err_len);
/* Cross-checks once the file is read: brands exist, users' domains have a company. */
int policy_cfg_check(const struct policy_cfg *pc, char *err, size_t err_len);
/* The global keys' setters, used by the option table. */
int policy_set_trusted(struct policy_cfg *pc, const char *v);
int policy_set_scanner_ua(struct policy_cfg *pc, const char *v);

bool pol_cidr_match(const struct xs_cidr *c, const struct sip_ip *ip);
bool policy_trusted(const struct policy_cfg *pc, const struct sip_ip *ip);
const struct pol_company *policy_company_of(const struct policy_cfg *pc, const char *domain);
/*
 * The company whose authorised-ips hold @ip (the longest prefix; the first
 * company defined on a tie), else NULL. What a client cannot choose, unlike
 * the domain in its From.
 */
const struct pol_company *policy_company_of_source(const struct policy_cfg *pc,
						   const struct sip_ip *ip);
const struct pol_brand *policy_brand(const struct policy_cfg *pc, const char *name);
const struct pol_user *policy_user(const struct policy_cfg *pc, const char *user,
				   const char *domain);

/*
 * Blocks @c for @seconds (0: permanent) in the XDP blocklist; 0 or -errno.
 * @c is a source unit: an IPv4 /32 or an IPv6 /64 (sip_ip_source()).
 */
typedef int (*policy_block_fn)(const struct xs_cidr *c, uint64_t seconds, const char *note,
			       void *arg);

#define POL_SRC_BUCKETS 4096
#define POL_SRC_MAX	65536

/* Failure history of one source unit (an IPv4 address, an IPv6 /64). */
struct pol_src {
	struct sip_ip ip;
	uint64_t window_start_ms;
	unsigned int failures; /* in the current window */
	unsigned int offences; /* blocks so far */
	uint64_t last_ms;
	uint64_t blocked_until_ms; /* 0: not blocked (UINT64_MAX: permanent) */
	struct pol_src *next;
};

struct policy {
	const struct policy_cfg *cfg;
	policy_block_fn block;
	void *block_arg;
	struct pol_src *src[POL_SRC_BUCKETS];
	unsigned int nsrc;
	uint64_t refusals[POL_REASON_MAX];
	uint64_t blocks_scanner, blocks_bruteforce, block_errors;
	uint64_t failures_seen;
};

/* What an accepted initial INVITE belongs to; kept in the dialog. */
struct pol_call {
	char company[POL_NAME_LEN];
	char brand[POL_NAME_LEN];
	char rw_user[POL_AOR_LEN]; /* "" unless counted as a road-warrior call */
};

/* Counts of calls in progress, per name; filled by the caller (from dialogs). */
typedef unsigned int (*policy_count_fn)(const char *company, const char *brand, const char *rw_user,
					void *arg);

void policy_init(struct policy *pol, const struct policy_cfg *cfg, policy_block_fn block,
		 void *arg);
void policy_set_cfg(struct policy *pol, const struct policy_cfg *cfg);
void policy_free(struct policy *pol);

/*
 * Raw input checks before parsing: size. Returns POL_REASON_MAX when fine,
 * else the reason (the message is dropped).
 */
enum pol_reason policy_check_raw(struct policy *pol, const char *buf, size_t len,
				 const struct sip_ip *src);
/* Content-Length against the body actually received (datagram or framed message). */
bool policy_content_length_ok(const char *buf, size_t len);

/*
 * The request checks of a parsed request from @src (client or core): a
 * blocked source, scanner User-Agent (blocks the source), Request-URI
 * length, then for requests from clients outside a known call
 * (@known_dialog: the Call-ID is a dialog of the edge) the tenant's
 * authorised networks and, for an initial INVITE, the road-warrior, company
 * and brand call limits. Returns POL_REASON_MAX to let the request through,
 * filling @call for an initial INVITE, else the reason to refuse it
 * (pol_reason_code() 0: drop silently). Logs every refusal with @cid.
 */
enum pol_reason policy_check_request(struct policy *pol, const osip_message_t *m,
				     const struct sip_addr *src, bool from_core, bool known_dialog,
				     const char *cid, policy_count_fn count, void *count_arg,
				     struct pol_call *call);

/*
 * A failure answer (401/403/407, or a REGISTER failing) sent to client @ip;
 * past the threshold within the window the source is blocked, a repeat
 * offender for longer (doubling up to the maximum).
 */
void policy_failure(struct policy *pol, const struct sip_ip *ip, int code, const char *method,
		    const char *cid);
/* Is @ip blocked by sigd itself (scanner or brute force, not expired)? */
bool policy_blocked(struct policy *pol, const struct sip_ip *ip);
/* Forget expired history (once a second). */
void policy_tick(struct policy *pol);

#endif /* XDPSBC_SIGD_POLICY_H */
