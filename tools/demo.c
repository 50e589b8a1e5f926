/*
 * demo.c — `winmem demo`: a narrated tour of the virtual-memory layer, doing
 * what a reader of a Win32 memory chapter would try, and showing the
 * process's regions after each step as Windows tools show them, then
 * exceptions: the sparse array, a guard page and write watch; then a heap,
 * Global memory, the debug heap and named shared memory.
 */
#include "tool.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define KiB ((SIZE_T)1024)
#define MiB (1024 * KiB)

static const char *IND = "    ";
static int step_no;

static void step(const char *title, const char *text)
{
    printf("\n%d. %s\n", ++step_no, title);
    if (text && *text)
        printf("%s%s\n", IND, text);
}

static void show(char *base, SIZE_T size)
{
    print_regions(base, base + size, IND);
    print_strip(base, base + size, 64, IND);
    print_counters(IND);
}

static void result_ptr(const char *call, void *p)
{
    if (p)
        printf("%s%s = %p\n", IND, call, p);
    else
        printf("%s%s = NULL, GetLastError() = %u\n", IND, call, (unsigned)GetLastError());
}

static void result_bool(const char *call, BOOL ok)
{
    if (ok)
        printf("%s%s = TRUE\n", IND, call);
    else
        printf("%s%s = FALSE, GetLastError() = %u\n", IND, call, (unsigned)GetLastError());
}

static void tour_system(void)
{
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    step("The machine, as GetSystemInfo tells it", "");
    printf("%spage size %u bytes, allocation granularity %u KiB, %u processors\n", IND,
           (unsigned)si.dwPageSize, (unsigned)(si.dwAllocationGranularity / 1024),
           (unsigned)si.dwNumberOfProcessors);
    printf("%sapplications may use %p .. %p\n", IND, si.lpMinimumApplicationAddress,
           si.lpMaximumApplicationAddress);
}

static void tour_reserve_commit(void)
{
    step("Reserve 5 MiB of address space",
         "Reserving takes addresses only: no memory is committed, the commit charge does not move.");
    char *base = VirtualAlloc(NULL, 5 * MiB, MEM_RESERVE, PAGE_READWRITE);
    result_ptr("VirtualAlloc(NULL, 5 MiB, MEM_RESERVE, PAGE_READWRITE)", base);
    if (!base)
        return;
    show(base, 5 * MiB);

    step("Commit 12 KiB in the middle, from an unaligned address",
         "Commit rounds to whole pages: 1 MiB + 0x234 becomes 1 MiB, and 12 KiB from there\n"
         "    touches three pages. Committed pages read as zero; the charge grows by 12 KiB.");
    char *c = VirtualAlloc(base + MiB + 0x234, 12 * KiB - 0x234, MEM_COMMIT, PAGE_READWRITE);
    result_ptr("VirtualAlloc(base + 1 MiB + 0x234, 12 KiB - 0x234, MEM_COMMIT, PAGE_READWRITE)", c);
    if (c) {
        printf("%sfirst byte reads %d; writing \"hello\" there\n", IND, c[0]);
        strcpy(c, "hello");
    }
    show(base, 5 * MiB);

    step("Commit 1 MiB at the end, executable and read-only", "");
    char *e = VirtualAlloc(base + 4 * MiB, MiB, MEM_COMMIT, PAGE_EXECUTE_READ);
    result_ptr("VirtualAlloc(base + 4 MiB, 1 MiB, MEM_COMMIT, PAGE_EXECUTE_READ)", e);
    show(base, 5 * MiB);

    step("Make the middle page read-only",
         "VirtualProtect hands back the protection the first page had. Equal neighbours\n"
         "    are one region; a different protection splits it in three.");
    DWORD old = 0;
    BOOL ok = VirtualProtect(c + 4 * KiB, 4 * KiB, PAGE_READONLY, &old);
    char pr[64];
    result_bool("VirtualProtect(page 2, 4 KiB, PAGE_READONLY, &old)", ok);
    printf("%sold protection: %s\n", IND, show_protect(old, pr));
    show(base, 5 * MiB);

    step("Ask for what Windows refuses",
         "A commit running past the reservation, a partial release, a release from\n"
         "    the middle: each fails with Windows' error, and nothing changes.");
    result_ptr("VirtualAlloc(base + 5 MiB - 4 KiB, 8 KiB, MEM_COMMIT, PAGE_READWRITE)",
               VirtualAlloc(base + 5 * MiB - 4 * KiB, 8 * KiB, MEM_COMMIT, PAGE_READWRITE));
    result_bool("VirtualFree(base, 4 KiB, MEM_RELEASE)", VirtualFree(base, 4 * KiB, MEM_RELEASE));
    result_bool("VirtualFree(base + 1 MiB, 0, MEM_RELEASE)", VirtualFree(base + MiB, 0, MEM_RELEASE));
    printf("%s(87 = ERROR_INVALID_PARAMETER, 487 = ERROR_INVALID_ADDRESS)\n", IND);

    step("Decommit the middle pages",
         "They go back to reserved; the charge gives back 12 KiB. Committed again,\n"
         "    they read as zero: \"hello\" is gone.");
    result_bool("VirtualFree(base + 1 MiB, 12 KiB, MEM_DECOMMIT)", VirtualFree(c, 12 * KiB, MEM_DECOMMIT));
    show(base, 5 * MiB);
    c = VirtualAlloc(c, 12 * KiB, MEM_COMMIT, PAGE_READWRITE);
    if (c)
        printf("%scommitted again: first byte reads %d\n", IND, c[0]);

    step("Release the reservation",
         "MEM_RELEASE wants the base and a size of 0, and frees everything at once.");
    result_bool("VirtualFree(base, 0, MEM_RELEASE)", VirtualFree(base, 0, MEM_RELEASE));
    show(base, 5 * MiB);
    result_bool("VirtualFree(base, 0, MEM_RELEASE) again", VirtualFree(base, 0, MEM_RELEASE));
}

