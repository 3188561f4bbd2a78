// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy decisions: which requests the edge refuses before routing them,
 * and which sources it blocks in the XDP blocklist (scanners, brute force).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "policy/policy.h"
#include "secret.h"
#include "sip/msg.h"

static const struct {
	const char *label;
	int code;
	const char *phrase;
} reasons[] = {
#define POL_REASON(e, label, code, phrase) {label, code, phrase},
#include "policy/reasons.inc"
#undef POL_REASON
};

const char *pol_reason_label(enum pol_reason r)
{
	return r < POL_REASON_MAX ? reasons[r].label : "none";
}

int pol_reason_code(enum pol_reason r)
{
	return r < POL_REASON_MAX ? reasons[r].code : 0;
}

const char *pol_reason_phrase(enum pol_reason r)
{
	return r < POL_REASON_MAX ? reasons[r].phrase : "";
}

void policy_init(struct policy *pol, const struct policy_cfg *cfg, policy_block_fn block, void *arg)
{
	memset(pol, 0, sizeof(*pol));
	pol->cfg = cfg;
	pol->block = block;
	pol->block_arg = arg;
}

void policy_set_cfg(struct policy *pol, const struct policy_cfg *cfg)
{
	pol->cfg = cfg;
}

void policy_free(struct policy *pol)
{
	for (unsigned int i = 0; i < POL_SRC_BUCKETS; i++)
		while (pol->src[i]) {
			struct pol_src *s = pol->src[i];

			pol->src[i] = s->next;
			free(s);
		}
	pol->nsrc = 0;
}

/* Keyed: a sender picking its (spoofed) addresses cannot aim them at one bucket. */
static unsigned int src_hash(const struct sip_ip *u)
{
	if (u->af == AF_INET6)
		return secret_hash64(&u->v6, sizeof(u->v6)) % POL_SRC_BUCKETS;
	return secret_hash64(&u->v4, sizeof(u->v4)) % POL_SRC_BUCKETS;
}

/* By source unit: the failures of every address of one IPv6 /64 add up. */
static struct pol_src *src_get(struct policy *pol, const struct sip_ip *addr, bool create)
{
	struct sip_ip u = sip_ip_source(addr);
	const struct sip_ip *ip = &u;
	unsigned int b = src_hash(ip);
	struct pol_src *s;

	for (s = pol->src[b]; s; s = s->next)
		if (sip_ip_eq(&s->ip, ip))
			return s;
	/* Bounded: under a spoofed-source storm, stop tracking new sources (XDP's job). */
	if (!create || pol->nsrc >= POL_SRC_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ip = *ip;
	s->next = pol->src[b];
	pol->src[b] = s;
	pol->nsrc++;
	return s;
}

static void do_block(struct policy *pol, const struct sip_ip *ip, uint64_t seconds,
		     const char *note, const char *cid)
{
	struct pol_src *s = src_get(pol, ip, true);
	uint64_t now = sigd_now_ms();
	char ipb[SIP_IP_STRLEN + 8];
	struct xs_cidr c;
	int err = 0;

	sip_ip_cidr(ip, true, &c);
	xs_cidr_format(&c, ipb, sizeof(ipb));
	if (s)
		s->blocked_until_ms = seconds ? now + seconds * 1000 : UINT64_MAX, s->last_ms = now;
	if (pol->block)
		err = pol->block(&c, seconds, note, pol->block_arg);
	if (err) {
		pol->block_errors++;
		CLOG(XS_LOG_WARN, cid, "blocking %s (%s) in XDP failed: %s", ipb, note,
		     err == -ENOSPC ? "blocklist full (map-sizes blocklist)" : strerror(-err));
		return;
	}
	if (seconds)
		CLOG(XS_LOG_WARN, cid, "source %s blocked for %llu s: %s", ipb,
		     (unsigned long long)seconds, note);
	else
		CLOG(XS_LOG_WARN, cid, "source %s blocked permanently: %s", ipb, note);
}

bool policy_blocked(struct policy *pol, const struct sip_ip *ip)
{
	struct pol_src *s = src_get(pol, ip, false);

	return s && s->blocked_until_ms && sigd_now_ms() < s->blocked_until_ms;
}

void policy_failure(struct policy *pol, const struct sip_ip *ip, int code, const char *method,
		    const char *cid)
{
	const struct policy_cfg *pc = pol->cfg;
	uint64_t now = sigd_now_ms(), secs;
	struct pol_src *s;
	char note[64];

	if (!pc->bf_threshold || policy_trusted(pc, ip))
		return;
	s = src_get(pol, ip, true);
	if (!s)
		return;
	pol->failures_seen++;
	if (s->offences && now - s->last_ms > (uint64_t)pc->bf_forget_s * 1000)
		s->offences = 0;
	if (now - s->window_start_ms > (uint64_t)pc->bf_window_s * 1000 || !s->failures) {
		s->window_start_ms = now;
		s->failures = 0;
	}
	s->last_ms = now;
	if (++s->failures < pc->bf_threshold)
		return;
	if (s->blocked_until_ms && now < s->blocked_until_ms)
		return; /* already blocked; XDP will stop it */
	/* Repeat offenders: the base block doubled per earlier block, up to the maximum. */
	secs = pc->bf_block_s;
	for (unsigned int i = 0; i < s->offences && secs < pc->bf_block_max_s; i++)
		secs *= 2;
	if (secs > pc->bf_block_max_s)
		secs = pc->bf_block_max_s;
	s->offences++;
	s->failures = 0;
	pol->blocks_bruteforce++;
	snprintf(note, sizeof(note), "sigd: brute force, %u failures (%d %s), offence %u",
		 pc->bf_threshold, code, method ? method : "", s->offences);
	do_block(pol, ip, secs, note, cid);
}

void policy_tick(struct policy *pol)
{
	const struct policy_cfg *pc = pol->cfg;
	uint64_t now = sigd_now_ms();
	uint64_t keep =
		(uint64_t)(pc->bf_forget_s > pc->bf_window_s ? pc->bf_forget_s : pc->bf_window_s) *
		1000;

	for (unsigned int b = 0; b < POL_SRC_BUCKETS; b++)
		for (struct pol_src **pp = &pol->src[b]; *pp;) {
			struct pol_src *s = *pp;

			if (now - s->last_ms > keep &&
			    (!s->blocked_until_ms || now >= s->blocked_until_ms)) {
				*pp = s->next;
				free(s);
				pol->nsrc--;
			} else {
				pp = &s->next;
			}
		}
}

enum pol_reason policy_check_raw(struct policy *pol, const char *buf, size_t len,
				 const struct sip_ip *src)
{
	if (pol->cfg->max_msg && len > pol->cfg->max_msg)
		return POL_TOO_BIG;
	return POL_REASON_MAX;
}

/* Case-insensitive substring search, bounded by the lengths of both. */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++)
		if (!strncasecmp(hay, needle, n))
			return true;
	return false;
}

