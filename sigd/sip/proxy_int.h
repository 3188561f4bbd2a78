/* SPDX-License-Identifier: GPL-2.0-only */
/* Proxy internals shared by proxy.c, response.c, originate.c and send.c. */
#ifndef XDPSBC_SIGD_PROXY_INT_H
#define XDPSBC_SIGD_PROXY_INT_H

#include <string.h>
#include <strings.h>
#include "sip/proxy.h"
#include "sip/msg.h"

/* send.c */
int proxy_send_msg(struct proxy *p, osip_message_t *m, const struct sip_addr *dst, const char *cid,
		   char **out, size_t *out_len);
void proxy_reply(struct proxy *p, const osip_message_t *req, const struct sip_addr *dst, int code,
		 const char *reason, const char *cid);
/* Dialogs changed: proxy_tick() saves them within SAVE_INTERVAL_MS. */
#define SAVE_INTERVAL_MS 200
void proxy_save(struct proxy *p);
void proxy_count_failure(struct proxy *p, const struct sip_addr *dst, int code, const char *method,
			 const char *cid);
/* originate.c */
/* A CANCEL from the caller: 200 to it, a CANCEL of our own to the INVITE's next hop. */
void proxy_cancel(struct proxy *p, osip_message_t *m, const struct sip_addr *src, const char *cid,
		  const char *branch);
struct txn;
/* Our CANCEL of the forwarded INVITE @inv, to its next hop (once). */
void proxy_send_cancel(struct proxy *p, struct txn *inv);

/* Responses from the next hop (response.c). */
void proxy_response(struct proxy *p, osip_message_t *m, const struct sip_addr *src,
		    const char *cid);

/* Methods whose requests or 18x/2xx responses may carry an SDP offer or answer. */
static inline bool sdp_method(const osip_message_t *m)
{
	return is_method(m, "INVITE") || is_method(m, "UPDATE") || is_method(m, "PRACK") ||
	       is_method(m, "ACK");
}

/* The method (a request's, a response's CSeq) for a log line: the sender's bytes, escaped. */
#define LOG_METHOD_LEN 48
#define LOG_METHOD(m)  log_esc(msg_method(m), (char[LOG_METHOD_LEN]){0}, LOG_METHOD_LEN)

#endif /* XDPSBC_SIGD_PROXY_INT_H */
