/*
 * vm_lock_sysinfo.c — conformance of VirtualLock/VirtualUnlock (vm.md V11),
 * of the system information winmem reports (V1: GetSystemInfo,
 * GetNativeSystemInfo, GetLargePageMinimum), of GlobalMemoryStatusEx (dwLength
 * must be set; the figures must be consistent) and of the thread's last error
 * (SetLastError/GetLastError, which failing calls set and successful ones
 * leave alone).  Locked ranges stay within 64 KiB, inside the default
 * working-set quota.  Everything reserved is released again.
 */
#include "conformance.h"
#include <stdint.h>

enum { PG = 0x1000, GRAN = 0x10000 };


static void test_lock(void)
{
    char *p = VirtualAlloc(NULL, 0x20000, MEM_RESERVE, PAGE_READWRITE);
    char *gone;
    CHECK(p != NULL);
    if (!p) return;
    CHECK_EQ(VirtualAlloc(p, GRAN, MEM_COMMIT, PAGE_READWRITE), p);
    memset(p, 0x3E, GRAN);

    /* V11.1 locking and unlocking committed pages (64 KiB) */
    CHECK_EQ(VirtualLock(p, GRAN), TRUE);
    /* a lock changes neither state, protection nor contents */
    CHECK_MBI(p, p, p, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_EQ(p[0], 0x3E);
    CHECK_EQ(p[GRAN - 1], 0x3E);
    CHECK_EQ(VirtualUnlock(p, GRAN), TRUE);
    /* V11.1 an unaligned range is rounded out to pages */
    CHECK_EQ(VirtualLock(p + 0x10, PG), TRUE);
    CHECK_EQ(VirtualUnlock(p + 0x10, PG), TRUE);
    CHECK_EQ(VirtualLock(p + 0x1FFF, 2), TRUE);
    CHECK_EQ(VirtualUnlock(p + 0x1FFF, 2), TRUE);

    /* V11.2 a range with a reserved page fails (the error code is not pinned) */
    CHECK_EQ(VirtualLock(p + 0xF000, 0x2000), FALSE);
    CHECK_EQ(VirtualLock(p + GRAN, PG), FALSE);
    CHECK_MBI(p, p, p, PAGE_READWRITE, GRAN, MEM_COMMIT, PAGE_READWRITE, MEM_PRIVATE);
    CHECK_MBI(p + GRAN, p + GRAN, p, PAGE_READWRITE, GRAN, MEM_RESERVE, 0, MEM_PRIVATE);

    /* V11.3 [W≠D]: unlocking pages that are not locked fails with
     * ERROR_NOT_LOCKED on Windows; Wine does not track locks and says TRUE. */
    WINDOWS_ONLY {
        SetLastError(0xdeadbeef);
        CHECK_EQ(VirtualUnlock(p + 0x4000, PG), FALSE);
        CHECK_ERR(ERROR_NOT_LOCKED);
        CHECK_EQ(VirtualLock(p + 0x4000, PG), TRUE);
        CHECK_EQ(VirtualUnlock(p + 0x4000, PG), TRUE);
        SetLastError(0xdeadbeef);
        CHECK_EQ(VirtualUnlock(p + 0x4000, PG), FALSE);
        CHECK_ERR(ERROR_NOT_LOCKED);
    }

    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);

    /* V11.2 free memory cannot be locked */
    gone = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(gone != NULL);
    if (gone) {
        CHECK_EQ(VirtualFree(gone, 0, MEM_RELEASE), TRUE);
        CHECK_EQ(VirtualLock(gone, PG), FALSE);
    }
}

