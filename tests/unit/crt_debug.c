/*
 * crt_debug.c — white-box tests of the debug heap (src/crt/crt_debug.c),
 * pinned to MSVC's debug CRT as the reference (R11) describes it, since no
 * Win32 implementation here has a debug CRT to ask: the fill bytes and the
 * guards; damage before, after and on top of a freed block found by
 * _CrtCheckMemory and reported in the CRT's words; the leak dump's lines;
 * checkpoints, differences and statistics; the break on a request number;
 * untracked blocks when _CRTDBG_ALLOC_MEM_DF is off; plain CRT calls on
 * debug blocks; the leak check at exit.
 */
#include "crt/crt.h"
#include "unit.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEADER 48
#define CHECK_STR(got, want) do {                                              \
        const char *g_ = (got), *w_ = (want);                                  \
        if (strcmp(g_, w_) == 0) unit_passed++;                                \
        else { unit_failed++; printf("FAIL %s:%d: got\n%s\nwant\n%s\n", __FILE__, __LINE__, g_, w_); } \
    } while (0)

static char report_text[8192];

/* Reports from here on go to report_text. */
static void capture(void)
{
    memset(report_text, 0, sizeof report_text);
    crt_report_file = fmemopen(report_text, sizeof report_text - 1, "w");
    setvbuf(crt_report_file, NULL, _IONBF, 0);
}

static const char *captured(void)
{
    fclose(crt_report_file);
    crt_report_file = NULL;
    return report_text;
}

static size_t count_bytes(const unsigned char *p, size_t n, unsigned char v)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k += p[i] == v;
    return k;
}

static char *address(const void *p)
{
    static char buf[2][32];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "0x%016llX", (unsigned long long)(uintptr_t)p);
    return buf[which];
}

/* Case 1.  Fill bytes, guards, sizes; plain calls on debug blocks. */
static void fills_and_guards(void)
{
    unsigned char *p = winmem__malloc_dbg(40, _NORMAL_BLOCK, "f.c", 7);
    CHECK(p && (uintptr_t)p % 16 == 0);
    CHECK_EQ(count_bytes(p, 40, 0xCD), 40);
    CHECK_EQ(count_bytes(p - 4, 4, 0xFD), 4);
    CHECK_EQ(count_bytes(p + 40, 4, 0xFD), 4);
    CHECK_EQ(winmem__msize_dbg(p, _NORMAL_BLOCK), 40);
    CHECK_EQ(winmem__msize(p), 40);                   /* the plain call knows it */
    long request = 0;
    char *file = NULL;
    int line = 0;
    CHECK(winmem__CrtIsMemoryBlock(p, 40, &request, &file, &line));
    CHECK(request > 0 && file && !strcmp(file, "f.c") && line == 7);
    CHECK_EQ(winmem__CrtReportBlockType(p), _NORMAL_BLOCK);
    unsigned char *z = winmem__calloc_dbg(4, 8, _CLIENT_BLOCK | (3 << 16), NULL, 0);
    CHECK_EQ(count_bytes(z, 32, 0), 32);
    CHECK_EQ(winmem__CrtReportBlockType(z), _CLIENT_BLOCK | (3 << 16));
    memcpy(p, "0123456789", 10);
    p = winmem_realloc(p, 100);                       /* plain realloc: still a debug block */
    CHECK(p && !memcmp(p, "0123456789", 10) && winmem__msize(p) == 100);
    CHECK_EQ(count_bytes(p + 40, 60, 0xCD), 60);
    CHECK(winmem__expand_dbg(p, 20, _NORMAL_BLOCK, NULL, 0) == p);
    CHECK_EQ(count_bytes(p + 20, 4, 0xFD), 4);
    CHECK(winmem__CrtCheckMemory());
    winmem_free(p);                                   /* plain free of a debug block */
    winmem__free_dbg(z, _CLIENT_BLOCK);
    char *plain = winmem_malloc(30);
    CHECK_EQ(winmem__msize_dbg(plain, _NORMAL_BLOCK), 30);
    winmem__free_dbg(plain, _NORMAL_BLOCK);           /* a plain block through _free_dbg */
    /* A header forged in a plain block, its size right and its links wild:
     * refused, not followed. */
    char *host = winmem_malloc(200);
    struct { void *next, *prev; const char *file; int line, use; size_t size; int32_t request;
             unsigned char gap[4]; } fake = { (void *)0x5678, (void *)0x1234, NULL, 0, _NORMAL_BLOCK,
                                              200 - HEADER - 4, 9, { 0xFD, 0xFD, 0xFD, 0xFD } };
    memcpy(host, &fake, sizeof fake);
    CHECK_EQ(winmem__msize_dbg(host + HEADER, _NORMAL_BLOCK), (size_t)-1);
    winmem__free_dbg(host + HEADER, _NORMAL_BLOCK);
    CHECK_EQ(winmem__msize(host), 200);
    winmem_free(host);
    CHECK(HeapValidate(GetProcessHeap(), 0, NULL));
}

