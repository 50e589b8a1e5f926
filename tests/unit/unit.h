/*
 * unit.h — the harness of winmem's white-box unit tests: CHECK macros that
 * count, print the failures, and end with the plain "N passed, N failed" line,
 * and the readings of vm several tests take.  Included after vm.h or heap.h.
 */
#ifndef WINMEM_UNIT_H
#define WINMEM_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_passed, unit_failed;

#define CHECK(cond) do {                                                      \
        if (cond) unit_passed++;                                              \
        else { unit_failed++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_EQ(got, want) do {                                              \
        unsigned long long g_ = (unsigned long long)(got), w_ = (unsigned long long)(want); \
        if (g_ == w_) unit_passed++;                                          \
        else { unit_failed++; printf("FAIL %s:%d: %s == %s: got 0x%llx, want 0x%llx\n", \
                                     __FILE__, __LINE__, #got, #want, g_, w_); } \
    } while (0)

/* The registry's invariants R1-R6 and R7 (against the host). */
#define CHECK_VALID() do {                                                    \
        const char *why_ = NULL;                                              \
        vm_lock(); bool ok_ = vm_validate(&why_); vm_unlock();                \
        if (ok_) ok_ = vm_validate_host(&why_);                               \
        if (ok_) unit_passed++;                                               \
        else { unit_failed++; printf("FAIL %s:%d: registry: %s\n", __FILE__, __LINE__, why_); } \
    } while (0)

/* What VirtualQuery says of p, the struct filled with 0xcc first so that a
 * field it leaves alone shows. */
static inline MEMORY_BASIC_INFORMATION unit_query(const void *p)
{
    MEMORY_BASIC_INFORMATION m;
    memset(&m, 0xcc, sizeof m);
    VirtualQuery(p, &m, sizeof m);
    return m;
}

/* The process's commit charge as a program sees it. */
static inline size_t unit_charge(void)
{
    PROCESS_MEMORY_COUNTERS pmc;
    GetProcessMemoryInfo(GetCurrentProcess(), &pmc, sizeof pmc);
    return pmc.PagefileUsage;
}

static int unit_finish(void)
{
    printf("%d passed, %d failed\n", unit_passed, unit_failed);
    return unit_failed != 0;
}

#endif
