// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attach, replace and detach the xdpsbc program with libxdp. The program
 * always loads with its maps pinned under the pin root, so the blocklist,
 * trusted networks, settings and flows outlive detach, attach, restarts and
 * the replacement of the program by a new build.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <limits.h>
#include <net/if.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>
#include "lib/xdpsbc.h"
#include "lib/internal.h"
#include "xdpsbc.skel.h"

#define XS_PROG_NAME "xdpsbc"

const char *xs_mode_str(enum xs_mode mode)
{
	switch (mode) {
	case XS_MODE_NATIVE:
		return "native";
	case XS_MODE_SKB:
		return "skb";
	default:
		return "auto";
	}
}

static enum xdp_attach_mode xdp_mode(enum xs_mode mode)
{
	return mode == XS_MODE_SKB ? XDP_MODE_SKB : XDP_MODE_NATIVE;
}

static const char *ifname(int ifindex, char *buf)
{
	if (!if_indextoname(ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* The devmap entry that lets XDP_REDIRECT reach @ifindex from another arm. */
static int txport_set(const char *pin_root, int ifindex, bool add)
{
	char path[PATH_MAX];
	__u32 key = ifindex;
	int fd, ret = 0;

	ret = xs_pin_path(pin_root, XS_MAP_TXPORTS, path, sizeof(path));
	if (ret)
		return ret;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	if (add ? bpf_map_update_elem(fd, &key, &key, BPF_ANY) : bpf_map_delete_elem(fd, &key))
		ret = -errno;
	close(fd);
	return add || ret != -ENOENT ? ret : 0;
}

/*
 * The program on @ifindex: legacy (single program) or the first program of a
 * libxdp dispatcher. Fills @name (at least 16 bytes). A single program is
 * read from netlink and its info directly: libxdp's view of one keeps a
 * reference to it that xdp_multiprog__close() does not drop, which would
 * hold a replaced program (and its maps) for the life of the daemon.
 */
static int current_prog(int ifindex, enum xs_mode *mode, uint32_t *prog_id, char *name,
			bool *legacy)
{
	LIBBPF_OPTS(bpf_xdp_query_opts, q);
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info), id;
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	int fd, ret = 0;

	if (bpf_xdp_query(ifindex, 0, &q))
		return -errno;
	id = q.prog_id ?: q.drv_prog_id ?: q.skb_prog_id;
	if (!id)
		return 0;
	fd = bpf_prog_get_fd_by_id(id);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	close(fd);
	if (ret)
		return ret;
	if (strcmp(info.name, "xdp_dispatcher")) {
		snprintf(name, 16, "%s", info.name);
		if (prog_id)
			*prog_id = id;
		if (mode)
			*mode = id == q.skb_prog_id ? XS_MODE_SKB : XS_MODE_NATIVE;
		if (legacy)
			*legacy = true;
		return 1;
	}

	mp = xdp_multiprog__get_from_ifindex(ifindex);
	ret = libxdp_get_error(mp);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	p = xdp_multiprog__next_prog(NULL, mp);
	ret = 0;
	if (p) {
		snprintf(name, 16, "%s", xdp_program__name(p));
		if (prog_id)
			*prog_id = xdp_program__id(p);
		if (mode)
			*mode = xdp_multiprog__attach_mode(mp) == XDP_MODE_SKB ? XS_MODE_SKB
									       : XS_MODE_NATIVE;
		if (legacy)
			*legacy = false;
		ret = 1;
	}
	xdp_multiprog__close(mp);
	return ret;
}

int xs_attached(int ifindex, enum xs_mode *mode, uint32_t *prog_id)
{
	char name[16] = "";
	int ret;

	ret = current_prog(ifindex, mode, prog_id, name, NULL);
	if (ret <= 0)
		return ret;
	return !strcmp(name, XS_PROG_NAME);
}

/* 1 when libxdp runs the program on @ifindex alone, without its dispatcher. */
int xs_attached_single(int ifindex)
{
	char name[16] = "";
	bool legacy = false;
	int ret;

	ret = current_prog(ifindex, NULL, NULL, name, &legacy);
	return ret <= 0 ? ret : legacy;
}

/* Does program @prog_id use the xs_config pinned under @pin_root? */
int xs_prog_uses_root(uint32_t prog_id, const char *pin_root)
{
	struct bpf_prog_info pinfo = {};
	struct bpf_map_info minfo = {};
	__u32 len = sizeof(minfo), ids[64];
	char path[PATH_MAX];
	int fd, ret;

	xs_pin_path(pin_root, XS_MAP_CONFIG, path, sizeof(path));
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	ret = bpf_obj_get_info_by_fd(fd, &minfo, &len);
	close(fd);
	if (ret)
		return -errno;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return -errno;
	pinfo.nr_map_ids = 64;
	pinfo.map_ids = (__u64)(unsigned long)ids;
	len = sizeof(pinfo);
	ret = bpf_obj_get_info_by_fd(fd, &pinfo, &len);
	close(fd);
	if (ret)
		return -errno;
	for (__u32 i = 0; i < pinfo.nr_map_ids && i < 64; i++)
		if (ids[i] == minfo.id)
			return 1;
	return 0;
}

/*
 * One attempt with a fresh object: after a failed attempt libxdp may have
 * left the object half loaded, so a fallback starts over.
 */
static int attach_once(const char *pin_root, int ifindex, enum xs_mode mode)
{
	DECLARE_LIBXDP_OPTS(xdp_program_opts, opts);
	struct xdp_program *prog = NULL;
	struct xdpsbc *skel;
	int ret;

	skel = xdpsbc__open();
	if (!skel)
		return -errno ?: -EINVAL;
	ret = xs_obj_set_pins(skel->obj, pin_root);
	if (ret)
		goto out;
	opts.obj = skel->obj;
	opts.prog_name = XS_PROG_NAME;
	prog = xdp_program__create(&opts);
	ret = libxdp_get_error(prog);
	if (ret) {
		prog = NULL;
		goto out;
	}
	ret = xdp_program__attach(prog, ifindex, xdp_mode(mode), 0);
out:
	xdp_program__close(prog);
	xdpsbc__destroy(skel);
	return ret;
}

/**
 * xs_attach() - attach xdpsbc to @ifindex with the maps of @pin_root.
 *
 * -EEXIST when xdpsbc is already there, -EBUSY when another XDP program is.
 * Logs (INFO/WARN) the fallbacks it takes: skb mode, single program.
 */
int xs_attach(const char *pin_root, int ifindex, enum xs_mode mode, enum xs_mode *used)
{
	char name[16] = "", ifn[IF_NAMESIZE];
	struct xs_maps m;
	bool legacy = false;
	int ret;

	ret = current_prog(ifindex, NULL, NULL, name, NULL);
	if (ret < 0)
		return ret;
	if (ret > 0)
		return strcmp(name, XS_PROG_NAME) ? -EBUSY : -EEXIST;

	/* Create the pins first, so a new xs_config gets its defaults. */
	ret = xs_maps_open(pin_root, true, &m);
	if (ret)
		return ret;
	xs_maps_close(&m);

	ret = attach_once(pin_root, ifindex, mode);
	if (ret && mode == XS_MODE_AUTO) {
		xs_log(XS_LOG_WARN,
		       "%s: native XDP failed (%s); falling back to generic (skb) mode\n",
		       ifname(ifindex, ifn), strerror(-ret));
		mode = XS_MODE_SKB;
		ret = attach_once(pin_root, ifindex, mode);
	}
	if (ret)
		return ret;
	if (used)
		*used = mode == XS_MODE_AUTO ? XS_MODE_NATIVE : mode;

	if (current_prog(ifindex, NULL, NULL, name, &legacy) > 0 && legacy)
		xs_log(XS_LOG_INFO,
		       "%s: libxdp's multi-program dispatcher cannot load on this kernel; "
		       "attached xdpsbc as a single program\n",
		       ifname(ifindex, ifn));

	ret = txport_set(pin_root, ifindex, true);
	if (ret)
		xs_log(XS_LOG_WARN, "%s: not added to %s (%s): no redirect to it\n",
		       ifname(ifindex, ifn), XS_MAP_TXPORTS, strerror(-ret));
	return 0;
}

/* Does program @fd use exactly the maps pinned under @pin_root now (none migrated away)? */
static int uses_current_pins(int fd, const char *pin_root)
{
	struct bpf_prog_info pinfo = {};
	__u32 len = sizeof(pinfo), ids[64];
	char path[PATH_MAX];

	pinfo.nr_map_ids = 64;
	pinfo.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &pinfo, &len))
		return -errno;
	for (__u32 i = 0; i < pinfo.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi = {}, pi = {};
		int mfd = bpf_map_get_fd_by_id(ids[i]), pfd;

		len = sizeof(mi);
		if (mfd < 0 || bpf_obj_get_info_by_fd(mfd, &mi, &len)) {
			if (mfd >= 0)
				close(mfd);
			continue;
		}
		close(mfd);
		if (xs_pin_path(pin_root, mi.name, path, sizeof(path)))
			continue;
		pfd = bpf_obj_get(path);
		if (pfd < 0)
			continue; /* internal (.rodata) or not pinned: per load */
		len = sizeof(pi);
		if (!bpf_obj_get_info_by_fd(pfd, &pi, &len) && pi.id != mi.id) {
			close(pfd);
			return 0;
		}
		close(pfd);
	}
	return 1;
}

