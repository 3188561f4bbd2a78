// SPDX-License-Identifier: GPL-2.0-only
/*
 * The persistent copy of the nft policy: the same table, sets, elements and
 * rules as nft.c installs, written as nft text to XS_NFT_FILE_DEFAULT and
 * included once from /etc/nftables.conf, so nftables.service restores it at
 * boot. Unpersist removes exactly the include line xdpsbc added and the file;
 * the rest of nftables.conf is the operator's and stays byte for byte.
 * $XDPSBC_NFT_CONF and $XDPSBC_NFT_FILE move both (tests).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "fw/internal.h"

const char *xs_nft_conf_path(void)
{
	const char *p = getenv("XDPSBC_NFT_CONF");

	return p && *p ? p : XS_NFT_CONF_DEFAULT;
}

const char *xs_nft_file_path(void)
{
	const char *p = getenv("XDPSBC_NFT_FILE");

	return p && *p ? p : XS_NFT_FILE_DEFAULT;
}

static void include_line(char *buf, size_t len)
{
	snprintf(buf, len, "include \"%s\" # added by xdpsbc fw persist\n", xs_nft_file_path());
}

static void key_str(enum xs_nft_set s, const uint8_t *k, char *buf, size_t len)
{
	switch (xs_nft_sets[s].type) {
	case XS_NFT_TYPE_IPV4:
		inet_ntop(AF_INET, k, buf, len);
		break;
	case XS_NFT_TYPE_IPV6:
		inet_ntop(AF_INET6, k, buf, len);
		break;
	case XS_NFT_TYPE_INET_PROTO:
		snprintf(buf, len, "%s", k[0] == 6 ? "tcp" : k[0] == 17 ? "udp" : "0");
		break;
	default:
		snprintf(buf, len, "%u", (unsigned int)k[0] << 8 | k[1]);
	}
}

/* The last key of an interval: end - 1, or the top of the key space. */
static void last_key(const struct xs_nft_elem *e, unsigned int klen, uint8_t *out)
{
	int i;

	if (!e->has_end) {
		memset(out, 0xff, klen);
		return;
	}
	memcpy(out, e->end, klen);
	for (i = (int)klen - 1; i >= 0; i--)
		if (out[i]-- != 0)
			break;
}

static int write_set(FILE *f, const struct xs_maps *m, enum xs_nft_set s,
		     const struct xs_config *cfg)
{
	static const char *const types[] = {[XS_NFT_TYPE_IPV4] = "ipv4_addr",
					    [XS_NFT_TYPE_IPV6] = "ipv6_addr",
					    [XS_NFT_TYPE_INET_SERVICE] = "inet_service",
					    [XS_NFT_TYPE_INET_PROTO] = "inet_proto"};
	const struct xs_nft_setdef *d = &xs_nft_sets[s];
	struct xs_nft_elem *e = NULL;
	size_t n = 0;
	int err = 0;

	fprintf(f, "\tset %s {\n\t\ttype %s\n", d->name, types[d->type]);
	if (d->flags & NFT_SET_EVAL) {
		bool ban = s == XS_NS_BAN4 || s == XS_NS_BAN6;

		fprintf(f, "\t\tsize 65536\n\t\tflags dynamic,timeout\n\t\ttimeout %us\n",
			ban ? (cfg->flood_ban_s ?: 1) : 60);
	} else if (d->flags) {
		fprintf(f, "\t\tflags %s\n",
			d->flags & NFT_SET_TIMEOUT ? "interval,timeout" : "interval");
	}
	if (s != XS_NS_PINHOLES && !(d->flags & NFT_SET_EVAL))
		err = xs_nft_elems(m, s, &e, &n);
	for (size_t i = 0; !err && i < n; i++) {
		char a[64], b[64];
		uint8_t last[16];

		key_str(s, e[i].key, a, sizeof(a));
		fprintf(f, i ? ",\n\t\t\t     %s" : "\t\telements = { %s", a);
		if (d->flags & NFT_SET_INTERVAL) {
			last_key(&e[i], d->len, last);
			if (memcmp(last, e[i].key, d->len)) {
				key_str(s, last, b, sizeof(b));
				fprintf(f, "-%s", b);
			}
		}
		if (e[i].timeout_ms)
			fprintf(f, " timeout %llus",
				(unsigned long long)(e[i].timeout_ms + 999) / 1000);
		if (i == n - 1)
			fprintf(f, " }\n");
	}
	free(e);
	fprintf(f, "\t}\n");
	return err;
}

static void write_rule(FILE *f, const struct xs_nft_rule *r, const struct xs_config *cfg)
{
	const char *ip = r->nfproto == NFPROTO_IPV4 ? "ip" : "ip6";

	fprintf(f, "\t\tmeta nfproto %s", r->nfproto == NFPROTO_IPV4 ? "ipv4" : "ipv6");
	if (r->saddr_set >= 0)
		fprintf(f, " %s saddr @%s", ip, xs_nft_sets[r->saddr_set].name);
	if (r->l4proto == XS_L4_SIP)
		fprintf(f, " meta l4proto @%s", xs_nft_sets[XS_NS_SIPPROTO].name);
	else if (r->l4proto)
		fprintf(f, " meta l4proto %s", r->l4proto == 6 ? "tcp" : "udp");
	if (r->dport_set >= 0)
		fprintf(f, " th dport @%s", xs_nft_sets[r->dport_set].name);
	if (r->dport_not_set >= 0)
		fprintf(f, " th dport != @%s", xs_nft_sets[r->dport_not_set].name);
	/* The same matches as e_match() in nft.c. */
	if (r->match == XS_NFT_M_UDP_REQUEST)
		fprintf(f, " @th,64,32 != 0x%08x @th,64,8 & 0xf8 != 0x08", XS_NFT_SIP_RESPONSE);
	else if (r->match == XS_NFT_M_TCP_SYN)
		fprintf(f, " tcp flags & (fin | syn | rst | ack) == syn");
	if (r->meter >= 0)
		fprintf(f,
			" update @%s { %s saddr limit rate over %llu/second burst %u packets }"
			" add @%s { %s saddr }",
			xs_nft_sets[r->meter].name, ip, (unsigned long long)xs_nft_flood_rate(cfg),
			cfg->flood_rate ?: 1,
			xs_nft_sets[r->meter == XS_NS_FLOOD4 ? XS_NS_BAN4 : XS_NS_BAN6].name, ip);
	fprintf(f, " counter %s comment \"%s: %s\"\n", r->verdict == NF_ACCEPT ? "accept" : "drop",
		XS_NFT_MARKER, r->what);
}

