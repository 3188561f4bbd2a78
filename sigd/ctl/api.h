/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control API's answers, called by the server (ctl.c) once a request is
 * complete: @out gets the body.
 */
#ifndef XDPSBC_SIGD_CTL_API_H
#define XDPSBC_SIGD_CTL_API_H

#include "ctl/state.h"
#include "ctl/strbuf.h"

/* A line of the Unix socket; returns the HTTP status. */
int ctl_unix_command(struct ctl *c, const char *line, struct sbuf *out);
/* An HTTP request; returns the HTTP status, *@ctype the body's type. */
int ctl_http_route(struct ctl *c, const char *method, const char *path, const char *body,
		   size_t body_len, struct sbuf *out, const char **ctype);

/* metrics.c: the Prometheus text of /metrics. */
void ctl_metrics(struct ctl *c, struct sbuf *out);

#endif /* XDPSBC_SIGD_CTL_API_H */
