// SPDX-License-Identifier: GPL-2.0-only
/*
 * Commands answered by the running xdpsbc-sigd over its control socket: what
 * only the daemon knows (calls, tenants, policy counters). The maps are read
 * directly by the other commands.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "cli.h"

#define CTL_SOCKET_DEFAULT "/run/PIN-ROOT-NAME/ctl.sock"

/*
 * Send "@cmd json|text\n" and print the answer, bounded by a timeout. Every
 * answer of the daemon ends in a newline; no answer, a cut one, or one
 * starting with "error:" (a busy daemon, an unknown command) is an error,
 * never an empty listing with exit 0.
 */
static int ctl_ask(struct cli *c, const char *cmd, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t len = 0, cap = 0;
	char line[64], *buf = NULL, dflt[108];
	int fd, n, ret = 0, werr = 0;

	if (!path)
		path = getenv("XDPSBC_CTL");
	if (!path) {
		/* The socket of the sigd that runs on this pin root (its instance dir). */
		if (xs_instance_dir(c->pin_root, dflt, sizeof(dflt) - 9))
			return cli_err("no instance directory for pin root %s", c->pin_root);
		strcat(dflt, "/ctl.sock");
		path = dflt;
	}
	if (strlen(path) >= sizeof(sun.sun_path))
		return cli_err("control socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cli_fail(-errno, "socket");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		ret = cli_err("cannot reach xdpsbc-sigd at %s: %s (is it running? --ctl PATH)",
			      path, strerror(errno));
		close(fd);
		return ret;
	}
	n = snprintf(line, sizeof(line), "%s %s\n", cmd, c->json ? "json" : "text");
	/* A busy daemon answers and closes at once: its refusal is still to be read. */
	if (send(fd, line, n, MSG_NOSIGNAL) != n)
		werr = -errno;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 5000) <= 0) {
			ret = cli_err("xdpsbc-sigd at %s did not answer within 5 s", path);
			break;
		}
		if (len == cap) {
			char *nb = cap < (64U << 20) ? realloc(buf, cap ? cap * 2 : 65536) : NULL;

			if (!nb) {
				ret = cli_err("the answer of xdpsbc-sigd is too large");
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == ECONNRESET && !len) {
			ret = cli_err("xdpsbc-sigd at %s reset the connection without an answer "
				      "(busy?)",
				      path);
			break;
		}
		if (r < 0) {
			ret = cli_fail(-errno, "read from the control socket");
			break;
		}
		if (!r)
			break;
		len += r;
	}
	close(fd);
	if (!ret && !len && werr)
		ret = cli_fail(werr, "write to the control socket");
	else if (!ret && !len)
		ret = cli_err("xdpsbc-sigd at %s closed the connection without an answer", path);
	else if (!ret && len >= 6 && !strncmp(buf, "error:", 6))
		ret = cli_err("xdpsbc-sigd:%.*s", (int)(len - 6 - (buf[len - 1] == '\n')), buf + 6);
	else if (!ret && buf[len - 1] != '\n')
		ret = cli_err("the answer of xdpsbc-sigd at %s was cut short (%zu bytes)", path,
			      len);
	if (!ret && fwrite(buf, 1, len, stdout) != len)
		ret = cli_fail(-EIO, "write to stdout");
	free(buf);
	return ret;
}

/*
 * "@cmd json|text" into @buf (NUL-terminated, cut to fit); 0, or -errno when
 * no sigd answers at @path (NULL: $XDPSBC_CTL or the default). Quiet: for
 * sections of other commands (status).
 */
int ctl_query(const char *cmd, bool json, const char *path, char *buf, size_t len)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char line[64];
	size_t got = 0;
	int fd, n, ret = 0;

	if (!path)
		path = getenv("XDPSBC_CTL") ?: CTL_SOCKET_DEFAULT;
	if (strlen(path) >= sizeof(sun.sun_path) || len < 2)
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	n = snprintf(line, sizeof(line), "%s %s\n", cmd, json ? "json" : "text");
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) || write(fd, line, n) != n) {
		ret = -errno;
		close(fd);
		return ret;
	}
	while (got < len - 1) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t r;

		if (poll(&p, 1, 2000) <= 0) {
			ret = -ETIMEDOUT;
			break;
		}
		r = read(fd, buf + got, len - 1 - got);
		if (r <= 0)
			break;
		got += r;
	}
	buf[got] = 0;
	close(fd);
	return ret;
}

struct ctl_args {
	const char *path;
};

static const struct opt ctl_opts[] = {
	DEFINE_OPTION("--ctl", STR, struct ctl_args, path, .metavar = "PATH",
		      .help = "control socket"),
	END_OPTIONS,
};

static int do_calls(struct cli *c, const struct xs_maps *unused, void *args)
{
	return ctl_ask(c, "calls", ((struct ctl_args *)args)->path);
}

static int do_policy(struct cli *c, const struct xs_maps *unused, void *args)
{
	return ctl_ask(c, "policy", ((struct ctl_args *)args)->path);
}

const struct cmd cmds_ctl[] = {
	{"calls", do_calls, "[-j] [--ctl PATH]",
	 "calls in progress from xdpsbc-sigd: Call-ID, state, company, brand, caller and callee "
	 "legs, age, relay flows (control socket, default " CTL_SOCKET_DEFAULT
	 " (the pin root's instance dir) or $XDPSBC_CTL)",
	 .opts = ctl_opts, .args_size = sizeof(struct ctl_args)},
	{"policy", do_policy, "[-j] [--ctl PATH]",
	 "xdpsbc-sigd's tenants, brands and road-warrior users with calls and limits, policy "
	 "refusals per reason, blocks",
	 .opts = ctl_opts, .args_size = sizeof(struct ctl_args)},
	{NULL},
};
