// SPDX-License-Identifier: GPL-2.0-only
/*
 * flow_put: write one relay flow into the pinned xs_flows, either family on
 * either side, as sigd's media_flow_put() would; for tests that relay real
 * traffic without SIP.
 *
 *   flow_put EDGE PORT SRC SPORT DST DPORT [LATCH]
 *
 * Packets to EDGE:PORT leave from SRC:SPORT towards DST:DPORT; EDGE and
 * LATCH are of the arriving side's family, SRC and DST of the leaving
 * side's (IPv4 or IPv6 literals). With LATCH the flow latches from that
 * address only, within 30 seconds; without, it relays any source. The pin
 * root is $XDPSBC_PIN_ROOT, else the default.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include "lib/xdpsbc.h"

/* @s into an address union field; returns 4 or 6, or 0 when not an address. */
static int addr_put(const char *s, void *field)
{
	memset(field, 0, 16);
	if (inet_pton(AF_INET6, s, field) == 1)
		return 6;
	return inet_pton(AF_INET, s, field) == 1 ? 4 : 0;
}

int main(int argc, char **argv)
{
	const char *root = getenv("XDPSBC_PIN_ROOT");
	struct xs_flow_key k = {.proto = IPPROTO_UDP};
	struct xs_flow f = {.cookie = 0x7e57};
	int in, out, fd, err;
	char path[512];
	uint8_t tmp[16];

	if (argc != 7 && argc != 8) {
		fprintf(stderr, "usage: flow_put EDGE PORT SRC SPORT DST DPORT [LATCH]\n");
		return 2;
	}
	in = addr_put(argv[1], k.addr6);
	out = addr_put(argv[3], f.src_addr6);
	if (!in || !out || addr_put(argv[5], f.dst_addr6) != out ||
	    (argc == 8 && addr_put(argv[7], tmp) != in)) {
		fprintf(stderr, "flow_put: bad address or families that do not match\n");
		return 2;
	}
	k.v6 = in == 6;
	k.port = htons(atoi(argv[2]));
	f.src_port = htons(atoi(argv[4]));
	f.dst_port = htons(atoi(argv[6]));
	if (out == 6)
		f.flags |= XS_FLOW_OUT6;
	if (argc == 8) {
		memcpy(f.latch_addr6, tmp, 16);
		f.flags |= XS_FLOW_LATCH;
		f.latch_until_ns = xs_now_ns() + 30ULL * 1000000000ULL;
	}
	snprintf(path, sizeof(path), "%s/%s", root && *root ? root : XS_PIN_ROOT_DEFAULT,
		 XS_MAP_FLOWS);
	fd = bpf_obj_get(path);
	if (fd < 0) {
		fprintf(stderr, "flow_put: %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = bpf_map_update_elem(fd, &k, &f, BPF_ANY) ? -errno : 0;
	close(fd);
	if (err) {
		fprintf(stderr, "flow_put: %s\n", strerror(-err));
		return 1;
	}
	return 0;
}