/* ------------------------------------------------------ exceptions */
static char *sparse;
static SIZE_T sparse_size;
static volatile int sparse_faults;

static LONG CALLBACK commit_on_touch(EXCEPTION_POINTERS *info)
{
    EXCEPTION_RECORD *rec = info->ExceptionRecord;
    char *at = (char *)rec->ExceptionInformation[1];
    if (rec->ExceptionCode != EXCEPTION_ACCESS_VIOLATION || at < sparse ||
        at >= sparse + sparse_size || !VirtualAlloc(at, 1, MEM_COMMIT, PAGE_READWRITE))
        return EXCEPTION_CONTINUE_SEARCH;
    sparse_faults++;
    return EXCEPTION_CONTINUE_EXECUTION;
}

static void touch(SIZE_T offset, char value)
{
    __asm__ volatile("" ::: "memory");
    sparse[offset] = value;
    __asm__ volatile("" ::: "memory");
}

/* The sparse array: a reservation whose pages a vectored exception handler
 * commits the first time each is touched. */
static void tour_sparse_array(void)
{
    sparse_size = 64 * MiB;
    step("A sparse array that grows as it is touched",
         "Reserve 64 MiB and register a vectored exception handler. Touching a\n"
         "    reserved page raises EXCEPTION_ACCESS_VIOLATION; the handler commits that\n"
         "    page and answers EXCEPTION_CONTINUE_EXECUTION, and the write runs again.");
    sparse = VirtualAlloc(NULL, sparse_size, MEM_RESERVE, PAGE_NOACCESS);
    result_ptr("VirtualAlloc(NULL, 64 MiB, MEM_RESERVE, PAGE_NOACCESS)", sparse);
    if (!sparse)
        return;
    PVOID h = AddVectoredExceptionHandler(1, commit_on_touch);
    static const SIZE_T rounds[][2] = { { 1, 0 }, { 8, 7 * MiB + 12345 }, { 64, 997 * 4096 } };
    for (int r = 0; r < 3; r++) {
        int before = sparse_faults;
        for (SIZE_T i = 0; i < rounds[r][0]; i++)
            touch((i * rounds[r][1] + 40 * MiB) % sparse_size, (char)i);
        printf("\n%s%u write%s, %d fault%s: one for each page not committed yet\n", IND,
               (unsigned)rounds[r][0], rounds[r][0] == 1 ? "" : "s", sparse_faults - before,
               sparse_faults - before == 1 ? "" : "s");
        print_strip(sparse, sparse + sparse_size, 64, IND);
        print_counters(IND);
    }
    int before = sparse_faults;
    for (SIZE_T i = 0; i < 64; i++)
        touch((i * 997 * 4096 + 40 * MiB) % sparse_size, 1);
    printf("\n%sthe same 64 writes again: %d faults (their pages are committed now)\n", IND,
           sparse_faults - before);
    RemoveVectoredExceptionHandler(h);
    VirtualFree(sparse, 0, MEM_RELEASE);
}

static volatile DWORD guard_code;
static LONG CALLBACK note_guard(EXCEPTION_POINTERS *info)
{
    if (info->ExceptionRecord->ExceptionCode != STATUS_GUARD_PAGE_VIOLATION)
        return EXCEPTION_CONTINUE_SEARCH;
    guard_code = info->ExceptionRecord->ExceptionCode;
    return EXCEPTION_CONTINUE_EXECUTION;
}

