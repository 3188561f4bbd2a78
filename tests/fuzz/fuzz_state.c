// SPDX-License-Identifier: GPL-2.0-only
/*
 * The state files sigd reads back at start: the input up to its first NUL
 * byte is the dialogs file, the rest the bindings file (without a NUL, the
 * whole input is both). dlg_load() and binding_load() read them from a
 * private directory; what they accepted is saved again and must load back
 * to as many dialogs and bindings (sigd's own files are always readable).
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "fuzz.h"
#include "sip/binding.h"
#include "sip/dialog.h"

static char dir[64];

static void put_file(const char *name, const uint8_t *data, size_t size)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t dlen = nul ? (size_t)(nul - data) : size;
	int nd, nb, nd2, nb2;

	if (!dir[0]) {
		fuzz_quiet();
		snprintf(dir, sizeof(dir), "/tmp/xdpsbc-fuzz-state.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	put_file("dialogs", data, dlen);
	if (nul)
		put_file("bindings", nul + 1, size - dlen - 1);
	else
		put_file("bindings", data, size);
	nd = dlg_load(dir);
	nb = binding_load(dir);
	nb = nb > 0 ? (int)binding_count() : nb;
	if (dlg_save(dir) || binding_save(dir))
		abort();
	dlg_flush();
	binding_flush();
	nd2 = dlg_load(dir);
	nb2 = binding_load(dir);
	nb2 = nb2 > 0 ? (int)binding_count() : nb2;
	if (getenv("FUZZ_VERBOSE"))
		fprintf(stderr, "fuzz: %d dialogs, %d bindings loaded; %d, %d after a save\n", nd,
			nb, nd2, nb2);
	if (nd >= 0 && nd2 != nd) {
		fprintf(stderr, "dialogs: %d loaded, %d after a save\n", nd, nd2);
		abort();
	}
	if (nb >= 0 && nb2 != nb) {
		fprintf(stderr, "bindings: %d loaded, %d after a save\n", nb, nb2);
		abort();
	}
	dlg_flush();
	binding_flush();
	return 0;
}
