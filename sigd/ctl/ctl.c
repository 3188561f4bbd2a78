// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control API transport: the Unix socket and the HTTP listener, connection
 * buffers, HTTP/1.x request framing and the bearer token. What is answered
 * is in api.c.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include "ctl/ctl.h"
#include "ctl/api.h"
#include "sip/transport.h"

#define TAG_UNIX 1
#define TAG_HTTP 2
#define TAG_CONN 16

int ctl_token(const struct sigd_cfg *cfg, char *out, size_t len)
{
	FILE *f;

	out[0] = 0;
	if (cfg->http_token[0]) {
		snprintf(out, len, "%s", cfg->http_token);
		return 0;
	}
	if (!cfg->http_token_file[0])
		return -ENOENT;
	f = fopen(cfg->http_token_file, "r");
	if (!f)
		return -errno;
	if (!fgets(out, len, f))
		out[0] = 0;
	fclose(f);
	out[strcspn(out, "\r\n \t")] = 0;
	return out[0] ? 0 : -ENOENT;
}

bool ctl_authorised(const char *headers, const char *token)
{
	const char *p = headers;
	size_t tl = strlen(token);

	if (!tl)
		return false;
	while ((p = strcasestr(p, "\nAuthorization:"))) {
		const char *v = p + 15, *e;
		unsigned char diff = 0;
		size_t vl;

		while (*v == ' ' || *v == '\t')
			v++;
		if (strncasecmp(v, "Bearer ", 7))
			return false;
		v += 7;
		while (*v == ' ')
			v++;
		e = v;
		while (*e && *e != '\r' && *e != '\n' && *e != ' ')
			e++;
		vl = e - v;
		/* Constant time over the token's length: no early exit on a mismatch. */
		for (size_t i = 0; i < tl; i++)
			diff |= (unsigned char)token[i] ^ (unsigned char)(i < vl ? v[i] : 0);
		return !diff && vl == tl;
	}
	return false;
}

static int add_fd(struct ctl *c, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int open_unix(struct ctl *c, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	mode_t old;
	int fd, err;

	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	/* Another daemon answering there keeps its socket; a stale one is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	err = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (!err)
		return -EADDRINUSE;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	/* Created 0600 from the start: no window where others may connect. */
	old = umask(0177);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(old);
	if (!err && chmod(path, 0600))
		err = -errno;
	if (!err && listen(fd, 16))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	c->unix_fd = fd;
	return add_fd(c, fd, TAG_UNIX);
}

static int open_http(struct ctl *c, const struct sip_addr *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = sip_addr_to_sa(a, &ss);
	int one = 1, fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 16)) {
		int err = -errno;

		close(fd);
		return err;
	}
	c->http_fd = fd;
	return add_fd(c, fd, TAG_HTTP);
}

static void conn_close(struct ctl *c, int i)
{
	struct ctl_conn *cc = &c->conns[i];

	if (cc->fd < 0)
		return;
	epoll_ctl(c->epfd, EPOLL_CTL_DEL, cc->fd, NULL);
	close(cc->fd);
	free(cc->buf);
	cc->buf = NULL;
	cc->fd = -1;
}

static const char *status_text(int code);

