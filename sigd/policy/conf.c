// SPDX-License-Identifier: GPL-2.0-only
/*
 * Policy settings: defaults, the global list keys, and the config file's
 * [brand NAME], [company NAME] and [user USER@DOMAIN] sections.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "policy/policy.h"

static const char *const default_scanners[] = {"friendly-scanner", "sipvicious", "sipcli",
					       "VaxSIPUserAgent", "pplsip"};

void policy_cfg_defaults(struct policy_cfg *pc)
{
	memset(pc, 0, sizeof(*pc));
	for (unsigned int i = 0; i < sizeof(default_scanners) / sizeof(default_scanners[0]); i++)
		snprintf(pc->scanner_ua[pc->nscanner++], POL_UA_LEN, "%s", default_scanners[i]);
	pc->scanner_block_s = 86400;
	pc->bf_threshold = 20;
	pc->bf_window_s = 60;
	pc->bf_block_s = 600;
	pc->bf_block_max_s = 86400;
	pc->bf_forget_s = 86400;
	pc->max_msg = 16384;
	pc->max_ruri = 1024;
}

static int parse_u(const char *v, unsigned long max, unsigned int *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || !*v || *end || n > max || *v == '-')
		return -EINVAL;
	*out = n;
	return 0;
}

/* Calls @fn on each comma/space separated item of @v. */
static int each_item(const char *v, int (*fn)(void *, const char *), void *arg)
{
	char buf[4096], *save, *tok;

	if (strlen(v) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		int err = fn(arg, tok);

		if (err)
			return err;
	}
	return 0;
}

/* IPv4 and IPv6 CIDRs are accepted; sigd's signalling is IPv4, so v6 never matches yet. */
static int add_cidr(struct xs_cidr *arr, unsigned int *n, unsigned int max, const char *s)
{
	if (*n >= max)
		return -E2BIG;
	if (xs_cidr_parse(s, &arr[*n]))
		return -EINVAL;
	(*n)++;
	return 0;
}

static int add_trusted(void *arg, const char *s)
{
	struct policy_cfg *pc = arg;

	return add_cidr(pc->trusted, &pc->ntrusted, POL_MAX_TRUSTED, s);
}

int policy_set_trusted(struct policy_cfg *pc, const char *v)
{
	pc->ntrusted = 0;
	return each_item(v, add_trusted, pc);
}

static int add_ua(void *arg, const char *s)
{
	struct policy_cfg *pc = arg;

	if (pc->nscanner >= POL_MAX_UA)
		return -E2BIG;
	if (strlen(s) >= POL_UA_LEN)
		return -EINVAL;
	strcpy(pc->scanner_ua[pc->nscanner++], s);
	return 0;
}

int policy_set_scanner_ua(struct policy_cfg *pc, const char *v)
{
	pc->nscanner = 0;
	if (!strcmp(v, "none"))
		return 0;
	return each_item(v, add_ua, pc);
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = tolower((unsigned char)*s);
}

static bool valid_name(const char *s, size_t max)
{
	if (!*s || strlen(s) >= max)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.@+", *s))
			return false;
	return true;
}

static struct pol_company *company(struct policy_cfg *pc, const char *name)
{
	for (unsigned int i = 0; i < pc->ncompanies; i++)
		if (!strcmp(pc->companies[i].name, name))
			return &pc->companies[i];
	return NULL;
}

#define ERR(...) (snprintf(err, err_len, __VA_ARGS__), -EINVAL)

