/*
 * vm_map_limit.c — the host's mapping-count limit is a real limit.
 *
 * Linux refuses a split once a process has vm.max_map_count mappings.  Every
 * page of a large reservation is given a protection unlike its neighbours'
 * until the host says no: that VirtualProtect must fail with Windows' error
 * for a refusal by the system, leave the registry valid and in step with the
 * host, and once the protections are made equal again the runs (and the
 * host's mappings) merge back into one.
 */
#include "vm/vm.h"
#include "os/os.h"
#include "unit.h"

#include <stdlib.h>

static long max_map_count(void)
{
    FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
    long v = -1;
    if (f) {
        if (fscanf(f, "%ld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER 1
#endif
#endif

int main(void)
{
#ifdef UNDER_SANITIZER
    /* The limit is the process's, and a sanitizer's runtime needs mappings of
     * its own to report anything: exhausting them kills the runtime, not winmem. */
    printf("built with a sanitizer, whose runtime cannot run out of mappings: skipped\n");
    printf("0 passed, 0 failed, 1 skipped\n");
    return 0;
#endif
    long limit = max_map_count();
    if (limit <= 0 || limit > 200000) {
        printf("vm.max_map_count is %ld: too high to reach quickly, nothing to test\n", limit);
        printf("0 passed, 0 failed, 1 skipped\n");
        return 0;
    }
    const size_t PG = vm_page_size();
    size_t pages = (size_t)limit + 1000;           /* alternating: one mapping each */
    char *p = VirtualAlloc(NULL, pages * PG, MEM_RESERVE | MEM_COMMIT, PAGE_READWRITE);
    CHECK(p != NULL);
    if (!p)
        return unit_finish();
    size_t i, done = 0;
    DWORD old, err = 0;
    for (i = 1; i < pages; i += 2) {
        if (!VirtualProtect(p + i * PG, PG, PAGE_READONLY, &old)) {
            err = GetLastError();
            break;
        }
        done++;
    }
    printf("the host refused after %zu splits (vm.max_map_count %ld)\n", done, limit);
    CHECK(i < pages);                             /* the limit was reached */
    CHECK_EQ(err, ERROR_NOT_ENOUGH_MEMORY);
    CHECK_VALID();
    MEMORY_BASIC_INFORMATION m;
    VirtualQuery(p + i * PG, &m, sizeof m);       /* the refused page is unchanged */
    CHECK_EQ(m.Protect, PAGE_READWRITE);

    /* Equal again: one run, one host mapping. */
    CHECK(VirtualProtect(p, pages * PG, PAGE_READWRITE, &old));
    CHECK_EQ(old, PAGE_READWRITE);
    VirtualQuery(p, &m, sizeof m);
    CHECK_EQ(m.RegionSize, pages * PG);
    CHECK_VALID();
    CHECK(VirtualFree(p, 0, MEM_RELEASE));
    CHECK_VALID();
    return unit_finish();
}
