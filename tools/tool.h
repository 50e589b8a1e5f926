/*
 * tool.h — the `winmem` command's shared pieces: how regions are printed.
 * The tool is built on the public API only (VirtualQuery and friends), as a
 * user's own tool would be.
 */
#ifndef WINMEM_TOOL_H
#define WINMEM_TOOL_H

#include <winmem.h>
#include <stdio.h>

const char *show_state(DWORD state);
const char *show_type(DWORD type);
/* PAGE_* names with modifiers, e.g. "PAGE_READWRITE|PAGE_GUARD"; buf holds 64. */
const char *show_protect(DWORD protect, char buf[64]);
/* "5 MiB", "12 KiB", "64 B". */
const char *show_size(unsigned long long bytes, char buf[32]);

/* The regions VirtualQuery reports in [lo, hi), one line each. */
void print_regions(const void *lo, const void *hi, const char *indent);
/* A strip of `width` cells over [lo, hi): each cell is the state of the
 * memory at its start: ' ' free, '.' reserved, '#' read-write, 'r' read-only,
 * 'x' executable, '-' no access, 'g' guard. */
void print_strip(const void *lo, const void *hi, int width, const char *indent);
/* The process's commit charge and working set, in one line. */
void print_counters(const char *indent);

int demo_main(int argc, char **argv);
int run_main(int argc, char **argv);

#endif
