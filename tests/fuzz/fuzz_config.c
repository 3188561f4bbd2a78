// SPDX-License-Identifier: GPL-2.0-only
/*
 * The configuration file, with its policy sections ([brand], [company],
 * [user]: sigd/policy/conf.c): the input is the file. opts_load() reads it
 * as --config, then opts_validate() and the routing setup run on what it
 * accepted, as at start and on SIGHUP.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "fuzz.h"
#include "options.h"
#include "sip/route.h"

static struct sigd_cfg cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	char *argv[] = {"fuzz", "--config", path, NULL};
	struct route_cfg rc;
	int fd;

	if (!path[0]) {
		snprintf(path, sizeof(path), "/tmp/xdpsbc-fuzz-config.XXXXXX");
		fd = mkstemp(path);
		if (fd < 0)
			abort();
		close(fd);
	}
	fuzz_quiet();
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (opts_load(&cfg, 3, argv) == 0 && opts_validate(&cfg) == 0)
		route_cfg_init(&rc, &cfg);
	return 0;
}