static void test_system_info(void)
{
    SYSTEM_INFO si, ni;
    memset(&si, 0xcc, sizeof si);
    memset(&ni, 0x33, sizeof ni);
    GetSystemInfo(&si);
    GetNativeSystemInfo(&ni);

    /* V1.1 page size, granularity and the user address range */
    CHECK_EQ(si.dwPageSize, 4096);
    CHECK_EQ(si.dwAllocationGranularity, 65536);
    CHECK_EQ(si.lpMinimumApplicationAddress, 0x10000);
    CHECK_EQ(si.lpMaximumApplicationAddress, 0x7FFFFFFEFFFFULL);

    /* V1.2 architecture and processors */
#if defined(__x86_64__) || defined(_M_X64)
    CHECK_EQ(si.wProcessorArchitecture, 9);
    CHECK_EQ(si.dwProcessorType, 8664);
#elif defined(__aarch64__) || defined(_M_ARM64)
    CHECK_EQ(si.wProcessorArchitecture, 12);
#endif
    CHECK(si.dwNumberOfProcessors >= 1);
    if (si.dwNumberOfProcessors < 64)
        CHECK_EQ(si.dwActiveProcessorMask, ((ULONG_PTR)1 << si.dwNumberOfProcessors) - 1);

    /* V1.4 GetNativeSystemInfo equals GetSystemInfo in a 64-bit process */
    CHECK_EQ(ni.wProcessorArchitecture, si.wProcessorArchitecture);
    CHECK_EQ(ni.dwPageSize, si.dwPageSize);
    CHECK_EQ(ni.lpMinimumApplicationAddress, si.lpMinimumApplicationAddress);
    CHECK_EQ(ni.lpMaximumApplicationAddress, si.lpMaximumApplicationAddress);
    CHECK_EQ(ni.dwActiveProcessorMask, si.dwActiveProcessorMask);
    CHECK_EQ(ni.dwNumberOfProcessors, si.dwNumberOfProcessors);
    CHECK_EQ(ni.dwProcessorType, si.dwProcessorType);
    CHECK_EQ(ni.dwAllocationGranularity, si.dwAllocationGranularity);
    CHECK_EQ(ni.wProcessorLevel, si.wProcessorLevel);
    CHECK_EQ(ni.wProcessorRevision, si.wProcessorRevision);

    /* V1.3 2 MiB large pages on x64, or 0 where the host has none */
    {
        SIZE_T lpm = GetLargePageMinimum();
        CHECK(lpm == 0x200000 || lpm == 0);
    }
}

static void test_memory_status(void)
{
    MEMORYSTATUSEX ms;

    /* dwLength must be exactly sizeof(MEMORYSTATUSEX) */
    CHECK_EQ(sizeof(MEMORYSTATUSEX), 64);
    memset(&ms, 0, sizeof ms);
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalMemoryStatusEx(&ms), FALSE);
    CHECK_ERR(ERROR_INVALID_PARAMETER);
    ms.dwLength = sizeof ms - 1;
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalMemoryStatusEx(&ms), FALSE);
    CHECK_ERR(ERROR_INVALID_PARAMETER);
    ms.dwLength = sizeof ms + 1;
    SetLastError(0xdeadbeef);
    CHECK_EQ(GlobalMemoryStatusEx(&ms), FALSE);
    CHECK_ERR(ERROR_INVALID_PARAMETER);

    memset(&ms, 0xcc, sizeof ms);
    ms.dwLength = sizeof ms;
    CHECK_EQ(GlobalMemoryStatusEx(&ms), TRUE);
    CHECK_EQ(ms.dwLength, 64);
    CHECK(ms.dwMemoryLoad <= 100);
    CHECK(ms.ullTotalPhys > 0);
    CHECK(ms.ullAvailPhys <= ms.ullTotalPhys);
    CHECK(ms.ullTotalPageFile > 0);
    CHECK(ms.ullAvailPageFile <= ms.ullTotalPageFile);
    /* the user range of V1.1: 0x7FFFFFFEFFFF - 0x10000 + 1 */
    CHECK_EQ(ms.ullTotalVirtual, 0x7FFFFFFE0000ULL);
    CHECK(ms.ullAvailVirtual <= ms.ullTotalVirtual);
    CHECK(ms.ullAvailVirtual > 0);
    CHECK_EQ(ms.ullAvailExtendedVirtual, 0);
}

static void test_last_error(void)
{
    char *p;
    DWORD old;
    MEMORY_BASIC_INFORMATION m;

    /* SetLastError/GetLastError round-trip any value */
    SetLastError(0x12345678);
    CHECK_EQ(GetLastError(), 0x12345678);
    SetLastError(0);
    CHECK_EQ(GetLastError(), 0);
    SetLastError(0xFFFFFFFF);
    CHECK_EQ(GetLastError(), 0xFFFFFFFF);
    SetLastError(ERROR_INVALID_ADDRESS);
    CHECK_EQ(GetLastError(), 487);

    /* a failing call sets it */
    SetLastError(0x12345678);
    CHECK_EQ(VirtualAlloc(NULL, 0, MEM_RESERVE, PAGE_READWRITE), NULL);
    CHECK_ERR(ERROR_INVALID_PARAMETER);

    /* successful calls leave it untouched (vm.md, Part V preamble) */
    SetLastError(0x12345678);
    p = VirtualAlloc(NULL, PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(p != NULL);
    CHECK_ERR(0x12345678);
    if (!p) return;
    CHECK_EQ(VirtualQuery(p, &m, sizeof m), sizeof m);
    CHECK_ERR(0x12345678);
    CHECK_EQ(VirtualProtect(p, PG, PAGE_READONLY, &old), TRUE);
    CHECK_ERR(0x12345678);
    CHECK_EQ(VirtualFree(p, 0, MEM_RELEASE), TRUE);
    CHECK_ERR(0x12345678);
}

int main(void)
{
    test_lock();
    test_system_info();
    test_memory_status();
    test_last_error();
    return cf_finish();
}
