// SPDX-License-Identifier: GPL-2.0-only
/*
 * One logger for the library and its callers, to stderr. libbpf and libxdp
 * talk a lot at their "info" level (every map they create, every program they
 * probe); routing them one level lower keeps a plain CLI run quiet while -v
 * still shows them.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "loader.h"

static enum xs_log_level cur_level = XS_LOG_WARN;

void xs_log_set_level(enum xs_log_level level)
{
	cur_level = level;
}

static void vlog(enum xs_log_level level, const char *prefix, const char *fmt, va_list ap)
{
	static const char *const tag[] = {"error: ", "warning: ", "", "debug: "};

	if (level > cur_level)
		return;
	fputs(prefix, stderr);
	fputs(tag[level], stderr);
	vfprintf(stderr, fmt, ap);
}

void xs_log(enum xs_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, "", fmt, ap);
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
	vlog(lower(level), "", fmt, ap); /* libbpf says "libbpf: " itself */
	return 0;
}

static int libxdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	/* libxdp's levels mirror libbpf's: WARN 0, INFO 1, DEBUG 2. */
	vlog(lower(level == LIBXDP_WARN ? LIBBPF_WARN : LIBBPF_INFO), "", fmt, ap);
	return 0;
}

void xs_log_route_libs(void)
{
	libbpf_set_print(libbpf_print);
	libxdp_set_print(libxdp_print);
}