bool policy_content_length_ok(const char *buf, size_t len)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4);
	const char *p = buf;
	size_t hlen, body;

	if (!end)
		return true; /* no body separator: the parser judges */
	hlen = end - buf + 4;
	body = len - hlen;
	/* Header lines, looking for Content-Length or its compact form "l". */
	while (p < end) {
		const char *eol = memmem(p, end + 2 - p, "\r\n", 2);
		size_t ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
		const char *colon = memchr(p, ':', ll);

		if (colon) {
			size_t kl = colon - p;

			while (kl && (p[kl - 1] == ' ' || p[kl - 1] == '\t'))
				kl--;
			if ((kl == 14 && !strncasecmp(p, "Content-Length", 14)) ||
			    (kl == 1 && (*p == 'l' || *p == 'L'))) {
				char num[24];
				size_t vl = ll - (colon + 1 - p);
				char *e;
				unsigned long cl;

				if (vl >= sizeof(num))
					return false;
				memcpy(num, colon + 1, vl);
				num[vl] = 0;
				cl = strtoul(num, &e, 10);
				while (*e == ' ' || *e == '\t')
					e++;
				if (*e || !strpbrk(num, "0123456789") || strchr(num, '-'))
					return false;
				/* Fewer bytes than announced is an error; more is
				 * allowed over UDP (RFC 3261 18.3: extra is ignored). */
				return cl <= body;
			}
		}
		if (!eol)
			break;
		p = eol + 2;
	}
	return true;
}

static enum pol_reason refuse(struct policy *pol, enum pol_reason r, const char *cid,
			      const struct sip_addr *src, const char *what)
{
	char ab[SIP_ADDR_STRLEN];

	pol->refusals[r]++;
	/* A blocked source repeats itself: its drops are not news. */
	CLOG(r == POL_BLOCKED ? XS_LOG_DEBUG : XS_LOG_INFO, cid,
	     "policy: %s from %s refused (%s%s%s)", what, sip_addr_str(src, ab, sizeof(ab)),
	     pol_reason_label(r), what[0] ? ", " : "",
	     pol_reason_code(r) ? pol_reason_phrase(r) : "dropped");
	return r;
}

static const char *src_str(const struct sip_addr *src)
{
	static char ab[SIP_ADDR_STRLEN];

	return sip_addr_str(src, ab, sizeof(ab));
}

static const char *user_agent(const osip_message_t *m)
{
	osip_header_t *h = NULL;

	osip_message_get_user_agent(m, 0, &h);
	return h && h->hvalue ? h->hvalue : NULL;
}

