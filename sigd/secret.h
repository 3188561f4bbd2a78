/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The per-install secret that signs what the edge hands out and later reads
 * back (Via branches, Contact aliases, Record-Route entries, call cookies).
 * Kept in <state-dir>/secret (0600): a hash key that never changes (table
 * keys such as the call cookie must stay stable across restarts) and a MAC
 * key with its predecessor, so a rotation does not break live dialogs: tags
 * made with the previous key keep verifying until the next rotation.
 */
#ifndef XDPSBC_SIGD_SECRET_H
#define XDPSBC_SIGD_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECRET_KEY_LEN 32

/* Load <@dir>/secret, creating it when missing; @dir "" or NULL: a key in memory only. */
int secret_init(const char *dir);
/* A new MAC key; the current one becomes the previous. Saved when @dir is set. */
int secret_rotate(const char *dir);
/*
 * The MAC of @data (HMAC-SHA256, current key) as @nhex lowercase hex digits
 * into @out, which holds @nhex + 1 bytes. @nhex is even and at most 64.
 */
void secret_tag(const void *data, size_t len, char *out, size_t nhex);
/*
 * secret_tag() under the previous key, for state indexed by a tag made before
 * a rotation; false (and @out "") when there is no previous key.
 */
bool secret_tag_prev(const void *data, size_t len, char *out, size_t nhex);
/* Does @tag (@nhex digits) match @data under the current or the previous key? */
bool secret_check(const void *data, size_t len, const char *tag, size_t nhex);
/* A keyed 64-bit hash of @data (the hash key: stable for the life of the install). */
uint64_t secret_hash64(const void *data, size_t len);

#endif /* XDPSBC_SIGD_SECRET_H */
