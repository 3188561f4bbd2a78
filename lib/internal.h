/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared between the loader's own files; not part of the library API. */
#ifndef XDPSBC_LOADER_INT_H
#define XDPSBC_LOADER_INT_H

#include <stddef.h>
#include <stdint.h>

struct bpf_object;

struct xs_map_desc {
	const char *name;
	size_t off; /* of the fd in struct xs_maps */
	size_t key_size, value_size;
};
/* mapdefs.c */
extern const struct xs_map_desc xs_map_descs[];

/* pin.c */
int xs_pin_path(const char *pin_root, const char *name, char *buf, size_t len);
/* maps.c */
int xs_obj_set_pins(struct bpf_object *obj, const char *pin_root);

struct bpf_map;
/* sizes.c */
int xs_obj_size_map(struct bpf_map *map);
void xs_size_pinned_differs(const char *path, const char *name, uint32_t pinned);

/* migrate.c */
int xs_migrate_pin(const char *pin_root, const char *name, const char *path, uint32_t resize);
void xs_layout_stamp(const char *pin_root);
int xs_migrate_prog_retired(uint32_t prog_id);
int xs_build_tag_get(const char *pin_root, uint64_t hash, uint8_t tag[8]);
void xs_build_tag_set(const char *pin_root, uint64_t hash, const uint8_t tag[8]);

#endif /* XDPSBC_LOADER_INT_H */
