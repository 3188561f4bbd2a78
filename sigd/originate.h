/* SPDX-License-Identifier: GPL-2.0-only */
/* Proxy internals shared by proxy.c and originate.c (requests the edge itself sends). */
#ifndef XDPSBC_SIGD_ORIGINATE_H
#define XDPSBC_SIGD_ORIGINATE_H

#include "proxy.h"

int proxy_send_msg(struct proxy *p, osip_message_t *m, const struct sip_addr *dst, const char *cid,
		   char **out, size_t *out_len);
void proxy_reply(struct proxy *p, const osip_message_t *req, const struct sip_addr *dst, int code,
		 const char *reason, const char *cid);
void proxy_save(struct proxy *p);
/* A CANCEL from the caller: 200 to it, a CANCEL of our own to the INVITE's next hop. */
void proxy_cancel(struct proxy *p, osip_message_t *m, const struct sip_addr *src, const char *cid,
		  const char *branch);

#endif /* XDPSBC_SIGD_ORIGINATE_H */
