// SPDX-License-Identifier: GPL-2.0-only
/*
 * Reverse-path filtering on the edge. sigd takes a message whose source is
 * the core's as the core's: over UDP, anyone outside can write that source.
 * Strict reverse-path filtering (RFC 3704 "strict", the kernel's
 * rp_filter = 1) drops a packet unless the route back to its source leaves
 * through the interface it arrived on, so on a two-armed edge a packet
 * with the core's address arriving on the outside arm never reaches a
 * socket. It runs in the stack after XDP_PASS: no per-packet cost in the
 * XDP program, and it covers every datapath (the relays latch media from
 * the signalling source, which then cannot be spoofed either).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "rpfilter.h"

#define CONF "/proc/sys/net/ipv4/conf"

static int read_val(const char *dev)
{
	char path[300], b[8] = "";
	int fd, n;

	snprintf(path, sizeof(path), CONF "/%s/rp_filter", dev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	return n > 0 ? b[0] - '0' : -EIO;
}

static int write_val(const char *dev, int v)
{
	char path[300], b[2] = {(char)('0' + v), 0};
	int fd, err = 0;

	snprintf(path, sizeof(path), CONF "/%s/rp_filter", dev);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, b, 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

int sigd_rp_filter(enum sigd_rpf mode)
{
	unsigned int changed = 0;
	struct dirent *de;
	DIR *d;
	int err;

	if (mode == SIGD_RPF_KEEP) {
		if (read_val("all") != 1)
			xs_log(XS_LOG_WARN,
			       "rp-filter keep: net.ipv4.conf.all.rp_filter is not 1; "
			       "a spoofed core address from outside is taken as the core\n");
		return 0;
	}
	/* The kernel uses the higher of "all" and the interface's: loose (2) would win. */
	err = write_val("all", 1);
	if (err) {
		xs_log(XS_LOG_ERR,
		       "rp-filter strict: cannot set net.ipv4.conf.all.rp_filter: %s "
		       "(rp-filter = keep runs without the check)\n",
		       strerror(-err));
		return err;
	}
	write_val("default", 1);
	d = opendir(CONF);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "all") ||
		    !strcmp(de->d_name, "default") || read_val(de->d_name) != 2)
			continue;
		if (!write_val(de->d_name, 1))
			changed++;
	}
	if (d)
		closedir(d);
	xs_log(XS_LOG_INFO, "rp-filter strict: net.ipv4.conf.all.rp_filter = 1%s\n",
	       changed ? " (loose interfaces made strict)" : "");
	return 0;
}
