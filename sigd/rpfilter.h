/* SPDX-License-Identifier: GPL-2.0-only */
/* Reverse-path filtering on the edge (rpfilter.c): spoofed core sources die in the stack. */
#ifndef XDPSBC_SIGD_RPFILTER_H
#define XDPSBC_SIGD_RPFILTER_H

#include "lib/xdpsbc.h"

enum sigd_rpf {
	SIGD_RPF_STRICT, /* default: net.ipv4.conf.all.rp_filter = 1 */
	SIGD_RPF_KEEP,	 /* leave the sysctls as they are (warn when not strict) */
};

/* Apply @mode in sigd's network namespace; 0 or -errno (strict could not be set). */
int sigd_rp_filter(enum sigd_rpf mode);

#endif /* XDPSBC_SIGD_RPFILTER_H */
