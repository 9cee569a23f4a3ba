// SPDX-License-Identifier: GPL-2.0
/*
 * kmemleak: the last program of a debug boot. Waits until everything the
 * tests allocated is old enough for kmemleak to judge, scans, and reports
 * as TAP: one test, which fails with the report when kmemleak found a
 * suspected leak.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm.h"

#define KMEMLEAK "/sys/kernel/debug/kmemleak"

int main(void)
{
	char line[512];
	int ret, leaks = 0;
	FILE *f;

	printf("TAP version 13\n1..1\n");
	/* kmemleak does not report objects younger than 5 s. */
	sleep(6);
	/* Two scans: the first one can still see references on stacks. */
	ret = vmm_write_file(KMEMLEAK, "scan");
	if (!ret)
		ret = vmm_write_file(KMEMLEAK, "scan");
	if (ret) {
		printf("not ok 1 kmemleak # cannot scan: %s\n", strerror(-ret));
		return 1;
	}
	f = fopen(KMEMLEAK, "r");
	if (!f) {
		printf("not ok 1 kmemleak # cannot read the report: %s\n",
		       strerror(errno));
		return 1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19))
			leaks++;
		printf("# kmemleak> %s", line);
	}
	fclose(f);
	if (leaks)
		printf("not ok 1 kmemleak # %d suspected leak(s)\n", leaks);
	else
		printf("ok 1 kmemleak\n");
	return !!leaks;
}
