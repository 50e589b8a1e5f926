/*
 * crt_param.c — the invalid-parameter handler (crt.h; reference R9).  The
 * release CRT calls it with NULLs when a function refuses an argument; the
 * default one ends the process, as Windows' does (there through Watson).
 */
#include "crt.h"

#include <stdio.h>
#include <stdlib.h>

static _invalid_parameter_handler handler;     /* NULL: the default */

void crt_invalid_parameter(void)
{
    _invalid_parameter_handler h = __atomic_load_n(&handler, __ATOMIC_ACQUIRE);
    if (h) {
        h(NULL, NULL, NULL, 0, 0);
        return;
    }
    fputs("winmem: invalid parameter passed to a C runtime function; ending the process\n",
          stderr);
    abort();
}

WINMEM_API _invalid_parameter_handler winmem__set_invalid_parameter_handler(_invalid_parameter_handler h)
{
    return __atomic_exchange_n(&handler, h, __ATOMIC_ACQ_REL);
}

WINMEM_API _invalid_parameter_handler winmem__get_invalid_parameter_handler(void)
{
    return __atomic_load_n(&handler, __ATOMIC_ACQUIRE);
}