int xs_nft_write(const struct xs_maps *m, const char *path)
{
	struct xs_config cfg;
	char tmp[4096];
	FILE *f;
	int err;

	err = xs_config_get(m, &cfg);
	if (err)
		return err;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f,
		"# Generated by xdpsbc fw persist from the pinned policy: do not edit.\n"
		"# Re-run `xdpsbc fw persist` after changing it; `xdpsbc fw unpersist` removes "
		"it.\n"
		"table inet %s\n"
		"delete table inet %s\n"
		"table inet %s {\n\tcomment \"%s\"\n",
		XS_NFT_TABLE, XS_NFT_TABLE, XS_NFT_TABLE, XS_NFT_MARKER);
	for (int s = 0; !err && s < XS_NS_MAX; s++)
		err = write_set(f, m, s, &cfg);
	fprintf(f, "\tchain %s {\n\t\ttype filter hook prerouting priority raw; policy accept;\n",
		XS_NFT_CHAIN);
	for (unsigned int i = 0; i < xs_nft_nrules; i++)
		write_rule(f, &xs_nft_rules[i], &cfg);
	fprintf(f, "\t}\n}\n");
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

/* Read all of @path; *@buf NUL-terminated. -ENOENT when missing. */
static int slurp(const char *path, char **buf, size_t *len)
{
	FILE *f = fopen(path, "r");
	size_t cap = 4096, n = 0;
	char *b;

	if (!f)
		return -errno;
	b = malloc(cap);
	while (b) {
		size_t r = fread(b + n, 1, cap - n - 1, f);

		n += r;
		if (n < cap - 1)
			break;
		cap *= 2;
		char *nb = realloc(b, cap);

		if (!nb) {
			free(b);
			b = NULL;
		}
		b = nb;
	}
	fclose(f);
	if (!b)
		return -ENOMEM;
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
}

bool xs_nft_persisted(void)
{
	char line[512], *buf;
	size_t len;
	bool yes;

	if (access(xs_nft_file_path(), R_OK) || slurp(xs_nft_conf_path(), &buf, &len))
		return false;
	include_line(line, sizeof(line));
	yes = strstr(buf, line) != NULL;
	free(buf);
	return yes;
}

static int mkdir_parent(const char *path)
{
	char dir[4096], *p;

	snprintf(dir, sizeof(dir), "%s", path);
	p = strrchr(dir, '/');
	if (!p || p == dir)
		return 0;
	*p = 0;
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int xs_nft_persist(const struct xs_maps *m)
{
	const char *conf = xs_nft_conf_path();
	char line[512], *buf = NULL;
	size_t len = 0;
	int err;
	FILE *f;

	err = mkdir_parent(xs_nft_file_path());
	err = err ?: xs_nft_write(m, xs_nft_file_path());
	if (err)
		return err;
	include_line(line, sizeof(line));
	err = slurp(conf, &buf, &len);
	if (err && err != -ENOENT)
		return err;
	if (buf && strstr(buf, line)) {
		free(buf);
		return 0; /* already included: once only */
	}
	f = fopen(conf, "a");
	if (!f) {
		err = -errno;
		free(buf);
		return err;
	}
	if (len && buf[len - 1] != '\n')
		fputc('\n', f);
	fputs(line, f);
	free(buf);
	return fclose(f) ? -errno : 0;
}

int xs_nft_unpersist(void)
{
	const char *conf = xs_nft_conf_path();
	char line[512], tmp[4096], *buf, *at;
	size_t len, ll;
	int err, removed = 0;
	struct stat st;
	FILE *f;

	if (!unlink(xs_nft_file_path()))
		removed = 1;
	else if (errno != ENOENT)
		return -errno;
	err = slurp(conf, &buf, &len);
	if (err == -ENOENT)
		return removed ? 0 : -ENOENT;
	if (err)
		return err;
	include_line(line, sizeof(line));
	ll = strlen(line);
	at = strstr(buf, line);
	if (!at) {
		free(buf);
		return removed ? 0 : -ENOENT;
	}
	/* Keep the file's mode and everything but our line. */
	snprintf(tmp, sizeof(tmp), "%s.xdpsbc-tmp", conf);
	f = fopen(tmp, "w");
	if (!f) {
		err = -errno;
		free(buf);
		return err;
	}
	fwrite(buf, 1, (size_t)(at - buf), f);
	fwrite(at + ll, 1, len - (size_t)(at - buf) - ll, f);
	free(buf);
	if (fclose(f))
		err = -errno;
	if (!err && !stat(conf, &st))
		chmod(tmp, st.st_mode & 07777);
	if (!err && rename(tmp, conf))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