static int prog_tag(int fd, __u8 tag[BPF_TAG_SIZE])
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	memcpy(tag, info.tag, BPF_TAG_SIZE);
	return 0;
}

/* FNV-1a of this build's BPF object: names the build in the xs_layout record. */
static uint64_t obj_hash(void)
{
	const unsigned char *p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t n;

	p = xdpsbc__elf_bytes(&n);
	while (n--)
		h = (h ^ *p++) * 0x100000001b3ULL;
	return h;
}

/*
 * The dispatcher case: libxdp adds the new program beside the old one (a new
 * dispatcher swapped in atomically, both chained: the old one decides while
 * it runs), then removes the old one (another atomic swap).
 */
static int replace_in_dispatcher(int ifindex, int new_fd, uint32_t old_id, enum xs_mode mode)
{
	struct xdp_program *np, *op;
	int ret;

	np = xdp_program__from_fd(new_fd);
	ret = libxdp_get_error(np);
	if (ret)
		return ret;
	ret = xdp_program__attach(np, ifindex, xdp_mode(mode), 0);
	xdp_program__close(np);
	if (ret)
		return ret;
	op = xdp_program__from_id(old_id);
	ret = libxdp_get_error(op);
	if (ret)
		return ret;
	ret = xdp_program__detach(op, ifindex, xdp_mode(mode), 0);
	xdp_program__close(op);
	return ret;
}

