// SPDX-License-Identifier: GPL-2.0-only
/*
 * The resolver cache (dns.h). getaddrinfo() blocks for as long as the
 * resolver takes, seconds when a name server does not answer, so it runs
 * only in resolver threads; the SIP loop reads the cache under a mutex and
 * never waits. The cache and the queue are bounded: a flood of names nobody
 * can resolve fills them and is refused (-EAGAIN), and cached and pinned
 * names keep working meanwhile. One thread serves only the pinned names, so
 * their refresh never waits behind a stuck lookup of a name a sender chose.
 */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <resolv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <arpa/inet.h>
#include "sip/dns.h"
#include "sigd.h"

#define DNS_ENTRIES  1024
#define DNS_QUEUE    64 /* names waiting for a thread, per queue */
#define DNS_THREADS  4	/* thread 0 serves only the pinned names */
#define DNS_NAME_MAX 254

enum ent_state { ENT_FREE, ENT_PENDING, ENT_OK, ENT_FAIL };

struct ent {
	char name[DNS_NAME_MAX];
	enum ent_state state;
	bool pinned, have_ip;
	struct sip_ip ip;
	uint64_t expires_ms; /* OK: refresh from then on; FAIL: ask again from then on */
	uint64_t started_ms; /* PENDING since */
	uint32_t gen;	     /* bumped when the slot changes name: late answers are dropped */
};