/* A short answer that never waits: one non-blocking send (a newcomer, a stalled peer). */
static void quick_answer(int fd, bool http, int code, const char *msg)
{
	char buf[256];
	int n = http ? snprintf(buf, sizeof(buf),
				"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
				"Content-Length: %zu\r\nConnection: "
				"close\r\n\r\n{\"error\":\"%s\"}\n",
				code, status_text(code), strlen(msg) + 12, msg)
		     : snprintf(buf, sizeof(buf), "error: %s\n", msg);

	send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void refuse_conn(int fd, bool http, int code, const char *msg)
{
	char sink[512];

	quick_answer(fd, http, code, msg);
	/*
	 * Closing with the peer's request unread makes its kernel reset the
	 * connection and drop our answer unread: take in what has arrived.
	 */
	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
	close(fd);
}

static void accept_one(struct ctl *c, int lfd, bool http)
{
	struct sockaddr_in sin = {0};
	socklen_t sl = sizeof(sin);
	int fd = accept4(lfd, http ? (struct sockaddr *)&sin : NULL, http ? &sl : NULL,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	int lo = http ? CTL_UNIX_CONNS : 0, hi = http ? CTL_MAX_CONNS : CTL_UNIX_CONNS;
	int free_slot = -1, same = 0;

	if (fd < 0)
		return;
	for (int i = lo; i < hi; i++) {
		const struct ctl_conn *cc = &c->conns[i];

		if (cc->fd < 0 && free_slot < 0)
			free_slot = i;
		else if (cc->fd >= 0 && http && cc->peer.s_addr == sin.sin_addr.s_addr)
			same++;
	}
	if (http && same >= CTL_HTTP_PER_SRC) {
		c->refused_per_src++;
		refuse_conn(fd, true, 429, "too many connections from this address");
		return;
	}
	if (free_slot < 0) {
		c->refused_full++;
		refuse_conn(fd, http, 503, "control API busy: every connection slot is in use");
		return;
	}
	struct ctl_conn *cc = &c->conns[free_slot];

	cc->buf = malloc(CTL_MAX_REQ + 1);
	if (!cc->buf || add_fd(c, fd, TAG_CONN + free_slot)) {
		free(cc->buf);
		cc->buf = NULL;
		refuse_conn(fd, http, 503, "out of memory");
		return;
	}
	cc->fd = fd;
	cc->http = http;
	cc->authed = false;
	cc->peer = sin.sin_addr;
	cc->len = 0;
	cc->start_ms = sigd_now_ms();
}

/*
 * Write it all; the peer is local and reads at once. A peer that does not
 * read stalls the loop at most CTL_WRITE_MS in all, then loses the answer.
 */
static void write_all(int fd, const char *s, size_t len)
{
	struct timeval tv = {.tv_usec = 200 * 1000};
	uint64_t end = sigd_now_ms() + CTL_WRITE_MS;
	int fl = fcntl(fd, F_GETFL);

	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len && sigd_now_ms() < end) {
		ssize_t n = send(fd, s, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		s += n;
		len -= n;
	}
}

static const char *status_text(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 413:
		return "Content Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Error";
	}
}

static void http_answer(int fd, int code, const char *ctype, const struct sbuf *body)
{
	char hdr[512];
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n%s\r\n",
			 code, status_text(code), ctype, body->len,
			 code == 401 ? "WWW-Authenticate: Bearer realm=\"xdpsbc\"\r\n" : "");

	write_all(fd, hdr, n);
	if (body->len)
		write_all(fd, body->s, body->len);
}

static void http_error(int fd, int code, const char *msg)
{
	struct sbuf b = {0};

	sb_printf(&b, "{\"error\":\"%s\"}\n", msg);
	http_answer(fd, code, "application/json", &b);
	sb_free(&b);
}

/*
 * A complete request? 0 not yet, 1 yes (*@hlen header bytes, *@blen body
 * bytes), <0 malformed or too large.
 */
static int http_complete(const char *buf, size_t len, size_t *hlen, size_t *blen)
{
	const char *end = memmem(buf, len, "\r\n\r\n", 4), *cl;
	unsigned long n = 0;

	if (!end)
		return len >= 16384 ? -E2BIG : 0;
	*hlen = end - buf + 4;
	cl = strcasestr(buf, "\nContent-Length:");
	if (cl && cl < end) {
		char *e;

		cl += 16;
		while (*cl == ' ')
			cl++;
		errno = 0;
		n = strtoul(cl, &e, 10);
		if (errno || e == cl || *cl == '-')
			return -EINVAL;
		if (n > CTL_MAX_REQ - *hlen)
			return -E2BIG;
	} else if (strcasestr(buf, "\nTransfer-Encoding:") &&
		   strcasestr(buf, "\nTransfer-Encoding:") < end) {
		return -EINVAL; /* chunked bodies are not accepted: send Content-Length */
	}
	*blen = n;
	return len >= *hlen + n ? 1 : 0;
}

