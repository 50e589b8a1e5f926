/*
 * crt.c — white-box tests of the C runtime heap (src/crt): the invalid-
 * parameter handler is called where the documentation says and the
 * default one ends the process; memory from the host's malloc given to
 * winmem_free, winmem_realloc and winmem__msize goes back to the host;
 * heap_alloc_aligned hands out aligned blocks that HeapFree and HeapSize
 * take like any other; _aligned_free refuses what _aligned_malloc did not
 * return; _heapwalk resumes from any block after its cursor moved on.
 */
#include "crt/crt.h"
#include "heap/heap.h"
#include "unit.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static int param_calls;
static void count_call(const wchar_t *e, const wchar_t *f, const wchar_t *file, unsigned int line,
                       uintptr_t reserved)
{
    CHECK(!e && !f && !file && !line && !reserved);          /* the release CRT's NULLs */
    param_calls++;
}

/* Case 1.  R9: refused parameters go through the handler, then fail. */
static void invalid_parameters(void)
{
    CHECK(winmem__get_invalid_parameter_handler() == NULL);
    CHECK(winmem__set_invalid_parameter_handler(count_call) == NULL);
    CHECK(winmem__get_invalid_parameter_handler() == count_call);
    errno = 0;
    CHECK_EQ(winmem__msize(NULL), (size_t)-1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(param_calls, 1);
    errno = 0;
    CHECK(winmem__expand(NULL, 10) == NULL);
    CHECK_EQ(errno, EINVAL);
    errno = 0;
    CHECK(winmem__aligned_malloc(10, 24) == NULL);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(winmem__heapwalk(NULL), _HEAPBADPTR);
    errno = 0;
    CHECK_EQ(winmem__aligned_msize(NULL, 16, 0), (size_t)-1);
    CHECK_EQ(errno, EINVAL);
    CHECK_EQ(param_calls, 5);
    CHECK(winmem__set_invalid_parameter_handler(NULL) == count_call);

    pid_t pid = fork();
    if (pid == 0) {
        close(2);                               /* the report is not this test's output */
        winmem__msize(NULL);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
}

/* Case 2.  Blocks of the host's malloc go back to it. */
static void host_blocks_go_home(void)
{
    char *s = strdup("from the host");
    CHECK(s && !heap_map_find(s));
    CHECK_EQ(winmem__msize(s), malloc_usable_size(s));
    char *t = winmem_realloc(s, 5000);
    CHECK(t && !heap_map_find(t) && strcmp(t, "from the host") == 0);
    winmem_free(t);
    char *u = malloc(64);                       /* the host's heap still works */
    CHECK(u != NULL);
    free(u);
    char *w = winmem_malloc(64);                /* and winmem's block is winmem's */
    CHECK(w && heap_map_find(w) && winmem__msize(w) == 64);
    winmem_free(w);
}

/* Case 3.  Aligned blocks from the heap itself, up to the granularity. */
static void aligned_blocks(void)
{
    struct heap *h = winmem_GetProcessHeap();
    static const size_t sizes[] = { 0, 1, 24, 100, 1000, 4096, 5000, 40000, 65536, 70000, 300000 };
    int misaligned = 0, wrong_size = 0, not_freed = 0, failed = 0;
    for (size_t align = 32; align <= 65536; align *= 2)
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            void *p = NULL;
            if (heap_alloc_aligned(h, sizes[i], align, &p) != 0 || !p) {
                failed++;
                continue;
            }
            misaligned += (uintptr_t)p % align != 0;
            wrong_size += HeapSize(h, 0, p) != sizes[i];
            memset(p, 0x33, sizes[i]);
            not_freed += !HeapFree(h, 0, p);
        }
    CHECK_EQ(failed, 0);
    CHECK_EQ(misaligned, 0);
    CHECK_EQ(wrong_size, 0);
    CHECK_EQ(not_freed, 0);
    void *p = (void *)1;
    CHECK_EQ(heap_alloc_aligned(h, 100, 131072, &p), ERROR_NOT_SUPPORTED);
    CHECK(HeapValidate(h, 0, NULL));
}

/* Case 4.  _aligned_free and _aligned_msize believe only their own headers. */
static void aligned_headers_checked(void)
{
    winmem__set_invalid_parameter_handler(count_call);
    char stack[64] __attribute__((aligned(16)));
    char *plain = winmem_malloc(256);
    char *other = winmem_malloc(256);
    struct crt_aligned forged = { other, 8 };   /* names a block it is not in */
    memcpy(plain, &forged, sizeof forged);
    void *bad[] = { stack + 16, plain, plain + 16, plain + 32, plain + 8, (void *)(uintptr_t)0x10 };
    int calls = param_calls;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        winmem__aligned_free(bad[i]);
        CHECK_EQ(winmem__aligned_msize(bad[i], 16, 0), (size_t)-1);
    }
    CHECK_EQ(param_calls - calls, (int)(sizeof bad / sizeof bad[0]));
    CHECK_EQ(winmem__msize(plain), 256);        /* nothing was freed */
    CHECK_EQ(winmem__msize(other), 256);
    char *a = winmem__aligned_malloc(1000, 512);
    CHECK(a && (uintptr_t)a % 512 == 0 && winmem__aligned_msize(a, 512, 0) == 1000);
    winmem__aligned_free(a);
    winmem_free(plain);
    winmem_free(other);
    CHECK(HeapValidate(GetProcessHeap(), 0, NULL));
    winmem__set_invalid_parameter_handler(NULL);
}

/* Case 5.  _heapwalk resumes from a block after another walk moved its
 * cursor, and refuses a pointer that is no entry. */
static void heapwalk_resumes(void)
{
    void *blocks[8];
    for (int i = 0; i < 8; i++)
        blocks[i] = winmem_malloc(100 + (size_t)i);
    _HEAPINFO a = { 0 }, b = { 0 };
    CHECK_EQ(winmem__heapwalk(&a), _HEAPOK);
    CHECK_EQ(winmem__heapwalk(&a), _HEAPOK);
    _HEAPINFO saved = a;
    int n = 0;
    while (winmem__heapwalk(&b) == _HEAPOK)
        n++;
    CHECK(n >= 8);
    CHECK_EQ(winmem__heapwalk(&a), _HEAPOK);    /* from the start again, then on */
    CHECK(a._pentry != saved._pentry);
    _HEAPINFO c = { (int *)((char *)blocks[3] + 16), 0, 0 };
    CHECK_EQ(winmem__heapwalk(&c), _HEAPBADNODE);
    for (int i = 0; i < 8; i++)
        winmem_free(blocks[i]);
}

int main(void)
{
    invalid_parameters();
    host_blocks_go_home();
    aligned_blocks();
    aligned_headers_checked();
    heapwalk_resumes();
    return unit_finish();
}
