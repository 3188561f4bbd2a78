// SPDX-License-Identifier: GPL-2.0-only
/* Guards around libosip2 (see sipguard.h). */
#include <errno.h>
#include <stdbool.h>
#include <strings.h>
#include "sip/guard.h"

#define CT     "content-type"
#define CT_LEN (sizeof(CT) - 1)

/*
 * libosip2 reads a MIME part's header lines up to the first empty line and
 * takes every header whose name starts with "content-type" (any case, after
 * leading blanks; it compares a 12-byte prefix) as the part's Content-Type.
 * A line is ended by CRLF, CR or LF, as libosip2 accepts all three. Counting
 * such lines between empty lines over the whole message finds every header
 * block with two, whatever the boundary; it errs only towards refusing (a
 * folded line starting with "content-type" counts too), never towards
 * letting a second Content-Type through.
 */
int sipguard_raw(const char *buf, size_t len)
{
	unsigned int ct = 0;
	size_t i = 0;

	while (i < len) {
		size_t s = i, e = i;

		while (e < len && buf[e] != '\r' && buf[e] != '\n')
			e++;
		if (e == s) {
			ct = 0; /* an empty line ends a header block */
		} else {
			while (s < e && (buf[s] == ' ' || buf[s] == '\t'))
				s++;
			if (e - s >= CT_LEN && !strncasecmp(buf + s, CT, CT_LEN) && ++ct > 1)
				return -EBADMSG;
		}
		if (e < len && buf[e] == '\r' && e + 1 < len && buf[e + 1] == '\n')
			e++;
		i = e + 1;
	}
	return 0;
}
