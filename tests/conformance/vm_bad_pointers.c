/*
 * vm_bad_pointers.c — out-parameters that cannot be written: the call fails
 * with ERROR_NOACCESS, as Windows' kernel probes them, and nothing faults.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * Wine changes the protection before it fails to store the old one; Windows
 * probes first and changes nothing, which is pinned for Windows only.
 */
#include "conformance.h"

int main(void)
{
    char *p = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READWRITE);
    char *ro = VirtualAlloc(NULL, 0x1000, MEM_COMMIT, PAGE_READONLY);
    char *w = VirtualAlloc(NULL, 0x10000, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH, PAGE_READWRITE);
    ULONG_PTR n = 4;
    DWORD gran;
    CHECK(p && ro && w);
    w[0] = 1;

    SetLastError(0);
    CHECK_EQ(VirtualQuery(p, (PMEMORY_BASIC_INFORMATION)16, sizeof(MEMORY_BASIC_INFORMATION)), 0);
    CHECK_ERR(ERROR_NOACCESS);
    SetLastError(0);
    CHECK_EQ(VirtualQuery(p, (PMEMORY_BASIC_INFORMATION)ro, sizeof(MEMORY_BASIC_INFORMATION)), 0);
    CHECK_ERR(ERROR_NOACCESS);
    CHECK_EQ(*(volatile char *)ro, 0);

    SetLastError(0);
    CHECK(!VirtualProtect(p, 0x1000, PAGE_READONLY, (PDWORD)16));
    CHECK_ERR(ERROR_NOACCESS);
    WINDOWS_ONLY CHECK_MBI(p, p, p, PAGE_READWRITE, 0x1000, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    SetLastError(0);
    CHECK(!VirtualProtect(p, 0x1000, PAGE_READONLY, (PDWORD)ro));
    CHECK_ERR(ERROR_NOACCESS);

    SetLastError(0);
    CHECK_EQ(GetWriteWatch(0, w, 0x10000, (PVOID *)16, &n, &gran), (UINT)-1);
    CHECK_ERR(ERROR_NOACCESS);
    SetLastError(0);
    CHECK_EQ(GetWriteWatch(0, w, 0x10000, (PVOID *)ro, &n, &gran), (UINT)-1);
    CHECK_ERR(ERROR_NOACCESS);

    CHECK(VirtualFree(w, 0, MEM_RELEASE));
    CHECK(VirtualFree(ro, 0, MEM_RELEASE));
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    return cf_finish();
}
