/*
 * com_alloc.c — the COM task allocator (reference C1-C7): CoTaskMemAlloc,
 * CoTaskMemRealloc and CoTaskMemFree used without CoInitialize, the
 * process-wide IMalloc from CoGetMalloc called through its vtable, and
 * blocks passed freely between the two; size 0, alignment, impossible
 * sizes, reallocation both ways and to nothing, GetSize's exact answer,
 * DidAlloc's three answers, and IUnknown on the singleton.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle
 * (LIBS="-lole32 -luuid").  Wine's QueryInterface leaves *ppv alone for an
 * interface it lacks; IUnknown's contract sets it to NULL, so that check is
 * WINDOWS_ONLY.  Not pinned: the values AddRef and Release return (Wine
 * answers 2 and 1; COM documents them as meant for tests only), only that
 * they are not 0; where the blocks live (C8: never HeapFree them); what
 * DidAlloc says of an interior pointer or a block of another heap; that
 * Realloc(p, 0) really released p.
 */
#include "conformance.h"
#include <objbase.h>

#define ALIGN 16                         /* C2, x64 */
#define MIB ((SIZE_T)1 << 20)
#define HUGE_SIZE ((SIZE_T)-1 / 2)

/* An HRESULT compared as the 32-bit value the SDK spells. */
#define CHECK_HR(hr, want) CHECK_EQ((DWORD)(hr), (DWORD)(want))

/* Interfaces the task allocator does not implement, spelled here so the
 * test needs no IID beyond IUnknown and IMalloc from the library. */
static const GUID iid_istream =          /* 0000000c-0000-0000-c000-000000000046 */
    { 0x0000000c, 0x0000, 0x0000, { 0xc0, 0, 0, 0, 0, 0, 0, 0x46 } };
static const GUID iid_imallocspy =       /* 0000001d-0000-0000-c000-000000000046 */
    { 0x0000001d, 0x0000, 0x0000, { 0xc0, 0, 0, 0, 0, 0, 0, 0x46 } };
static const GUID iid_made_up =
    { 0x6d2f1c3a, 0x41b7, 0x4e0d, { 0x9a, 0x3e, 0x5b, 0x17, 0xc2, 0x88, 0x04, 0xf1 } };

static char static_buffer[64];

static IMalloc *task_malloc(void)
{
    IMalloc *m = NULL;
    CoGetMalloc(MEMCTX_TASK, &m);
    return m;
}

/* C5: one singleton for MEMCTX_TASK; any other context is refused and the
 * out pointer cleared. */
