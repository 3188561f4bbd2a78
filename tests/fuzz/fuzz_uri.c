// SPDX-License-Identifier: GPL-2.0-only
/*
 * URIs and Contact aliases: the input is a URI. It is parsed, its alias
 * decoded (nat_alias_decode), its address taken (sip_addr_from_uri, with the
 * in-process resolver of fuzz.h), compared with the edge, stripped of its
 * aliases and printed again. The same text as a Contact header of a
 * REGISTER from a client is then rewritten to the edge (nat_alias_contacts)
 * and the message serialised and parsed again, as the core would.
 */
#include <stdio.h>
#include <osipparser2/osip_port.h>
#include "fuzz.h"
#include "sip/nat.h"
#include "sigd.h"
#include "sip/msg.h"

static const char reg[] = "REGISTER sip:example.com SIP/2.0\r\n"
			  "Via: SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK-r1;rport\r\n"
			  "From: <sip:alice@example.com>;tag=r1\r\n"
			  "To: <sip:alice@example.com>\r\n"
			  "Call-ID: uri-1@10.0.0.2\r\n"
			  "CSeq: 1 REGISTER\r\n"
			  "Content-Length: 0\r\n\r\n";

static void as_uri(const char *text, const struct sip_edge *edge)
{
	struct sip_addr a;
	osip_uri_t *u;
	char *s = NULL;

	if (osip_uri_init(&u))
		return;
	if (!osip_uri_parse(u, text)) {
		nat_alias_decode(u, &a);
		sip_addr_from_uri(u, &a);
		sip_edge_is_uri(edge, u);
		nat_alias_strip(u);
		if (!osip_uri_to_str(u, &s))
			osip_free(s);
	}
	osip_uri_free(u);
}

static void as_contact(const char *text, const struct sip_edge *edge, const struct sip_addr *src)
{
	osip_message_t *m, *again;
	char *buf = NULL;
	size_t len;

	if (osip_message_init(&m))
		return;
	if (osip_message_parse(m, reg, sizeof(reg) - 1) || osip_message_set_contact(m, text))
		goto out;
	nat_alias_contacts(m, edge, src, src);
	if (msg_serialize(m, &buf, &len))
		goto out;
	if (!osip_message_init(&again)) {
		osip_message_parse(again, buf, len);
		osip_message_free(again);
	}
	osip_free(buf);
out:
	osip_message_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sip_edge edge;
	static bool ready;
	struct sip_addr src = {.port = 40000, .proto = SIP_UDP};
	char *text;

	if (!ready) {
		struct sip_ip ip;

		fuzz_quiet();
		sip_ip_parse("203.0.113.1", &ip);
		sip_edge_set(&edge, &ip, 5060);
		sip_ip_parse("2001:db8::1", &ip);
		sip_edge_set(&edge, &ip, 5060);
		ready = true;
	}
	/* A client of either family: its alias is written and read back both ways. */
	sip_ip_parse(size & 1 ? "2001:db8:10::50" : "192.0.2.50", &src.ip);
	text = fuzz_str(data, size);
	as_uri(text, &edge);
	as_contact(text, &edge, &src);
	free(text);
	return 0;
}
