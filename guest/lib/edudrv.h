/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The inner guest's edu driver (guest/edu-dma/, module edu_dma) from user
 * space, and the sysfs and /proc reading its programs share
 * (guest/edu-dma-test.c, guest/dma-bench.c, guest/cmdqv.c).
 */
#ifndef _EDUDRV_H
#define _EDUDRV_H

#include <stdbool.h>
#include <stddef.h>

#define EDUDRV_NAME	"edu_dma"
#define EDUDRV_MODULE	"/usr/lib/modules/edu_dma.ko"

/* The first line of @path without its newline: 0, or -errno ("" then). */
int sysfs_read_line(const char *path, char *buf, size_t size);
/* Basename of what the link @path points at, "" if it is not a link. */
void sysfs_link_base(const char *path, char *out, size_t size);
/* The value of NAME=VALUE on the kernel command line, "" if none. */
void cmdline_param(const char *name, char *out, size_t size);

/* The driver @bdf is bound to, "" if none */
void edudrv_driver_of(const char *bdf, char *out, size_t size);
bool edudrv_loaded(void);
/* finit_module() of @path with @params unless loaded: 0 or -errno */
int edudrv_load(const char *path, const char *params);
/*
 * Bind @bdf to edu_dma and only to it (driver_override, unbind from any
 * other driver, probe), and put the name of the IOMMU instance it sits
 * behind ("" if none) in @iommu: 0 or -errno (-ENODEV: edu_dma did not
 * take it).
 */
int edudrv_bind(const char *bdf, char *iommu, size_t size);

/*
 * The edus to use: the BDFs @argv[@first..@argc) if any, else every edu
 * (1234:11e8) of the system. Writes up to @max BDFs of 16 bytes: the
 * first at @bdf, each next @stride bytes further (the bdf member of an
 * array of the caller's structs); returns how many.
 */
int edudrv_find(char *bdf, size_t stride, int max, int argc, char **argv,
		int first);

#endif /* _EDUDRV_H */
