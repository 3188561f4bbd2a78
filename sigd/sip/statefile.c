// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "sip/statefile.h"

int sf_put(FILE *f, json_t *o)
{
	int err = 0;

	if (!o)
		return -ENOMEM;
	/* The encoder escapes CR, LF and every control character: one line per record. */
	if (json_dumpf(o, f, JSON_COMPACT) || fputc('\n', f) == EOF)
		err = -EIO;
	json_decref(o);
	return err;
}

int sf_write(const char *dir, const char *name, int (*emit)(FILE *f, void *arg), void *arg)
{
	char tmp[512], path[512];
	FILE *f;
	int fd, err;

	if (!dir || !*dir)
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/%s.tmp", dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* A temporary file left by an older version may have another mode. */
	if (fchmod(fd, 0600)) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	err = emit(f, arg);
	if (!err && fflush(f))
		err = -errno;
	/*
	 * Saves are batched (at most a few a second), so the fsync is cheap
	 * enough, and a crash leaves the old file or the new one, never half.
	 */
	if (!err && fsync(fileno(f)))
		err = -errno;
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int sf_open_append(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* The same checks as sf_read(): a file others can write is never extended. */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 077) ||
	    st.st_uid != geteuid()) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int sf_append(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= n;
	}
	/* As sf_write(): batched, so one flush per batch is affordable. */
	return fdatasync(fd) ? -errno : 0;
}

int sf_read(const char *dir, const char *name, int (*rec)(json_t *o, void *arg), void *arg)
{
	char path[512], *line = NULL;
	unsigned int lineno = 0, bad = 0;
	size_t cap = 0;
	struct stat st;
	ssize_t len;
	int fd, n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (st.st_mode & 022) ||
	    st.st_uid != geteuid()) {
		/* Anyone else who can write it could plant calls or registrations. */
		xs_log(XS_LOG_WARN, "%s: not a regular file of ours with mode 0600; ignored\n",
		       path);
		close(fd);
		return -EPERM;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		json_error_t je;
		json_t *o;
		int err;

		lineno++;
		if (len > SF_MAX_LINE) {
			err = -E2BIG;
		} else {
			o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
			err = !o ? -EBADMSG : !json_is_object(o) ? -EINVAL : rec(o, arg);
			json_decref(o);
		}
		if (err) {
			if (bad++ < 10)
				xs_log(XS_LOG_WARN, "%s:%u: record skipped: %s\n", path, lineno,
				       err == -EBADMSG ? "not JSON" : strerror(-err));
			continue;
		}
		n++;
	}
	if (bad > 10)
		xs_log(XS_LOG_WARN, "%s: %u records skipped in all\n", path, bad);
	free(line);
	fclose(f);
	return n;
}

bool sf_has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static int get_str(const json_t *o, const char *key, char *buf, size_t len, bool ctl_ok)
{
	const json_t *v = json_object_get(o, key);
	const char *s;

	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	/* An embedded NUL would make the C string differ from what was checked. */
	if (json_string_length(v) != strlen(s) || strlen(s) >= len || (!ctl_ok && sf_has_ctl(s)))
		return -EINVAL;
	strcpy(buf, s);
	return 0;
}

int sf_get_str(const json_t *o, const char *key, char *buf, size_t len)
{
	return get_str(o, key, buf, len, false);
}

int sf_get_text(const json_t *o, const char *key, char *buf, size_t len)
{
	return get_str(o, key, buf, len, true);
}

int sf_get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) > max)
		return -EINVAL;
	*out = json_integer_value(v);
	return 0;
}

int sf_get_bool(const json_t *o, const char *key, bool *out)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		return -EINVAL;
	*out = json_is_true(v);
	return 0;
}

json_t *sf_addr(const struct sip_addr *a)
{
	char ip[SIP_IP_STRLEN];

	sip_ip_str(&a->ip, ip, sizeof(ip));
	return json_pack("{s:s, s:i, s:s}", "ip", ip, "port", a->port, "proto",
			 sip_proto_name(a->proto));
}

int sf_get_addr(const json_t *o, const char *key, struct sip_addr *a)
{
	const json_t *v = json_object_get(o, key);
	char ip[SIP_IP_STRLEN], proto[4];
	uint64_t port;

	if (!json_is_object(v) || sf_get_str(v, "ip", ip, sizeof(ip)) ||
	    sf_get_uint(v, "port", 65535, &port) || sf_get_str(v, "proto", proto, sizeof(proto)))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	if (sip_ip_parse(ip, &a->ip))
		return -EINVAL;
	if (!strcmp(proto, "udp"))
		a->proto = SIP_UDP;
	else if (!strcmp(proto, "tcp"))
		a->proto = SIP_TCP;
	else if (!strcmp(proto, "tls"))
		a->proto = SIP_TLS;
	else
		return -EINVAL;
	a->port = port;
	return 0;
}