/* The tenant's limits for an initial INVITE of @co; @rw_user "" when not a road-warrior call. */
static enum pol_reason limits(struct policy *pol, const struct pol_company *co,
			      const struct pol_user *rw, policy_count_fn count, void *arg)
{
	const struct pol_brand *br = co->brand[0] ? policy_brand(pol->cfg, co->brand) : NULL;

	if (rw && count(NULL, NULL, rw->aor, arg) >= rw->rw_calls)
		return POL_MAX_CALLS_USER;
	if (co->max_calls && count(co->name, NULL, NULL, arg) >= co->max_calls)
		return POL_MAX_CALLS_COMPANY;
	if (br && br->max_calls && count(NULL, br->name, NULL, arg) >= br->max_calls)
		return POL_MAX_CALLS_BRAND;
	return POL_REASON_MAX;
}

enum pol_reason policy_check_request(struct policy *pol, const osip_message_t *m,
				     const struct sip_addr *src, bool from_core, bool known_dialog,
				     const char *cid, policy_count_fn count, void *count_arg,
				     struct pol_call *call)
{
	const struct policy_cfg *pc = pol->cfg;
	bool trusted = from_core || policy_trusted(pc, &src->ip);
	bool initial = MSG_IS_INVITE(m) && !msg_to_tag(m);
	const struct pol_company *co;
	const struct pol_user *rw = NULL;
	const osip_uri_t *who;
	const char *ua;
	enum pol_reason r;
	char *ru = NULL;

	memset(call, 0, sizeof(*call));
	if (!trusted && policy_blocked(pol, &src->ip))
		return refuse(pol, POL_BLOCKED, cid, src, m->sip_method);
	ua = user_agent(m);
	if (!trusted && ua)
		for (unsigned int i = 0; i < pc->nscanner; i++) {
			char note[XS_NOTE_LEN];

			if (!contains(ua, pc->scanner_ua[i]))
				continue;
			pol->blocks_scanner++;
			snprintf(note, sizeof(note), "sigd: scanner UA %.40s", pc->scanner_ua[i]);
			refuse(pol, POL_SCANNER, cid, src, m->sip_method);
			do_block(pol, &src->ip, pc->scanner_block_s, note, cid);
			return POL_SCANNER;
		}
	if (pc->max_ruri && !osip_uri_to_str(m->req_uri, &ru)) {
		size_t l = strlen(ru);

		osip_free(ru);
		if (l > pc->max_ruri)
			return refuse(pol, POL_URI_TOO_LONG, cid, src, m->sip_method);
	}
	/*
	 * The tenant. From a client, what it cannot choose decides: a From
	 * domain whose company has authorised networks counts only from them
	 * or for one of its road warriors (checked below); any other From (an
	 * unowned domain, a company without networks) belongs to the company
	 * whose networks hold the source, if one does; only a source in no
	 * company's networks is taken at its From domain. From the core (a
	 * call to a client): the called domain.
	 */
	who = from_core ? m->to->url : m->from->url;
	co = policy_company_of(pc, who ? who->host : NULL);
	if (!from_core && !(co && co->nauth)) {
		const struct pol_company *by_src = policy_company_of_source(pc, &src->ip);

		if (by_src && by_src != co)
			CLOG(XS_LOG_DEBUG, cid, "policy: %s from %s: tenant %s by source (From %s)",
			     m->sip_method, src_str(src), by_src->name,
			     who && who->host ? who->host : "-");
		if (by_src)
			co = by_src;
	}
	if (!co && !trusted && pc->require_tenant && !(msg_to_tag(m) && known_dialog))
		return refuse(pol, POL_NO_TENANT, cid, src, m->sip_method);
	if (co && initial) {
		snprintf(call->company, sizeof(call->company), "%s", co->name);
		snprintf(call->brand, sizeof(call->brand), "%s", co->brand);
	}
	/* Requests in a known call follow it; a To tag alone proves nothing. */
	if (!co || (msg_to_tag(m) && known_dialog))
		return POL_REASON_MAX;
	if (!from_core && !policy_trusted(pc, &src->ip) && co->nauth) {
		bool ok = false;

		for (unsigned int i = 0; i < co->nauth && !ok; i++)
			ok = pol_cidr_match(&co->auth[i], &src->ip);
		if (!ok) {
			rw = policy_user(pc, who->username, who->host);
			if (rw && !rw->rw_calls)
				rw = NULL;
			/* A road warrior may register and call; anyone else is refused. */
			if (!rw)
				return refuse(pol, POL_INVALID_IP, cid, src, m->sip_method);
		}
	}
	if (!initial)
		return POL_REASON_MAX;
	r = limits(pol, co, rw, count, count_arg);
	if (r != POL_REASON_MAX)
		return refuse(pol, r, cid, src, m->sip_method);
	if (rw)
		snprintf(call->rw_user, sizeof(call->rw_user), "%s", rw->aor);
	return POL_REASON_MAX;
}
