// SPDX-License-Identifier: GPL-2.0-only
/*
 * One logger for the library and its callers: stderr (with the journal's
 * priority prefixes when systemd connects stderr to it) or syslog. libbpf and
 * libxdp talk a lot at their "info" level (every map they create, every
 * program they probe); routing them one level lower keeps a plain CLI run
 * quiet while -v still shows them.
 *
 * Lines are rate limited: a flood of malformed SIP or of bans produces a log
 * line per packet, and must not fill the disk. Past XS_LOG_BURST lines in one
 * second the rest of that second is counted, not written, and the next line
 * says how many were suppressed.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "lib/xdpsbc.h"

#define XS_LOG_BURST 200 /* lines per second; far above a healthy edge's rate */

static enum xs_log_level cur_level = XS_LOG_WARN;
static enum xs_log_target cur_target = XS_LOG_STDERR;
static int journal_prefix = -1; /* stderr is the journal: "<N>" priority prefixes */

static struct {
	time_t second;
	unsigned int lines;
	unsigned long suppressed;
} rl;

void xs_log_set_level(enum xs_log_level level)
{
	cur_level = level;
}

void xs_log_set_target(enum xs_log_target target, const char *ident)
{
	if (cur_target == XS_LOG_SYSLOG && target != XS_LOG_SYSLOG)
		closelog();
	if (target == XS_LOG_SYSLOG && cur_target != XS_LOG_SYSLOG)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	cur_target = target;
}

/* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
static int to_journal(void)
{
	if (journal_prefix < 0)
		journal_prefix = getenv("JOURNAL_STREAM") != NULL;
	return journal_prefix;
}

static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

static void emit(enum xs_log_level level, const char *fmt, va_list ap)
{
	static const char *const tag[] = {"error: ", "warning: ", "", "debug: "};

	if (cur_target == XS_LOG_SYSLOG) {
		vsyslog(syslog_prio[level], fmt, ap);
		return;
	}
	if (to_journal())
		fprintf(stderr, "<%d>", syslog_prio[level]);
	fputs(tag[level], stderr);
	vfprintf(stderr, fmt, ap);
}

static void note_suppressed(void)
{
	if (cur_target == XS_LOG_SYSLOG) {
		syslog(LOG_WARNING, "%lu log lines suppressed (rate limit %d/s)", rl.suppressed,
		       XS_LOG_BURST);
	} else {
		if (to_journal())
			fprintf(stderr, "<%d>", LOG_WARNING);
		fprintf(stderr, "warning: %lu log lines suppressed (rate limit %d/s)\n",
			rl.suppressed, XS_LOG_BURST);
	}
	rl.suppressed = 0;
}

/* Is there room for one more line this second? */
static int rate_ok(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if (ts.tv_sec != rl.second) {
		rl.second = ts.tv_sec;
		rl.lines = 0;
		if (rl.suppressed)
			note_suppressed();
	}
	if (rl.lines >= XS_LOG_BURST) {
		rl.suppressed++;
		return 0;
	}
	rl.lines++;
	return 1;
}

static void vlog(enum xs_log_level level, const char *fmt, va_list ap)
{
	if (level > cur_level || !rate_ok())
		return;
	emit(level, fmt, ap);
}

void xs_log(enum xs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* One level lower than the library meant: its warnings are our info, etc. */
static enum xs_log_level lower(int lib_level)
{
	switch (lib_level) {
	case LIBBPF_WARN:
		return XS_LOG_INFO;
	default:
		return XS_LOG_DEBUG;
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	vlog(lower(level), fmt, ap); /* libbpf says "libbpf: " itself */
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	/* libxdp's levels mirror libbpf's: WARN 0, INFO 1, DEBUG 2. */
	vlog(lower(level == LIBXDP_WARN ? LIBBPF_WARN : LIBBPF_INFO), fmt, ap);
	return 0;
}

void xs_log_route_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