/* Case 2.  Damage, found and reported. */
static void damage_reported(void)
{
    char want[1024];
    unsigned char *p = winmem__malloc_dbg(16, _NORMAL_BLOCK, "g.c", 12);
    long request = 0;
    winmem__CrtIsMemoryBlock(p, 16, &request, NULL, NULL);
    p[16] = 0;
    capture();
    CHECK(!winmem__CrtCheckMemory());
    snprintf(want, sizeof want,
             "HEAP CORRUPTION DETECTED: after Normal block (#%ld) at %s.\n"
             "CRT detected that the application wrote to memory after end of heap buffer.\n"
             "Memory allocated at g.c(12).\n", request, address(p));
    CHECK_STR(captured(), want);
    p[16] = 0xFD;
    p[-1] = 0;
    capture();
    CHECK(!winmem__CrtCheckMemory());
    snprintf(want, sizeof want,
             "HEAP CORRUPTION DETECTED: before Normal block (#%ld) at %s.\n"
             "CRT detected that the application wrote to memory before start of heap buffer.\n"
             "Memory allocated at g.c(12).\n", request, address(p));
    CHECK_STR(captured(), want);
    p[-1] = 0xFD;
    CHECK(winmem__CrtCheckMemory());

    int old = winmem__CrtSetDbgFlag(_CRTDBG_ALLOC_MEM_DF | _CRTDBG_DELAY_FREE_MEM_DF);
    CHECK_EQ(old, _CRTDBG_ALLOC_MEM_DF);
    CHECK_EQ(winmem__CrtSetDbgFlag(_CRTDBG_REPORT_FLAG), _CRTDBG_ALLOC_MEM_DF | _CRTDBG_DELAY_FREE_MEM_DF);
    winmem__free_dbg(p, _NORMAL_BLOCK);
    CHECK_EQ(count_bytes(p, 16, 0xDD), 16);           /* kept, dead */
    CHECK(winmem__CrtCheckMemory());
    p[3] = 1;                                         /* a write after free */
    capture();
    CHECK(!winmem__CrtCheckMemory());
    snprintf(want, sizeof want,
             "HEAP CORRUPTION DETECTED: on top of Free block at %s.\n"
             "CRT detected that the application wrote to a heap buffer that was freed.\n"
             "Memory allocated at g.c(12).\n", address(p));
    CHECK_STR(captured(), want);
    p[3] = 0xDD;
    capture();
    winmem__free_dbg(p, _NORMAL_BLOCK);               /* twice */
    snprintf(want, sizeof want, "_free_dbg: block at %s was freed already.\n", address(p));
    CHECK_STR(captured(), want);
    winmem__CrtSetDbgFlag(old);
}

/* Case 3.  Leaks, checkpoints and statistics, line for line. */
static void leaks_and_statistics(void)
{
    char want[2048];
    _CrtMemState before, after, diff;
    winmem__CrtMemCheckpoint(&before);
    capture();
    CHECK(!winmem__CrtDumpMemoryLeaks() || before.lCounts[_NORMAL_BLOCK] != 0);
    captured();
    char *a = winmem__malloc_dbg(64, _NORMAL_BLOCK, "leak.c", 12);
    strcpy(a, "abc");
    unsigned char *b = winmem__malloc_dbg(5, _CLIENT_BLOCK | (0x2a << 16), NULL, 0);
    memcpy(b, "\x01z\x7f" "AB", 5);
    char *c = winmem__malloc_dbg(8, _CRT_BLOCK, NULL, 0);
    long ra, rb;
    winmem__CrtIsMemoryBlock(a, 64, &ra, NULL, NULL);
    winmem__CrtIsMemoryBlock(b, 5, &rb, NULL, NULL);
    winmem__CrtMemCheckpoint(&after);
    CHECK(winmem__CrtMemDifference(&diff, &before, &after));
    /* The high-water mark is the process's; the difference of two. */
    CHECK(after.lHighWaterCount >= before.lHighWaterCount && after.lHighWaterCount >= 77);
    capture();
    winmem__CrtMemDumpStatistics(&diff);
    snprintf(want, sizeof want, "0 bytes in 0 Free Blocks.\n"
                                "64 bytes in 1 Normal Blocks.\n"
                                "8 bytes in 1 CRT Blocks.\n"
                                "0 bytes in 0 Ignore Blocks.\n"
                                "5 bytes in 1 Client Blocks.\n"
                                "Largest number used: %zu bytes.\n"
                                "Total allocations: 77 bytes.\n",
             after.lHighWaterCount - before.lHighWaterCount);
    CHECK_STR(captured(), want);
    capture();
    winmem__CrtMemDumpAllObjectsSince(&before);
    snprintf(want, sizeof want,
             "Dumping objects ->\n"
             "{%ld} client block at %s, subtype 2a, 5 bytes long.\n"
             " Data: < z AB> 01 7A 7F 41 42 \n"
             "leak.c(12) : {%ld} normal block at %s, 64 bytes long.\n"
             " Data: <abc             > 61 62 63 00 CD CD CD CD CD CD CD CD CD CD CD CD \n"
             "Object dump complete.\n", rb, address(b), ra, address(a));
    CHECK_STR(captured(), want);
    capture();
    CHECK(winmem__CrtDumpMemoryLeaks());
    CHECK(strncmp(captured(), "Detected memory leaks!\nDumping objects ->\n", 42) == 0);
    winmem__free_dbg(a, _NORMAL_BLOCK);
    winmem__free_dbg(b, _CLIENT_BLOCK);
    _CrtMemState end;
    winmem__CrtMemCheckpoint(&end);
    CHECK(!winmem__CrtMemDifference(&diff, &before, &end) == (before.lCounts[_CRT_BLOCK] + 1 == end.lCounts[_CRT_BLOCK]));
    winmem__CrtSetDbgFlag(_CRTDBG_ALLOC_MEM_DF | _CRTDBG_CHECK_CRT_DF);
    CHECK(winmem__CrtMemDifference(&diff, &before, &end));    /* the CRT block counts now */
    winmem__CrtSetDbgFlag(_CRTDBG_ALLOC_MEM_DF);
    winmem__free_dbg(c, _CRT_BLOCK);
}

