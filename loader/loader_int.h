/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between the loader's own files; not part of the library API. */
#ifndef XDPSBC_LOADER_INT_H
#define XDPSBC_LOADER_INT_H

#include <stddef.h>

struct bpf_object;

struct xs_map_desc {
	const char *name;
	size_t off; /* of the fd in struct xs_maps */
	size_t key_size, value_size;
};
extern const struct xs_map_desc xs_map_descs[];

int xs_pin_path(const char *pin_root, const char *name, char *buf, size_t len);
int xs_obj_set_pins(struct bpf_object *obj, const char *pin_root);
int xs_obj_apply_test_sizes(struct bpf_object *obj);

#endif /* XDPSBC_LOADER_INT_H */
