/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SDP for the media anchor: read what one side's SDP says about each m-line
 * and rewrite it so the other side sends its media to the edge. Parsing and
 * printing are libosip2's (sdp_message_*); this file only validates and edits.
 */
#ifndef XDPSBC_SIGD_SDP_H
#define XDPSBC_SIGD_SDP_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <osipparser2/osip_message.h>
#include <osipparser2/sdp_message.h>

/* m-lines past this many are rejected (port 0): no real call has more. */
#define SDP_MAX_MEDIA 16

/*
 * What one SDP says about one m-line. An IPv4 c= fills addr, an IPv6 one
 * addr6 (v6 set, addr 0); likewise a=rtcp's address.
 */
struct sdp_media_info {
	uint16_t port;		    /* m= port; 0: stream disabled or rejected */
	bool relay;		    /* UDP-based, within SDP_MAX_MEDIA: the edge anchors it */
	bool v6;		    /* c= is IN IP6 */
	bool hold;		    /* c= is the unspecified address (RFC 2543 hold) */
	bool mux;		    /* a=rtcp-mux (RFC 5761) */
	struct in_addr addr;	    /* c= (media level, else session level), IPv4 */
	struct in6_addr addr6;	    /* c=, IPv6 */
	uint16_t rtcp_port;	    /* a=rtcp port (RFC 3605), else port + 1 */
	struct in_addr rtcp_addr;   /* a=rtcp address, else addr */
	struct in6_addr rtcp_addr6; /* a=rtcp address, else addr6 */
	bool rtcp_v6;		    /* a=rtcp names an IPv6 address (else c='s family) */
};

struct sdp_info {
	unsigned int n; /* m-lines in the SDP (all of them, even past SDP_MAX_MEDIA) */
	struct sdp_media_info m[SDP_MAX_MEDIA];
};

/*
 * Parse and validate @text. On success *@out is the parsed message (free with
 * sdp_message_free) and @info describes its m-lines. -EBADMSG when libosip2
 * cannot parse it, a port is not a number below 65536, a relayed m-line has no
 * c= or an unusable one, or a=rtcp is malformed; -ENOMEM. @text need not end
 * in a line break; libosip2 never sees @text itself, only a padded copy.
 */
int sdp_parse(const char *text, sdp_message_t **out, struct sdp_info *info);

/*
 * Rewrite @sdp for the other side: o= and c= to the edge address @edge of
 * family @af (AF_INET: IN IP4, AF_INET6: IN IP6; a hold stays the
 * unspecified address of that family), m= port i to @edge_port[i] (0 keeps
 * or makes the m-line disabled), a=rtcp to edge_port[i] + 1, ICE attributes
 * removed. *@text receives the new body (free with osip_free). Returns 0,
 * -EAFNOSUPPORT for another @af, or -ENOMEM.
 */
int sdp_rewrite(sdp_message_t *sdp, const struct sdp_info *info, const uint16_t *edge_port, int af,
		const void *edge, char **text);

/* The SDP body of @msg: its body when application/sdp, or a multipart's SDP part (*@multipart). */
osip_body_t *sdp_body(osip_message_t *msg, bool *multipart);
/* Put @text (osip-allocated, taken over) in place of @b's text; fix Content-Length. */
int sdp_body_replace(osip_message_t *msg, osip_body_t *b, char *text, bool multipart);

#endif /* XDPSBC_SIGD_SDP_H */
