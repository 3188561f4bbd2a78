// SPDX-License-Identifier: GPL-2.0-only
/*
 * Text in, text out: CIDRs, durations, numbers and port ranges as an operator
 * types them. The one parser of each for the CLI and the daemon.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include "lib/xdpsbc.h"

/* Clear the bits past @prefixlen so that 192.0.2.7/24 means 192.0.2.0/24. */
static void clear_host_bits(uint8_t *addr, unsigned int bytes, uint32_t prefixlen)
{
	unsigned int i;

	for (i = 0; i < bytes; i++) {
		if (prefixlen >= 8) {
			prefixlen -= 8;
			continue;
		}
		addr[i] &= (uint8_t)(0xff << (8 - prefixlen));
		prefixlen = 0;
	}
}

/**
 * xs_cidr_parse() - "192.0.2.0/24", "2001:db8::/32" or a bare address.
 *
 * The prefix length is plain decimal, at most the address width; no sign,
 * no spaces, nothing after it. Host bits are cleared.
 * Returns 0, or -EINVAL.
 */
int xs_cidr_parse(const char *s, struct xs_cidr *out)
{
	char buf[INET6_ADDRSTRLEN + 8];
	unsigned long plen;
	const char *p;
	char *slash;
	unsigned int max;

	if (!s || !*s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (inet_pton(AF_INET, buf, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	plen = max;
	if (slash) {
		p = slash + 1;
		if (!*p || strlen(p) > 3)
			return -EINVAL;
		for (const char *q = p; *q; q++)
			if (!isdigit((unsigned char)*q))
				return -EINVAL;
		plen = strtoul(p, NULL, 10);
		if (plen > max)
			return -ERANGE;
	}
	out->prefixlen = plen;
	clear_host_bits(out->addr, max / 8, out->prefixlen);
	return 0;
}

/* Always with the prefix length, as the kernel stores it. */
int xs_cidr_format(const struct xs_cidr *c, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (!inet_ntop(c->family, c->addr, a, sizeof(a)))
		return -errno;
	if ((size_t)snprintf(buf, len, "%s/%u", a, c->prefixlen) >= len)
		return -ENOSPC;
	return 0;
}

/**
 * xs_cidr_overlap() - do @a and @b share an address?
 *
 * Two prefixes overlap exactly when one contains the other: compare the
 * bits of the shorter prefix.
 */
bool xs_cidr_overlap(const struct xs_cidr *a, const struct xs_cidr *b)
{
	uint32_t bits = a->prefixlen < b->prefixlen ? a->prefixlen : b->prefixlen;
	unsigned int i;

	if (a->family != b->family)
		return false;
	for (i = 0; bits >= 8; i++, bits -= 8)
		if (a->addr[i] != b->addr[i])
			return false;
	return !bits || !((a->addr[i] ^ b->addr[i]) & (uint8_t)(0xff << (8 - bits)));
}

/**
 * xs_duration_parse() - "90", "90s", "15m", "2h", "7d", "1w" or "permanent".
 *
 * A bare number is seconds. Zero is rejected rather than guessed at: it
 * could mean "permanent" or "already expired"; say "permanent" for the one
 * and `block del` for the other. Returns 0 (seconds 0 = permanent),
 * -EINVAL for bad text, -ERANGE for zero or more than 100 years.
 */
int xs_duration_parse(const char *s, uint64_t *seconds)
{
	unsigned long long n, mult = 1;
	const char *p = s;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "permanent") || !strcmp(s, "perm") || !strcmp(s, "forever")) {
		*seconds = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	n = 0;
	for (; isdigit((unsigned char)*p); p++) {
		n = n * 10 + (*p - '0');
		if (n > XS_DURATION_MAX)
			return -ERANGE;
	}
	if (*p) {
		switch (*p) {
		case 's':
			mult = 1;
			break;
		case 'm':
			mult = 60;
			break;
		case 'h':
			mult = 3600;
			break;
		case 'd':
			mult = 86400;
			break;
		case 'w':
			mult = 7 * 86400;
			break;
		default:
			return -EINVAL;
		}
		if (p[1])
			return -EINVAL;
	}
	if (!n)
		return -ERANGE;
	if (n > XS_DURATION_MAX / mult)
		return -ERANGE;
	*seconds = n * mult;
	return 0;
}

/**
 * xs_u32_parse() - a decimal number in [@min, @max].
 *
 * Digits only: no sign, no spaces, no base prefix, nothing after them.
 * Returns 0, -EINVAL for bad text, -ERANGE outside the bounds.
 */
int xs_u32_parse(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t n = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		n = n * 10 + (*p - '0');
		if (n > UINT32_MAX)
			return -ERANGE;
	}
	if (n < min || n > max)
		return -ERANGE;
	*out = n;
	return 0;
}

/**
 * xs_port_range_parse() - "MIN-MAX", each 1-65535.
 *
 * Returns 0, -EINVAL for bad text or a port out of 1-65535, -ERANGE when
 * MIN is above MAX.
 */
int xs_port_range_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[16], *dash;
	uint32_t a, b;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (xs_u32_parse(buf, 1, 65535, &a) || xs_u32_parse(dash + 1, 1, 65535, &b))
		return -EINVAL;
	if (a > b)
		return -ERANGE;
	*lo = a;
	*hi = b;
	return 0;
}

uint64_t xs_now_ns(void)
{
	struct timespec ts;

	/* The XDP program's bpf_ktime_get_coarse_ns() reads this very clock. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/*
 * Datapath clock nanoseconds -> wall-clock seconds (for display only). In
 * nanoseconds throughout, so the same instant converts to the same second
 * on every call.
 */
int64_t xs_clock_to_wall(uint64_t clock_ns)
{
	struct timespec rt;
	int64_t now = xs_now_ns(), wall_ns;

	clock_gettime(CLOCK_REALTIME, &rt);
	wall_ns = (int64_t)rt.tv_sec * 1000000000LL + rt.tv_nsec + ((int64_t)clock_ns - now);
	return wall_ns >= 0 ? wall_ns / 1000000000LL : -((-wall_ns + 999999999LL) / 1000000000LL);
}
