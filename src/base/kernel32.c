/*
 * kernel32.c — the everyday kernel32 helpers that memory code sits beside:
 * time, sleeping, process and thread identity.
 */
#include "base.h"
#include "../os/os.h"

WINMEM_API void winmem_Sleep(DWORD ms)
{
    if (ms == INFINITE)
        for (;;)
            os_sleep_ms(1000000);
    os_sleep_ms(ms);
}

WINMEM_API DWORD winmem_GetCurrentProcessId(void) { return os_process_id(); }
WINMEM_API DWORD winmem_GetCurrentThreadId(void) { return os_thread_id(); }
WINMEM_API HANDLE winmem_GetCurrentProcess(void) { return (HANDLE)(LONG_PTR)-1; }
WINMEM_API HANDLE winmem_GetCurrentThread(void) { return (HANDLE)(LONG_PTR)-2; }

/* Milliseconds since an arbitrary start; GetTickCount wraps after 49.7 days
 * as Windows' does. */
WINMEM_API ULONGLONG winmem_GetTickCount64(void) { return os_monotonic_ns() / 1000000u; }
WINMEM_API DWORD winmem_GetTickCount(void) { return (DWORD)winmem_GetTickCount64(); }

/* A 10 MHz counter, the frequency Windows 10 and later report. */
WINMEM_API BOOL winmem_QueryPerformanceFrequency(LARGE_INTEGER *frequency)
{
    if (!frequency)
        return wm_set_error(ERROR_NOACCESS), FALSE;
    frequency->QuadPart = 10000000;
    return TRUE;
}

WINMEM_API BOOL winmem_QueryPerformanceCounter(LARGE_INTEGER *count)
{
    if (!count)
        return wm_set_error(ERROR_NOACCESS), FALSE;
    count->QuadPart = (LONGLONG)(os_monotonic_ns() / 100u);
    return TRUE;
}
