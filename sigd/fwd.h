/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Forwarding on the relay interfaces (`forwarding = auto|require|off`) and
 * the media-dropped-for-no-route watch (fwd.c).
 */
#ifndef XDPSBC_SIGD_FWD_H
#define XDPSBC_SIGD_FWD_H

#include <stdbool.h>

enum { SIGD_FWD_AUTO, SIGD_FWD_REQUIRE, SIGD_FWD_OFF };

struct sigd_cfg;

int sigd_fwd_parse(const char *s, int *mode);
const char *sigd_fwd_str(int mode);
/*
 * Make every interface the XDP relay serves (iface and the interfaces this
 * pin root's program is attached to) able to forward: auto turns
 * net.ipv4.conf.IFACE.forwarding on behind the guard, require refuses
 * (-EPERM, with one line naming the sysctl), off only warns.
 */
int sigd_fwd_prepare(const char *pin_root, const struct sigd_cfg *cfg);
/* Every few seconds: put back the guard of interfaces sigd made forward, if it went. */
void sigd_fwd_tick(void);

#endif /* XDPSBC_SIGD_FWD_H */