/* Case 4.  _CrtSetBreakAlloc raises a breakpoint at that request. */
static long breaks;
static LONG CALLBACK on_break(EXCEPTION_POINTERS *info)
{
    if (info->ExceptionRecord->ExceptionCode != STATUS_BREAKPOINT)
        return EXCEPTION_CONTINUE_SEARCH;
    breaks++;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void break_on_request(void)
{
    void *h = AddVectoredExceptionHandler(1, on_break);
    void *a = winmem__malloc_dbg(1, _NORMAL_BLOCK, NULL, 0);
    long ra;
    winmem__CrtIsMemoryBlock(a, 1, &ra, NULL, NULL);
    CHECK_EQ(winmem__CrtSetBreakAlloc(ra + 2), -1);
    void *b = winmem__malloc_dbg(1, _NORMAL_BLOCK, NULL, 0);
    CHECK_EQ(breaks, 0);
    void *c = winmem__malloc_dbg(1, _NORMAL_BLOCK, NULL, 0);
    CHECK_EQ(breaks, 1);
    CHECK(c != NULL);
    CHECK_EQ(winmem__CrtSetBreakAlloc(-1), ra + 2);
    winmem_free(a), winmem_free(b), winmem_free(c);
    RemoveVectoredExceptionHandler(h);
}

/* Case 5.  With _CRTDBG_ALLOC_MEM_DF off, blocks are untracked. */
static void untracked_blocks(void)
{
    _CrtMemState s1, s2, d;
    winmem__CrtMemCheckpoint(&s1);
    winmem__CrtSetDbgFlag(0);
    char *p = winmem__malloc_dbg(10, _NORMAL_BLOCK, "x.c", 1);
    CHECK_EQ(winmem__CrtReportBlockType(p), _IGNORE_BLOCK);
    CHECK_EQ(winmem__msize(p), 10);
    winmem__CrtSetDbgFlag(_CRTDBG_ALLOC_MEM_DF);
    winmem__CrtMemCheckpoint(&s2);
    CHECK(!winmem__CrtMemDifference(&d, &s1, &s2));
    winmem_free(p);
    CHECK(HeapValidate(GetProcessHeap(), 0, NULL));
}

/* Case 6.  The leak check at exit reports a leak, and nothing when clean. */
static void leak_check_at_exit(void)
{
    for (int leak = 0; leak < 2; leak++) {
        int fds[2];
        if (pipe(fds))
            abort();
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fds[1], 2);
            winmem__CrtSetDbgFlag(winmem__CrtSetDbgFlag(_CRTDBG_REPORT_FLAG) | _CRTDBG_LEAK_CHECK_DF);
            char *p = winmem__malloc_dbg(24, _NORMAL_BLOCK, "exit.c", 99);
            if (!leak)
                winmem_free(p);
            exit(0);
        }
        close(fds[1]);
        char out[4096] = { 0 };
        size_t n = 0;
        ssize_t r;
        while ((r = read(fds[0], out + n, sizeof out - 1 - n)) > 0)
            n += (size_t)r;
        close(fds[0]);
        waitpid(pid, NULL, 0);
        if (leak)
            CHECK(strstr(out, "Detected memory leaks!\n") && strstr(out, "exit.c(99) : {") &&
                  strstr(out, "normal block at 0x") && strstr(out, ", 24 bytes long.\n"));
        else
            CHECK_EQ(n, 0);
    }
}

int main(void)
{
    fills_and_guards();
    damage_reported();
    leaks_and_statistics();
    break_on_request();
    untracked_blocks();
    leak_check_at_exit();
    return unit_finish();
}