/* A guard page fires once; write watch lists the pages written. */
static void tour_guard_and_watch(void)
{
    step("A guard page, and the pages written since a reset",
         "PAGE_GUARD raises STATUS_GUARD_PAGE_VIOLATION (0x80000001) on the first touch\n"
         "    and is gone after it. MEM_WRITE_WATCH keeps a list of the pages written.");
    char *p = VirtualAlloc(NULL, 16 * 4096, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
                           PAGE_READWRITE);
    DWORD old;
    if (!p || !VirtualProtect(p + 4 * 4096, 4096, PAGE_READWRITE | PAGE_GUARD, &old))
        return;
    PVOID h = AddVectoredExceptionHandler(1, note_guard);
    print_regions(p, p + 16 * 4096, IND);
    __asm__ volatile("" ::: "memory");
    p[4 * 4096] = 1;
    __asm__ volatile("" ::: "memory");
    printf("%sfirst write to page 4: exception 0x%08x; the second raises nothing\n", IND,
           (unsigned)guard_code);
    guard_code = 0;
    p[4 * 4096] = 2;
    p[9 * 4096 + 100] = 3;
    print_regions(p, p + 16 * 4096, IND);
    PVOID pages[16];
    ULONG_PTR count = 16;
    DWORD granularity;
    if (GetWriteWatch(WRITE_WATCH_FLAG_RESET, p, 16 * 4096, pages, &count, &granularity) == 0) {
        printf("%sGetWriteWatch: %u pages written:", IND, (unsigned)count);
        for (ULONG_PTR i = 0; i < count; i++)
            printf(" page %d", (int)(((char *)pages[i] - p) / 4096));
        printf(" (reset now)\n");
    }
    RemoveVectoredExceptionHandler(h);
    VirtualFree(p, 0, MEM_RELEASE);
}

/* ----------------------------------------------------------------- heaps */
static void print_walk(HANDLE heap)
{
    PROCESS_HEAP_ENTRY e;
    char a[32];
    memset(&e, 0, sizeof e);
    printf("%s%-18s %10s  %s\n", IND, "HeapWalk lpData", "cbData", "what");
    while (HeapWalk(heap, &e)) {
        const char *what = (e.wFlags & PROCESS_HEAP_REGION) ? "region"
                         : (e.wFlags & PROCESS_HEAP_UNCOMMITTED_RANGE) ? "uncommitted range"
                         : (e.wFlags & PROCESS_HEAP_ENTRY_BUSY) ? "busy block" : "free block";
        printf("%s%18p %10s  %s\n", IND, e.lpData, show_size(e.cbData, a), what);
    }
}

/* A private heap: blocks of exact sizes, a walk, a bad free refused, and
 * everything given back at once. */
static void tour_heap(void)
{
    step("A private heap",
         "HeapCreate reserves a segment and commits a page; blocks come from it, each\n"
         "    HeapSize exactly what was asked; a 2 MiB block gets its own VirtualAlloc.");
    HANDLE heap = HeapCreate(0, 0, 0);
    result_ptr("HeapCreate(0, 0, 0)", heap);
    if (!heap)
        return;
    char *small = HeapAlloc(heap, 0, 100);
    char *zeroed = HeapAlloc(heap, HEAP_ZERO_MEMORY, 5000);
    char *large = HeapAlloc(heap, 0, 2 * MiB);
    printf("%sHeapAlloc 100 B, 5000 B zeroed, 2 MiB: HeapSize %u, %u, %u\n", IND,
           (unsigned)HeapSize(heap, 0, small), (unsigned)HeapSize(heap, 0, zeroed),
           (unsigned)HeapSize(heap, 0, large));
    HeapFree(heap, 0, small);
    print_walk(heap);
    result_bool("HeapFree(heap, 0, the 100 B block) again", HeapFree(heap, 0, small));
    result_bool("HeapValidate(heap, 0, NULL)", HeapValidate(heap, 0, NULL));
    for (int i = 0; i < 4000; i++) {
        char *b = HeapAlloc(heap, 0, 500);
        if (b)
            memset(b, 0x5a, 500);
    }
    printf("%s4000 more blocks of 500 B, written (the busy size moves to the front end)\n", IND);
    print_counters(IND);
    result_bool("HeapDestroy(heap)", HeapDestroy(heap));
    print_counters(IND);
    printf("%sThe charge is gone at once and VirtualQuery reads MEM_FREE there, but the\n"
           "%shost keeps the touched pages warm for the next heap: a page fault costs\n"
           "%smicroseconds.  Unused for 100 ms, they go back at the next call.\n", IND, IND, IND);
    usleep(150 * 1000);
    VirtualFree(VirtualAlloc(NULL, 4096, MEM_RESERVE, PAGE_NOACCESS), 0, MEM_RELEASE);
    printf("%s150 ms later, after one VirtualAlloc and VirtualFree:\n", IND);
    print_counters(IND);
}