static void test_get_malloc(void)
{
    IMalloc *m = (IMalloc *)(ULONG_PTR)0xdeadbeef, *again = NULL, *other;

    CHECK_HR(CoGetMalloc(MEMCTX_TASK, &m), S_OK);
    CHECK(m != NULL && m != (IMalloc *)(ULONG_PTR)0xdeadbeef);
    CHECK_HR(CoGetMalloc(1, &again), 0);
    CHECK_EQ(again, m);

    other = (IMalloc *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(CoGetMalloc(0, &other), 0x80070057);   /* E_INVALIDARG */
    CHECK_EQ(other, NULL);
    other = (IMalloc *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(CoGetMalloc(MEMCTX_SHARED, &other), E_INVALIDARG);
    CHECK_EQ(other, NULL);
    other = (IMalloc *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(CoGetMalloc(3, &other), E_INVALIDARG);
    CHECK_EQ(other, NULL);
    other = (IMalloc *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(CoGetMalloc((DWORD)-1, &other), E_INVALIDARG);
    CHECK_EQ(other, NULL);

    m->lpVtbl->Release(m);
    again->lpVtbl->Release(again);
}

/* C5: IUnknown on the singleton.  Balanced AddRef/Release never destroy it
 * (neither returns 0); QueryInterface for IUnknown and IMalloc gives the
 * same object; any other interface is E_NOINTERFACE. */
static void test_unknown(void)
{
    IMalloc *m = task_malloc(), *again;
    void *pv, *p;
    ULONG a1, a2, r1, r2;

    a1 = m->lpVtbl->AddRef(m);
    a2 = m->lpVtbl->AddRef(m);
    r1 = m->lpVtbl->Release(m);
    r2 = m->lpVtbl->Release(m);
    CHECK(a1 != 0 && a2 != 0);
    CHECK(r1 != 0 && r2 != 0);

    pv = NULL;
    CHECK_HR(m->lpVtbl->QueryInterface(m, &IID_IUnknown, &pv), S_OK);
    CHECK_EQ(pv, m);
    if (pv) ((IMalloc *)pv)->lpVtbl->Release((IMalloc *)pv);
    pv = NULL;
    CHECK_HR(m->lpVtbl->QueryInterface(m, &IID_IMalloc, &pv), S_OK);
    CHECK_EQ(pv, m);
    if (pv) ((IMalloc *)pv)->lpVtbl->Release((IMalloc *)pv);

    pv = (void *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(m->lpVtbl->QueryInterface(m, &iid_istream, &pv), 0x80004002);
    WINDOWS_ONLY {                  /* IUnknown::QueryInterface; Wine leaves it */
        CHECK_EQ(pv, NULL);
    }
    pv = (void *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(m->lpVtbl->QueryInterface(m, &iid_imallocspy, &pv), E_NOINTERFACE);
    WINDOWS_ONLY {
        CHECK_EQ(pv, NULL);
    }
    pv = (void *)(ULONG_PTR)0xdeadbeef;
    CHECK_HR(m->lpVtbl->QueryInterface(m, &iid_made_up, &pv), E_NOINTERFACE);
    WINDOWS_ONLY {
        CHECK_EQ(pv, NULL);
    }

    /* Still the allocator after all of that. */
    again = task_malloc();
    CHECK_EQ(again, m);
    again->lpVtbl->Release(again);
    p = m->lpVtbl->Alloc(m, 24);
    CHECK(p != NULL);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 24);
    m->lpVtbl->Free(m, p);
    m->lpVtbl->Release(m);
}

/* C1: no CoInitialize anywhere in this program; a block from either
 * interface can be sized, reallocated and freed through the other. */
static void test_interchangeable(void)
{
    IMalloc *m = task_malloc();
    char *p, *q;

    p = CoTaskMemAlloc(100);                   /* CoTaskMem -> IMalloc */
    CHECK(p != NULL);
    cf_fill(p, 100, 1);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 100);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, p), 1);
    p = m->lpVtbl->Realloc(m, p, 300);
    CHECK(p != NULL);
    CHECK_EQ(cf_bad(p, 100, 1), 0);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 300);
    m->lpVtbl->Free(m, p);

    q = m->lpVtbl->Alloc(m, 200);              /* IMalloc -> CoTaskMem */
    CHECK(q != NULL);
    cf_fill(q, 200, 2);
    q = CoTaskMemRealloc(q, 5000);
    CHECK(q != NULL);
    CHECK_EQ(cf_bad(q, 200, 2), 0);
    CHECK_EQ(m->lpVtbl->GetSize(m, q), 5000);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, q), 1);
    CoTaskMemFree(q);

    /* Freed across, the memory is reusable: a fresh pair works. */
    p = CoTaskMemAlloc(64);
    q = m->lpVtbl->Alloc(m, 64);
    CHECK(p != NULL && q != NULL && p != q);
    m->lpVtbl->Free(m, p);
    CoTaskMemFree(q);
    m->lpVtbl->Release(m);
}

/* C2: size 0 gives distinct live blocks; every block is 16-aligned and
 * writable to its size; sizes that cannot be served give NULL. */