int policy_section_begin(struct policy_cfg *pc, const char *hdr, char *sect, size_t sect_len,
			 char *err, size_t err_len)
{
	char kind[16], name[POL_AOR_LEN + 1];
	int n = 0;

	if (sscanf(hdr, "[%15s %160[^] \t]]%n", kind, name, &n) != 2 || !n || hdr[n])
		return ERR("section header must be [brand NAME], [company NAME] or [user "
			   "USER@DOMAIN]");
	if (!strcmp(kind, "brand")) {
		if (!valid_name(name, POL_NAME_LEN))
			return ERR("bad brand name '%.60s'", name);
		if (policy_brand(pc, name))
			return ERR("brand '%.60s' defined twice", name);
		if (pc->nbrands >= POL_MAX_BRANDS)
			return ERR("more than %d brands", POL_MAX_BRANDS);
		snprintf(pc->brands[pc->nbrands++].name, POL_NAME_LEN, "%.63s", name);
	} else if (!strcmp(kind, "company")) {
		if (!valid_name(name, POL_NAME_LEN))
			return ERR("bad company name '%.60s'", name);
		if (company(pc, name))
			return ERR("company '%.60s' defined twice", name);
		if (pc->ncompanies >= POL_MAX_COMPANY)
			return ERR("more than %d companies", POL_MAX_COMPANY);
		snprintf(pc->companies[pc->ncompanies++].name, POL_NAME_LEN, "%.63s", name);
	} else if (!strcmp(kind, "user")) {
		char *at = strchr(name, '@');

		if (!at || at == name || !at[1] || !valid_name(name, POL_AOR_LEN))
			return ERR("bad user '%s' (USER@DOMAIN)", name);
		lower(at);
		for (unsigned int i = 0; i < pc->nusers; i++)
			if (!strcmp(pc->users[i].aor, name))
				return ERR("user '%.60s' defined twice", name);
		if (pc->nusers >= POL_MAX_USERS)
			return ERR("more than %d users", POL_MAX_USERS);
		snprintf(pc->users[pc->nusers++].aor, POL_AOR_LEN, "%.159s", name);
	} else {
		return ERR("unknown section kind '%s' (brand, company, user)", kind);
	}
	snprintf(sect, sect_len, "%.15s %.160s", kind, name);
	return 0;
}

struct co_arg {
	struct pol_company *co;
	struct policy_cfg *pc;
};

static int add_domain(void *arg, const char *d)
{
	struct co_arg *a = arg;
	struct pol_company *co = a->co;

	if (co->ndomains >= POL_MAX_CO_DOM)
		return -E2BIG;
	if (strlen(d) >= POL_DOMAIN_LEN)
		return -EINVAL;
	strcpy(co->domains[co->ndomains], d);
	lower(co->domains[co->ndomains]);
	if (policy_company_of(a->pc, co->domains[co->ndomains]))
		return -EEXIST;
	co->ndomains++;
	return 0;
}

static int add_auth(void *arg, const char *s)
{
	struct pol_company *co = arg;

	return add_cidr(co->auth, &co->nauth, POL_MAX_CO_CIDRS, s);
}

static int company_set(struct policy_cfg *pc, struct pol_company *co, const char *key,
		       const char *val, char *err, size_t err_len)
{
	int e;

	if (!strcmp(key, "brand")) {
		if (!valid_name(val, POL_NAME_LEN))
			return ERR("bad brand name '%s'", val);
		strcpy(co->brand, val);
		return 0;
	}
	if (!strcmp(key, "domains")) {
		struct co_arg a = {co, pc};

		co->ndomains = 0;
		e = each_item(val, add_domain, &a);
		if (e == -EEXIST)
			return ERR("a domain of '%s' already belongs to a company", val);
		return e ? ERR("bad domains '%s' (at most %d)", val, POL_MAX_CO_DOM) : 0;
	}
	if (!strcmp(key, "authorised-ips") || !strcmp(key, "authorized-ips")) {
		co->nauth = 0;
		e = each_item(val, add_auth, co);
		return e ? ERR("bad CIDR list '%s' (at most %d)", val, POL_MAX_CO_CIDRS) : 0;
	}
	if (!strcmp(key, "max-calls"))
		return parse_u(val, 1000000, &co->max_calls) ? ERR("bad max-calls '%s'", val) : 0;
	return ERR("unknown company key '%s' (brand, domains, authorised-ips, max-calls)", key);
}

