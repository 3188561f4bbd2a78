/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One sigd per state directory (instance.c): a lock held for sigd's life,
 * and the systemd readiness notification.
 */
#ifndef XDPSBC_SIGD_INSTANCE_H
#define XDPSBC_SIGD_INSTANCE_H

/*
 * Take STATE-DIR/sigd.lock (flock, held until exit) and write our pid in it.
 * -EBUSY, with one line naming the holder, when another sigd has it.
 */
int sigd_instance_lock(const char *state_dir);
/* In a child that outlives sigd (the relay process): drop our copy of the lock fd. */
void sigd_instance_lock_forget(void);
/* After daemon(): the lock file names the pid that holds the lock now. */
void sigd_instance_lock_repid(void);

/*
 * sd_notify(3) "READY=1" (with STATUS=@status) once sigd serves; "RELOADING=1"
 * and "READY=1" around a reload, "STOPPING=1". No-ops without NOTIFY_SOCKET.
 */
void sigd_notify_ready(const char *status);
void sigd_notify_reloading(void);
void sigd_notify_stopping(void);
/* WATCHDOG=1 when the unit asked for a watchdog (WatchdogSec=), at most every half period. */
void sigd_notify_watchdog(void);

#endif /* XDPSBC_SIGD_INSTANCE_H */
