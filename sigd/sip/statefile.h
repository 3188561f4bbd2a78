/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * State files (dialogs, bindings): one JSON object per line, so every field
 * is escaped by the encoder and a line is one record whatever a SIP peer put
 * in its headers. Written to a 0600 temporary file, fsync'd and renamed;
 * read back record by record, each field checked, a bad record skipped with
 * a warning and never half-applied.
 */
#ifndef XDPSBC_SIGD_STATEFILE_H
#define XDPSBC_SIGD_STATEFILE_H

#include <jansson.h>
#include <stdio.h>
#include "sigd.h"

/* A record longer than this is refused (a dialog is a few KB). */
#define SF_MAX_LINE 65536

/* Write @dir/@name from @emit, which calls sf_put() per record; 0 or -errno. */
int sf_write(const char *dir, const char *name, int (*emit)(FILE *f, void *arg), void *arg);
/*
 * Journals: open @dir/@name (written by sf_write()) for appending, refused
 * (-EPERM) unless a regular 0600 file of ours; append @len bytes of whole
 * records and fdatasync. 0 or -errno; a torn last line is skipped on read.
 */
int sf_open_append(const char *dir, const char *name);
int sf_append(int fd, const char *buf, size_t len);
/* One record: @o is freed by sf_put(); 0 or -errno. */
int sf_put(FILE *f, json_t *o);
/*
 * Read @dir/@name, calling @rec for each line that is a JSON object; @rec
 * returns 0 (applied) or a negative errno (skipped, logged). Returns the
 * records applied, 0 for a missing file, or -errno (-EPERM: the file is
 * writable by others or not ours, so not trusted).
 */
int sf_read(const char *dir, const char *name, int (*rec)(json_t *o, void *arg), void *arg);

/*
 * Field readers: 0, or -EINVAL when @key is missing, of the wrong type, out
 * of range, longer than @len - 1 or holding a control character.
 */
int sf_get_str(const json_t *o, const char *key, char *buf, size_t len);
/* The same, control characters allowed (a lookup key, never sent or logged raw). */
int sf_get_text(const json_t *o, const char *key, char *buf, size_t len);
int sf_get_uint(const json_t *o, const char *key, uint64_t max, uint64_t *out);
int sf_get_bool(const json_t *o, const char *key, bool *out);
int sf_get_addr(const json_t *o, const char *key, struct sip_addr *a);
json_t *sf_addr(const struct sip_addr *a);
/* Does @s hold a byte below 0x20 or 0x7f? */
bool sf_has_ctl(const char *s);

#endif /* XDPSBC_SIGD_STATEFILE_H */
