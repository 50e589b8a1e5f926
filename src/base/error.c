/*
 * error.c — the thread's last error and the internal assertion failure.
 */
#include "base.h"

#include <stdio.h>
#include <stdlib.h>

static __thread DWORD last_error;

void wm_set_error(DWORD code) { last_error = code; }

WINMEM_API DWORD winmem_GetLastError(void) { return last_error; }
WINMEM_API void winmem_SetLastError(DWORD code) { last_error = code; }

void wm_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "winmem: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
