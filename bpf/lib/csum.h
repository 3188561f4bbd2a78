/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Incremental Internet checksum updates (RFC 1624: HC' = ~(~HC + ~m + m')).
 * One's-complement sums do not care about byte order (RFC 1071 2(B)), so the
 * 16-bit words are taken as they sit in memory and no swapping is needed.
 */
#ifndef XDPSBC_BPF_CSUM_H
#define XDPSBC_BPF_CSUM_H

#include <linux/types.h>

/* Add the change of one 32-bit field to a running (unfolded) sum. */
static __always_inline __u64 csum_acc4(__u64 sum, __be32 from, __be32 to)
{
	__u32 nf = ~(__u32)from;

	return sum + (nf >> 16) + (nf & 0xffff) + ((__u32)to >> 16) + ((__u32)to & 0xffff);
}

static __always_inline __u64 csum_acc2(__u64 sum, __be16 from, __be16 to)
{
	return sum + (__u16)~from + (__u16)to;
}

/* Add or remove one 32-bit word: a field that appears or disappears (a translated pseudo-header). */
static __always_inline __u64 csum_add4(__u64 sum, __be32 x)
{
	return sum + ((__u32)x >> 16) + ((__u32)x & 0xffff);
}

static __always_inline __u64 csum_sub4(__u64 sum, __be32 x)
{
	return csum_add4(sum, ~(__u32)x);
}

/* The same for an IPv6 address, as four 32-bit words (4-byte aligned). */
static __always_inline __u64 csum_add16(__u64 sum, const __be32 *a)
{
	return csum_add4(csum_add4(csum_add4(csum_add4(sum, a[0]), a[1]), a[2]), a[3]);
}

static __always_inline __u64 csum_sub16(__u64 sum, const __be32 *a)
{
	return csum_sub4(csum_sub4(csum_sub4(csum_sub4(sum, a[0]), a[1]), a[2]), a[3]);
}

/* Fold @sum into 16 bits and return the new checksum field. */
static __always_inline __sum16 csum_fold64(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__sum16)~sum;
}

/* The accumulator to start an update of checksum field @check from. */
static __always_inline __u64 csum_start(__sum16 check)
{
	return (__u16)~check;
}

#endif /* XDPSBC_BPF_CSUM_H */
