/* SPDX-License-Identifier: GPL-2.0-only */
/* Proxy internals shared by proxy.c, response.c and originate.c. */
#ifndef XDPSBC_SIGD_PROXY_INT_H
#define XDPSBC_SIGD_PROXY_INT_H

#include <string.h>
#include <strings.h>
#include "sip/proxy.h"
#include "sip/msg.h"

int proxy_send_msg(struct proxy *p, osip_message_t *m, const struct sip_addr *dst, const char *cid,
		   char **out, size_t *out_len);
void proxy_reply(struct proxy *p, const osip_message_t *req, const struct sip_addr *dst, int code,
		 const char *reason, const char *cid);
/* Dialogs changed: proxy_tick() saves them within SAVE_INTERVAL_MS. */
#define SAVE_INTERVAL_MS 200
void proxy_save(struct proxy *p);
void proxy_count_failure(struct proxy *p, const struct sip_addr *dst, int code, const char *method,
			 const char *cid);
/* A CANCEL from the caller: 200 to it, a CANCEL of our own to the INVITE's next hop. */
void proxy_cancel(struct proxy *p, osip_message_t *m, const struct sip_addr *src, const char *cid,
		  const char *branch);
struct txn;
/* Our CANCEL of the forwarded INVITE @inv, to its next hop (once). */
void proxy_send_cancel(struct proxy *p, struct txn *inv);

struct dlg_leg;
/* Update @leg's remote target and seen address from its in-dialog message @m. */
bool dialog_refresh(struct dlg_leg *leg, const osip_message_t *m, const struct sip_addr *src);

/* Responses from the next hop (response.c). */
void proxy_response(struct proxy *p, osip_message_t *m, const struct sip_addr *src,
		    const char *cid);

static inline bool is_method(const osip_message_t *m, const char *name)
{
	const char *meth = msg_method(m);

	return meth && !strcasecmp(meth, name);
}

/* Methods whose requests or 18x/2xx responses may carry an SDP offer or answer. */
static inline bool sdp_method(const osip_message_t *m)
{
	return is_method(m, "INVITE") || is_method(m, "UPDATE") || is_method(m, "PRACK") ||
	       is_method(m, "ACK");
}

/* The method (a request's, a response's CSeq) for a log line: the sender's bytes, escaped. */
#define LOG_METHOD_LEN 48
#define LOG_METHOD(m)  log_esc(msg_method(m), (char[LOG_METHOD_LEN]){0}, LOG_METHOD_LEN)

static inline char *uri_str(const osip_uri_t *u)
{
	char *s = NULL;

	if (u)
		osip_uri_to_str(u, &s);
	return s;
}

/*
 * Copy @s (osip_malloc'd, freed) into a dialog field. A quoted display name
 * may hold a tab: fields are kept free of control characters, so what is
 * saved loads back (statefile.h refuses them) and a BYE built from them
 * stays one header per line.
 */
static inline void copy_osip_str(char *dst, size_t len, char *s)
{
	snprintf(dst, len, "%s", s ? s : "");
	for (char *c = dst; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
	osip_free(s);
}

#endif /* XDPSBC_SIGD_PROXY_INT_H */
