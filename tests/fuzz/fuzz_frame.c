// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP framing: the input is what a peer wrote on a connection. tp_frame()
 * runs on an exact-size buffer (not NUL-terminated, as a receive buffer is),
 * and every message it frames is checked to lie inside the buffer and then
 * cut off, as conn_read() does (CRLF keepalives skipped first), until it
 * reports an incomplete message or an error. A -timeout makes a framing loop
 * that never ends a finding.
 */
#include <stdio.h>
#include "fuzz.h"
#include "sip/transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	char *buf = malloc(size ? size : 1);
	size_t off = 0;

	if (!ready) {
		fuzz_quiet();
		ready = true;
	}
	memcpy(buf, data, size);
	while (off < size) {
		ssize_t n;

		/* CRLF keepalives between messages: skipped before framing. */
		while (off < size && (buf[off] == '\r' || buf[off] == '\n'))
			off++;
		if (off == size)
			break;
		n = tp_frame(buf + off, size - off);
		if (n <= 0)
			break;
		if ((size_t)n > size - off) {
			fprintf(stderr, "tp_frame: %zd bytes framed of %zu\n", n, size - off);
			abort();
		}
		off += n;
	}
	free(buf);
	return 0;
}