/* Global memory: a moveable block keeps its handle while its bytes move. */
static void tour_global(void)
{
    step("A moveable block of Global memory",
         "GlobalAlloc(GHND) gives a handle, not a pointer: GlobalLock turns it into\n"
         "    the data's address, and GlobalReAlloc may move the data; the handle stays.");
    HGLOBAL h = GlobalAlloc(GHND, 100);
    result_ptr("GlobalAlloc(GHND, 100)", h);
    if (!h)
        return;
    char *p = GlobalLock(h);
    result_ptr("GlobalLock(h)", p);
    if (!p)
        return;
    strcpy(p, "written before the move");
    printf("%sGlobalFlags %#x (lock count 1), GlobalSize %u\n", IND, GlobalFlags(h),
           (unsigned)GlobalSize(h));
    GlobalUnlock(h);
    printf("%sGlobalReAlloc(h, 1 MiB, GMEM_MOVEABLE) = %p: the same handle\n", IND,
           GlobalReAlloc(h, MiB, GMEM_MOVEABLE));
    char *q = GlobalLock(h);
    printf("%sGlobalLock(h) = %p now, reads \"%s\"; GlobalHandle(%p) = %p\n", IND, (void *)q,
           q ? q : "", (void *)q, GlobalHandle(q));
    GlobalUnlock(h);
    HGLOBAL d = GlobalDiscard(h);
    UINT flags = GlobalFlags(h);
    printf("%sGlobalDiscard(h) = %p: GlobalFlags %#x (GMEM_DISCARDED), GlobalSize %u\n", IND,
           d, flags, (unsigned)GlobalSize(h));
    result_ptr("GlobalLock(h) of the discarded block", GlobalLock(h));
    printf("%sGlobalFree(h) = %p (NULL: freed)\n", IND, GlobalFree(h));
    HGLOBAL again = GlobalFree(h);
    printf("%sGlobalFree(h) again = %p (the handle back), GetLastError() = %u\n", IND, again,
           (unsigned)GetLastError());
}

/* The C runtime's debug heap: an overrun caught, then a leak reported. */
static void tour_debug_heap(void)
{
    step("The C runtime's debug heap finds an overrun and a leak",
         "Under _DEBUG, <crtdbg.h> turns malloc into _malloc_dbg: each block is framed by\n"
         "    four 0xFD guard bytes and filled with 0xCD; _CrtCheckMemory checks every guard,\n"
         "    _CrtDumpMemoryLeaks lists what is still allocated (reports go to stderr).");
    char *name = winmem__malloc_dbg(16, _NORMAL_BLOCK, "demo.c", 40);
    char *list = winmem__malloc_dbg(64, _NORMAL_BLOCK, "demo.c", 41);
    char *left = winmem__malloc_dbg(24, _NORMAL_BLOCK, "demo.c", 42);
    if (!name || !list || !left)
        return;
    strcpy(left, "never freed");
    memcpy(name, "sixteen bytes!!!", 16);
    name[16] = '!';                         /* one byte too far */
    printf("%s_malloc_dbg 16, 64, 24 B; then 17 bytes written into the 16-byte block\n", IND);
    fflush(stdout);
    int ok = winmem__CrtCheckMemory();
    printf("%s_CrtCheckMemory() = %d\n", IND, ok);
    name[16] = (char)0xFD;                  /* mend the guard, free two of three */
    winmem__free_dbg(name, _NORMAL_BLOCK);
    winmem__free_dbg(list, _NORMAL_BLOCK);
    printf("%sTwo blocks freed; _CrtDumpMemoryLeaks() reports the third:\n", IND);
    fflush(stdout);
    winmem__CrtDumpMemoryLeaks();
    winmem__free_dbg(left, _NORMAL_BLOCK);
    printf("%sAny program gets the same report without recompiling: winmem run --leaks -- PROGRAM\n",
           IND);
}

/* A named section: two views in this process, a child process opening it
 * by name, a copy-on-write view, and the name going with the last handle. */