struct ring {
	unsigned int idx[DNS_QUEUE], head, len;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER, done_cv = PTHREAD_COND_INITIALIZER;
static struct ent ents[DNS_ENTRIES];
static struct ring q_pinned, q_other;
static bool threads_up;
static struct dns_cfg cfg = {DNS_DEFAULT_TTL_S, DNS_DEFAULT_NEG_TTL_S, DNS_DEFAULT_TIMEOUT_MS};
static struct dns_stats st;
static unsigned int wait_ms;

void dns_cfg_default(struct dns_cfg *c)
{
	*c = (struct dns_cfg){DNS_DEFAULT_TTL_S, DNS_DEFAULT_NEG_TTL_S, DNS_DEFAULT_TIMEOUT_MS};
}

void dns_set_cfg(const struct dns_cfg *c)
{
	pthread_mutex_lock(&mu);
	cfg = *c;
	pthread_mutex_unlock(&mu);
}

void dns_set_wait(unsigned int ms)
{
	wait_ms = ms;
}

/* Letters, digits, '-', '_' and dots: what a SIP host name can be (RFC 3261 25.1). */
static bool valid_name(const char *h)
{
	size_t n = strlen(h);

	if (!n || n >= DNS_NAME_MAX || *h == '.' || *h == '-')
		return false;
	for (const char *p = h; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			return false;
	return true;
}

static int ring_push(struct ring *r, unsigned int i)
{
	if (r->len == DNS_QUEUE)
		return -EBUSY;
	r->idx[(r->head + r->len++) % DNS_QUEUE] = i;
	return 0;
}

static bool ring_pop(struct ring *r, unsigned int *i)
{
	if (!r->len)
		return false;
	*i = r->idx[r->head];
	r->head = (r->head + 1) % DNS_QUEUE;
	r->len--;
	return true;
}

/* Per thread: the resolver gives up within about the lookup deadline, not its 5 s x 2. */
static void tune_resolver(void)
{
	unsigned int s = cfg.timeout_ms / 1000;

	if (res_init())
		return;
	_res.retrans = s ? s : 1;
	_res.retry = 1;
}

static void *worker(void *arg)
{
	bool pinned_only = arg != NULL;

	tune_resolver();
	pthread_mutex_lock(&mu);
	for (;;) {
		/* A and AAAA: an IPv4 address is preferred, an IPv6-only name still resolves. */
		struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_DGRAM}, *res;
		char name[DNS_NAME_MAX];
		unsigned int i;
		uint32_t gen;
		struct ent *e;
		int rc;

		if (!ring_pop(&q_pinned, &i) && (pinned_only || !ring_pop(&q_other, &i))) {
			pthread_cond_wait(&work_cv, &mu);
			continue;
		}
		e = &ents[i];
		memcpy(name, e->name, sizeof(name));
		gen = e->gen;
		pthread_mutex_unlock(&mu);
		rc = getaddrinfo(name, NULL, &hints, &res);
		pthread_mutex_lock(&mu);
		if (e->gen != gen || e->state != ENT_PENDING) {
			if (!rc)
				freeaddrinfo(res);
			continue;
		}
		if (!rc) {
			struct addrinfo *pick = res;
			struct sip_addr a;

			for (struct addrinfo *ai = res; ai; ai = ai->ai_next)
				if (ai->ai_family == AF_INET) {
					pick = ai;
					break;
				}
			sip_addr_from_sa((const struct sockaddr_storage *)pick->ai_addr, SIP_UDP,
					 &a);
			e->ip = a.ip;
			e->have_ip = true;
			e->state = ENT_OK;
			e->expires_ms = sigd_now_ms() + cfg.ttl_s * 1000ULL;
			freeaddrinfo(res);
		} else {
			st.failures++;
			e->state = ENT_FAIL;
			e->expires_ms = sigd_now_ms() + cfg.neg_ttl_s * 1000ULL;
			/* A pinned name keeps its last address while its servers fail. */
			e->have_ip &= e->pinned;
		}
		pthread_cond_broadcast(&done_cv);
	}
	return NULL;
}

/* After fork() only the calling thread exists: forget the lookups the others had. */
static void atfork_child(void)
{
	pthread_mutex_init(&mu, NULL);
	pthread_cond_init(&work_cv, NULL);
	pthread_cond_init(&done_cv, NULL);
	threads_up = false;
	memset(&q_pinned, 0, sizeof(q_pinned));
	memset(&q_other, 0, sizeof(q_other));
	for (unsigned int i = 0; i < DNS_ENTRIES; i++)
		if (ents[i].state == ENT_PENDING) {
			ents[i].state = ents[i].have_ip ? ENT_OK : ENT_FREE;
			ents[i].expires_ms = 0;
		}
}

static void atfork_prepare(void)
{
	pthread_mutex_lock(&mu);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&mu);
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void start_threads(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_attr_t at;

	if (threads_up)
		return;
	pthread_once(&once, register_atfork);
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	for (uintptr_t i = 0; i < DNS_THREADS; i++) {
		pthread_t t;

		if (pthread_create(&t, &at, worker, i == 0 ? (void *)1 : NULL))
			xs_log(XS_LOG_WARN, "resolver thread: %s\n", strerror(errno));
		else
			threads_up = true;
	}
	pthread_attr_destroy(&at);
}

static int enqueue(struct ent *e, uint64_t now)
{
	int err = ring_push(e->pinned ? &q_pinned : &q_other, e - ents);

	if (err) {
		st.queue_full++;
		return err;
	}
	e->state = ENT_PENDING;
	e->started_ms = now;
	start_threads();
	pthread_cond_broadcast(&work_cv);
	return 0;
}

static struct ent *find(const char *host)
{
	for (unsigned int i = 0; i < DNS_ENTRIES; i++)
		if (ents[i].state != ENT_FREE && !strcasecmp(ents[i].name, host))
			return &ents[i];
	return NULL;
}

/* A free slot, else the unpinned, settled entry that expires first. */
static struct ent *alloc(const char *host)
{
	struct ent *v = NULL;

