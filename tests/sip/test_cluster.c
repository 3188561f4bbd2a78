// SPDX-License-Identifier: GPL-2.0-only
/*
 * The cluster's records (sigd/cluster/store.c): what a Redis record must be
 * to be applied (anything else is skipped, never half-applied), the conflict
 * order (larger (ts, node) wins) and the encode/decode round trip.
 */
#include <string.h>
#include "../lib/check.h"
#include "cluster/store.h"

static void test_decode_refuses(void)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[]",
		"{\"cidr\":\"192.0.2.0/24\",\"exp\":0,\"node\":\"a\"}",		 /* no ts */
		"{\"cidr\":\"192.0.2.0/24\",\"exp\":0,\"ts\":0,\"node\":\"a\"}", /* ts 0 */
		"{\"cidr\":\"192.0.2.0/33\",\"exp\":0,\"ts\":5,\"node\":\"a\"}",
		"{\"cidr\":\"x\",\"exp\":0,\"ts\":5,\"node\":\"a\"}",
		"{\"cidr\":\"192.0.2.1\",\"exp\":-1,\"ts\":5,\"node\":\"a\"}",
		"{\"cidr\":\"192.0.2.1\",\"exp\":0,\"ts\":5,\"node\":\"\"}",
		"{\"cidr\":\"192.0.2.1\",\"exp\":\"1\",\"ts\":5,\"node\":\"a\"}",
		"{\"cidr\":\"192.0.2.1\",\"exp\":0,\"ts\":5,\"node\":"
		"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		/* a forged log line through the node id or the reason */
		"{\"cidr\":\"192.0.2.1\",\"exp\":0,\"ts\":5,\"node\":\"a\\nwarning: x\"}",
		"{\"cidr\":\"192.0.2.1\",\"exp\":0,\"ts\":5,\"node\":\"a\",\"reason\":"
		"\"x\\r\\ny\"}",
	};
	struct cl_rec r;
	unsigned int i;
	int ok = 1;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= T_CHECK("cluster_decode_refuses",
			      cl_decode(bad[i], strlen(bad[i]), CL_BLOCK, &r),
			      "accepted record %u: %s", i, bad[i]);
	if (ok)
		T_PASS("cluster_decode_refuses");
}

static void test_roundtrip(void)
{
	struct cl_rec a = {.kind = CL_BLOCK, .exp = 1796160000123LL, .ts = 1796150000456LL}, b;
	char *s;

	xs_cidr_parse("2001:db8::/32", &a.cidr);
	xs_cidr_format(&a.cidr, a.key, sizeof(a.key));
	strcpy(a.node, "edge-a");
	strcpy(a.reason, "quote \" and \\ and %s");
	s = cl_encode(&a);
	if (T_CHECK("cluster_roundtrip", s && !cl_decode(s, strlen(s), CL_BLOCK, &b), "%s",
		    s ? s : "no encoding") &&
	    T_CHECK("cluster_roundtrip",
		    b.exp == a.exp && b.ts == a.ts && !strcmp(b.node, a.node) &&
			    !strcmp(b.reason, a.reason) && !strcmp(b.key, "2001:db8::/32") &&
			    !b.del,
		    "fields changed: %s", s))
		T_PASS("cluster_roundtrip");
	free(s);
}

static void test_order(void)
{
	struct cl_rec r = {.ts = 1000};

	strcpy(r.node, "edge-b");
	if (T_CHECK("cluster_order", cl_newer(&r, 1001, "edge-a"), "later ts loses") &&
	    T_CHECK("cluster_order", !cl_newer(&r, 999, "edge-z"), "earlier ts wins") &&
	    T_CHECK("cluster_order", cl_newer(&r, 1000, "edge-c"), "tie: larger node loses") &&
	    T_CHECK("cluster_order", !cl_newer(&r, 1000, "edge-a"), "tie: smaller node wins") &&
	    T_CHECK("cluster_order", !cl_newer(&r, 1000, "edge-b"), "the same record is newer"))
		T_PASS("cluster_order");
}

static void test_store(void)
{
	struct cl_store s;
	struct xs_cidr c1, c2;
	struct cl_rec *r;

	cl_store_init(&s, 16);
	xs_cidr_parse("192.0.2.0/24", &c1);
	xs_cidr_parse("192.0.2.0/25", &c2);
	r = cl_put(&s, CL_BLOCK, &c1);
	cl_put(&s, CL_TRUST, &c1);
	cl_put(&s, CL_BLOCK, &c2);
	if (T_CHECK("cluster_store",
		    cl_get(&s, CL_BLOCK, &c1) == r && s.n[CL_BLOCK] == 2 && s.n[CL_TRUST] == 1 &&
			    cl_put(&s, CL_BLOCK, &c1) == r,
		    "kinds and prefixes are separate keys")) {
		cl_drop(&s, r);
		if (T_CHECK("cluster_store",
			    !cl_get(&s, CL_BLOCK, &c1) && cl_get(&s, CL_TRUST, &c1),
			    "drop removed the wrong record"))
			T_PASS("cluster_store");
	}
	cl_store_free(&s);
}

int main(void)
{
	test_decode_refuses();
	test_roundtrip();
	test_order();
	test_store();
	return check_failed ? 1 : 0;
}
