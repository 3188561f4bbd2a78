/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Guards around libosip2 for what it mishandles on hostile input. libosip2
 * is a dependency sigd keeps; where it misbehaves, sigd checks its input
 * before handing it over, and a test pins the behaviour (tests/sip and the
 * fuzz corpus under tests/fuzz).
 */
#ifndef XDPSBC_SIGD_SIPGUARD_H
#define XDPSBC_SIGD_SIPGUARD_H

#include <stddef.h>

/*
 * Check a raw message before osip_message_parse(): 0 when libosip2 may parse
 * it, -EBADMSG when it must not. Refused: a header block (the message's own,
 * or a MIME part's of a multipart body) with more than one Content-Type.
 * libosip2 keeps only the last Content-Type of a MIME part and leaks the
 * ones before it (some 19 KB per 16 KB datagram, before any policy), and no
 * valid message has two (RFC 3261 20.15, RFC 2045 5).
 */
int sipguard_raw(const char *buf, size_t len);

#endif /* XDPSBC_SIGD_SIPGUARD_H */