int xs_replace(const char *pin_root, int ifindex, bool force, uint32_t *old_id, uint32_t *new_id)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	__u8 old_tag[BPF_TAG_SIZE], new_tag[BPF_TAG_SIZE];
	struct bpf_prog_info ni = {};
	__u32 len = sizeof(ni);
	char name[16] = "";
	struct xdpsbc *skel = NULL;
	struct xs_maps m;
	enum xs_mode mode;
	uint32_t id = 0;
	bool legacy = false;
	int old_fd = -1, new_fd, ret;
	uint64_t hash;

	ret = current_prog(ifindex, &mode, &id, name, &legacy);
	if (ret <= 0)
		return ret ?: -ENOENT;
	if (strcmp(name, XS_PROG_NAME))
		return -EBUSY;
	if (old_id)
		*old_id = id;
	/* The maps first: migrated to this build's layouts where they changed. */
	ret = xs_maps_open(pin_root, true, &m);
	if (ret)
		return ret;
	xs_maps_close(&m);

	old_fd = bpf_prog_get_fd_by_id(id);
	if (old_fd < 0)
		return -errno;
	hash = obj_hash();
	/* The running program is this build's on these maps: nothing to load (0). */
	if (!force && !prog_tag(old_fd, old_tag) && !xs_build_tag_get(pin_root, hash, new_tag) &&
	    !memcmp(old_tag, new_tag, BPF_TAG_SIZE) && uses_current_pins(old_fd, pin_root) == 1 &&
	    xs_migrate_prog_retired(id) != 1)
		goto out;
	skel = xdpsbc__open();
	if (!skel) {
		ret = -errno ?: -EINVAL;
		goto out;
	}
	ret = xs_obj_set_pins(skel->obj, pin_root);
	ret = ret ?: xdpsbc__load(skel);
	if (ret)
		goto out;
	new_fd = bpf_program__fd(skel->progs.xdpsbc);
	ret = prog_tag(old_fd, old_tag) ?: prog_tag(new_fd, new_tag);
	if (ret)
		goto out;
	xs_build_tag_set(pin_root, hash, new_tag);
	if (!force && !memcmp(old_tag, new_tag, BPF_TAG_SIZE) &&
	    uses_current_pins(old_fd, pin_root) == 1 && xs_migrate_prog_retired(id) != 1)
		goto out; /* this build's program on these maps already: 0 */
	if (legacy) {
		/* Compare-and-swap in the kernel: -EEXIST if someone swapped it meanwhile. */
		opts.old_prog_fd = old_fd;
		ret = bpf_xdp_attach(ifindex, new_fd,
				     XDP_FLAGS_REPLACE | (mode == XS_MODE_SKB ? XDP_FLAGS_SKB_MODE
									      : XDP_FLAGS_DRV_MODE),
				     &opts);
		ret = ret < 0 ? ret : 0;
	} else {
		ret = replace_in_dispatcher(ifindex, new_fd, id, mode);
	}
	if (ret)
		goto out;
	if (!bpf_obj_get_info_by_fd(new_fd, &ni, &len) && new_id)
		*new_id = ni.id;
	xs_migrate_settle(false);
	ret = 1;