static void http_serve(struct ctl *c, struct ctl_conn *cc, size_t hlen, size_t blen)
{
	char method[16], path[1024];
	const char *ctype = "application/json";
	struct sbuf out = {0};
	int code;

	c->http_requests++;
	cc->buf[hlen - 2] = 0; /* headers end in "\r\n", as the Authorization search wants */
	if (sscanf(cc->buf, "%15s %1023s HTTP/1.%*c", method, path) != 2) {
		http_error(cc->fd, 400, "bad request line");
		return;
	}
	if (!cc->authed) { /* conn_read() checked it; never route without */
		http_error(cc->fd, 401, "missing or wrong bearer token");
		return;
	}
	cc->buf[hlen + blen] = 0;
	code = ctl_http_route(c, method, path, cc->buf + hlen, blen, &out, &ctype);
	if (out.oom) {
		sb_free(&out);
		http_error(cc->fd, 500, "out of memory");
		return;
	}
	xs_log(XS_LOG_INFO, "[-] api: %s %s -> %d\n", method, path, code);
	http_answer(cc->fd, code, ctype, &out);
	sb_free(&out);
}

static void conn_read(struct ctl *c, int i)
{
	struct ctl_conn *cc = &c->conns[i];
	size_t hlen = 0, blen = 0;
	ssize_t n;
	int st;

	n = recv(cc->fd, cc->buf + cc->len, CTL_MAX_REQ - cc->len, 0);
	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		conn_close(c, i);
		return;
	}
	cc->len += n;
	cc->buf[cc->len] = 0;
	if (!cc->http) {
		char *nl = memchr(cc->buf, '\n', cc->len);
		struct sbuf out = {0};

		if (!nl && cc->len < 1024)
			return;
		if (nl)
			*nl = 0;
		c->unix_requests++;
		ctl_unix_command(c, cc->buf, &out);
		if (out.oom) {
			sb_free(&out);
			sb_printf(&out, "error: out of memory\n");
		}
		if (out.len)
			write_all(cc->fd, out.s, out.len);
		sb_free(&out);
		conn_close(c, i);
		return;
	}
	st = http_complete(cc->buf, cc->len, &hlen, &blen);
	/*
	 * The token is checked as soon as the headers are in, before any body
	 * is waited for: an unauthenticated peer holds its slot CTL_AUTH_MS.
	 */
	if (st >= 0 && !cc->authed && memmem(cc->buf, cc->len, "\r\n\r\n", 4)) {
		char *end = memmem(cc->buf, cc->len, "\r\n\r\n", 4), save = end[2];
		char method[16] = "?", path[1024] = "?";

		end[2] = 0;
		cc->authed = ctl_authorised(cc->buf, c->token);
		end[2] = save;
		if (sscanf(cc->buf, "%15s %1023s HTTP/1.%*c", method, path) != 2) {
			c->http_requests++;
			http_error(cc->fd, 400, "bad request line");
			conn_close(c, i);
			return;
		}
		if (!cc->authed) {
			/* The log shows what arrived, never control bytes from it. */
			for (char *p = method; *p; p++)
				if (*p < 0x20 || *p > 0x7e)
					*p = '?';
			for (char *p = path; *p; p++)
				if (*p < 0x20 || *p > 0x7e)
					*p = '?';
			c->http_requests++;
			c->http_unauthorised++;
			xs_log(XS_LOG_WARN, "[-] api: %s %s refused: missing or wrong token\n",
			       method, path);
			http_error(cc->fd, 401, "missing or wrong bearer token");
			conn_close(c, i);
			return;
		}
	}
	if (st == 0 && cc->len < CTL_MAX_REQ)
		return;
	if (st < 0 || st == 0)
		http_error(cc->fd, st == -EINVAL ? 400 : 413,
			   st == -EINVAL ? "malformed request" : "request too large");
	else
		http_serve(c, cc, hlen, blen);
	conn_close(c, i);
}

static void on_ready(void *arg)
{
	struct ctl *c = arg;
	struct epoll_event ev[16];
	int n = epoll_wait(c->epfd, ev, 16, 0);

	for (int i = 0; i < n; i++) {
		uint32_t tag = ev[i].data.u32;

		if (tag == TAG_UNIX)
			accept_one(c, c->unix_fd, false);
		else if (tag == TAG_HTTP)
			accept_one(c, c->http_fd, true);
		else if (tag >= TAG_CONN && tag < TAG_CONN + CTL_MAX_CONNS &&
			 c->conns[tag - TAG_CONN].fd >= 0)
			conn_read(c, tag - TAG_CONN);
	}
}

