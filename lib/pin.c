// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where the maps live (the pin root), making sure bpffs is there, and the
 * lock that serialises every state change on one pin root.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"

#define BPFFS_MOUNT "/sys/fs/bpf"

const char *xs_pin_root(const char *override)
{
	const char *env;

	if (override && *override)
		return override;
	env = getenv("XDPSBC_PIN_ROOT");
	if (env && *env)
		return env;
	return XS_PIN_ROOT_DEFAULT;
}

int xs_instance_dir(const char *pin_root, char *buf, size_t len)
{
	const char *base = strrchr(pin_root, '/');
	int n;

	base = base ? base + 1 : pin_root;
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return -EINVAL;
	n = snprintf(buf, len, "%s/%s", XS_RUN_DIR, base);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Where map @name of @pin_root is pinned. */
int xs_pin_path(const char *pin_root, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", pin_root, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int is_bpffs(const char *path)
{
	struct statfs st;

	if (statfs(path, &st))
		return -errno;
	return st.f_type == BPF_FS_MAGIC;
}

/* The deepest existing ancestor of @path (or @path itself) into @buf. */
static void existing_ancestor(const char *path, char *buf, size_t len)
{
	char *slash;

	snprintf(buf, len, "%s", path);
	while (access(buf, F_OK)) {
		slash = strrchr(buf, '/');
		if (!slash || slash == buf) {
			snprintf(buf, len, "/");
			return;
		}
		*slash = '\0';
	}
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	char *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/**
 * xs_bpffs_ensure() - make sure @pin_root is on a mounted bpffs and exists.
 *
 * bpffs is not mounted at boot on every distribution; when the pin root is
 * under /sys/fs/bpf and nothing is mounted there, mount it. A pin root
 * anywhere else must already be on bpffs (-ENOTSUP otherwise).
 */
int xs_bpffs_ensure(const char *pin_root)
{
	char anc[PATH_MAX];
	int ret;

	existing_ancestor(pin_root, anc, sizeof(anc));
	ret = is_bpffs(anc);
	if (ret < 0)
		return ret;
	if (!ret) {
		if (strncmp(pin_root, BPFFS_MOUNT "/", strlen(BPFFS_MOUNT) + 1))
			return -ENOTSUP;
		if (is_bpffs(BPFFS_MOUNT) != 1) {
			if (mount("bpf", BPFFS_MOUNT, "bpf", 0, "mode=0700"))
				return -errno;
			xs_log(XS_LOG_INFO, "mounted bpffs on %s\n", BPFFS_MOUNT);
		}
	}
	return mkdir_p(pin_root);
}

static int lock_timeout_ms(void)
{
	const char *env = getenv("XDPSBC_LOCK_TIMEOUT");
	char *end;
	double s;

	if (!env || !*env)
		return 10000;
	s = strtod(env, &end);
	if (*end || s < 0 || s > 3600)
		return 10000;
	return (int)(s * 1000);
}

/**
 * xs_lock_wait() - take the exclusive lock of @pin_root, waiting up to @timeout_ms.
 *
 * The lock is flock() on the pin directory itself, so it needs no extra file
 * and vanishes with the directory. A run that finds the directory removed
 * under it (a concurrent unload) starts over on the new one.
 * Returns the fd holding the lock, -EWOULDBLOCK on timeout.
 */
int xs_lock_wait(const char *pin_root, int timeout_ms)
{
	struct timespec delay = {0, 20 * 1000 * 1000};
	int waited = 0, fd, ret;
	struct stat st;

	for (;;) {
		ret = xs_bpffs_ensure(pin_root);
		if (ret)
			return ret;
		fd = open(pin_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		if (!flock(fd, LOCK_EX | LOCK_NB)) {
			/* Still the live directory, not one an unload removed? */
			if (!fstat(fd, &st) && st.st_nlink > 0)
				return fd;
			close(fd);
			continue;
		}
		ret = -errno;
		close(fd);
		if (ret != -EWOULDBLOCK)
			return ret;
		if (waited >= timeout_ms)
			return -EWOULDBLOCK;
		if (!waited)
			xs_log(XS_LOG_INFO, "waiting for the lock on %s\n", pin_root);
		nanosleep(&delay, NULL);
		waited += 20;
	}
}

/* Waits $XDPSBC_LOCK_TIMEOUT seconds (default 10) for another run to finish. */
int xs_lock(const char *pin_root)
{
	return xs_lock_wait(pin_root, lock_timeout_ms());
}

void xs_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
