// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text at /metrics (and the CLI's "metrics"): XDP verdict
 * counters, map sizes and use, calls per tenant, policy, SIP, transport and
 * control API counters.
 */
#include <arpa/inet.h>

#include "ctl/api.h"
#include "sip/binding.h"
#include "sip/dialog.h"
#include "sip/dns.h"
#include "sip/tls.h"
#include "sip/transport.h"
#include "sip/txn.h"

static void metric_head(struct sbuf *o, const char *name, const char *type, const char *help)
{
	sb_printf(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * Size and kernel memory of the maps that have a size knob, and the use of
 * the two that fill up with traffic, xs_flood and xs_flows. Their use is a
 * batched walk (lib/usage.c), paid per scrape in the SIP loop: about
 * 45 ms for a full 2^18-entry map, ~0.2 us an entry.
 */
static void ctl_metrics_maps(struct ctl *c, struct sbuf *o)
{
	const struct {
		const char *name;
		int fd;
	} maps[] = {
		{XS_MAP_FLOOD, c->maps->flood},	      {XS_MAP_FLOWS, c->maps->flows},
		{XS_MAP_BLOCK4, c->maps->block4},     {XS_MAP_BLOCK6, c->maps->block6},
		{XS_MAP_BLKNOTE4, c->maps->blknote4}, {XS_MAP_BLKNOTE6, c->maps->blknote6},
		{XS_MAP_TRUST4, c->maps->trust4},     {XS_MAP_TRUST6, c->maps->trust6},
	};
	struct xs_map_usage u[sizeof(maps) / sizeof(maps[0])];
	const size_t n = sizeof(maps) / sizeof(maps[0]);
	size_t i;

	/* Counted: the hash maps (batched); LPM walks are slow (xdpsbc_blocklist_entries). */
	for (i = 0; i < n; i++)
		if (xs_map_usage_fd(maps[i].fd, i < 2, &u[i]))
			u[i].max_entries = 0, u[i].entries = -1;
	metric_head(o, "xdpsbc_map_max_entries", "gauge",
		    "Entries a map was created with (map-sizes); full maps: docs/operations.md.");
	for (i = 0; i < n; i++)
		sb_printf(o, "xdpsbc_map_max_entries{map=\"%s\"} %u\n", maps[i].name,
			  u[i].max_entries);
	metric_head(o, "xdpsbc_map_entries", "gauge", "Entries in use.");
	for (i = 0; i < n; i++)
		if (u[i].entries >= 0)
			sb_printf(o, "xdpsbc_map_entries{map=\"%s\"} %ld\n", maps[i].name,
				  u[i].entries);
	metric_head(o, "xdpsbc_map_memory_bytes", "gauge",
		    "Kernel memory of the map (memlock in fdinfo).");
	for (i = 0; i < n; i++)
		sb_printf(o, "xdpsbc_map_memory_bytes{map=\"%s\"} %llu\n", maps[i].name,
			  (unsigned long long)u[i].memlock);
}

/* TCP connections (refused, closed by the limits) and the resolver cache. */
static void metrics_transport(struct sbuf *o)
{
	struct tp_stats t;
	struct dns_stats d;

	tp_get_stats(&t);
	dns_get_stats(&d);
	metric_head(o, "xdpsbc_sigd_tcp_connections", "gauge", "TCP connections open.");
	sb_printf(o, "xdpsbc_sigd_tcp_connections %u\n", t.conns);
	metric_head(o, "xdpsbc_sigd_tcp_events_total", "counter",
		    "TCP connections accepted, refused and closed by a limit, per event.");
	sb_printf(o,
		  "xdpsbc_sigd_tcp_events_total{event=\"accepted\"} %llu\n"
		  "xdpsbc_sigd_tcp_events_total{event=\"refused-cap\"} %llu\n"
		  "xdpsbc_sigd_tcp_events_total{event=\"refused-source\"} %llu\n"
		  "xdpsbc_sigd_tcp_events_total{event=\"refused-fd\"} %llu\n"
		  "xdpsbc_sigd_tcp_events_total{event=\"closed-timeout\"} %llu\n"
		  "xdpsbc_sigd_tcp_events_total{event=\"closed-overflow\"} %llu\n"
		  "xdpsbc_sigd_tcp_events_total{event=\"closed-bad-frame\"} %llu\n",
		  (unsigned long long)t.accepted, (unsigned long long)t.refused_cap,
		  (unsigned long long)t.refused_source, (unsigned long long)t.refused_fd,
		  (unsigned long long)t.closed_timeout, (unsigned long long)t.closed_overflow,
		  (unsigned long long)t.closed_bad_frame);
	{
		struct tls_stats ts;

		tls_get_stats(&ts);
		metric_head(o, "xdpsbc_sigd_tls_handshakes_total", "counter",
			    "TLS handshakes, per result (verify-failed: also counted in failed).");
		sb_printf(o,
			  "xdpsbc_sigd_tls_handshakes_total{result=\"ok\"} %llu\n"
			  "xdpsbc_sigd_tls_handshakes_total{result=\"failed\"} %llu\n"
			  "xdpsbc_sigd_tls_handshakes_total{result=\"verify-failed\"} %llu\n",
			  (unsigned long long)ts.handshakes,
			  (unsigned long long)ts.handshake_failed,
			  (unsigned long long)ts.verify_failed);
	}
	metric_head(o, "xdpsbc_sigd_dns_lookups_total", "counter",
		    "Host name lookups by the SIP layer, per result.");
	sb_printf(o,
		  "xdpsbc_sigd_dns_lookups_total{result=\"hit\"} %llu\n"
		  "xdpsbc_sigd_dns_lookups_total{result=\"miss\"} %llu\n"
		  "xdpsbc_sigd_dns_lookups_total{result=\"failed\"} %llu\n"
		  "xdpsbc_sigd_dns_lookups_total{result=\"timeout\"} %llu\n"
		  "xdpsbc_sigd_dns_lookups_total{result=\"queue-full\"} %llu\n",
		  (unsigned long long)d.hits, (unsigned long long)d.misses,
		  (unsigned long long)d.failures, (unsigned long long)d.timeouts,
		  (unsigned long long)d.queue_full);
	metric_head(o, "xdpsbc_sigd_dns_names", "gauge", "Names in the resolver cache.");
	sb_printf(o, "xdpsbc_sigd_dns_names{state=\"cached\"} %u\n", d.entries - d.pending);
	sb_printf(o, "xdpsbc_sigd_dns_names{state=\"pending\"} %u\n", d.pending);
}

void ctl_metrics(struct ctl *c, struct sbuf *o)
{
	const struct proxy *px = c->px;
	const struct policy_cfg *pc = &c->cfg->pol;
	struct xs_counter st[XS_REASON_MAX];

	if (!xs_stats_read(c->maps, st)) {
		metric_head(o, "xdpsbc_packets_total", "counter",
			    "Packets by XDP verdict reason (all CPUs).");
		for (int r = 0; r < XS_REASON_MAX; r++)
			sb_printf(o, "xdpsbc_packets_total{reason=\"%s\",action=\"%s\"} %llu\n",
				  xs_reason_name(r), xs_reason_action(r),
				  (unsigned long long)st[r].packets);
		metric_head(o, "xdpsbc_bytes_total", "counter", "Bytes by XDP verdict reason.");
		for (int r = 0; r < XS_REASON_MAX; r++)
			sb_printf(o, "xdpsbc_bytes_total{reason=\"%s\",action=\"%s\"} %llu\n",
				  xs_reason_name(r), xs_reason_action(r),
				  (unsigned long long)st[r].bytes);
	}
	metric_head(o, "xdpsbc_bans_total", "counter",
		    "Sources banned by the XDP flood stage (ring buffer events seen by sigd).");
	sb_printf(o, "xdpsbc_bans_total %llu\n", (unsigned long long)c->bans.total);
	metric_head(o, "xdpsbc_blocklist_entries", "gauge", "Entries in the XDP blocklist.");
	sb_printf(o, "xdpsbc_blocklist_entries %lu\n",
		  xs_map_count_lpm(c->maps->block4) + xs_map_count_lpm(c->maps->block6));
	ctl_metrics_maps(c, o);
	{
		char *cm = cluster_metrics(); /* NULL on a single edge */

		if (cm)
			sb_printf(o, "%s", cm);
		free(cm);
	}
	metric_head(o, "xdpsbc_media_flows_refused_total", "counter",
		    "Relay flow inserts refused because xs_flows was full (calls answered 503).");
	sb_printf(o, "xdpsbc_media_flows_refused_total %llu\n",
		  (unsigned long long)media_flows_full(px->mc));
	metric_head(o, "xdpsbc_media_ports", "gauge",
		    "Relay ports per media address (media-ip), in use and in all; a call holds 4 "
		    "per audio stream, and is answered 503 when no address has them.");
	{
		unsigned int used, total;
		struct in_addr a;
		char ab[INET_ADDRSTRLEN];

		for (unsigned int i = 0; media_addr_ports(px->mc, i, &a, &used, &total) > 0; i++) {
			inet_ntop(AF_INET, &a, ab, sizeof(ab));
			sb_printf(o, "xdpsbc_media_ports{address=\"%s\",state=\"used\"} %u\n", ab,
				  used);
			sb_printf(o, "xdpsbc_media_ports{address=\"%s\",state=\"total\"} %u\n", ab,
				  total);
		}
	}
	metric_head(
		o, "xdpsbc_policy_block_errors_total", "counter",
		"Blocks sigd could not store in the XDP blocklist (full: map-sizes blocklist).");
	sb_printf(o, "xdpsbc_policy_block_errors_total %llu\n",
		  (unsigned long long)px->pol.block_errors);
	metric_head(o, "xdpsbc_calls", "gauge", "Calls in progress (dialogs) per company.");
	for (unsigned int i = 0; i < pc->ncompanies; i++)
		sb_printf(o, "xdpsbc_calls{company=\"%s\",brand=\"%s\"} %u\n",
			  pc->companies[i].name, pc->companies[i].brand,
			  proxy_count_calls(pc->companies[i].name, NULL, NULL, NULL));
	sb_printf(o, "xdpsbc_calls{company=\"\",brand=\"\"} %u\n",
		  proxy_count_calls("", NULL, NULL, NULL));
	metric_head(o, "xdpsbc_brand_calls", "gauge", "Calls in progress per brand.");
	for (unsigned int i = 0; i < pc->nbrands; i++)
		sb_printf(o, "xdpsbc_brand_calls{brand=\"%s\"} %u\n", pc->brands[i].name,
			  proxy_count_calls(NULL, pc->brands[i].name, NULL, NULL));
	metric_head(o, "xdpsbc_policy_refusals_total", "counter",
		    "Requests refused or dropped by sigd's policy, per reason.");
	for (int r = 0; r < POL_REASON_MAX; r++)
		sb_printf(o, "xdpsbc_policy_refusals_total{reason=\"%s\"} %llu\n",
			  pol_reason_label(r), (unsigned long long)px->pol.refusals[r]);
	metric_head(o, "xdpsbc_policy_blocks_total", "counter",
		    "Sources sigd put in the XDP blocklist, per cause.");
	sb_printf(o, "xdpsbc_policy_blocks_total{cause=\"scanner\"} %llu\n",
		  (unsigned long long)px->pol.blocks_scanner);
	sb_printf(o, "xdpsbc_policy_blocks_total{cause=\"bruteforce\"} %llu\n",
		  (unsigned long long)px->pol.blocks_bruteforce);
	metric_head(o, "xdpsbc_sigd_messages_total", "counter", "SIP messages handled by sigd.");
	sb_printf(o,
		  "xdpsbc_sigd_messages_total{kind=\"received\"} %llu\n"
		  "xdpsbc_sigd_messages_total{kind=\"sent\"} %llu\n"
		  "xdpsbc_sigd_messages_total{kind=\"bad\"} %llu\n"
		  "xdpsbc_sigd_messages_total{kind=\"dropped\"} %llu\n"
		  "xdpsbc_sigd_messages_total{kind=\"rejected\"} %llu\n"
		  "xdpsbc_sigd_messages_total{kind=\"retransmission_absorbed\"} %llu\n"
		  "xdpsbc_sigd_messages_total{kind=\"timeout\"} %llu\n",
		  (unsigned long long)px->st.rx, (unsigned long long)px->st.tx,
		  (unsigned long long)px->st.bad, (unsigned long long)px->st.dropped,
		  (unsigned long long)px->st.rejected, (unsigned long long)px->st.retrans_absorbed,
		  (unsigned long long)px->st.timeouts);
	metric_head(o, "xdpsbc_sigd_dialogs", "gauge", "Dialogs (calls) sigd tracks.");
	sb_printf(o, "xdpsbc_sigd_dialogs %u\n", dlg_count());
	metric_head(o, "xdpsbc_sigd_transactions", "gauge", "Transactions in the table.");
	sb_printf(o, "xdpsbc_sigd_transactions %u\n", txn_count());
	metric_head(o, "xdpsbc_sigd_registrations", "gauge", "Registrations seen.");
	sb_printf(o, "xdpsbc_sigd_registrations %u\n", binding_count());
	metrics_transport(o);
	metric_head(o, "xdpsbc_api_requests_total", "counter", "Control API requests.");
	sb_printf(o,
		  "xdpsbc_api_requests_total{api=\"http\"} %llu\n"
		  "xdpsbc_api_requests_total{api=\"unix\"} %llu\n"
		  "xdpsbc_api_requests_total{api=\"http-unauthorised\"} %llu\n",
		  (unsigned long long)c->http_requests, (unsigned long long)c->unix_requests,
		  (unsigned long long)c->http_unauthorised);
	metric_head(o, "xdpsbc_api_connections_refused_total", "counter",
		    "Control API connections refused or dropped before an answer, per cause.");
	sb_printf(o,
		  "xdpsbc_api_connections_refused_total{cause=\"full\"} %llu\n"
		  "xdpsbc_api_connections_refused_total{cause=\"per-source\"} %llu\n"
		  "xdpsbc_api_connections_refused_total{cause=\"auth-timeout\"} %llu\n",
		  (unsigned long long)c->refused_full, (unsigned long long)c->refused_per_src,
		  (unsigned long long)c->auth_timeouts);
}
