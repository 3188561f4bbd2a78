/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The result lines every xdpsbc test prints, read by tests/run.sh:
 *   PASS name
 *   FAIL name: why
 *   SKIP name: why
 * Header-only so that any test binary can use it.
 */
#ifndef XDPSBC_TESTS_CHECK_H
#define XDPSBC_TESTS_CHECK_H

#include <stdio.h>

static int check_failed;

#define T_PASS(name) printf("PASS %s\n", (name))
#define T_SKIP(name, ...)                    \
	do {                                 \
		printf("SKIP %s: ", (name)); \
		printf(__VA_ARGS__);         \
		printf("\n");                \
	} while (0)
#define T_FAIL(name, ...)                    \
	do {                                 \
		printf("FAIL %s: ", (name)); \
		printf(__VA_ARGS__);         \
		printf("\n");                \
		check_failed++;              \
	} while (0)

/* Fail @name with the expression's text when @cond is false; evaluates to @cond. */
#define T_CHECK(name, cond, ...)                                                            \
	({                                                                                  \
		int ok_ = !!(cond);                                                         \
		if (!ok_) {                                                                 \
			printf("FAIL %s: %s (%s:%d): ", (name), #cond, __FILE__, __LINE__); \
			printf(__VA_ARGS__);                                                \
			printf("\n");                                                       \
			check_failed++;                                                     \
		}                                                                           \
		ok_;                                                                        \
	})

#endif /* XDPSBC_TESTS_CHECK_H */
