/* SPDX-License-Identifier: GPL-2.0-only */
/* The option table (options.c), read by options_load.c. */
#ifndef XDPSBC_SIGD_OPTIONS_INT_H
#define XDPSBC_SIGD_OPTIONS_INT_H

#include "options.h"

typedef int (*opt_set_fn)(struct sigd_cfg *c, const char *v);

struct opt {
	const char *name;
	const char *arg; /* NULL: a switch (config value yes/no/true/false/1/0) */
	opt_set_fn set;
	const char *help;
};

extern const struct opt sigd_opts[];
extern const unsigned int sigd_nopts;

#endif /* XDPSBC_SIGD_OPTIONS_INT_H */
