/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every libFuzzer target of xdpsbc shares: a resolver that never leaves
 * the process, quiet logging, and a NUL-terminated copy of the input sized
 * exactly, so that AddressSanitizer sees a read one byte past its end.
 */
#ifndef XDPSBC_TESTS_FUZZ_H
#define XDPSBC_TESTS_FUZZ_H

#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "lib/xdpsbc.h"
#include "sip/msg.h"

/*
 * sigd resolves host names of URIs and Vias with getaddrinfo(). A fuzzer
 * must not wait on DNS: literals resolve as usual, names under example.com
 * and example.net to a documentation address, anything else fails. This
 * definition takes the place of the C library's for the whole target.
 */
int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	struct {
		struct addrinfo ai;
		struct sockaddr_in sin;
	} * r;
	size_t n = node ? strlen(node) : 0;
	struct in_addr ip;

	(void)service;
	(void)hints;
	if (!node)
		return EAI_NONAME;
	if (inet_pton(AF_INET, node, &ip) != 1) {
		if (!((n >= 11 && !strcasecmp(node + n - 11, "example.com")) ||
		      (n >= 11 && !strcasecmp(node + n - 11, "example.net"))))
			return EAI_NONAME;
		inet_pton(AF_INET, "198.51.100.20", &ip);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return EAI_MEMORY;
	r->sin.sin_family = AF_INET;
	r->sin.sin_addr = ip;
	r->ai.ai_family = AF_INET;
	r->ai.ai_socktype = SOCK_DGRAM;
	r->ai.ai_addrlen = sizeof(r->sin);
	r->ai.ai_addr = (struct sockaddr *)&r->sin;
	*res = &r->ai;
	return 0;
}

void freeaddrinfo(struct addrinfo *res)
{
	free(res);
}

/* FUZZ_VERBOSE=1 shows sigd's log lines (and runs their formatting). */
static inline void fuzz_quiet(void)
{
	static bool osip_ready;

	/* libosip2's header tables, as sigd's main() sets them up. */
	if (!osip_ready && !sigd_osip_init())
		osip_ready = true;
	xs_log_set_level(getenv("FUZZ_VERBOSE") ? XS_LOG_DEBUG : XS_LOG_ERR);
}

/* @data as a C string in a buffer of exactly @size + 1 bytes (free it). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = 0;
	return s;
}

/*
 * The next chunk of a multi-message input: messages are separated by a NUL
 * byte (which no SIP text contains). Returns its length and moves *@p, *@left.
 */
static inline size_t fuzz_next(const uint8_t **p, size_t *left, const uint8_t **chunk)
{
	const uint8_t *nul = memchr(*p, 0, *left);
	size_t n = nul ? (size_t)(nul - *p) : *left;

	*chunk = *p;
	*p += nul ? n + 1 : n;
	*left -= nul ? n + 1 : n;
	return n;
}

#endif /* XDPSBC_TESTS_FUZZ_H */