	for (unsigned int i = 0; i < DNS_ENTRIES; i++) {
		struct ent *e = &ents[i];

		if (e->state == ENT_FREE) {
			v = e;
			break;
		}
		if (!e->pinned && e->state != ENT_PENDING && (!v || e->expires_ms < v->expires_ms))
			v = e;
	}
	if (!v)
		return NULL;
	v->gen++;
	snprintf(v->name, sizeof(v->name), "%s", host);
	v->state = ENT_FREE;
	v->pinned = v->have_ip = false;
	return v;
}

/* dns_lookup4() with the mutex held. */
static int lookup_locked(const char *host, struct sip_ip *ip, bool pin)
{
	uint64_t now = sigd_now_ms();
	struct ent *e = find(host);

	if (!e) {
		st.misses++;
		e = alloc(host);
		if (!e) {
			st.queue_full++;
			return -EAGAIN;
		}
		e->pinned = pin;
		if (enqueue(e, now))
			e->state = ENT_FREE;
		return -EAGAIN;
	}
	e->pinned |= pin;
	if (e->have_ip) {
		/* Serve the known address while a refresh runs. */
		if (e->state != ENT_PENDING && now >= e->expires_ms)
			enqueue(e, now);
		st.hits++;
		*ip = e->ip;
		return 0;
	}
	if (e->state == ENT_PENDING) {
		if (now - e->started_ms > cfg.timeout_ms) {
			st.timeouts++;
			return -ETIMEDOUT;
		}
		return -EAGAIN;
	}
	/* ENT_FAIL */
	if (now < e->expires_ms)
		return -EHOSTUNREACH;
	return enqueue(e, now) ? -EHOSTUNREACH : -EAGAIN;
}

int dns_lookup(const char *host, struct sip_ip *ip)
{
	int err;

	if (!host)
		return -EINVAL;
	if (!sip_ip_parse(host, ip))
		return 0;
	if (!valid_name(host))
		return -EINVAL;
	pthread_mutex_lock(&mu);
	err = lookup_locked(host, ip, false);
	pthread_mutex_unlock(&mu);
	return err;
}

int dns_lookup4(const char *host, struct in_addr *ip)
{
	struct sip_ip a;
	int err = dns_lookup(host, &a);

	if (!err && a.af != AF_INET)
		err = -EAFNOSUPPORT;
	if (!err)
		*ip = a.v4;
	return err;
}

int dns_pin(const char *host)
{
	struct sip_ip ip;
	int err;

	if (!sip_ip_parse(host, &ip))
		return 0;
	if (!valid_name(host))
		return -EINVAL;
	pthread_mutex_lock(&mu);
	err = lookup_locked(host, &ip, true);
	pthread_mutex_unlock(&mu);
	return err == -EAGAIN ? 0 : err;
}

void dns_unpin_all(void)
{
	pthread_mutex_lock(&mu);
	for (unsigned int i = 0; i < DNS_ENTRIES; i++)
		ents[i].pinned = false;
	pthread_mutex_unlock(&mu);
}

bool dns_pinned_addr(const struct sip_ip *ip)
{
	bool found = false;

	pthread_mutex_lock(&mu);
	for (unsigned int i = 0; i < DNS_ENTRIES && !found; i++)
		found = ents[i].state != ENT_FREE && ents[i].pinned && ents[i].have_ip &&
			sip_ip_eq(&ents[i].ip, ip);
	pthread_mutex_unlock(&mu);
	return found;
}

int dns_lookup_wait(const char *host, struct sip_ip *ip)
{
	uint64_t deadline = sigd_now_ms() + wait_ms;
	int err = dns_lookup(host, ip);

	if (err != -EAGAIN || !wait_ms)
		return err;
	pthread_mutex_lock(&mu);
	while ((err = lookup_locked(host, ip, false)) == -EAGAIN && sigd_now_ms() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_sec++, ts.tv_nsec -= 1000000000L;
		pthread_cond_timedwait(&done_cv, &mu, &ts);
	}
	pthread_mutex_unlock(&mu);
	return err;
}

/*
 * The main loop calls this on every wakeup, which under load is every
 * datagram batch; a refresh is due on a TTL of seconds, so a scan of the
 * table every DNS_TICK_MS is soon enough and keeps the mutex off the hot path.
 */
#define DNS_TICK_MS 100

void dns_tick(void)
{
	static uint64_t last_ms;
	uint64_t now = sigd_now_ms();

	if (now - last_ms < DNS_TICK_MS)
		return;
	last_ms = now;
	pthread_mutex_lock(&mu);
	for (unsigned int i = 0; i < DNS_ENTRIES; i++) {
		struct ent *e = &ents[i];

		if (e->pinned && e->state != ENT_PENDING && e->state != ENT_FREE &&
		    now >= e->expires_ms)
			enqueue(e, now);
	}
	pthread_mutex_unlock(&mu);
}

void dns_get_stats(struct dns_stats *s)
{
	pthread_mutex_lock(&mu);
	*s = st;
	s->entries = s->pending = 0;
	for (unsigned int i = 0; i < DNS_ENTRIES; i++) {
		s->entries += ents[i].state != ENT_FREE;
		s->pending += ents[i].state == ENT_PENDING;
	}
	pthread_mutex_unlock(&mu);
}
