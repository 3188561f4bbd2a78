// SPDX-License-Identifier: GPL-2.0-only
/*
 * flowprog: program N relay flows into xdpsbc's pinned flow table the way
 * xdpsbc-sigd does for a call leg, without SIP, so the live bench can relay
 * thousands of flows. Flow i: packets to EDGE_IN:PORT+2i leave from
 * EDGE_OUT:PORT+2i towards PEER:PEER_PORT+2i. The relay (pinhole) range is
 * set to cover exactly these ports, as sigd sets it to its RTP range.
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

static int parse4(const char *s, __be32 *a)
{
	return inet_pton(AF_INET, s, a) == 1 ? 0 : -EINVAL;
}

int main(int argc, char **argv)
{
	struct xs_maps m;
	struct xs_config cfg;
	struct xs_map_usage u;
	__be32 in, out, peer;
	unsigned int port, pport, n, i, idle;
	int err;

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
	if ((argc != 8 && argc != 9) || parse4(argv[2], &in) || parse4(argv[4], &out) ||
	    parse4(argv[5], &peer)) {
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
			.addr = in, .port = htons(port + 2 * i), .proto = IPPROTO_UDP};
		struct xs_flow f = {.dst_addr = peer,
				    .dst_port = htons(pport + 2 * i),
				    .src_addr = out,
				    .src_port = htons(port + 2 * i)};

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
		struct xs_flow f = {.dst_addr = peer,
				    .dst_port = htons(pport),
				    .src_addr = out,
				    .src_port = htons(port)};

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
