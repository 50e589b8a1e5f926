/*
 * heap_errors.c — what the heap does with bad pointers and failed requests
 * (reference H11, H13, H21-H25): a double free, an interior pointer and a
 * block of another heap are refused with FALSE and ERROR_INVALID_PARAMETER
 * and leave both heaps intact (H24, as Wine does; Windows may terminate the
 * process instead, which the documentation allows); HeapSize answers
 * (SIZE_T)-1 for them; HEAP_GENERATE_EXCEPTIONS raises STATUS_NO_MEMORY for
 * an impossible size, for an exhausted fixed-size heap and for a failed
 * HeapReAlloc, and the heap is valid and usable afterwards.
 *
 * Expected values confirmed under Wine 8 with ../shared/tools/win32-oracle.
 * The exception is caught by a vectored handler that leaves through
 * __builtin_longjmp (as in except_dispatch.c): only its code is pinned, not
 * whether it is continuable or what parameters it carries (H13).  Wine
 * ignores HEAP_GENERATE_EXCEPTIONS given to HeapCreate (H11): those checks
 * are WINDOWS_ONLY.  Not pinned: HeapSize's last error (H25), unmapped
 * garbage pointers.
 */
#include "conformance.h"

#define MIB ((SIZE_T)1 << 20)

#define REFUSED(call) do {                                                   \
        SetLastError(0xdead);                                               \
        CHECK_EQ((call), FALSE);                                            \
        CHECK_ERR(ERROR_INVALID_PARAMETER);                                 \
    } while (0)

/* H22-H25. */
static void test_bad_pointers(void)
{
    HANDLE h = HeapCreate(0, 0, 0), g = HeapCreate(0, 0, 0);
    char *a = HeapAlloc(h, 0, 100), *b = HeapAlloc(h, 0, 200);
    char *big = HeapAlloc(h, 0, 2 * MIB), *x = HeapAlloc(g, 0, 50);
    cf_fill(a, 100, 1);
    cf_fill(big, 2 * MIB, 2);
    cf_fill(x, 50, 3);

    SetLastError(0xdead);
    CHECK_EQ(HeapFree(h, 0, NULL), TRUE);              /* H22 */
    CHECK_ERR(0xdead);
    CHECK_EQ(HeapFree(h, 0, b), TRUE);                 /* H23 */
    REFUSED(HeapFree(h, 0, b));                        /* double free */
    REFUSED(HeapFree(h, 0, a + 16));                   /* interior */
    REFUSED(HeapFree(h, 0, a + 1));
    REFUSED(HeapFree(h, 0, big + 4096));
    REFUSED(HeapFree(h, 0, x));                        /* another heap's */
    REFUSED(HeapFree(g, 0, a));
    REFUSED(HeapFree(GetProcessHeap(), 0, a));

    CHECK_EQ(HeapSize(h, 0, b), (SIZE_T)-1);           /* H25 */
    CHECK_EQ(HeapSize(h, 0, a + 16), (SIZE_T)-1);
    CHECK_EQ(HeapSize(h, 0, big + 4096), (SIZE_T)-1);
    CHECK_EQ(HeapSize(h, 0, x), (SIZE_T)-1);
    CHECK_EQ(HeapSize(GetProcessHeap(), 0, x), (SIZE_T)-1);

    /* Nothing was harmed. */
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapValidate(g, 0, NULL), TRUE);
    CHECK_EQ(HeapValidate(GetProcessHeap(), 0, NULL), TRUE);
    CHECK_EQ(HeapSize(h, 0, a), 100);
    CHECK_EQ(cf_bad(a, 100, 1), 0);
    CHECK_EQ(HeapSize(h, 0, big), 2 * MIB);
    CHECK_EQ(cf_bad(big, 2 * MIB, 2), 0);
    CHECK_EQ(HeapSize(g, 0, x), 50);
    CHECK_EQ(cf_bad(x, 50, 3), 0);
    CHECK_EQ(HeapFree(h, 0, a), TRUE);
    CHECK_EQ(HeapFree(h, 0, big), TRUE);
    CHECK_EQ(HeapFree(g, 0, x), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
    CHECK_EQ(HeapDestroy(g), TRUE);
}