static void test_alloc(void)
{
    static char *blocks[3][520];
    IMalloc *m = task_malloc();
    char *z1, *z2, *z3, *z4;
    int i, k, misaligned = 0, missing = 0, damaged = 0;

    z1 = CoTaskMemAlloc(0);
    z2 = CoTaskMemAlloc(0);
    z3 = m->lpVtbl->Alloc(m, 0);
    z4 = m->lpVtbl->Alloc(m, 0);
    CHECK(z1 != NULL && z2 != NULL && z3 != NULL && z4 != NULL);
    CHECK(z1 != z2 && z3 != z4 && z1 != z3 && z1 != z4 && z2 != z3 && z2 != z4);
    CHECK_EQ(m->lpVtbl->GetSize(m, z1), 0);
    CHECK_EQ(m->lpVtbl->GetSize(m, z3), 0);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, z2), 1);
    CoTaskMemFree(z1);
    CoTaskMemFree(z3);
    m->lpVtbl->Free(m, z2);
    m->lpVtbl->Free(m, z4);

    /* Sizes 0..511 through both entry points and CoTaskMemRealloc(NULL),
     * then a few large ones, all live at once. */
    for (i = 0; i < 520; i++) {
        SIZE_T n = i < 512 ? (SIZE_T)i : (SIZE_T)(i - 511) * 40000 + 3;
        blocks[0][i] = CoTaskMemAlloc(n);
        blocks[1][i] = m->lpVtbl->Alloc(m, n);
        blocks[2][i] = CoTaskMemRealloc(NULL, n);
        for (k = 0; k < 3; k++) {
            missing += blocks[k][i] == NULL;
            misaligned += ((ULONG_PTR)blocks[k][i] & (ALIGN - 1)) != 0;
            if (blocks[k][i]) cf_fill(blocks[k][i], n, i + k);
        }
    }
    CHECK_EQ(missing, 0);
    CHECK_EQ(misaligned, 0);
    for (i = 0; i < 520; i++) {
        SIZE_T n = i < 512 ? (SIZE_T)i : (SIZE_T)(i - 511) * 40000 + 3;
        for (k = 0; k < 3; k++)
            if (blocks[k][i])
                damaged += cf_bad(blocks[k][i], n, i + k) != 0 ||
                           m->lpVtbl->GetSize(m, blocks[k][i]) != n;
        CoTaskMemFree(blocks[0][i]);
        m->lpVtbl->Free(m, blocks[1][i]);
        CoTaskMemFree(blocks[2][i]);
    }
    CHECK_EQ(damaged, 0);

    CHECK_EQ(CoTaskMemAlloc((SIZE_T)-1), NULL);
    CHECK_EQ(CoTaskMemAlloc(HUGE_SIZE), NULL);
    CHECK_EQ(m->lpVtbl->Alloc(m, (SIZE_T)-1), NULL);
    CHECK_EQ(m->lpVtbl->Alloc(m, HUGE_SIZE), NULL);
    z1 = CoTaskMemAlloc(32);                   /* and the allocator goes on */
    CHECK(z1 != NULL);
    CoTaskMemFree(z1);
    m->lpVtbl->Release(m);
}

/* C3 through one reallocation entry point: NULL allocates, growth keeps
 * the bytes, shrinking keeps the prefix, an impossible size leaves the block
 * as it was, and size 0 frees and answers NULL. */
static void realloc_cycle(IMalloc *m, void *(*re)(IMalloc *, void *, SIZE_T), int seed)
{
    char *p, *q;

    p = re(m, NULL, 100);
    CHECK(p != NULL);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 100);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, p), 1);
    cf_fill(p, 100, seed);

    p = re(m, p, 2 * MIB);                     /* growth, surely moving */
    CHECK(p != NULL);
    CHECK_EQ(cf_bad(p, 100, seed), 0);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 2 * MIB);
    cf_fill(p, 2 * MIB, seed + 1);

    p = re(m, p, 50);                          /* shrink */
    CHECK(p != NULL);
    CHECK_EQ(cf_bad(p, 50, seed + 1), 0);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 50);

    q = re(m, p, HUGE_SIZE);                   /* failure leaves p alone */
    CHECK_EQ(q, NULL);
    q = re(m, p, (SIZE_T)-1);
    CHECK_EQ(q, NULL);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 50);
    CHECK_EQ(cf_bad(p, 50, seed + 1), 0);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, p), 1);

    CHECK_EQ(re(m, p, 0), NULL);               /* frees */

    p = re(m, NULL, 0);                        /* = CoTaskMemAlloc(0) */
    CHECK(p != NULL);
    CHECK_EQ(m->lpVtbl->GetSize(m, p), 0);
    CHECK_EQ(re(m, p, 0), NULL);
}

