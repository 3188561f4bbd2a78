/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers of the SDP/media tests (test_sdp*.c): recorded SIP messages from
 * tests/sip/data, a private xs_flows hash map (no XDP program needed), and
 * checks of rewritten bodies and of flows. Header-only: each test_*.c is its
 * own program.
 */
#ifndef XDPSBC_TESTS_SDP_TEST_H
#define XDPSBC_TESTS_SDP_TEST_H

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <osipparser2/osip_parser.h>
#include <osipparser2/osip_port.h>

#include "../lib/check.h"
#include "media/media.h"
#include "xdpsbc_common.h"

#define PUBLIC_IP "203.0.113.1"
#define L(s)	  s "\r\n" /* one SDP line */

static char data_dir[PATH_MAX];

/* tests/sip/data from the repo root (run.sh) or next to build/tests/. */
static inline int find_data(const char *argv0)
{
	char exe[PATH_MAX - 32];
	ssize_t n;

	if (!access("tests/sip/data/invite.sip", R_OK)) {
		snprintf(data_dir, sizeof(data_dir), "tests/sip/data");
		return 0;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		*strrchr(exe, '/') = 0;
		snprintf(data_dir, sizeof(data_dir), "%s/../../tests/sip/data", exe);
		if (!access(data_dir, R_OK))
			return 0;
	}
	return -ENOENT;
}

static inline char *load_file(const char *name, size_t *len)
{
	char path[PATH_MAX + 64];
	char *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static inline osip_message_t *load_msg(const char *name)
{
	osip_message_t *m;
	size_t len;
	char *buf = load_file(name, &len);

	if (!buf)
		return NULL;
	if (osip_message_init(&m) || osip_message_parse(m, buf, len)) {
		free(buf);
		return NULL;
	}
	free(buf);
	return m;
}

/* The message as it would go on the wire (malloc'd). */
static inline char *msg_str(osip_message_t *m)
{
	char *s, *copy;
	size_t len;

	osip_message_force_update(m);
	if (osip_message_to_str(m, &s, &len))
		return NULL;
	copy = strndup(s, len);
	osip_free(s);
	return copy;
}

static inline const char *body_of(const char *wire)
{
	const char *p = strstr(wire, "\r\n\r\n");

	return p ? p + 4 : "";
}

static inline long content_length_of(const char *wire)
{
	const char *p = strcasestr(wire, "\r\nContent-Length:");

	return p ? strtol(p + 17, NULL, 10) : -1;
}

static char call_id_buf[256];

static inline const char *call_id_of(osip_message_t *m)
{
	char *s = NULL;

	call_id_buf[0] = 0;
	if (m->call_id && !osip_call_id_to_str(m->call_id, &s)) {
		snprintf(call_id_buf, sizeof(call_id_buf), "%s", s);
		osip_free(s);
	}
	return call_id_buf;
}

/*
 * Rewrite recorded message @file as sent by @from; *@wire gets the result on
 * the wire (caller frees). Returns media_rewrite()'s result, or -ENOENT.
 */
static inline int rewrite_file(struct media_ctx *mc, const char *file, enum media_side from,
			       char **wire)
{
	osip_message_t *m = load_msg(file);
	int err;

	*wire = NULL;
	if (!m)
		return -ENOENT;
	err = media_rewrite(mc, m, call_id_of(m), from, NULL);
	*wire = msg_str(m);
	osip_message_free(m);
	return err;
}

/* The body is exactly @want and Content-Length says its length. */
static inline int check_body(const char *name, const char *wire, const char *want)
{
	const char *body = body_of(wire);
	int ok = 1;

	if (strcmp(body, want)) {
		T_FAIL(name, "body differs:\n--- got\n%s--- want\n%s---", body, want);
		ok = 0;
	}
	if (content_length_of(wire) != (long)strlen(body)) {
		T_FAIL(name, "Content-Length %ld, body %zu bytes", content_length_of(wire),
		       strlen(body));
		ok = 0;
	}
	return ok;
}

static inline int flows_create(void)
{
	return bpf_map_create(BPF_MAP_TYPE_HASH, "xs_flows_test", sizeof(struct xs_flow_key),
			      sizeof(struct xs_flow), 1024, NULL);
}

static inline unsigned int flows_count(int fd)
{
	struct xs_flow_key k, next;
	unsigned int n = 0;
	void *prev = NULL;

	while (n < 100000 && !bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		n++;
	}
	return n;
}

static inline struct xs_flow_key flow_key_of(uint16_t port)
{
	struct xs_flow_key k;

	memset(&k, 0, sizeof(k));
	inet_pton(AF_INET, PUBLIC_IP, &k.addr);
	k.port = htons(port);
	k.proto = IPPROTO_UDP;
	return k;
}

static inline int flow_get(int fd, uint16_t port, struct xs_flow *f)
{
	struct xs_flow_key k = flow_key_of(port);

	return bpf_map_lookup_elem(fd, &k, f) ? -errno : 0;
}

static inline int flow_put(int fd, uint16_t port, const struct xs_flow *f)
{
	struct xs_flow_key k = flow_key_of(port);

	return bpf_map_update_elem(fd, &k, f, BPF_EXIST) ? -errno : 0;
}

static inline const char *ep(char *buf, __be32 addr, __be16 port)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &addr, a, sizeof(a));
	sprintf(buf, "%s:%u", a, ntohs(port));
	return buf;
}

