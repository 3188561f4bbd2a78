/* SPDX-License-Identifier: GPL-2.0-only */
/* A growing text buffer; out of memory is sticky (oom) and later prints do nothing. */
#ifndef XDPSBC_SIGD_STRBUF_H
#define XDPSBC_SIGD_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};
void sb_printf(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(struct sbuf *b);

#endif /* XDPSBC_SIGD_STRBUF_H */
