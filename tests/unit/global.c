/*
 * global.c — white-box tests of Global* and Local* (src/global/global.c),
 * with the handle table validated (gm_validate) after every step: the
 * table holds exactly GM_ENTRIES moveable handles and then refuses with
 * ERROR_NOT_ENOUGH_MEMORY, freed entries are used again; forged handles
 * (freed ones, ones past the table's top, data pointers, interior and
 * misaligned pointers, memory no heap owns) get Windows' error and change
 * nothing; a moved block keeps its handle and GlobalHandle finds it; threads
 * working on handles at once leave the table whole; so does fork().
 */
#include "global/global.h"
#include "heap/heap.h"
#include "unit.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK_TABLE() do {                                                    \
        const char *why_ = NULL;                                              \
        if (gm_validate(&why_)) unit_passed++;                                \
        else { unit_failed++; printf("FAIL %s:%d: handle table: %s\n", __FILE__, __LINE__, why_); } \
    } while (0)

#define CHECK_ERR(code) CHECK_EQ(GetLastError(), (code))

static HGLOBAL handles[GM_ENTRIES];

static size_t count_bytes(const char *p, size_t n, char value)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == value;
    return k;
}

/* Case 1.  Every entry of the table can be had, Global and Local
 * together; the next is refused; a freed one comes back. */
static void table_fills_and_refuses(void)
{
    size_t before = gm_handles_in_use();
    size_t n = 0;
    for (; n < GM_ENTRIES - before; n++) {
        handles[n] = n & 1 ? LocalAlloc(LMEM_MOVEABLE, 0) : GlobalAlloc(GMEM_MOVEABLE, 0);
        if (!handles[n])
            break;
    }
    CHECK_EQ(n, GM_ENTRIES - before);
    CHECK_EQ(gm_handles_in_use(), GM_ENTRIES);
    SetLastError(0xdeadbeef);
    CHECK(GlobalAlloc(GMEM_MOVEABLE, 16) == NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    SetLastError(0xdeadbeef);
    CHECK(GlobalReAlloc(GlobalAlloc(GMEM_FIXED, 8), 0, GMEM_MODIFY | GMEM_MOVEABLE) == NULL);
    CHECK_ERR(ERROR_NOT_ENOUGH_MEMORY);
    void *fixed = GlobalAlloc(GMEM_FIXED, 8);                   /* fixed blocks need no entry */
    CHECK(fixed != NULL && GlobalFree(fixed) == NULL);
    CHECK_TABLE();
    HGLOBAL again = handles[n / 2];
    CHECK(GlobalFree(again) == NULL);
    CHECK_EQ(GlobalFlags(again), GMEM_INVALID_HANDLE);
    handles[n / 2] = GlobalAlloc(GMEM_MOVEABLE, 32);
    CHECK(handles[n / 2] == again);                          /* the freed entry, reused */
    CHECK_EQ(GlobalSize(handles[n / 2]), 32);
    CHECK_TABLE();
    for (size_t i = 0; i < n; i++)
        if (GlobalFree(handles[i]) != NULL)
            break;
    CHECK_EQ(gm_handles_in_use(), before);
    CHECK_TABLE();
}

/* Case 2.  Handles that are not live moveable handles or fixed blocks:
 * every call answers as for a bad handle and the table is unchanged. */
static void forged_handles_refused(void)
{
    HGLOBAL live = GlobalAlloc(GMEM_MOVEABLE, 100);
    char *data = GlobalLock(live);
    GlobalUnlock(live);
    HGLOBAL freed = GlobalAlloc(GMEM_MOVEABLE, 10);
    GlobalFree(freed);
    char stack[64];
    char *fixed = GlobalAlloc(GMEM_FIXED, 64);
    void *forged[] = {
        freed,                                  /* an entry gone back to the free list */
        (char *)live + 16,                      /* the next entry, free */
        (char *)live + 16 * 4096,               /* further on, free or past the table */
        data,                                   /* a moveable block's data */
        data + 16,                              /* inside it */
        fixed + 16,                             /* inside a fixed block */
        fixed + 8,                              /* 8 mod 16, but not in the table */
        stack + (16 - ((uintptr_t)stack & 15)) + 8,
        (void *)(uintptr_t)0x1000,              /* memory nobody owns */
        (void *)(uintptr_t)8,
    };
    size_t in_use = gm_handles_in_use();
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        void *h = forged[i];
        SetLastError(0xdeadbeef);
        CHECK(GlobalLock(h) == NULL);
        CHECK_ERR(ERROR_INVALID_HANDLE);
        SetLastError(0xdeadbeef);
        CHECK_EQ(GlobalSize(h), 0);
        CHECK_ERR(ERROR_INVALID_HANDLE);
        SetLastError(0xdeadbeef);
        CHECK_EQ(GlobalFlags(h), GMEM_INVALID_HANDLE);
        CHECK_ERR(ERROR_INVALID_HANDLE);
        SetLastError(0xdeadbeef);
        CHECK(!LocalUnlock(h));
        CHECK_ERR(ERROR_INVALID_HANDLE);
        SetLastError(0xdeadbeef);
        CHECK(GlobalReAlloc(h, 32, GMEM_MOVEABLE) == NULL);
        CHECK_ERR(ERROR_INVALID_HANDLE);
        SetLastError(0xdeadbeef);
        CHECK(GlobalFree(h) == h);
        CHECK_ERR(ERROR_INVALID_HANDLE);
        if (h != data) {                        /* GlobalHandle(data) is the handle */
            SetLastError(0xdeadbeef);
            CHECK(GlobalHandle(h) == NULL);
            CHECK_ERR(ERROR_INVALID_HANDLE);
        }
    }
    CHECK(GlobalHandle(data) == live);
    CHECK_EQ(gm_handles_in_use(), in_use);
    CHECK_EQ(GlobalSize(live), 100);
    CHECK(HeapValidate(GetProcessHeap(), 0, NULL));
    CHECK_TABLE();
    GlobalFree(live);
    GlobalFree(fixed);
}

