// SPDX-License-Identifier: GPL-2.0-only
/*
 * Instance identity: the lock on the state directory, so that two sigds
 * never restore, save and sign with the same dialogs, registrations and
 * secret; and the readiness protocol with systemd (Type=notify).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>

#include "instance.h"
#include "sigd.h"

static int lock_fd = -1;

static void write_pid(void)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

	if (ftruncate(lock_fd, 0) || pwrite(lock_fd, buf, n, 0) != n)
		xs_log(XS_LOG_DEBUG, "lock file: pid not written: %s\n", strerror(errno));
}

int sigd_instance_lock(const char *state_dir)
{
	char path[300], holder[32] = "";
	int fd, err;
	ssize_t n;

	if (snprintf(path, sizeof(path), "%s/sigd.lock", state_dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		err = -errno;
		xs_log(XS_LOG_ERR, "lock %s: %s\n", path, strerror(-err));
		return err;
	}
	if (flock(fd, LOCK_EX | LOCK_NB)) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(fd, holder, sizeof(holder) - 1, 0);
		holder[n > 0 ? n : 0] = 0;
		holder[strcspn(holder, "\n")] = 0;
		if (err == -EBUSY)
			xs_log(XS_LOG_ERR,
			       "state dir %s is in use by xdpsbc-sigd pid %s: refusing to start "
			       "(give this instance its own --pin-root or --state-dir)\n",
			       state_dir, holder[0] ? holder : "?");
		else
			xs_log(XS_LOG_ERR, "lock %s: %s\n", path, strerror(-err));
		close(fd);
		return err;
	}
	lock_fd = fd;
	write_pid();
	return 0;
}

void sigd_instance_lock_forget(void)
{
	/* The lock belongs to the open file, which sigd keeps: closing our copy keeps it held. */
	if (lock_fd >= 0)
		close(lock_fd);
	lock_fd = -1;
}

void sigd_instance_lock_repid(void)
{
	if (lock_fd >= 0)
		write_pid();
}

void sigd_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", status, (int)getpid());
}

void sigd_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* MONOTONIC_USEC: systemd (253+) tells this reload from an earlier one. */
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000);
}

void sigd_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

void sigd_notify_watchdog(void)
{
	static uint64_t usec, last;
	static int asked = -1;
	struct timespec ts;
	uint64_t now;

	if (asked < 0)
		asked = sd_watchdog_enabled(0, &usec) > 0;
	if (!asked)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
	if (now - last < usec / 2)
		return;
	last = now;
	sd_notify(0, "WATCHDOG=1");
}
