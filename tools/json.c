// SPDX-License-Identifier: GPL-2.0-only
/* A minimal streaming JSON writer: enough for listings, nothing more. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "cli.h"

#define JSON_DEPTH 16

static bool need_comma[JSON_DEPTH];
static int depth;

static void str_out(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = *s;

		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static void key_out(const char *key)
{
	if (need_comma[depth])
		putchar(',');
	need_comma[depth] = true;
	if (key) {
		str_out(key);
		putchar(':');
	}
}

static void open_out(const char *key, char ch)
{
	key_out(key);
	putchar(ch);
	if (depth < JSON_DEPTH - 1)
		depth++;
	need_comma[depth] = false;
}

void json_obj_begin(const char *key)
{
	open_out(key, '{');
}

void json_obj_end(void)
{
	depth--;
	putchar('}');
}

void json_arr_begin(const char *key)
{
	open_out(key, '[');
}

void json_arr_end(void)
{
	depth--;
	putchar(']');
}

void json_str(const char *key, const char *val)
{
	key_out(key);
	str_out(val);
}

void json_u64(const char *key, uint64_t val)
{
	key_out(key);
	printf("%" PRIu64, val);
}

void json_i64(const char *key, int64_t val)
{
	key_out(key);
	printf("%" PRId64, val);
}

void json_bool(const char *key, bool val)
{
	key_out(key);
	fputs(val ? "true" : "false", stdout);
}

void json_null(const char *key)
{
	key_out(key);
	fputs("null", stdout);
}

/* @text is already JSON (an answer of xdpsbc-sigd); a trailing newline is dropped. */
void json_raw(const char *key, const char *text)
{
	size_t n = strlen(text);

	while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
		n--;
	key_out(key);
	fwrite(text, 1, n, stdout);
}

void json_done(void)
{
	putchar('\n');
	need_comma[0] = false;
	depth = 0;
	fflush(stdout);
}