/* H24, H25 for sizes served many times over (Windows' low-fragmentation
 * front end takes such a size over after ~18 allocations). */
static void test_bad_pointers_many(void)
{
    static char *p[100], *q[100];
    HANDLE h = HeapCreate(0, 0, 0), g = HeapCreate(0, 0, 0);
    int i, damaged = 0;
    for (i = 0; i < 100; i++) {
        p[i] = HeapAlloc(h, 0, 48);
        q[i] = HeapAlloc(g, 0, 48);
        cf_fill(p[i], 48, i);
    }
    CHECK_EQ(HeapFree(h, 0, p[10]), TRUE);
    REFUSED(HeapFree(h, 0, p[10]));                    /* double free */
    REFUSED(HeapFree(h, 0, p[11] + 16));               /* interior */
    REFUSED(HeapFree(h, 0, q[50]));                    /* another heap's */
    CHECK_EQ(HeapSize(h, 0, p[10]), (SIZE_T)-1);
    CHECK_EQ(HeapSize(h, 0, p[11] + 16), (SIZE_T)-1);
    CHECK_EQ(HeapSize(h, 0, q[50]), (SIZE_T)-1);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapValidate(g, 0, NULL), TRUE);
    for (i = 0; i < 100; i++)
        if (i != 10)
            damaged += HeapSize(h, 0, p[i]) != 48 || cf_bad(p[i], 48, i) != 0;
    CHECK_EQ(damaged, 0);
    CHECK_EQ(HeapSize(g, 0, q[50]), 48);
    CHECK_EQ(HeapDestroy(h), TRUE);
    CHECK_EQ(HeapDestroy(g), TRUE);
}

/* A vectored handler that takes STATUS_NO_MEMORY out through longjmp. */
static void *escape[5];
static volatile int armed;
static volatile DWORD caught;
static volatile LONG handler_calls;
static void *result;

static LONG CALLBACK catch_no_memory(EXCEPTION_POINTERS *info)
{
    handler_calls++;
    if (armed && info->ExceptionRecord->ExceptionCode == STATUS_NO_MEMORY) {
        caught = info->ExceptionRecord->ExceptionCode;
        armed = 0;
        __builtin_longjmp(escape, 1);
    }
    return EXCEPTION_CONTINUE_SEARCH;
}

/* The code HeapAlloc raised, or 0 when it returned (its answer in result). */
static DWORD alloc_raises(HANDLE h, DWORD flags, SIZE_T size)
{
    caught = 0;
    result = NULL;
    armed = 1;
    if (!__builtin_setjmp(escape))
        result = HeapAlloc(h, flags, size);
    armed = 0;
    return caught;
}

static DWORD realloc_raises(HANDLE h, DWORD flags, void *p, SIZE_T size)
{
    caught = 0;
    result = NULL;
    armed = 1;
    if (!__builtin_setjmp(escape))
        result = HeapReAlloc(h, flags, p, size);
    armed = 0;
    return caught;
}