int policy_section_set(struct policy_cfg *pc, const char *sect, const char *key, const char *val,
		       char *err, size_t err_len)
{
	const char *name = strchr(sect, ' ');

	if (!name)
		return ERR("'%s' outside a section", key);
	name++;
	if (!strncmp(sect, "brand ", 6)) {
		struct pol_brand *b = (struct pol_brand *)policy_brand(pc, name);

		if (strcmp(key, "max-calls"))
			return ERR("unknown brand key '%s' (max-calls)", key);
		return parse_u(val, 1000000, &b->max_calls) ? ERR("bad max-calls '%s'", val) : 0;
	}
	if (!strncmp(sect, "company ", 8))
		return company_set(pc, company(pc, name), key, val, err, err_len);
	for (unsigned int i = 0; i < pc->nusers; i++) {
		struct pol_user *u = &pc->users[i];

		if (strcmp(u->aor, name))
			continue;
		if (strcmp(key, "road-warrior-calls"))
			return ERR("unknown user key '%s' (road-warrior-calls)", key);
		return parse_u(val, 1000, &u->rw_calls) ? ERR("bad road-warrior-calls '%s'", val)
							: 0;
	}
	return ERR("'%s' outside a section", key);
}

int policy_cfg_check(const struct policy_cfg *pc, char *err, size_t err_len)
{
	for (unsigned int i = 0; i < pc->ncompanies; i++) {
		const struct pol_company *co = &pc->companies[i];

		if (co->brand[0] && !policy_brand(pc, co->brand))
			return ERR("company '%s': unknown brand '%s'", co->name, co->brand);
		if (!co->ndomains)
			return ERR("company '%s' has no domains", co->name);
	}
	for (unsigned int i = 0; i < pc->nusers; i++)
		if (!policy_company_of(pc, strchr(pc->users[i].aor, '@') + 1))
			return ERR("user '%s': no company serves its domain", pc->users[i].aor);
	if (pc->bf_block_max_s < pc->bf_block_s)
		return ERR("bruteforce-block-max is shorter than bruteforce-block");
	return 0;
}

bool pol_cidr_match(const struct xs_cidr *c, const struct sip_ip *ip)
{
	return sip_ip_in_cidr(ip, c);
}

bool policy_trusted(const struct policy_cfg *pc, const struct sip_ip *ip)
{
	for (unsigned int i = 0; i < pc->ntrusted; i++)
		if (pol_cidr_match(&pc->trusted[i], ip))
			return true;
	return false;
}

const struct pol_company *policy_company_of(const struct policy_cfg *pc, const char *domain)
{
	if (!domain)
		return NULL;
	for (unsigned int i = 0; i < pc->ncompanies; i++)
		for (unsigned int j = 0; j < pc->companies[i].ndomains; j++)
			if (!strcasecmp(pc->companies[i].domains[j], domain))
				return &pc->companies[i];
	return NULL;
}

const struct pol_company *policy_company_of_source(const struct policy_cfg *pc,
						   const struct sip_ip *ip)
{
	const struct pol_company *best = NULL;
	int best_len = -1;

	for (unsigned int i = 0; i < pc->ncompanies; i++)
		for (unsigned int j = 0; j < pc->companies[i].nauth; j++) {
			const struct xs_cidr *c = &pc->companies[i].auth[j];

			if ((int)c->prefixlen > best_len && pol_cidr_match(c, ip)) {
				best = &pc->companies[i];
				best_len = c->prefixlen;
			}
		}
	return best;
}

const struct pol_brand *policy_brand(const struct policy_cfg *pc, const char *name)
{
	for (unsigned int i = 0; i < pc->nbrands; i++)
		if (!strcmp(pc->brands[i].name, name))
			return &pc->brands[i];
	return NULL;
}

const struct pol_user *policy_user(const struct policy_cfg *pc, const char *user,
				   const char *domain)
{
	size_t ul;

	if (!user || !domain)
		return NULL;
	ul = strlen(user);
	for (unsigned int i = 0; i < pc->nusers; i++) {
		const char *aor = pc->users[i].aor;

		if (!strncmp(aor, user, ul) && aor[ul] == '@' && !strcasecmp(aor + ul + 1, domain))
			return &pc->users[i];
	}
	return NULL;
}
