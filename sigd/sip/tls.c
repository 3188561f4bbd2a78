// SPDX-License-Identifier: GPL-2.0-only
/*
 * OpenSSL for the transport (tls.h). Failures are counted and logged with
 * the peer's address, at most one line per WARN_EVERY_MS with the count so
 * far: a flood of broken handshakes must not flood the log.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include "sip/tls.h"

#define WARN_EVERY_MS 10000
#define MAX_NAMES     8

static SSL_CTX *srv_ctx, *cli_ctx;
static struct tls_stats st;
static uint64_t last_warn_ms;
static struct {
	struct sip_addr dst;
	char name[256];
} names[MAX_NAMES];
static unsigned int nnames;

static void log_ssl(const char *what, const char *file)
{
	char buf[256];
	unsigned long e = ERR_get_error();

	ERR_error_string_n(e, buf, sizeof(buf));
	xs_log(XS_LOG_ERR, "tls: %s %s: %s\n", what, file, e ? buf : "failed");
	ERR_clear_error();
}

/* SNI: one certificate for every name; the name is only looked at (and logged at debug). */
static int on_servername(SSL *s, int *al, void *arg)
{
	const char *sn = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);

	if (sn)
		xs_log(XS_LOG_DEBUG, "tls: client asks for %s\n", sn);
	return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *ctx_new(bool server)
{
	SSL_CTX *c = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());

	if (!c)
		return NULL;
	SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
	SSL_CTX_set_mode(c, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* No renegotiation: a peer could make the edge do handshakes at will. */
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
	return c;
}

int tls_init(const char *cert, const char *key, const char *ca)
{
	tls_fini();
	cli_ctx = ctx_new(false);
	if (!cli_ctx)
		return -ENOMEM;
	SSL_CTX_set_verify(cli_ctx, SSL_VERIFY_PEER, NULL);
	if (ca && ca[0] ? !SSL_CTX_load_verify_locations(cli_ctx, ca, NULL)
			: !SSL_CTX_set_default_verify_paths(cli_ctx)) {
		log_ssl("CA bundle", ca && ca[0] ? ca : "(system)");
		return -EINVAL;
	}
	if (!cert || !cert[0])
		return 0;
	srv_ctx = ctx_new(true);
	if (!srv_ctx)
		return -ENOMEM;
	if (SSL_CTX_use_certificate_chain_file(srv_ctx, cert) != 1) {
		log_ssl("certificate", cert);
		return -EINVAL;
	}
	if (SSL_CTX_use_PrivateKey_file(srv_ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(srv_ctx) != 1) {
		log_ssl("key", key);
		return -EINVAL;
	}
	SSL_CTX_set_tlsext_servername_callback(srv_ctx, on_servername);
	if (ca && ca[0]) {
		STACK_OF(X509_NAME) *cas = SSL_load_client_CA_file(ca);

		if (!SSL_CTX_load_verify_locations(srv_ctx, ca, NULL) || !cas) {
			log_ssl("client CA bundle", ca);
			return -EINVAL;
		}
		SSL_CTX_set_client_CA_list(srv_ctx, cas);
		/* Trunk peers: no certificate signed by the CA, no connection. */
		SSL_CTX_set_verify(srv_ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
				   NULL);
	}
	return 0;
}

void tls_fini(void)
{
	SSL_CTX_free(srv_ctx);
	SSL_CTX_free(cli_ctx);
	srv_ctx = cli_ctx = NULL;
	nnames = 0;
}

bool tls_server_ready(void)
{
	return srv_ctx != NULL;
}

void tls_set_peer_name(const struct sip_addr *dst, const char *name)
{
	for (unsigned int i = 0; i < nnames; i++)
		if (sip_ip_eq(&names[i].dst.ip, &dst->ip) && names[i].dst.port == dst->port) {
			snprintf(names[i].name, sizeof(names[i].name), "%s", name);
			return;
		}
	if (nnames < MAX_NAMES) {
		names[nnames].dst = *dst;
		snprintf(names[nnames].name, sizeof(names[nnames].name), "%s", name);
		nnames++;
	}
}

/* Outgoing: the peer must prove the name it was configured by, else its address. */
static int expect_peer(SSL *s, const struct sip_addr *peer)
{
	char ip[SIP_IP_STRLEN];

	for (unsigned int i = 0; i < nnames; i++)
		if (sip_ip_eq(&names[i].dst.ip, &peer->ip) && names[i].dst.port == peer->port) {
			struct sip_ip lit;

			if (!sip_ip_parse(names[i].name, &lit))
				break;
			SSL_set_tlsext_host_name(s, names[i].name);
			return SSL_set1_host(s, names[i].name) == 1 ? 0 : -ENOMEM;
		}
	sip_ip_str(&peer->ip, ip, sizeof(ip));
	return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s), ip) == 1 ? 0 : -ENOMEM;
}