static void tour_sections(void)
{
    char name[64];
    snprintf(name, sizeof name, "Local\\winmem-demo-%u", (unsigned)GetCurrentProcessId());
    step("Named shared memory: one section, several views, two processes",
         "CreateFileMapping(INVALID_HANDLE_VALUE, ..., name) makes page-file-backed memory\n"
         "    that any process of this user can open by name; each MapViewOfFile is a new\n"
         "    MEM_MAPPED region at an address of its own, and all of them are one memory.");
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 100 * KiB, name);
    result_ptr("CreateFileMappingA(..., PAGE_READWRITE, 100 KiB, name)", h);
    if (!h)
        return;
    printf("%sGetLastError() = %u (a new object; 183 would say it existed)\n", IND,
           (unsigned)GetLastError());
    char *a = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    char *b = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
    char *c = MapViewOfFile(h, FILE_MAP_COPY, 0, 0, 0);
    if (!a || !b || !c)
        return;
    printf("%sviews: %p (FILE_MAP_WRITE), %p (FILE_MAP_READ), %p (FILE_MAP_COPY);\n"
           "%seach starts on 64 KiB, and the 28 KiB after each reads free but is the view's\n",
           IND, (void *)a, (void *)b, (void *)c, IND);
    strcpy(a, "written through the first view");
    printf("%sthe read view reads \"%s\"\n", IND, b);
    c[0] = 'W';
    printf("%safter c[0] = 'W' the copy view reads \"%.8s...\", the shared views \"%.8s...\":\n"
           "%sits first page is its own copy now (PAGE_READWRITE below)\n", IND, c, a, IND);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        HANDLE o = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
        char *v = o ? MapViewOfFile(o, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        char heard[64] = "";
        if (v) {
            snprintf(heard, sizeof heard, "%s", v);
            snprintf(v + 4096, 4096, "child %u read \"%s\"", (unsigned)GetCurrentProcessId(), heard);
        }
        _exit(v ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    printf("%sa child process opened it by name, read the view and answered: %s\n", IND,
           a + 4096);
    show(a < b ? (a < c ? a : c) : (b < c ? b : c), 3 * 128 * KiB);
    result_bool("UnmapViewOfFile(b)", UnmapViewOfFile(b));
    result_bool("UnmapViewOfFile(b) again", UnmapViewOfFile(b));
    result_bool("CloseHandle(h), two views still mapped", CloseHandle(h));
    printf("%sthe views still work: \"%s\"\n", IND, a);
    result_ptr("OpenFileMappingA(FILE_MAP_READ, name) after the last handle",
               OpenFileMappingA(FILE_MAP_READ, FALSE, name));
    UnmapViewOfFile(a);
    UnmapViewOfFile(c);
}

/* The whole address space summed by type, as VMMap's summary shows it. */
static void tour_whole_process(void)
{
    step("The whole process, as VirtualQuery sees it",
         "winmem answers for memory it did not create too, from the host's own map:\n"
         "    the program and its libraries are MEM_IMAGE, the C heap and stacks MEM_PRIVATE.");
    SIZE_T total[3][2] = { { 0 } };     /* image, mapped, private  x  committed, reserved */
    const char *p = NULL;
    MEMORY_BASIC_INFORMATION m;
    int regions = 0;
    while (VirtualQuery(p, &m, sizeof m) == sizeof m) {
        int t = m.Type == MEM_IMAGE ? 0 : m.Type == MEM_MAPPED ? 1 : 2;
        if (m.State != MEM_FREE) {
            total[t][m.State == MEM_COMMIT ? 0 : 1] += m.RegionSize;
            regions++;
        }
        p = (const char *)m.BaseAddress + m.RegionSize;
    }
    const char *names[3] = { "MEM_IMAGE", "MEM_MAPPED", "MEM_PRIVATE" };
    char a[32], b[32];
    printf("%s%-12s %12s %12s\n", IND, "Type", "Committed", "Reserved");
    for (int t = 0; t < 3; t++)
        printf("%s%-12s %12s %12s\n", IND, names[t], show_size(total[t][0], a), show_size(total[t][1], b));
    printf("%s%d regions in use\n", IND, regions);
}

int demo_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("winmem demo: the Win32 virtual-memory API on %s, step by step.\n",
#if defined(__aarch64__)
           "Linux/AArch64"
#else
           "Linux/x86-64"
#endif
    );
    printf("Each step shows the regions as VirtualQuery reports them and a strip of\n"
           "the range: ' ' free  '.' reserved  '#' read-write  'r' read-only  'x' executable\n");
    tour_system();
    tour_reserve_commit();
    tour_sparse_array();
    tour_guard_and_watch();
    tour_heap();
    tour_global();
    tour_debug_heap();
    tour_sections();
    tour_whole_process();
    printf("\nNext stops arrive with other processes' memory.\n");
    return 0;
}
