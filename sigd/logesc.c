// SPDX-License-Identifier: GPL-2.0-only
/* Rendering untrusted strings for the log. */
#include <stdio.h>
#include "sigd.h"

const char *log_esc(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return "";
	if (!s)
		s = "";
	for (; *s; s++) {
		unsigned char c = *s;
		char e[5];
		size_t k;

		if (c == '\r' || c == '\n' || c == '\t' || c == '\\') {
			e[0] = '\\';
			e[1] = c == '\r' ? 'r' : c == '\n' ? 'n' : c == '\t' ? 't' : '\\';
			k = 2;
		} else if (c < 0x20 || c >= 0x7f) {
			/* UTF-8 too: the log is read on terminals that act on escapes. */
			snprintf(e, sizeof(e), "\\x%02x", c);
			k = 4;
		} else {
			e[0] = c;
			k = 1;
		}
		if (n + k >= len)
			break;
		for (size_t i = 0; i < k; i++)
			buf[n++] = e[i];
	}
	buf[n] = 0;
	return buf;
}
