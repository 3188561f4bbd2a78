// SPDX-License-Identifier: GPL-2.0-only
/*
 * Host names never stall the SIP loop. In a private mount and network
 * namespace, /etc/resolv.conf points at a name server that takes every query
 * and never answers (resolver options: 5 s x 2 attempts, as a distribution's
 * default does), and /etc/hosts knows good.example (a configured domain) and
 * other.example. A flood of requests naming hosts nobody can resolve, from
 * the core and as forged in-dialog routes, runs for a few seconds while a
 * client's INVITE to good.example is sent every few milliseconds: each must
 * be forwarded at once. Also: a name not yet cached is dropped over UDP and
 * found by the retransmission, over TCP answered 503 with Retry-After, and a
 * Via naming a host is never looked up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../lib/check.h"
#include "sip/dns.h"
#include "options.h"
#include "sip/proxy.h"
#include "sip/msg.h"

#define L(s) s "\r\n"

static struct proxy px;
static struct {
	struct sip_addr dst;
	char first[128];
	bool retry_after;
} last;
static unsigned int nsent;
static char hosts_path[128], work_dir[64];

static int capture(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	const char *eol = memchr(buf, '\r', len);
	size_t n = eol ? (size_t)(eol - buf) : len;

	if (n >= sizeof(last.first))
		n = sizeof(last.first) - 1;
	last.dst = *dst;
	memcpy(last.first, buf, n);
	last.first[n] = 0;
	last.retry_after = memmem(buf, len, "\r\nRetry-After: ", 15) != NULL;
	nsent++;
	return 0;
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -errno;
	fputs(text, f);
	fclose(f);
	return 0;
}

/* Private /etc files and loopback only, with a name server that swallows queries. */
static int isolate(char *why, size_t len)
{
	char *dir = work_dir, path[128];
	struct ifreq ifr = {0};
	struct sockaddr_in ns = {.sin_family = AF_INET, .sin_port = htons(53)};
	static const char *const files[][2] = {
		{"resolv.conf", "nameserver 127.0.0.53\noptions timeout:5 attempts:2\n"},
		{"hosts", "127.0.0.1 localhost\n192.0.2.10 good.example\n"
			  "192.0.2.11 other.example\n"},
		{"nsswitch.conf", "hosts: files dns\n"},
	};
	int fd;

	if (unshare(CLONE_NEWNS | CLONE_NEWNET) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		snprintf(why, len, "unshare/mount: %s", strerror(errno));
		return -1;
	}
	snprintf(work_dir, sizeof(work_dir), "/tmp/xdpsbc-dns.%d", getpid());
	mkdir(dir, 0700);
	for (unsigned int i = 0; i < 3; i++) {
		char etc[64];

		snprintf(path, sizeof(path), "%s/%s", dir, files[i][0]);
		snprintf(etc, sizeof(etc), "/etc/%s", files[i][0]);
		if (write_file(path, files[i][1]) || mount(path, etc, NULL, MS_BIND, NULL)) {
			snprintf(why, len, "bind %s: %s", etc, strerror(errno));
			return -1;
		}
		/* hosts stays: a test rewrites it in place (same inode, the mount sees it). */
		if (i != 1)
			unlink(path);
	}
	snprintf(hosts_path, sizeof(hosts_path), "%s/hosts", dir);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
	/* The name server: a socket nobody reads (no port-unreachable answers either). */
	inet_pton(AF_INET, "127.0.0.53", &ns.sin_addr);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(fd, (struct sockaddr *)&ns, sizeof(ns))) {
		snprintf(why, len, "name server socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static struct sip_addr addr(const char *ip, uint16_t port, uint8_t proto)
{
	struct sip_addr a = {.port = port, .proto = proto};

	sip_ip_parse(ip, &a.ip);
	return a;
}

/* Feed @msg from @src; returns how long proxy_input() took, in microseconds. */
static uint64_t input(const char *msg, const struct sip_addr *src)
{
	struct timespec a, b;

	clock_gettime(CLOCK_MONOTONIC, &a);
	proxy_input(&px, msg, strlen(msg), src);
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a.tv_sec) * 1000000ULL + (b.tv_nsec - a.tv_nsec) / 1000;
}

static void client_invite(char *buf, size_t len, unsigned int n)
{
	snprintf(buf, len,
		 L("INVITE sip:bob@good.example SIP/2.0")
			 L("Via: SIP/2.0/UDP 192.0.2.50:40000;branch=z9hG4bKgood%u;rport")
				 L("Max-Forwards: 70") L("From: <sip:alice@good.example>;tag=g%u")
					 L("To: <sip:bob@good.example>") L("Call-ID: good-%u")
						 L("CSeq: 1 INVITE")
							 L("Contact: <sip:alice@10.0.0.2:5060>")
								 L("Content-Length: 0") L(""),
		 n, n, n);
}

/* From the core, to a host named in the Request-URI: that host gets resolved. */
static void core_request(char *buf, size_t len, const char *host, unsigned int n)
{
	snprintf(buf, len,
		 L("MESSAGE sip:carol@%s SIP/2.0")
			 L("Via: SIP/2.0/UDP 198.51.100.10:5060;branch=z9hG4bKcore%u")
				 L("Max-Forwards: 70") L("From: <sip:core@good.example>;tag=c%u")
					 L("To: <sip:carol@%s>") L("Call-ID: core-%u")
						 L("CSeq: 1 MESSAGE") L("Content-Length: 0") L(""),
		 host, n, n, host, n);
}

/*
 * A client's forged in-dialog request whose second Route names a host: the
 * first Route is not one the edge signed, so none is followed and the name
 * is never looked up; it is part of the flood's load all the same.
 */
static void forged_route(char *buf, size_t len, unsigned int n)
{
	snprintf(buf, len,
		 L("MESSAGE sip:x@203.0.113.1 SIP/2.0")
			 L("Via: SIP/2.0/UDP 192.0.2.66:5060;branch=z9hG4bKfr%u")
				 L("Max-Forwards: 70") L("From: <sip:m@good.example>;tag=f%u") L(
					 "To: <sip:x@good.example>;tag=t%u") L("Call-ID: forged-%u")
					 L("Route: <sip:203.0.113.1:5060;lr>")
						 L("Route: <sip:fr%u.flood.example;lr>")
							 L("CSeq: 1 MESSAGE") L("Content-Length: 0")
								 L(""),
		 n, n, n, n, n);
}

static void not_cached_yet(void)
{
	const char *name = "dns_retransmission_finds_cache";
	struct sip_addr core = addr("198.51.100.10", 5060, SIP_UDP);
	struct sip_addr core_tcp = addr("198.51.100.10", 5060, SIP_TCP);
	int before = check_failed;
	struct dns_stats ds;
	char buf[2048];

	nsent = 0;
	core_request(buf, sizeof(buf), "other.example", 1);
	input(buf, &core);
	T_CHECK(name, nsent == 0, "a name not cached was waited for or answered: %s", last.first);
	for (int i = 0; i < 100; i++) {
		dns_get_stats(&ds);
		if (!ds.pending)
			break;
		usleep(10000);
	}
	input(buf, &core);
	T_CHECK(name,
		nsent == 1 && !strncmp(last.first, "MESSAGE sip:carol@other.example", 31) &&
			last.dst.ip.v4.s_addr == htonl(0xc000020b),
		"retransmission not forwarded to 192.0.2.11: %u sent, %s", nsent, last.first);
	/* Over TCP nothing retransmits: 503 with Retry-After. */
	nsent = 0;
	core_request(buf, sizeof(buf), "tcp.flood.example", 2);
	input(buf, &core_tcp);
	T_CHECK(name, nsent == 1 && !strncmp(last.first, "SIP/2.0 503", 11) && last.retry_after,
		"over TCP: %u sent, %s", nsent, last.first);
	if (check_failed == before)
		T_PASS(name);
}

static void flood(void)
{
	const char *name = "dns_flood_does_not_stall";
	struct sip_addr core = addr("198.51.100.10", 5060, SIP_UDP);
	struct sip_addr cli = addr("192.0.2.50", 40000, SIP_UDP);
	struct sip_addr atk = addr("192.0.2.66", 5060, SIP_UDP);
	uint64_t worst_flood = 0, worst_legit = 0, sum_legit = 0, t0 = sigd_now_ms();
	unsigned int nflood = 0, nlegit = 0, ok = 0;
	int before = check_failed;
	struct dns_stats ds;
	char buf[2048], host[64];

	while (sigd_now_ms() - t0 < 3000 && nlegit < 2000) {
		for (int i = 0; i < 20; i++, nflood++) {
			uint64_t us;

			if (i & 1) {
				snprintf(host, sizeof(host), "h%u.flood.example", nflood);
				core_request(buf, sizeof(buf), host, nflood + 1000);
				us = input(buf, &core);
			} else {
				forged_route(buf, sizeof(buf), nflood);
				us = input(buf, &atk);
			}
			if (us > worst_flood)
				worst_flood = us;
		}
		nsent = 0;
		client_invite(buf, sizeof(buf), nlegit);
		{
			uint64_t us = input(buf, &cli);

			sum_legit += us;
			if (us > worst_legit)
				worst_legit = us;
		}
		nlegit++;
		ok += nsent >= 1 && !strncmp(last.first, "INVITE sip:bob@good.example", 27) &&
		      last.dst.ip.v4.s_addr == htonl(0xc000020a);
		proxy_tick(&px);
		dns_tick();
		usleep(2000);
	}
	dns_get_stats(&ds);
	printf("# %u flood requests, %u INVITEs to good.example in %llu ms: %u forwarded, "
	       "latency mean %llu us, worst %llu us; worst flood request %llu us\n",
	       nflood, nlegit, (unsigned long long)(sigd_now_ms() - t0), ok,
	       (unsigned long long)(nlegit ? sum_legit / nlegit : 0),
	       (unsigned long long)worst_legit, (unsigned long long)worst_flood);
	printf("# resolver: %llu misses, %llu failures, %llu past the deadline, %llu refused "
	       "(queue full), %u cached, %u pending\n",
	       (unsigned long long)ds.misses, (unsigned long long)ds.failures,
	       (unsigned long long)ds.timeouts, (unsigned long long)ds.queue_full, ds.entries,
	       ds.pending);
	T_CHECK(name, ok == nlegit, "%u of %u INVITEs forwarded", ok, nlegit);
	T_CHECK(name, worst_legit < 1000000, "an INVITE took %llu us",
		(unsigned long long)worst_legit);
	T_CHECK(name, worst_flood < 1000000, "a flood request took %llu us",
		(unsigned long long)worst_flood);
	T_CHECK(name, ds.misses > 100, "the flood did not reach the resolver (%llu misses)",
		(unsigned long long)ds.misses);
	if (check_failed == before)
		T_PASS(name);
}

static void via_names(void)
{
	const char *name = "dns_via_name_refused";
	const char *msg =
		L("SIP/2.0 200 OK") L("Via: SIP/2.0/UDP client.example:5060;branch=z9hG4bKv")
			L("From: <sip:a@good.example>;tag=1") L("To: <sip:b@good.example>;tag=2")
				L("Call-ID: v") L("CSeq: 1 OPTIONS") L("Content-Length: 0") L("");
	struct dns_stats before, after;
	osip_message_t *m;
	struct sip_addr a;

	dns_get_stats(&before);
	osip_message_init(&m);
	osip_message_parse(m, msg, strlen(msg));
	T_CHECK(name, sip_addr_from_via(msg_top_via(m), &a) == -EINVAL, "a Via host name accepted");
	osip_message_free(m);
	dns_get_stats(&after);
	T_CHECK(name, after.misses == before.misses, "a Via host name was looked up");
	if (!check_failed)
		T_PASS(name);
}

/*
 * A pinned name is refreshed by its own thread while the other resolver
 * threads are still stuck on the flood's names: a new address is picked up,
 * and when the name stops resolving the last address is kept.
 */
static void pinned_refresh(void)
{
	const char *name = "dns_pinned_refresh";
	int before = check_failed;
	struct in_addr ip = {0};
	uint64_t t0 = sigd_now_ms();
	struct dns_stats ds;

	write_file(hosts_path, "127.0.0.1 localhost\n192.0.2.12 good.example\n");
	while (sigd_now_ms() - t0 < 3000) {
		dns_tick();
		if (!dns_lookup4("good.example", &ip) && ip.s_addr == htonl(0xc000020c))
			break;
		usleep(20000);
	}
	dns_get_stats(&ds);
	printf("# new address of a pinned name after %llu ms (dns-ttl 1s), %u lookups still "
	       "pending\n",
	       (unsigned long long)(sigd_now_ms() - t0), ds.pending);
	T_CHECK(name, ip.s_addr == htonl(0xc000020c), "good.example not refreshed: %s",
		inet_ntoa(ip));
	write_file(hosts_path, "127.0.0.1 localhost\n");
	/* Past another TTL: the refresh fails (the name server never answers). */
	for (t0 = sigd_now_ms(); sigd_now_ms() - t0 < 3500;) {
		dns_tick();
		usleep(20000);
	}
	T_CHECK(name, !dns_lookup4("good.example", &ip) && ip.s_addr == htonl(0xc000020c),
		"a pinned name lost its address when its refresh failed");
	if (check_failed == before)
		T_PASS(name);
}

int main(void)
{
	char why[160],
		*argv[] = {"t", "--config", "none", "--public-ip", "203.0.113.1", "--listen",
			   "203.0.113.1:5060", "--domains", "good.example", "--core",
			   "198.51.100.0/24", "--state-dir", "", "--dns-ttl", "1",
			   /* One client sends every INVITE: this test is about the resolver. */
			   "--max-dialogs-per-source", "0", "--max-transactions-per-source", "0",
			   NULL};
	struct sigd_cfg cfg;
	struct in_addr ip;

	xs_log_set_level(getenv("V") ? XS_LOG_DEBUG : XS_LOG_ERR);
	if (geteuid() || isolate(why, sizeof(why))) {
		T_SKIP("dns", "%s", geteuid() ? "needs root (namespaces)" : why);
		return 0;
	}
	sigd_osip_init();
	if (opts_load(&cfg, sizeof(argv) / sizeof(argv[0]) - 1, argv)) {
		T_FAIL("dns", "options");
		return 1;
	}
	/* As main() does: configured names may be waited for before the loop only. */
	dns_set_cfg(&cfg.dns);
	dns_set_wait(2 * cfg.dns.timeout_ms);
	if (proxy_init(&px, &cfg, NULL, capture, NULL)) {
		T_FAIL("dns", "proxy_init");
		return 1;
	}
	dns_set_wait(0);
	if (!T_CHECK("dns_configured_names_pinned",
		     !dns_lookup4("good.example", &ip) && ip.s_addr == htonl(0xc000020a),
		     "good.example not resolved at start"))
		return 1;
	T_PASS("dns_configured_names_pinned");
	via_names();
	not_cached_yet();
	flood();
	pinned_refresh();
	unlink(hosts_path);
	rmdir(work_dir);
	return check_failed ? 1 : 0;
}
