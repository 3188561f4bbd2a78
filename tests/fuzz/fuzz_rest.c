// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's request parsing: the input is what an HTTP client sent
 * on one connection. It goes through the same steps as conn_read() in
 * sigd/ctl/ctl.c (included here for its static request parser): framing by
 * Content-Length, the request line, the bearer token (the corpus carries
 * the right one), the route and its JSON body, the answer written to
 * /dev/null. The maps are absent (every BPF call fails), as on a daemon
 * whose pins went away. The first line also goes through the Unix socket's
 * command parser.
 */
#include "../../sigd/ctl/ctl.c"
#include "fuzz.h"

#define FUZZ_TOKEN "fuzz-token-0123456789"

static struct sigd_cfg cfg;
static struct proxy px;
static struct xs_maps maps;
static struct ctl ctl;

static int drop(const struct sip_addr *dst, const char *buf, size_t len, void *arg)
{
	return 0;
}

static void setup(void)
{
	char *argv[] = {
		"fuzz",	      "--config",	   "none",	"--public-ip",	   "203.0.113.1",
		"--upstream", "sip:198.51.100.10", "--trusted", "198.51.100.0/24", NULL};

	fuzz_quiet();
	if (opts_load(&cfg, 9, argv) || proxy_init(&px, &cfg, NULL, drop, NULL))
		abort();
	memset(&maps, 0xff, sizeof(maps)); /* every fd -1 */
	ctl.px = &px;
	ctl.cfg = &cfg;
	ctl.maps = &maps;
	ctl.epfd = ctl.unix_fd = ctl.http_fd = -1;
	snprintf(ctl.token, sizeof(ctl.token), "%s", FUZZ_TOKEN);
	ctl.conns[0].buf = malloc(CTL_MAX_REQ + 1);
	ctl.conns[0].fd = open("/dev/null", O_WRONLY);
	ctl.conns[0].http = true;
	if (!ctl.conns[0].buf || ctl.conns[0].fd < 0)
		abort();
	ban_ring_add(&ctl.bans, "192.0.2.66/32", 1000, 3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	struct ctl_conn *cc = &ctl.conns[0];
	size_t hlen = 0, blen = 0;
	struct sbuf out = {0};
	char *nl;
	int st;

	if (!ready) {
		setup();
		ready = true;
	}
	if (size > CTL_MAX_REQ)
		size = CTL_MAX_REQ;
	/* conn_read(): the bytes received so far, NUL-terminated. */
	memcpy(cc->buf, data, size);
	cc->len = size;
	cc->buf[size] = 0;
	st = http_complete(cc->buf, cc->len, &hlen, &blen);
	if (st < 0)
		http_error(cc->fd, st == -EINVAL ? 400 : 413, "bad");
	else if (st > 0)
		http_serve(&ctl, cc, hlen, blen);
	/* The Unix socket: one command line. */
	memcpy(cc->buf, data, size);
	cc->buf[size] = 0;
	nl = memchr(cc->buf, '\n', size);
	if (nl)
		*nl = 0;
	ctl_unix_command(&ctl, cc->buf, &out);
	sb_free(&out);
	return 0;
}
