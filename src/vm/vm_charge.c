/*
 * vm_charge.c — the commit charge and the page-lock quota.
 *
 * Linux overcommits; Windows does not.  winmem charges every committed page
 * against a commit limit, as Windows charges the page file, and refuses a
 * commit that would pass it (ERROR_COMMITMENT_LIMIT).  The limit defaults to
 * RAM plus swap, like Windows' RAM plus page file; WINMEM_COMMIT_LIMIT (bytes,
 * with an optional K, M or G suffix) overrides it.
 *
 * VirtualLock is limited by the minimum working-set size, as on Windows: the
 * pages a process may lock are its minimum working set less a small overhead.
 */
#include "vm.h"
#include "../os/os.h"

#include <stdlib.h>

/* Windows' defaults for a process's working set: 200 KiB and 1380 KiB. */
#define DEFAULT_MIN_WS ((size_t)204800)
#define LOCK_OVERHEAD_PAGES 8

static size_t charge, peak, limit;
static size_t lock_quota_bytes;
static bool lock_quota_set;

static size_t parse_size(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    switch (*end) {
    case 'k': case 'K': v <<= 10; break;
    case 'm': case 'M': v <<= 20; break;
    case 'g': case 'G': v <<= 30; break;
    case 't': case 'T': v <<= 40; break;
    default: break;
    }
    return (size_t)v;
}

static size_t commit_limit(void)
{
    size_t l = __atomic_load_n(&limit, __ATOMIC_RELAXED);
    if (wm_likely(l))
        return l;
    const char *env = os_getenv("WINMEM_COMMIT_LIMIT");
    if (env && *env) {
        l = parse_size(env);
    } else {
        struct os_meminfo mi = { 0 };
        os_meminfo(&mi);
        l = (size_t)(mi.total_ram + mi.total_swap);
    }
    if (!l)
        l = (size_t)1 << 40;       /* /proc unreadable: do not refuse everything */
    __atomic_store_n(&limit, l, __ATOMIC_RELAXED);
    return l;
}

bool vm_charge_take(size_t bytes)
{
    size_t l = commit_limit();
    size_t cur = __atomic_load_n(&charge, __ATOMIC_RELAXED);
    do {
        if (bytes > l || cur > l - bytes)
            return false;
    } while (!__atomic_compare_exchange_n(&charge, &cur, cur + bytes, true,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    size_t now = cur + bytes, p = __atomic_load_n(&peak, __ATOMIC_RELAXED);
    while (now > p && !__atomic_compare_exchange_n(&peak, &p, now, true,
                                                   __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
    return true;
}

void vm_charge_give(size_t bytes)
{
    __atomic_fetch_sub(&charge, bytes, __ATOMIC_RELAXED);
}

void vm_set_lock_quota(size_t min_working_set)
{
    size_t overhead = LOCK_OVERHEAD_PAGES * vm_page_size();
    __atomic_store_n(&lock_quota_bytes,
                     min_working_set > overhead ? min_working_set - overhead : 0,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&lock_quota_set, true, __ATOMIC_RELEASE);
}

size_t vm_lock_quota(void)
{
    if (!__atomic_load_n(&lock_quota_set, __ATOMIC_ACQUIRE))
        vm_set_lock_quota(DEFAULT_MIN_WS);
    return __atomic_load_n(&lock_quota_bytes, __ATOMIC_RELAXED);
}

void vm_counters(struct vm_counters *out)
{
    out->commit_limit = commit_limit();
    out->commit_charge = __atomic_load_n(&charge, __ATOMIC_RELAXED);
    out->commit_peak = __atomic_load_n(&peak, __ATOMIC_RELAXED);
    out->lock_quota = vm_lock_quota();
    out->locked = vm_locked_bytes;
    out->reserved = vm_reserved_bytes;
    out->allocations = 0;
}
