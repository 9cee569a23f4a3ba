// SPDX-License-Identifier: GPL-2.0
/*
 * bench: the kernel's memory counters. /proc/meminfo; per cache, the
 * allocation counters of SLUB_STATS and the bytes of /proc/slabinfo; the
 * page allocator's pgalloc_* of /proc/vmstat.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

/* A field of /proc/meminfo, in bytes; -1 if missing. */
long long meminfo(const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && line[len] == ':') {
			v = atoll(line + len + 1) * 1024;
			break;
		}
	fclose(f);
	return v;
}

static long long read_ll(const char *path)
{
	char buf[64];
	int f = open(path, O_RDONLY);
	ssize_t r;

	if (f < 0)
		return -1;
	r = read(f, buf, sizeof(buf) - 1);
	close(f);
	if (r <= 0)
		return -1;
	buf[r] = 0;
	return atoll(buf);
}

static int slot_of(struct slab_snap *s, const char *name)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->name[i], name))
			return i;
	if (s->n == MAX_CACHES)
		return -1;
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", name);
	s->bytes[s->n] = s->allocs[s->n] = 0;
	return s->n++;
}

/*
 * Snapshot: the allocation counters of every cache (SLUB_STATS; aliases
 * are symlinks and skipped), the object bytes of every cache
 * (/proc/slabinfo: active objects x object size) and the page allocator's
 * pgalloc_* (/proc/vmstat). -1 if SLUB_STATS is missing.
 */
int slab_snapshot(struct slab_snap *s)
{
	char path[512], line[512], name[64];
	struct dirent *e;
	struct stat st;
	long long a, b, act, num, size;
	DIR *d;
	FILE *f;
	int i;

	memset(s, 0, sizeof(*s));
	d = opendir("/sys/kernel/slab");
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s", e->d_name);
		if (lstat(path, &st) || !S_ISDIR(st.st_mode))
			continue;
		snprintf(path, sizeof(path),
			 "/sys/kernel/slab/%s/alloc_fastpath", e->d_name);
		a = read_ll(path);
		snprintf(path, sizeof(path),
			 "/sys/kernel/slab/%s/alloc_slowpath", e->d_name);
		b = read_ll(path);
		if (a < 0 || b < 0) {
			closedir(d);
			return -1;
		}
		i = slot_of(s, e->d_name);
		if (i >= 0)
			s->allocs[i] = a + b;
	}
	closedir(d);

	f = fopen("/proc/slabinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lld %lld %lld", name, &act, &num,
			   &size) != 4)
			continue;
		i = slot_of(s, name);
		if (i >= 0)
			s->bytes[i] = act * size;
	}
	if (f)
		fclose(f);

	f = fopen("/proc/vmstat", "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "pgalloc_", 8))
			s->pgalloc += atoll(strchr(line, ' ') + 1);
	if (f)
		fclose(f);
	return 0;
}

/* All caches: bytes of objects in use (/proc/slabinfo), or allocations. */
long long slab_total(const struct slab_snap *s, bool bytes)
{
	long long t = 0;
	int i;

	for (i = 0; i < s->n; i++)
		t += bytes ? s->bytes[i] : s->allocs[i];
	return t;
}

static long long slab_delta(const struct slab_snap *a,
			    const struct slab_snap *b, int i, bool bytes)
{
	int j;

	for (j = 0; j < a->n; j++)
		if (!strcmp(a->name[j], b->name[i]))
			return bytes ? b->bytes[i] - a->bytes[j] :
				       b->allocs[i] - a->allocs[j];
	return bytes ? b->bytes[i] : b->allocs[i];
}

/* JSON: the caches that changed most between @a and @b, per @per. */
void json_top_caches(const char *key, const struct slab_snap *a,
		     const struct slab_snap *b, bool bytes, double per)
{
	bool used[MAX_CACHES] = { false };
	int k, i, best;
	long long d, bd;

	fprintf(js, "\"%s\": {", key);
	for (k = 0; k < 5; k++) {
		best = -1;
		bd = 0;
		for (i = 0; i < b->n; i++) {
			d = slab_delta(a, b, i, bytes);
			if (!used[i] && llabs(d) > llabs(bd)) {
				best = i;
				bd = d;
			}
		}
		if (best < 0 || llabs(bd) < per / 10)
			break;
		used[best] = true;
		fprintf(js, "%s\"%s\": %.3f", k ? ", " : "", b->name[best],
			bd / per);
	}
	fprintf(js, "}");
}