const char *ctl_socket_path(const struct sigd_cfg *cfg, char *buf, size_t len)
{
	int n = cfg->ctl_socket[0] ? snprintf(buf, len, "%s", cfg->ctl_socket)
				   : snprintf(buf, len, "%s/ctl.sock", cfg->state_dir);

	return n > 0 && (size_t)n < len && (size_t)n < sizeof(((struct sockaddr_un *)0)->sun_path)
		       ? buf
		       : NULL;
}

int ctl_init(struct ctl *c, const struct sigd_cfg *cfg, struct proxy *px,
	     const struct xs_maps *maps, const char *pin_root)
{
	char ab[SIP_ADDR_STRLEN];
	int err;

	memset(c, 0, sizeof(*c));
	c->px = px;
	c->cfg = cfg;
	c->maps = maps;
	c->pin_root = pin_root;
	c->unix_fd = c->http_fd = -1;
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		c->conns[i].fd = -1;
	c->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (c->epfd < 0)
		return -errno;
	if (strcmp(cfg->ctl_socket, "none")) {
		const char *path = ctl_socket_path(cfg, c->path, sizeof(c->path));

		/* The CLI's window on calls: worth a warning, not worth stopping calls. */
		err = path ? open_unix(c, path) : -ENAMETOOLONG;
		if (err)
			xs_log(XS_LOG_WARN,
			       "control socket %s: %s; xdpsbc calls/policy unavailable\n", c->path,
			       strerror(-err));
		else
			xs_log(XS_LOG_INFO, "control socket %s\n", path);
	}
	if (cfg->http_on) {
		err = ctl_token(cfg, c->token, sizeof(c->token));
		if (err) {
			xs_log(XS_LOG_ERR, "http-listen needs http-token or a readable "
					   "http-token-file\n");
			return -EINVAL;
		}
		err = open_http(c, &cfg->http_listen);
		if (err) {
			xs_log(XS_LOG_ERR, "http listener %s: %s\n",
			       sip_addr_str(&cfg->http_listen, ab, sizeof(ab)), strerror(-err));
			return err;
		}
		char h[SIP_IP_STRLEN];

		xs_log(XS_LOG_INFO, "REST API and /metrics on http://%s:%u/\n",
		       sip_ip_host(&cfg->http_listen.ip, h, sizeof(h)), cfg->http_listen.port);
	}
	return tp_watch(c->epfd, on_ready, c);
}

int ctl_reconfigure(struct ctl *c, const struct sigd_cfg *cfg)
{
	char tok[sizeof(c->token)];

	c->cfg = cfg;
	if (c->http_fd < 0)
		return 0;
	if (ctl_token(cfg, tok, sizeof(tok))) {
		xs_log(XS_LOG_WARN, "reload: no HTTP token; keeping the running one\n");
		return -EINVAL;
	}
	snprintf(c->token, sizeof(c->token), "%s", tok);
	return 0;
}

void ctl_tick(struct ctl *c)
{
	uint64_t now = sigd_now_ms();

	for (int i = 0; i < CTL_MAX_CONNS; i++) {
		struct ctl_conn *cc = &c->conns[i];

		uint64_t limit = cc->http && !cc->authed ? CTL_AUTH_MS : CTL_TIMEOUT_MS;

		if (cc->fd < 0 || now - cc->start_ms < limit)
			continue;
		if (cc->http && !cc->authed)
			c->auth_timeouts++;
		/* Best effort, never waiting: a peer that stalled may not read either. */
		quick_answer(cc->fd, cc->http, 408, "request timeout");
		conn_close(c, i);
	}
}

void ctl_close(struct ctl *c)
{
	for (int i = 0; i < CTL_MAX_CONNS; i++)
		conn_close(c, i);
	if (c->unix_fd >= 0) {
		close(c->unix_fd);
		unlink(c->path);
	}
	if (c->http_fd >= 0)
		close(c->http_fd);
	if (c->epfd >= 0)
		close(c->epfd);
	c->unix_fd = c->http_fd = c->epfd = -1;
}
