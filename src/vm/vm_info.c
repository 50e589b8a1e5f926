/*
 * vm_info.c — GetSystemInfo and the memory status of the machine and of the
 * process: GlobalMemoryStatusEx, GetProcessMemoryInfo, and the working-set
 * size that bounds VirtualLock.
 *
 * The address-space figures are Windows' x64 ones (V1.1) whatever the host's,
 * so ported arithmetic on them keeps working; the memory figures are the
 * host's, with the commit limit standing in for Windows' page file.
 */
#include "vm.h"
#include "../os/os.h"

#define PSEUDO_PROCESS ((HANDLE)(LONG_PTR)-1)
#define DEFAULT_MIN_WS ((SIZE_T)204800)     /* Windows' defaults */
#define DEFAULT_MAX_WS ((SIZE_T)1413120)

static SIZE_T ws_min = DEFAULT_MIN_WS, ws_max = DEFAULT_MAX_WS;

static bool is_this_process(HANDLE h)
{
    return h == PSEUDO_PROCESS;
}

WINMEM_API void winmem_GetSystemInfo(LPSYSTEM_INFO info)
{
    unsigned family, model, stepping, cpus = os_cpu_count();
    os_cpu_signature(&family, &model, &stepping);
#if defined(__aarch64__)
    info->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_ARM64;
    info->dwProcessorType = 0;
#else
    info->wProcessorArchitecture = PROCESSOR_ARCHITECTURE_AMD64;
    info->dwProcessorType = PROCESSOR_AMD_X8664;
#endif
    info->wReserved = 0;
    info->dwPageSize = (DWORD)vm_page_size();
    info->lpMinimumApplicationAddress = (LPVOID)VM_MIN_ADDRESS;
    info->lpMaximumApplicationAddress = (LPVOID)VM_MAX_ADDRESS;
    info->dwActiveProcessorMask = cpus >= 64 ? ~(DWORD_PTR)0 : ((DWORD_PTR)1 << cpus) - 1;
    info->dwNumberOfProcessors = cpus;
    info->dwAllocationGranularity = (DWORD)VM_GRANULARITY;
    info->wProcessorLevel = (WORD)family;
    info->wProcessorRevision = (WORD)((model << 8) | stepping);
}

WINMEM_API void winmem_GetNativeSystemInfo(LPSYSTEM_INFO info)
{
    winmem_GetSystemInfo(info);
}

WINMEM_API SIZE_T winmem_GetLargePageMinimum(void)
{
    return os_huge_page_size();
}

WINMEM_API BOOL winmem_GlobalMemoryStatusEx(LPMEMORYSTATUSEX status)
{
    if (!status || status->dwLength != sizeof(MEMORYSTATUSEX))
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    struct os_meminfo mi = { 0 };
    os_meminfo(&mi);
    struct vm_counters c;
    vm_counters(&c);
    uint64_t total_va = VM_MAX_ADDRESS + 1 - VM_MIN_ADDRESS;
    status->dwMemoryLoad = mi.total_ram
        ? (DWORD)((mi.total_ram - mi.avail_ram) * 100 / mi.total_ram) : 0;
    status->ullTotalPhys = mi.total_ram;
    status->ullAvailPhys = mi.avail_ram;
    status->ullTotalPageFile = c.commit_limit;
    status->ullAvailPageFile = c.commit_limit - c.commit_charge;
    status->ullTotalVirtual = total_va;
    status->ullAvailVirtual = total_va > c.reserved ? total_va - c.reserved : 0;
    status->ullAvailExtendedVirtual = 0;
    return TRUE;
}

WINMEM_API BOOL winmem_GetProcessMemoryInfo(HANDLE process, PPROCESS_MEMORY_COUNTERS pmc, DWORD cb)
{
    if (!is_this_process(process))
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    if (!pmc || cb < sizeof(PROCESS_MEMORY_COUNTERS))
        return wm_set_error(ERROR_INSUFFICIENT_BUFFER), FALSE;
    struct vm_counters c;
    vm_counters(&c);
    size_t peak = 0, rss = os_resident_bytes(&peak);
    PROCESS_MEMORY_COUNTERS_EX ex = {
        .cb = cb >= sizeof ex ? (DWORD)sizeof ex : (DWORD)sizeof(PROCESS_MEMORY_COUNTERS),
        .PageFaultCount = (DWORD)os_page_faults(),
        .PeakWorkingSetSize = peak,
        .WorkingSetSize = rss,
        .PagefileUsage = c.commit_charge,
        .PeakPagefileUsage = c.commit_peak,
        .PrivateUsage = c.commit_charge,
    };
    __builtin_memcpy(pmc, &ex, ex.cb);
    return TRUE;
}

WINMEM_API BOOL winmem_GetProcessWorkingSetSize(HANDLE process, PSIZE_T minimum, PSIZE_T maximum)
{
    if (!is_this_process(process))
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    if (!minimum || !maximum)
        return wm_set_error(ERROR_NOACCESS), FALSE;
    *minimum = ws_min;
    *maximum = ws_max;
    return TRUE;
}

/* (-1, -1) trims: committed pages are paged out where the host can
 * (MADV_PAGEOUT, Linux 5.4); the sizes themselves stay as they were. */
WINMEM_API BOOL winmem_SetProcessWorkingSetSize(HANDLE process, SIZE_T minimum, SIZE_T maximum)
{
    if (!is_this_process(process))
        return wm_set_error(ERROR_INVALID_HANDLE), FALSE;
    if (minimum == (SIZE_T)-1 && maximum == (SIZE_T)-1) {
        vm_lock();
        vm_trim_working_set();
        vm_unlock();
        return TRUE;
    }
    if (minimum > maximum)
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    vm_lock();
    if (minimum < vm_locked_bytes) {
        vm_unlock();
        return wm_set_error(ERROR_INVALID_PARAMETER), FALSE;
    }
    ws_min = minimum;
    ws_max = maximum;
    vm_set_lock_quota(minimum);
    vm_unlock();
    return TRUE;
}