static void *co_task_mem_realloc(IMalloc *m, void *p, SIZE_T n)
{
    (void)m;
    return CoTaskMemRealloc(p, n);
}

static void *imalloc_realloc(IMalloc *m, void *p, SIZE_T n)
{
    return m->lpVtbl->Realloc(m, p, n);
}

/* C3, through CoTaskMemRealloc and IMalloc::Realloc alike. */
static void test_realloc(void)
{
    IMalloc *m = task_malloc();
    realloc_cycle(m, co_task_mem_realloc, 10);
    realloc_cycle(m, imalloc_realloc, 20);
    m->lpVtbl->Release(m);
}

/* C4: freeing NULL is a no-op through both; C7: HeapMinimize only compacts.
 * Neither disturbs a live block. */
static void test_free_null_minimize(void)
{
    IMalloc *m = task_malloc();
    char *p = CoTaskMemAlloc(777), *q;
    CHECK(p != NULL);
    cf_fill(p, 777, 5);

    CoTaskMemFree(NULL);
    m->lpVtbl->Free(m, NULL);
    m->lpVtbl->HeapMinimize(m);
    m->lpVtbl->HeapMinimize(m);

    CHECK_EQ(m->lpVtbl->GetSize(m, p), 777);
    CHECK_EQ(cf_bad(p, 777, 5), 0);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, p), 1);
    q = m->lpVtbl->Alloc(m, 10);
    CHECK(q != NULL && q != p);
    m->lpVtbl->Free(m, q);
    CoTaskMemFree(p);
    m->lpVtbl->Release(m);
}

/* C6: GetSize is the size asked for, whatever the size class; NULL gives
 * (SIZE_T)-1. */
static void test_get_size(void)
{
    static const SIZE_T sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 4096, 65536,
                                    1000001, 4 * MIB + 1 };
    IMalloc *m = task_malloc();
    int i, wrong_co = 0, wrong_im = 0;

    for (i = 0; i < (int)(sizeof sizes / sizeof sizes[0]); i++) {
        void *p = CoTaskMemAlloc(sizes[i]), *q = m->lpVtbl->Alloc(m, sizes[i]);
        wrong_co += !p || m->lpVtbl->GetSize(m, p) != sizes[i];
        wrong_im += !q || m->lpVtbl->GetSize(m, q) != sizes[i];
        CoTaskMemFree(p);
        m->lpVtbl->Free(m, q);
    }
    CHECK_EQ(wrong_co, 0);
    CHECK_EQ(wrong_im, 0);

    {
        void *p = CoTaskMemAlloc(33);
        CHECK_EQ(m->lpVtbl->GetSize(m, p), 33);
        CoTaskMemFree(p);
    }
    CHECK_EQ(m->lpVtbl->GetSize(m, NULL), (SIZE_T)-1);
    m->lpVtbl->Release(m);
}

/* C7: 1 for its own blocks, 0 for memory it never gave out, -1 for NULL. */
static void test_did_alloc(void)
{
    IMalloc *m = task_malloc();
    char local[32];
    void *p = CoTaskMemAlloc(40), *q = m->lpVtbl->Alloc(m, 0);
    void *big = CoTaskMemAlloc(3 * MIB);

    memset(local, 0, sizeof local);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, p), 1);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, q), 1);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, big), 1);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, local), 0);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, static_buffer), 0);
    CHECK_EQ(m->lpVtbl->DidAlloc(m, NULL), -1);
    CoTaskMemFree(p);
    CoTaskMemFree(q);
    CoTaskMemFree(big);
    m->lpVtbl->Release(m);
}

int main(void)
{
    test_get_malloc();
    test_unknown();
    test_interchangeable();
    test_alloc();
    test_realloc();
    test_free_null_minimize();
    test_get_size();
    test_did_alloc();
    return cf_finish();
}