out:
	xdpsbc__destroy(skel);
	close(old_fd);
	return ret;
}

int xs_replace_all(const char *pin_root, bool force, unsigned int *n)
{
	struct if_nameindex *ifs, *i;
	char ifn[IF_NAMESIZE];
	uint32_t id, oid, nid;
	int ret = 0, r;

	*n = 0;
	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		if (xs_attached(i->if_index, NULL, &id) != 1)
			continue;
		if (xs_prog_uses_root(id, pin_root) != 1 && xs_migrate_prog_retired(id) != 1)
			continue;
		r = xs_replace(pin_root, i->if_index, force, &oid, &nid);
		if (r == 1) {
			(*n)++;
			xs_log(XS_LOG_INFO,
			       "%s: xdpsbc program replaced (prog %u -> %u), maps kept\n",
			       ifname(i->if_index, ifn), oid, nid);
		} else if (r < 0) {
			xs_log(XS_LOG_ERR, "%s: replacing the xdpsbc program: %s\n",
			       ifname(i->if_index, ifn), strerror(-r));
			if (!ret)
				ret = r;
		}
	}
	if (ifs)
		if_freenameindex(ifs);
	return ret;
}

/* Detach xdpsbc from @ifindex: -ENOENT when it is not attached, -EBUSY when another program is. */
int xs_detach(int ifindex)
{
	LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char name[16] = "";
	enum xs_mode mode;
	bool legacy = false;
	uint32_t id;
	int ret;

	ret = current_prog(ifindex, &mode, &id, name, &legacy);
	if (ret <= 0)
		return ret ?: -ENOENT;
	if (strcmp(name, XS_PROG_NAME))
		return -EBUSY;
	if (legacy) {
		/* Only that program (not one swapped in meanwhile); no libxdp reference kept. */
		opts.old_prog_fd = bpf_prog_get_fd_by_id(id);
		if (opts.old_prog_fd < 0)
			return -errno;
		ret = bpf_xdp_attach(ifindex, -1,
				     XDP_FLAGS_REPLACE | (mode == XS_MODE_SKB ? XDP_FLAGS_SKB_MODE
									      : XDP_FLAGS_DRV_MODE),
				     &opts);
		close(opts.old_prog_fd);
		return ret < 0 ? ret : 0;
	}
	mp = xdp_multiprog__get_from_ifindex(ifindex);
	ret = libxdp_get_error(mp);
	if (ret)
		return ret;
	if (xdp_multiprog__is_legacy(mp)) {
		ret = xdp_multiprog__detach(mp);
	} else {
		p = xdp_multiprog__next_prog(NULL, mp);
		ret = p ? xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0)
			: -ENOENT;
	}
	xdp_multiprog__close(mp);
	return ret;
}

/* Detach from @ifindex and forget it as a redirect target of @pin_root. */
int xs_detach_root(const char *pin_root, int ifindex)
{
	int ret = xs_detach(ifindex);

	if (!ret)
		txport_set(pin_root, ifindex, false);
	return ret;
}

/**
 * xs_unload() - detach from every interface running this pin root's xdpsbc,
 * then remove the pins and the pin directory.
 *
 * xdpsbc instances of other pin roots (tests running in parallel) are left alone.
 */
int xs_unload(const char *pin_root)
{
	struct if_nameindex *ifs, *i;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	uint32_t id;
	int ret = 0, r;

	ifs = if_nameindex();
	for (i = ifs; i && i->if_index; i++) {
		if (xs_attached(i->if_index, NULL, &id) != 1)
			continue;
		if (xs_prog_uses_root(id, pin_root) != 1)
			continue;
		r = xs_detach(i->if_index);
		if (r && !ret)
			ret = r;
	}
	if (ifs)
		if_freenameindex(ifs);
	if (ret)
		return ret;
	/* Every pin, also maps a newer program added beside the known ones. */
	dir = opendir(pin_root);
	while (dir && (de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		xs_pin_path(pin_root, de->d_name, path, sizeof(path));
		if (unlink(path) && errno != ENOENT && !ret)
			ret = -errno;
	}
	if (dir)
		closedir(dir);
	if (!ret && rmdir(pin_root) && errno != ENOENT && errno != ENOTEMPTY)
		ret = -errno;
	return ret;
}
