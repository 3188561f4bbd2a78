// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP framing (RFC 3261 18.3): a message is its header section up to the
 * first empty line plus Content-Length bytes of body. The framing and
 * osipparser2 must agree on where a message ends, or a body could smuggle a
 * second message past the policy checks: so the header section is accepted
 * only in the form both read the same way (CRLF line ends only, one
 * no NUL, one Content-Length of plain digits, a message within TP_MAX_MSG), and anything
 * else is refused rather than guessed at.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "sip/transport.h"

/* More digits than a length up to TP_MAX_MSG can need: refused, not parsed. */
#define CLEN_MAX_DIGITS 5

static bool is_lws(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * If [@line, @eol) is a Content-Length header ("Content-Length" or "l",
 * case-insensitive, optional white space before the colon), parse its value.
 * Returns 1 with *@v set, 0 for another header, -EBADMSG for a malformed value.
 */
static int clen_header(const char *line, const char *eol, long *v)
{
	const char *colon = memchr(line, ':', eol - line), *p;
	size_t kl, digits = 0;
	long n = 0;

	if (!colon || line == eol || is_lws(*line))
		return 0; /* no header name, or a continuation line */
	kl = colon - line;
	while (kl && is_lws(line[kl - 1]))
		kl--;
	if (!((kl == 14 && !strncasecmp(line, "Content-Length", 14)) ||
	      (kl == 1 && (*line == 'l' || *line == 'L'))))
		return 0;
	for (p = colon + 1; p < eol && is_lws(*p); p++)
		;
	for (; p < eol && *p >= '0' && *p <= '9'; p++) {
		if (++digits > CLEN_MAX_DIGITS)
			return -EMSGSIZE;
		n = n * 10 + (*p - '0');
	}
	while (p < eol && is_lws(*p))
		p++;
	if (!digits || p != eol)
		return -EBADMSG;
	*v = n;
	return 1;
}

ssize_t tp_frame(const char *buf, size_t len)
{
	const char *hend = memmem(buf, len, "\r\n\r\n", 4), *line, *eol, *end;
	long clen = -1;
	size_t hlen;

	if (!hend)
		return len >= TP_MAX_MSG ? -EMSGSIZE : 0;
	hlen = hend + 4 - buf;
	end = hend + 2; /* the CRLF of the last header line is part of it */
	for (line = buf; line < end; line = eol + 2) {
		long v;
		int r;

		/* Always found: @end takes the CRLF of the last line along. */
		eol = memmem(line, end - line, "\r\n", 2);
		if (!eol)
			return -EBADMSG;
		/*
		 * A bare CR or LF ends a line for osipparser2 but not for this
		 * framing, and a NUL ends its strings: a Content-Length behind one
		 * would be read by only one of them.
		 */
		for (const char *p = line; p < eol; p++)
			if (*p == '\r' || *p == '\n' || !*p)
				return -EBADMSG;
		r = clen_header(line, eol, &v);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		/* osipparser2 refuses a repeated one; a conflicting one is never guessed. */
		if (clen >= 0 && v != clen)
			return -EBADMSG;
		clen = v;
	}
	if (clen < 0)
		clen = 0; /* RFC 3261 18.3 makes it mandatory over TCP; no body then */
	if (hlen + clen > TP_MAX_MSG)
		return -EMSGSIZE;
	if (hlen + clen > len)
		return 0;
	return hlen + clen;
}
