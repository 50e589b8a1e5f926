/*
 * vm_faults.c — failure injection through the os seam.
 *
 * A scripted workload touches every state change of the virtual-memory layer.
 * It runs once to count the host calls it makes, then once for each call N:
 * first with only the N-th call failing, then with every call from the N-th
 * on failing.  Each time, every API call must either succeed or return
 * Windows' failure value with Windows' error for a refusal by the system
 * (ERROR_NOT_ENOUGH_MEMORY; ERROR_WORKING_SET_QUOTA for a lock); the registry
 * must validate against itself and the host after every call; and once the
 * workload has released what it got, the commit charge, the locked bytes and
 * the reserved address space are back where they started.
 */
#include "vm/vm.h"
#include "os/os.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static const size_t PG = 0x1000;
static int refusals, invalid;

static void check_valid(const char *step)
{
    const char *why = NULL;
    vm_lock();
    bool ok = vm_validate(&why);
    vm_unlock();
    if (ok)
        ok = vm_validate_host(&why);
    if (!ok && invalid++ < 5)
        printf("after %s: %s\n", step, why);
}

/* A call's outcome: success, or the failure Windows gives when the system
 * refuses.  Anything else counts against the test. */
static void outcome(bool ok, DWORD refusal, const char *step)
{
    if (!ok) {
        DWORD err = GetLastError();
        if (err == refusal)
            refusals++;
        if (getenv("VERBOSE"))
            printf("  %s refused: %u\n", step, (unsigned)err);
        else
            CHECK_EQ(err, refusal);
    }
    check_valid(step);
}

static void workload(void)
{
    char *a = VirtualAlloc(NULL, 64 * PG, MEM_RESERVE, PAGE_READWRITE);
    outcome(a != NULL, ERROR_NOT_ENOUGH_MEMORY, "reserve");
    char *b = VirtualAlloc(NULL, 16 * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    outcome(b != NULL, ERROR_NOT_ENOUGH_MEMORY, "reserve+commit");
    char *t = VirtualAlloc(NULL, 0x11000, MEM_RESERVE | MEM_TOP_DOWN, PAGE_NOACCESS);
    outcome(t != NULL, ERROR_NOT_ENOUGH_MEMORY, "top-down reserve");
    if (a) {
        DWORD old;
        bool c1 = VirtualAlloc(a, 8 * PG, MEM_COMMIT, PAGE_READWRITE) != NULL;
        outcome(c1, ERROR_NOT_ENOUGH_MEMORY, "commit");
        if (c1)
            memset(a, 0x11, 8 * PG);
        bool c2 = VirtualAlloc(a + 4 * PG, 8 * PG, MEM_COMMIT, PAGE_READONLY) != NULL;
        outcome(c2, ERROR_NOT_ENOUGH_MEMORY, "commit over committed");
        if (c1 && c2) {
            outcome(VirtualProtect(a + PG, 2 * PG, PAGE_READONLY, &old), ERROR_NOT_ENOUGH_MEMORY, "protect");
            outcome(VirtualProtect(a, 12 * PG, PAGE_READWRITE, &old), ERROR_NOT_ENOUGH_MEMORY, "protect back");
            outcome(VirtualLock(a, 2 * PG), ERROR_WORKING_SET_QUOTA, "lock");
            outcome(VirtualAlloc(a, 4 * PG, MEM_RESET, PAGE_READWRITE) != NULL,
                    ERROR_NOT_ENOUGH_MEMORY, "reset");
            outcome(VirtualAlloc(a + 32 * PG, 4 * PG, MEM_COMMIT, PAGE_EXECUTE_READ) != NULL,
                    ERROR_NOT_ENOUGH_MEMORY, "commit far");
        }
        outcome(VirtualFree(a + 2 * PG, 4 * PG, MEM_DECOMMIT), ERROR_NOT_ENOUGH_MEMORY, "decommit");
        outcome(VirtualFree(a, 0, MEM_DECOMMIT), ERROR_NOT_ENOUGH_MEMORY, "decommit all");
        outcome(VirtualFree(a, 0, MEM_RELEASE), ERROR_NOT_ENOUGH_MEMORY, "release");
    }
    if (b)
        outcome(VirtualFree(b, 0, MEM_RELEASE), ERROR_NOT_ENOUGH_MEMORY, "release b");
    if (t)
        outcome(VirtualFree(t, 0, MEM_RELEASE), ERROR_NOT_ENOUGH_MEMORY, "release t");
}

/* Releases whatever a failed release may have left: nothing should be. */
static void release_leftovers(size_t reserved_before)
{
    struct vm_counters c;
    vm_counters(&c);
    CHECK_EQ(c.reserved, reserved_before);
}

int main(void)
{
    struct vm_counters start, now;
    workload();                              /* warm the metadata pools */
    CHECK_EQ(refusals, 0);
    vm_counters(&start);
    os_fail_at(0, false);
    workload();
    unsigned long calls = os_call_count();
    CHECK_EQ(refusals, 0);                   /* nothing refused without injection */
    CHECK(calls >= 12);
    printf("the workload makes %lu host calls\n", calls);

    for (int repeat = 0; repeat <= 1; repeat++) {
        for (unsigned long n = 1; n <= calls; n++) {
            int before = refusals;
            os_fail_at(n, repeat);
            workload();
            os_fail_at(0, false);
            if (getenv("VERBOSE")) printf("n=%lu repeat=%d refusals +%d\n", n, repeat, refusals - before);
            if (refusals == before && getenv("VERBOSE"))
                printf("failing call %lu%s was absorbed (a retry succeeded)\n",
                       n, repeat ? " and on" : "");
            vm_counters(&now);
            CHECK_EQ(now.commit_charge, start.commit_charge);
            CHECK_EQ(now.locked, start.locked);
            release_leftovers(start.reserved);
        }
    }
    CHECK_EQ(invalid, 0);
    CHECK(refusals > 0);
    printf("%d refusals reported with Windows' errors\n", refusals);
    return unit_finish();
}
