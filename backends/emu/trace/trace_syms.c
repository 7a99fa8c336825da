/* SPDX-License-Identifier: MIT */
/*
 * trace_syms.c - a System.map read into a sorted table, looked up by address.
 * The file is input like any other: every line is checked, a bad one refuses
 * the whole map with its line number. Absolute symbols (types a/A: Linux's
 * per-CPU offsets from 0) and undefined ones (U) name no code and are left out.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostio.h"
#include "trace_syms.h"

struct tsym {
	uint64_t addr;
	const char *name;
	unsigned under; /* leading underscores: fewer wins at one address */
};

static struct {
	uint8_t *text;
	struct tsym *s;
	size_t n;
} map;

static int by_addr(const void *a, const void *b)
{
	const struct tsym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->under != y->under)
		return x->under < y->under ? -1 : 1;
	return x->name < y->name ? -1 : x->name > y->name; /* file order */
}

/* One line "ADDRESS TYPE NAME" (NUL-terminated, edited in place). */
static int parse_line(char *l, struct tsym *out, int *keep)
{
	char *end, *name;
	unsigned long long a;

	if (!((l[0] >= '0' && l[0] <= '9') || (l[0] >= 'a' && l[0] <= 'f') ||
	      (l[0] >= 'A' && l[0] <= 'F')))
		return -1;
	a = strtoull(l, &end, 16);
	if (end - l > 16 || end[0] != ' ' || !end[1] || end[2] != ' ' || !end[3])
		return -1;
	name = end + 3;
	if (strchr(name, ' ') || strchr(name, '\t'))
		return -1;
	*keep = !strchr("aAU", end[1]);
	*out = (struct tsym){ .addr = a, .name = name, .under = (unsigned)strspn(name, "_") };
	return 0;
}

static int fail_line(char *err, size_t errlen, size_t line)
{
	snprintf(err, errlen, "line %zu is not 'ADDRESS TYPE NAME' (a System.map)", line);
	return -1;
}

int tsyms_load(const char *path, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len, lines = 0, n = 0, i, line = 0;
	char *p;

	if (hio_read(path, 0, &buf, &len, err, errlen))
		return -1;
	if (memchr(buf, 0, len)) {
		free(buf);
		return fail_line(err, errlen, 1);
	}
	for (i = 0; i < len; i++)
		lines += buf[i] == '\n';
	buf = realloc(buf, len + 1);
	struct tsym *s = buf ? malloc((lines + 1) * sizeof(*s)) : NULL;
	if (!s) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	buf[len] = 0;
	for (p = (char *)buf; *p;) {
		char *nl = strchr(p, '\n');
		int keep = 0;

		line++;
		if (nl)
			*nl = 0;
		if (*p && parse_line(p, &s[n], &keep)) {
			free(s);
			free(buf);
			return fail_line(err, errlen, line);
		}
		n += *p && keep;
		p = nl ? nl + 1 : p + strlen(p);
	}
	if (!n) {
		free(s);
		free(buf);
		snprintf(err, errlen, "no symbols with an address");
		return -1;
	}
	qsort(s, n, sizeof(*s), by_addr);
	free(map.s);
	free(map.text);
	map.text = buf;
	map.s = s;
	map.n = n;
	return 0;
}

const char *tsyms_lookup(uint64_t addr, uint64_t *off)
{
	size_t lo = 0, hi = map.n;

	if (!map.n || addr < map.s[0].addr || addr > map.s[map.n - 1].addr)
		return NULL;
	while (hi - lo > 1) { /* the last symbol at or below addr */
		size_t mid = lo + (hi - lo) / 2;

		if (map.s[mid].addr <= addr)
			lo = mid;
		else
			hi = mid;
	}
	while (lo && map.s[lo - 1].addr == map.s[lo].addr)
		lo--; /* the preferred name at that address sorts first */
	*off = addr - map.s[lo].addr;
	return map.s[lo].name;
}

void tsyms_suffix(uint64_t addr, char *buf, size_t len)
{
	uint64_t off;
	const char *name = tsyms_lookup(addr, &off);

	if (!name)
		snprintf(buf, len, "%s", "");
	else if (off)
		snprintf(buf, len, " <%s+%#" PRIx64 ">", name, off);
	else
		snprintf(buf, len, " <%s>", name);
}
