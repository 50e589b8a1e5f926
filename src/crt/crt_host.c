/*
 * crt_host.c — libwinmem's answer for memory winmem did not allocate
 * (crt.h): it came from the process's own malloc, so it goes back there.
 * The LD_PRELOAD library, which is that malloc, has its own answer and
 * leaves this file out.
 */
#include "crt.h"

#include <malloc.h>
#include <stdlib.h>

static size_t host_size(void *p) { return malloc_usable_size(p); }

const struct crt_foreign crt_foreign = { free, realloc, host_size };