/* Case 3.  A moveable block that moves keeps its handle; its data's
 * prefix follows it, so GlobalHandle still finds the handle, and the old
 * data pointer is no longer a handle's. */
static void moved_block_keeps_handle(void)
{
    HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE, 24);
    HGLOBAL blocker = GlobalAlloc(GMEM_FIXED, 24);         /* likely right behind it */
    char *before = GlobalLock(h);
    memset(before, 0x5A, 24);
    GlobalUnlock(h);
    SIZE_T size = 24;
    while ((size *= 4) <= 1 << 20)
        CHECK(GlobalReAlloc(h, size, GMEM_MOVEABLE | GMEM_ZEROINIT) == h);
    size /= 4;
    CHECK_EQ(GlobalSize(h), size);
    char *after = GlobalLock(h);
    CHECK(after != NULL && after != before);
    CHECK_EQ(count_bytes(after, 24, 0x5A), 24);
    CHECK_EQ(count_bytes(after + 24, size - 24, 0), size - 24);
    CHECK(GlobalHandle(after) == h);
    SetLastError(0xdeadbeef);
    CHECK(GlobalHandle(before) == NULL || GlobalHandle(before) == before);
    CHECK(GlobalUnlock(h) == FALSE);
    CHECK_TABLE();
    /* Locked and not allowed to move: in place or not at all. */
    char *p = GlobalLock(h);
    HGLOBAL r = GlobalReAlloc(h, 4 << 20, 0);
    CHECK(r == NULL || GlobalLock(h) == p);
    CHECK_TABLE();
    GlobalFree(h);
    GlobalFree(blocker);
    CHECK_TABLE();
}

/* Case 4.  Threads allocating, locking, resizing, discarding and freeing
 * moveable handles at once. */
#define C4_THREADS 4
#define C4_ROUNDS 20000
static int c4_bad;
static void *c4_worker(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 7919u + 1;
    HGLOBAL mine[32] = { 0 };
    int bad = 0;
    for (int round = 0; round < C4_ROUNDS; round++) {
        int i = (int)(rand_r(&seed) % 32);
        SIZE_T size = 1 + rand_r(&seed) % 600;
        if (!mine[i]) {
            mine[i] = (round & 1) ? GlobalAlloc(GHND, size) : LocalAlloc(LHND, size);
            bad += mine[i] == NULL;
            if (mine[i]) {
                unsigned char *p = GlobalLock(mine[i]);
                bad += !p;
                if (p)
                    p[0] = (unsigned char)i;
                GlobalUnlock(mine[i]);
            }
            continue;
        }
        switch (rand_r(&seed) % 4) {
        case 0:
            bad += GlobalFree(mine[i]) != NULL;
            mine[i] = NULL;
            break;
        case 1:
            bad += GlobalReAlloc(mine[i], size, GMEM_MOVEABLE) != mine[i];
            break;
        case 2:
            bad += GlobalDiscard(mine[i]) != mine[i];
            bad += GlobalReAlloc(mine[i], size, GMEM_MOVEABLE | GMEM_ZEROINIT) != mine[i];
            break;
        default: {
            unsigned char *p = GlobalLock(mine[i]);
            bad += !p || GlobalHandle(p) != mine[i] || GlobalSize(mine[i]) == 0;
            GlobalUnlock(mine[i]);
        }
        }
    }
    for (int i = 0; i < 32; i++)
        if (mine[i])
            bad += GlobalFree(mine[i]) != NULL;
    __atomic_add_fetch(&c4_bad, bad, __ATOMIC_RELAXED);
    return NULL;
}

static void threads_keep_table_whole(void)
{
    pthread_t t[C4_THREADS];
    size_t in_use = gm_handles_in_use();
    for (uintptr_t i = 0; i < C4_THREADS; i++)
        pthread_create(&t[i], NULL, c4_worker, (void *)i);
    for (int i = 0; i < C4_THREADS; i++)
        pthread_join(t[i], NULL);
    CHECK_EQ(c4_bad, 0);
    CHECK_EQ(gm_handles_in_use(), in_use);
    CHECK(HeapValidate(GetProcessHeap(), 0, NULL));
    CHECK_TABLE();
}

/* Case 5.  A fork() while another thread holds the table's lock: the
 * child's table works. */
static volatile int c5_stop;
static void *c5_churn(void *unused)
{
    while (!c5_stop)
        GlobalFree(GlobalAlloc(GMEM_MOVEABLE, 40));
    return unused;
}

static void fork_leaves_table_working(void)
{
    pthread_t t;
    pthread_create(&t, NULL, c5_churn, NULL);
    HGLOBAL h = GlobalAlloc(GMEM_MOVEABLE, 16);
    int failures = 0;
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            const char *why;
            HGLOBAL k = GlobalAlloc(GMEM_MOVEABLE, 64);
            bool ok = k && GlobalLock(k) && GlobalSize(h) == 16 && GlobalFree(k) == NULL &&
                      gm_validate(&why);
            _exit(ok ? 0 : 1);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        failures += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    c5_stop = 1;
    pthread_join(t, NULL);
    CHECK_EQ(failures, 0);
    GlobalFree(h);
    CHECK_TABLE();
}

int main(void)
{
    table_fills_and_refuses();
    forged_handles_refused();
    moved_block_keeps_handle();
    threads_keep_table_whole();
    fork_leaves_table_working();
    return unit_finish();
}
