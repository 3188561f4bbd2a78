// SPDX-License-Identifier: GPL-2.0-only
/*
 * flowprog: program N relay flows into xdpsbc's pinned flow table the way
 * xdpsbc-sigd does for a call leg, without SIP, so the live bench can relay
 * thousands of flows. Flow i: packets to EDGE_IN:PORT+2i leave from
 * EDGE_OUT:PORT+2i towards PEER:PEER_PORT+2i. The relay (pinhole) range is
 * set to cover exactly these ports, as sigd sets it to its RTP range.
 * EDGE_IN is IPv4 or IPv6 (the arriving side's family), EDGE_OUT and PEER
 * of one family (the leaving side's): another family than EDGE_IN's makes
 * the flows translate between IPv4 and IPv6, as sigd programs a call
 * between an IPv6 client and an IPv4 core.
 *
 *   flowprog PIN_ROOT EDGE_IN PORT EDGE_OUT PEER PEER_PORT N [IDLE]
 *   flowprog PIN_ROOT --clear
 *
 * IDLE more flows, keyed on addresses of the benchmarking range
 * 198.18.0.0/15 that no packet of the bench is sent to, fill the table to
 * a given number of concurrent flows (the scaling run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include "lib/xdpsbc.h"

/* @s into a 16-byte address field; returns 4 or 6, or 0 when not an address. */
static int parse46(const char *s, void *a)
{
	memset(a, 0, 16);
	if (inet_pton(AF_INET6, s, a) == 1)
		return 6;
	return inet_pton(AF_INET, s, a) == 1 ? 4 : 0;
}

int main(int argc, char **argv)
{
	struct xs_maps m;
	struct xs_config cfg;
	struct xs_map_usage u;
	__u8 in[16], out[16], peer[16];
	unsigned int port, pport, n, i, idle;
	int err, fin = 0, fout = 0;

	if (argc == 3 && !strcmp(argv[2], "--clear")) {
		/*
		 * Collect the keys first: deleting while walking from the start
		 * makes every get_next_key(NULL) scan the emptied buckets again.
		 */
		struct xs_flow_key *keys, *prev = NULL;
		unsigned int n = 0;

		if (xs_maps_open(argv[1], false, &m))
			return 1;
		keys = calloc(XS_FLOWS_MAX + 1, sizeof(*keys));
		if (!keys)
			return 1;
		while (n <= XS_FLOWS_MAX && !bpf_map_get_next_key(m.flows, prev, &keys[n])) {
			prev = &keys[n];
			n++;
		}
		for (i = 0; i < n; i++)
			bpf_map_delete_elem(m.flows, &keys[i]);
		free(keys);
		xs_maps_close(&m);
		return 0;
	}
	if (argc == 8 || argc == 9) {
		fin = parse46(argv[2], in);
		fout = parse46(argv[4], out);
		if (parse46(argv[5], peer) != fout)
			fout = 0;
	}
	if (!fin || !fout) {
		fprintf(stderr,
			"usage: flowprog PIN_ROOT EDGE_IN PORT EDGE_OUT PEER PEER_PORT N [IDLE]\n"
			"       flowprog PIN_ROOT --clear\n");
		return 2;
	}
	port = atoi(argv[3]);
	pport = atoi(argv[6]);
	n = atoi(argv[7]);
	if (!port || !pport || !n || port + 2 * n > 65536 || pport + 2 * n > 65536 ||
	    n > XS_FLOWS_MAX) {
		fprintf(stderr, "flowprog: ports or count out of range\n");
		return 2;
	}
	err = xs_maps_open(argv[1], true, &m);
	if (err) {
		fprintf(stderr, "flowprog: maps under %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	for (i = 0; i < n; i++) {
		struct xs_flow_key k = {
			.port = htons(port + 2 * i), .proto = IPPROTO_UDP, .v6 = fin == 6};
		struct xs_flow f = {.dst_port = htons(pport + 2 * i),
				    .src_port = htons(port + 2 * i),
				    .flags = fout == 6 ? XS_FLOW_OUT6 : 0};

		memcpy(k.addr6, in, 16);
		memcpy(f.dst_addr6, peer, 16);
		memcpy(f.src_addr6, out, 16);

		if (bpf_map_update_elem(m.flows, &k, &f, BPF_ANY)) {
			fprintf(stderr, "flowprog: flow %u: %s\n", i, strerror(errno));
			return 1;
		}
	}
	idle = argc == 9 ? strtoul(argv[8], NULL, 0) : 0;
	/* As many as the pinned map holds (map-sizes flows). */
	if (xs_map_usage_fd(m.flows, false, &u) || u.max_entries < n)
		u.max_entries = n;
	if (idle > u.max_entries - n)
		idle = u.max_entries - n;
	for (i = 0; i < idle; i++) {
		struct xs_flow_key k = {.addr = htonl(0xc6120000U + (i >> 15)),
					.port = htons(1024 + (i & 0x7fff)),
					.proto = IPPROTO_UDP};
		struct xs_flow f = {.dst_port = htons(pport),
				    .src_port = htons(port),
				    .flags = fout == 6 ? XS_FLOW_OUT6 : 0};

		memcpy(f.dst_addr6, peer, 16);
		memcpy(f.src_addr6, out, 16);

		if (bpf_map_update_elem(m.flows, &k, &f, BPF_ANY)) {
			fprintf(stderr, "flowprog: idle flow %u: %s\n", i, strerror(errno));
			return 1;
		}
	}
	err = xs_config_get(&m, &cfg);
	if (!err) {
		cfg.relay_min = port;
		cfg.relay_max = port + 2 * n - 1;
		cfg.flags |= XS_CFG_PINHOLES;
		err = xs_config_set(&m, &cfg);
	}
	if (err) {
		fprintf(stderr, "flowprog: settings: %s\n", strerror(-err));
		return 1;
	}
	printf("%u flows, %u idle\n", n, idle);
	xs_maps_close(&m);
	return 0;
}
