/*
 * edge.c — what a glibc program can do to its malloc, run under
 * libwinmem-malloc.so (tests/programs/edge.sh): the aligned family and
 * POSIX's answers to bad alignments and impossible sizes (aligned_alloc
 * refuses an alignment that is no power of two, as C17 and glibc 2.38 do),
 * free keeping errno, threads that end with blocks cached, fork from a
 * thread while others allocate (the child allocates and frees), and blocks
 * passed both ways across a dlopen'ed library.  Prints "ok".
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures;
#define EXPECT(c) do { if (!(c)) { failures++; fprintf(stderr, "edge: %s:%d: %s\n", __FILE__, __LINE__, #c); } } while (0)

static void *churn(void *arg)
{
    void *keep[100];
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < 100; i++) keep[i] = malloc(16 + (size_t)(i * 37 % 900));
        for (int i = 0; i < 100; i++) free(keep[i]);
    }
    return malloc(64);                        /* freed by the joiner */
}

static void *forker(void *arg)
{
    for (int i = 0; i < 20; i++) {
        pid_t pid = fork();
        if (pid == 0) {
            void *p = malloc(1000); char *s = strdup("child");
            int ok = p && s && !strcmp(s, "child");
            free(p); free(s);
            _exit(ok ? 0 : 1);
        }
        int st; waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) __atomic_add_fetch(&failures, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    /* The aligned family, and what POSIX says about bad arguments. */
    for (size_t a = 8; a <= 65536; a *= 2) {
        void *p = NULL;
        EXPECT(posix_memalign(&p, a, 100) == 0 && p && (uintptr_t)p % a == 0);
        memset(p, 1, 100);
        EXPECT(malloc_usable_size(p) >= 100);
        free(p);
        p = aligned_alloc(a, 3 * a);
        EXPECT(p && (uintptr_t)p % a == 0);
        free(p);
        p = memalign(a, 10);
        EXPECT(p && (uintptr_t)p % a == 0);
        p = realloc(p, 100000);
        EXPECT(p != NULL);
        free(p);
    }
    void *q = (void *)1;
    EXPECT(posix_memalign(&q, 24, 10) == EINVAL && q == (void *)1);
    EXPECT(posix_memalign(&q, 4, 10) == EINVAL);
    errno = 0;
    EXPECT(aligned_alloc(24, 48) == NULL && errno == EINVAL);
    void *v = valloc(10), *pv = pvalloc(10);
    EXPECT(v && (uintptr_t)v % 4096 == 0 && pv && (uintptr_t)pv % 4096 == 0);
    free(v); free(pv);
    errno = 0;
    EXPECT(malloc((size_t)-1 / 2) == NULL && errno == ENOMEM);
    errno = 0;
    volatile size_t tera = (size_t)1 << 40;          /* opaque: no warning for the product */
    EXPECT(calloc(tera, tera) == NULL && errno == ENOMEM);
    EXPECT(reallocarray(NULL, tera, tera) == NULL);
    char *r = realloc(NULL, 10);
    EXPECT(r != NULL);
    errno = 1234; free(r); EXPECT(errno == 1234);  /* free keeps errno */
    EXPECT(malloc_usable_size(NULL) == 0);
    char *z = malloc(0); EXPECT(z != NULL); free(z);
    free(NULL);

    /* Threads that end holding cached blocks; forks from a thread while others allocate. */
    pthread_t t[6];
    for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, churn, NULL);
    pthread_create(&t[4], NULL, forker, NULL);
    for (int i = 0; i < 4; i++) { void *ret; pthread_join(t[i], &ret); EXPECT(ret != NULL); free(ret); }
    pthread_join(t[4], NULL);

    /* dlopen: a library whose blocks the program frees, and the reverse. */
    if (argc > 1) {
        void *lib = dlopen(argv[1], RTLD_NOW);
        EXPECT(lib != NULL);
        if (lib) {
            char *(*make)(const char *) = (char *(*)(const char *))dlsym(lib, "make_copy");
            void (*take)(char *) = (void (*)(char *))dlsym(lib, "take");
            char *c = make("from the library");
            EXPECT(c && !strcmp(c, "from the library"));
            free(c);
            take(strdup("to the library"));
            dlclose(lib);
        }
    }
    printf(failures ? "edge: %d failures\n" : "ok\n", failures);
    return failures != 0;
}