/* H13: per-call flag, growable heap. */
static void test_raise_huge(void)
{
    HANDLE h = HeapCreate(0, 0, 0);
    char *keep = HeapAlloc(h, 0, 500);
    cf_fill(keep, 500, 4);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, ~(SIZE_T)0), STATUS_NO_MEMORY);
    CHECK_EQ(result, NULL);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS | HEAP_ZERO_MEMORY, (SIZE_T)1 << 63),
             STATUS_NO_MEMORY);
    CHECK_EQ(alloc_raises(GetProcessHeap(), HEAP_GENERATE_EXCEPTIONS, ~(SIZE_T)0 - 7),
             STATUS_NO_MEMORY);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);          /* lock dropped, heap sound */
    CHECK_EQ(HeapValidate(GetProcessHeap(), 0, NULL), TRUE);
    CHECK_EQ(cf_bad(keep, 500, 4), 0);

    /* Successful calls raise nothing. */
    LONG calls = handler_calls;
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, 64), 0);
    CHECK(result != NULL);
    CHECK_EQ(HeapSize(h, HEAP_GENERATE_EXCEPTIONS, result), 64);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, 3 * MIB), 0);
    CHECK(result != NULL);
    CHECK_EQ(HeapFree(h, HEAP_GENERATE_EXCEPTIONS, result), TRUE);
    CHECK_EQ(handler_calls, calls);

    /* H21: a failed HeapReAlloc raises and the block survives. */
    CHECK_EQ(realloc_raises(h, HEAP_GENERATE_EXCEPTIONS, keep, ~(SIZE_T)0), STATUS_NO_MEMORY);
    CHECK_EQ(HeapSize(h, 0, keep), 500);
    CHECK_EQ(cf_bad(keep, 500, 4), 0);
    CHECK_EQ(realloc_raises(h, HEAP_GENERATE_EXCEPTIONS, keep, 1000), 0);
    CHECK(result != NULL);
    keep = result;
    CHECK_EQ(HeapSize(h, 0, keep), 1000);
    CHECK_EQ(cf_bad(keep, 500, 4), 0);

    char *q = HeapAlloc(h, 0, 100);                    /* the heap still serves */
    CHECK(q != NULL);
    CHECK_EQ(HeapFree(h, 0, q), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H13, H15: exhaustion of a fixed-size heap. */
static void test_raise_fixed(void)
{
    static char *blocks[1024];
    HANDLE h = HeapCreate(0, 0, 0x10000);
    int n = 0;
    while (n < 1024 && (blocks[n] = HeapAlloc(h, 0, 256)) != NULL)
        cf_fill(blocks[n], 256, n), n++;
    CHECK(n > 0 && n < 1024);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, 256), STATUS_NO_MEMORY);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, 0x20000), STATUS_NO_MEMORY);
    CHECK_EQ(realloc_raises(h, HEAP_GENERATE_EXCEPTIONS, blocks[0], 0x8000), STATUS_NO_MEMORY);
    CHECK_EQ(HeapSize(h, 0, blocks[0]), 256);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapFree(h, 0, blocks[n - 1]), TRUE);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, 256), 0);   /* room again */
    CHECK(result != NULL);
    blocks[n - 1] = result;
    cf_fill(blocks[n - 1], 256, n - 1);
    int i, damaged = 0;
    for (i = 0; i < n; i++)
        damaged += cf_bad(blocks[i], 256, i) != 0;
    CHECK_EQ(damaged, 0);
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
}

/* H11: the flag given to HeapCreate applies to every call (Windows). */
static void test_raise_create_flag(void)
{
    HANDLE h = HeapCreate(HEAP_GENERATE_EXCEPTIONS, 0, 0);
    HANDLE f = HeapCreate(HEAP_GENERATE_EXCEPTIONS, 0, 0x10000);
    CHECK(h != NULL && f != NULL);
    CHECK_EQ(alloc_raises(h, HEAP_GENERATE_EXCEPTIONS, ~(SIZE_T)0), STATUS_NO_MEMORY);
    CHECK_EQ(alloc_raises(h, 0, 100), 0);              /* success: nothing raised */
    CHECK(result != NULL);
    CHECK_EQ(HeapFree(h, 0, result), TRUE);
    WINDOWS_ONLY {                                     /* H11: Wine returns NULL */
        CHECK_EQ(alloc_raises(h, 0, ~(SIZE_T)0), STATUS_NO_MEMORY);
        CHECK_EQ(alloc_raises(f, 0, 0x20000), STATUS_NO_MEMORY);
        char *p = HeapAlloc(h, 0, 10);
        CHECK_EQ(realloc_raises(h, 0, p, ~(SIZE_T)0), STATUS_NO_MEMORY);
        CHECK_EQ(HeapSize(h, 0, p), 10);
    }
    CHECK_EQ(HeapValidate(h, 0, NULL), TRUE);
    CHECK_EQ(HeapValidate(f, 0, NULL), TRUE);
    CHECK_EQ(HeapDestroy(h), TRUE);
    CHECK_EQ(HeapDestroy(f), TRUE);
}

int main(void)
{
    test_bad_pointers();
    test_bad_pointers_many();
    PVOID veh = AddVectoredExceptionHandler(1, catch_no_memory);
    CHECK(veh != NULL);
    test_raise_huge();
    test_raise_fixed();
    test_raise_create_flag();
    CHECK_EQ(RemoveVectoredExceptionHandler(veh), 1);
    return cf_finish();
}
