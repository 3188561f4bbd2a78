/* SPDX-License-Identifier: GPL-2.0-only */
/* XDP flood bans (ring buffer) into sigd's log, metrics and API. */
#ifndef XDPSBC_SIGD_BANS_H
#define XDPSBC_SIGD_BANS_H

#include "ctl/ctl.h"

/* Open the pinned xs_bans ring buffer and watch it in the loop; 0 or -errno (logged). */
int bans_init(const char *pin_root, struct ctl *c);
void bans_close(void);

#endif /* XDPSBC_SIGD_BANS_H */
