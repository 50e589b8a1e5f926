/*
 * conformance.h — the harness of winmem's conformance tests.
 *
 * A conformance test is a portable Win32 C program: it includes <windows.h>
 * and nothing of winmem's internals, so the same file builds against winmem
 * (include/compat/windows.h) and with mingw-w64 for Wine or Windows.  Every
 * check compares against a value confirmed on a Win32 implementation first
 * (../shared/tools/win32-oracle); where Wine and Windows' documentation
 * disagree, the check follows Windows and is wrapped in WINDOWS_ONLY so Wine
 * skips it (the reference marks these [W≠D]).
 *
 * The program prints one line per failure and ends with the plain summary
 * "N passed, N failed" that CI reads; the exit status is 1 if any check failed.
 */
#ifndef WINMEM_CONFORMANCE_H
#define WINMEM_CONFORMANCE_H

#include <windows.h>
#include <stdio.h>
#include <string.h>

static int cf_passed, cf_failed, cf_skipped;

/* True when running under Wine, whose answers differ from Windows in the
 * places the reference marks [W≠D].  winmem itself never is Wine. */
__attribute__((unused)) static int cf_on_wine(void)
{
#ifdef _WIN32
    static int known = -1;
    if (known < 0) {
        /* On Windows the failed GetProcAddress sets ERROR_PROC_NOT_FOUND;
         * keep the last error a WINDOWS_ONLY { CHECK_ERR(...) } is about to read. */
        DWORD saved = GetLastError();
        HMODULE ntdll = GetModuleHandleA("ntdll.dll");
        known = ntdll && GetProcAddress(ntdll, "wine_get_version") != NULL;
        SetLastError(saved);
    }
    return known;
#else
    return 0;
#endif
}

static void cf_report(int ok, const char *file, int line, const char *what,
                      unsigned long long got, unsigned long long want, int has_values)
{
    if (ok) { cf_passed++; return; }
    cf_failed++;
    if (has_values)
        printf("FAIL %s:%d: %s: got 0x%llx (%llu), want 0x%llx (%llu)\n",
               file, line, what, got, got, want, want);
    else
        printf("FAIL %s:%d: %s\n", file, line, what);
}

/* CHECK(cond): cond must hold. */
#define CHECK(cond) cf_report(!!(cond), __FILE__, __LINE__, #cond, 0, 0, 0)

/* CHECK_EQ(got, want): both compared as unsigned 64-bit integers (pointers
 * too, through the uintptr cast), and printed in hex and decimal on failure. */
#define CHECK_EQ(got, want) do {                                              \
        unsigned long long cf_g_ = (unsigned long long)(ULONG_PTR)(got);       \
        unsigned long long cf_w_ = (unsigned long long)(ULONG_PTR)(want);      \
        cf_report(cf_g_ == cf_w_, __FILE__, __LINE__, #got " == " #want,      \
                  cf_g_, cf_w_, 1);                                           \
    } while (0)

/* CHECK_ERR(code): the thread's last error is code. */
#define CHECK_ERR(code) CHECK_EQ(GetLastError(), (code))

/* CF_SANITIZED is 1 in AddressSanitizer builds of winmem.  ASan installs a
 * SIGSEGV handler before main; winmem passes faults no Win32 handler took
 * to the program's earlier handler before the top-level filter (see
 * src/except/except.h), so under ASan that filter never sees them. */
#if defined(__SANITIZE_ADDRESS__)
#define CF_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CF_SANITIZED 1
#endif
#endif
#ifndef CF_SANITIZED
#define CF_SANITIZED 0
#endif

/* WINDOWS_ONLY { ... }: checks that pin Windows' documented behaviour where
 * Wine differs; skipped (and counted as skipped) under Wine. */
#define WINDOWS_ONLY if (cf_on_wine() ? (cf_skipped++, 0) : 1)

/* Query addr and pin every field of the answer. */
#define CHECK_MBI(addr, base, abase, aprot, size, state, prot, type) do {     \
        MEMORY_BASIC_INFORMATION m_;                                          \
        memset(&m_, 0xcc, sizeof m_);                                         \
        CHECK_EQ(VirtualQuery((addr), &m_, sizeof m_), sizeof m_);            \
        CHECK_EQ(m_.BaseAddress, (base));                                     \
        CHECK_EQ(m_.AllocationBase, (abase));                                 \
        CHECK_EQ(m_.AllocationProtect, (aprot));                              \
        CHECK_EQ(m_.RegionSize, (size));                                      \
        CHECK_EQ(m_.State, (state));                                          \
        CHECK_EQ(m_.Protect, (prot));                                         \
        CHECK_EQ(m_.Type, (type));                                            \
    } while (0)

/* A free 64 KiB-aligned range of size bytes: reserved and given back, so a
 * test can place allocations at known offsets from it. */
static inline char *free_range(SIZE_T size)
{
    char *p = VirtualAlloc(NULL, size, MEM_RESERVE, PAGE_NOACCESS);
    if (p) VirtualFree(p, 0, MEM_RELEASE);
    return p;
}

/* A block's contents for tests that move or resize it: cf_fill writes a
 * pattern from seed, cf_bad counts the bytes that no longer follow it. */
static inline void cf_fill(char *p, SIZE_T n, int seed)
{
    SIZE_T i;
    for (i = 0; i < n; i++)
        p[i] = (char)(seed + i * 13);
}

static inline SIZE_T cf_bad(const char *p, SIZE_T n, int seed)
{
    SIZE_T i, k = 0;
    for (i = 0; i < n; i++)
        k += p[i] != (char)(seed + i * 13);
    return k;
}

/* How many of the n bytes at p differ from value. */
static inline SIZE_T count_not(const char *p, SIZE_T n, char value)
{
    SIZE_T i, k = 0;
    for (i = 0; i < n; i++) k += p[i] != value;
    return k;
}

static int cf_finish(void)
{
    if (cf_skipped)
        printf("%d passed, %d failed, %d skipped\n", cf_passed, cf_failed, cf_skipped);
    else
        printf("%d passed, %d failed\n", cf_passed, cf_failed);
    return cf_failed != 0;
}

#endif