/*
 * The flow keyed {PUBLIC_IP, @port, udp}: its destination, source (always the
 * edge address) and expected sender as "addr:port", and its cookie.
 */
static inline int check_flow(const char *name, int fd, uint16_t port, const char *dst,
			     uint16_t src_port, const char *expect, const char *call_id)
{
	char got_dst[32], got_src[32], got_exp[32], want_src[32];
	struct xs_flow f;

	if (flow_get(fd, port, &f)) {
		T_FAIL(name, "no flow on port %u", port);
		return 0;
	}
	ep(got_dst, f.dst_addr, f.dst_port);
	ep(got_src, f.src_addr, f.src_port);
	ep(got_exp, f.expect_addr, f.expect_port);
	snprintf(want_src, sizeof(want_src), PUBLIC_IP ":%u", src_port);
	if (strcmp(got_dst, dst) || strcmp(got_src, want_src) || strcmp(got_exp, expect) ||
	    f.cookie != media_cookie(call_id)) {
		T_FAIL(name, "flow %u: dst %s src %s expect %s cookie %s; want %s %s %s", port,
		       got_dst, got_src, got_exp,
		       f.cookie == media_cookie(call_id) ? "ok" : "wrong", dst, want_src, expect);
		return 0;
	}
	return 1;
}

struct env {
	int fd;
	struct media_ctx *mc;
	struct media_opts o;
};

/* Port picks in order (0, 1, 2, ...): the rewritten SDP is then known. */
static uint32_t seq_rng_next;
static inline uint32_t seq_rng(void)
{
	return seq_rng_next++;
}

/* A private flow map and a media context on it: ports @min-@max, allocated in order. */
static inline int env_open(struct env *e, uint16_t min, uint16_t max, unsigned int timeout_s)
{
	memset(&e->o, 0, sizeof(e->o));
	inet_pton(AF_INET, PUBLIC_IP, &e->o.public_ip);
	e->o.port_min = min;
	e->o.port_max = max;
	e->o.timeout_s = timeout_s;
	e->o.port_rng = seq_rng;
	seq_rng_next = 0;
	e->fd = flows_create();
	if (e->fd < 0)
		return -errno;
	e->o.flows_fd = e->fd;
	e->mc = media_new(&e->o);
	if (!e->mc) {
		close(e->fd);
		return -ENOMEM;
	}
	return 0;
}

static inline int env_new(struct env *e)
{
	return env_open(e, 20000, 20099, 60);
}

static inline void env_free(struct env *e)
{
	media_free(e->mc);
	close(e->fd);
}

static inline uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the datapath clock */
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* XDPSBC_TESTS_SDP_TEST_H */