struct ssl_st *tls_new(int fd, bool server, const struct sip_addr *peer)
{
	SSL *s = SSL_new(server ? srv_ctx : cli_ctx);

	if (!s)
		return NULL;
	if (!SSL_set_fd(s, fd) || (!server && expect_peer(s, peer))) {
		SSL_free(s);
		return NULL;
	}
	if (server)
		SSL_set_accept_state(s);
	else
		SSL_set_connect_state(s);
	return s;
}

void tls_free(struct ssl_st *s)
{
	if (!s)
		return;
	/* One close_notify, never waited for: the fd is closed next. */
	if (SSL_is_init_finished(s))
		SSL_shutdown(s);
	SSL_free(s);
	ERR_clear_error();
}

static void fail_log(SSL *s, const struct sip_addr *peer, int rc)
{
	char why[200] = "", h[SIP_IP_STRLEN];
	unsigned long e = ERR_peek_last_error();
	long vr = SSL_get_verify_result(s);
	uint64_t now = sigd_now_ms();

	st.handshake_failed++;
	if (vr != X509_V_OK) {
		st.verify_failed++;
		snprintf(why, sizeof(why), "certificate: %s", X509_verify_cert_error_string(vr));
	} else if (e) {
		ERR_error_string_n(e, why, sizeof(why));
	} else {
		snprintf(why, sizeof(why), "%s",
			 rc == SSL_ERROR_SYSCALL ? "connection closed" : "error");
	}
	ERR_clear_error();
	if (last_warn_ms && now - last_warn_ms < WARN_EVERY_MS)
		return;
	last_warn_ms = now;
	xs_log(XS_LOG_WARN, "[-] tls %s:%u: handshake failed: %s (%llu failures so far)\n",
	       sip_ip_host(&peer->ip, h, sizeof(h)), peer->port, why,
	       (unsigned long long)st.handshake_failed);
}

int tls_handshake(struct ssl_st *s, const struct sip_addr *peer, bool *want_write)
{
	int rc = SSL_do_handshake(s), e;

	*want_write = false;
	if (rc == 1) {
		st.handshakes++;
		return 1;
	}
	e = SSL_get_error(s, rc);
	if (e == SSL_ERROR_WANT_READ)
		return 0;
	if (e == SSL_ERROR_WANT_WRITE) {
		*want_write = true;
		return 0;
	}
	fail_log(s, peer, e);
	return -EPROTO;
}

static ssize_t io_result(SSL *s, int rc, bool *want_write)
{
	int e = SSL_get_error(s, rc);

	*want_write = e == SSL_ERROR_WANT_WRITE;
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return -EAGAIN;
	ERR_clear_error();
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -EIO;
}

ssize_t tls_read(struct ssl_st *s, char *buf, size_t len, bool *want_write)
{
	int rc = SSL_read(s, buf, len > INT32_MAX ? INT32_MAX : (int)len);

	*want_write = false;
	return rc > 0 ? rc : io_result(s, rc, want_write);
}

ssize_t tls_write(struct ssl_st *s, const char *buf, size_t len, bool *want_write)
{
	int rc = SSL_write(s, buf, len > INT32_MAX ? INT32_MAX : (int)len);

	*want_write = false;
	return rc > 0 ? rc : io_result(s, rc, want_write);
}

bool tls_pending(struct ssl_st *s)
{
	return SSL_pending(s) > 0;
}

void tls_get_stats(struct tls_stats *out)
{
	*out = st;
}
