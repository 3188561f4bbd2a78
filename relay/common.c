// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the userspace datapaths share: their names, the latching decision
 * (the XDP program's xs_latch() in bpf/lib/relay.h, in C), the write-back of
 * a flow's counters, and the small state file that tells `xdpsbc status`
 * which datapath and firewall sigd runs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <netinet/in.h>
#include <bpf/bpf.h>

#include "xdpsbc_latch.h"
#include "relay/relay.h"
#include "relay/internal.h"

static const char *const dp_names[] = {
	[XS_DP_AUTO] = "auto", [XS_DP_XDP] = "xdp", [XS_DP_AFXDP] = "afxdp", [XS_DP_UDP] = "udp"};

const char *xs_dp_str(enum xs_datapath dp)
{
	return dp <= XS_DP_UDP ? dp_names[dp] : "?";
}

int xs_dp_parse(const char *s, enum xs_datapath *dp)
{
	for (unsigned int i = 0; i <= XS_DP_UDP; i++) {
		if (!strcmp(s, dp_names[i])) {
			*dp = i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * As xs_latch() in bpf/lib/relay.h, through the same decision
 * (xs_latch_step(), xdpsbc_latch.h): a packet from the latched peer passes; a flow learns its
 * peer once, from its latch_addr within the window, and aims the reverse flow
 * at it; anything else is XS_DROP_MEDIA_SOURCE. *@changed: @f's latch moved,
 * xs_dp_account() must write it back. @saddr: 4 bytes, or 16 when @v6 (the
 * flow's arriving side is IPv6: its addresses are the *6 fields).
 */
int xs_dp_latch(int flows_fd, struct xs_flow *f, const void *saddr, bool v6, uint16_t sport,
		bool *changed)
{
	static const uint8_t zero[16];
	struct xs_flow_key rkey = {.proto = IPPROTO_UDP};
	size_t alen = v6 ? 16 : 4;
	uint32_t flags = f->flags;
	struct xs_flow rev;
	int step;

	*changed = false;
	step = xs_latch_step(flags, sport == f->peer_port && !memcmp(saddr, f->peer_addr6, alen),
			     memcmp(saddr, zero, alen) && !memcmp(saddr, f->latch_addr6, alen));
	if (step == XS_LATCH_SETTLE) {
		f->flags = flags & ~XS_FLOW_PRELATCHED;
		*changed = true;
	}
	if (step == XS_LATCH_PASS || step == XS_LATCH_SETTLE)
		return 0;
	if (step == XS_LATCH_DROP || xs_now_ns() >= f->latch_until_ns)
		return XS_DROP_MEDIA_SOURCE;
	memset(f->peer_addr6, 0, sizeof(f->peer_addr6));
	memcpy(f->peer_addr6, saddr, alen);
	f->peer_port = sport;
	f->flags = (flags | XS_FLOW_LATCHED) & ~XS_FLOW_PRELATCHED;
	*changed = true;
	/* The reverse flow: keyed by our edge source, in the family we leave in. */
	if (flags & XS_FLOW_OUT6) {
		rkey.v6 = 1;
		memcpy(rkey.addr6, f->src_addr6, 16);
	} else {
		rkey.addr = f->src_addr;
	}
	rkey.port = f->src_port;
	if (!bpf_map_lookup_elem(flows_fd, &rkey, &rev)) {
		memcpy(rev.dst_addr6, f->peer_addr6, 16);
		rev.dst_port = sport;
		bpf_map_update_elem(flows_fd, &rkey, &rev, BPF_EXIST);
	}
	return 0;
}

/*
 * Add @pkts/@bytes to the flow @k and take the latch of @f, on a fresh copy
 * so a change sigd made since our lookup (a re-INVITE's new destination)
 * survives; BPF_EXIST never brings back a flow sigd deleted meanwhile. A
 * latch is taken only while the flow is still in the latch window it was
 * learnt in: sigd reprogramming it (a new deadline) reopens the window, and
 * what was learnt under the old one does not count.
 */
int xs_dp_account(int flows_fd, const struct xs_flow_key *k, const struct xs_flow *f, bool latched,
		  uint64_t pkts, uint64_t bytes, uint32_t ifindex)
{
	const uint32_t lf = XS_FLOW_LATCHED | XS_FLOW_PRELATCHED;
	struct xs_flow cur;

	if (bpf_map_lookup_elem(flows_fd, k, &cur))
		return -errno;
	if (cur.cookie != f->cookie)
		return -ESTALE;
	if (latched && cur.latch_until_ns == f->latch_until_ns &&
	    !memcmp(cur.latch_addr6, f->latch_addr6, 16)) {
		memcpy(cur.peer_addr6, f->peer_addr6, 16);
		cur.peer_port = f->peer_port;
		cur.flags = (cur.flags & ~lf) | (f->flags & lf);
	}
	cur.packets += pkts;
	cur.bytes += bytes;
	cur.last_seen_ns = xs_now_ns();
	if (ifindex)
		cur.ifindex = ifindex;
	if (bpf_map_update_elem(flows_fd, k, &cur, BPF_EXIST))
		return -errno;
	return 0;
}

/* /run/xdpsbc/datapath-<pin root with '/' as '_'> ($XDPSBC_RUN_DIR moves it). */
static void state_path(const char *pin_root, char *buf, size_t len)
{
	const char *dir = getenv("XDPSBC_RUN_DIR");
	char name[256];
	size_t i;

	snprintf(name, sizeof(name), "%s", pin_root);
	for (i = 0; name[i]; i++)
		if (name[i] == '/')
			name[i] = '_';
	snprintf(buf, len, "%s/%s%s", dir && *dir ? dir : "/run/xdpsbc", XS_DP_STATE_FILE, name);
}

int xs_dp_state_write(const char *pin_root, enum xs_datapath dp, const char *why,
		      const char *firewall, int pid)
{
	char path[512], tmp[520];
	FILE *f;

	state_path(pin_root, path, sizeof(path));
	*strrchr(path, '/') = 0;
	mkdir(path, 0755);
	path[strlen(path)] = '/';
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "datapath=%s\nfirewall=%s\nwhy=%s\npid=%d\n", xs_dp_str(dp), firewall, why, pid);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	return 0;
}

/* The recorded datapath and firewall; -ENOENT when none, -ESRCH when its sigd is gone. */
int xs_dp_state_read(const char *pin_root, char *dp, size_t dplen, char *fw, size_t fwlen,
		     int *pidp)
{
	char path[512], line[256], proc[64];
	int pid = 0;
	FILE *f;

	state_path(pin_root, path, sizeof(path));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (!strncmp(line, "datapath=", 9))
			snprintf(dp, dplen, "%s", line + 9);
		else if (!strncmp(line, "firewall=", 9))
			snprintf(fw, fwlen, "%s", line + 9);
		else if (!strncmp(line, "pid=", 4))
			pid = atoi(line + 4);
	}
	fclose(f);
	if (pidp)
		*pidp = pid;
	snprintf(proc, sizeof(proc), "/proc/%d", pid);
	return pid > 0 && !access(proc, F_OK) ? 0 : -ESRCH;
}
