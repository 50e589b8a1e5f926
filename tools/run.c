/*
 * run.c — `winmem run [OPTIONS] -- COMMAND [ARG...]`: runs a program with its C
 * allocation API (malloc, free, new, delete …) on winmem's heap, by putting
 * libwinmem-malloc.so in front of LD_PRELOAD and executing the command.
 * The library is looked for beside this executable (the build tree) and in
 * the library directory of the prefix it was installed to.  The options
 * set the library's WINMEM_* variables (src/preload/preload.c).
 */
#include "tool.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LIBRARY "libwinmem-malloc.so"

static int run_usage(FILE *to)
{
    fprintf(to, "usage: winmem run [--stats] [--leaks] [--debug-heap] [--] COMMAND [ARG...]\n\n"
                "Runs COMMAND with malloc and the rest of the C allocation API on winmem's\n"
                "heap (LD_PRELOAD=" LIBRARY "); its exit status is the command's.\n\n"
                "  --stats       at exit, the process heap's figures (WINMEM_STATS=1)\n"
                "  --leaks       at exit, every block still allocated, with the function\n"
                "                that allocated it, in MSVC's leak-report form (WINMEM_LEAKS=1)\n"
                "  --debug-heap  every block framed by guards and filled as MSVC's debug\n"
                "                heap does (WINMEM_DEBUG_HEAP=1)\n"
                "Reports go to stderr; child processes inherit the options.\n");
    return to == stdout ? 0 : 2;
}

/* The library beside the executable, or in the installed library
 * directory (WINMEM_BIN_TO_LIB: "bin:lib", relative to the prefix). */
static bool find_library(char *out, size_t size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return false;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return false;
    *slash = 0;
    snprintf(out, size, "%s/%s", exe, LIBRARY);
    if (access(out, R_OK) == 0)
        return true;
#ifdef WINMEM_BIN_TO_LIB
    const char *dirs = WINMEM_BIN_TO_LIB, *colon = strchr(dirs, ':');
    size_t bin = (size_t)(colon - dirs), len = strlen(exe);
    if (len >= bin && !strncmp(exe + len - bin, dirs, bin)) {
        exe[len - bin] = 0;
        snprintf(out, size, "%s%s/%s", exe, colon + 1, LIBRARY);
        if (access(out, R_OK) == 0)
            return true;
    }
#endif
    return false;
}

int run_main(int argc, char **argv)
{
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        const char *a = argv[first];
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return run_usage(stdout);
        if (!strcmp(a, "--")) {
            first++;
            break;
        }
        const char *var = !strcmp(a, "--stats") ? "WINMEM_STATS" : !strcmp(a, "--leaks") ? "WINMEM_LEAKS"
                        : !strcmp(a, "--debug-heap") ? "WINMEM_DEBUG_HEAP" : NULL;
        if (!var) {
            fprintf(stderr, "winmem run: unknown option '%s'\n", a);
            return run_usage(stderr);
        }
        setenv(var, "1", 1);
    }
    if (first >= argc)
        return run_usage(stderr);
    char lib[PATH_MAX + sizeof LIBRARY + 8];
    if (!find_library(lib, sizeof lib)) {
        fprintf(stderr, "winmem run: cannot find %s beside winmem or in its installed lib directory\n",
                LIBRARY);
        return 127;
    }
    const char *old = getenv("LD_PRELOAD");
    char *preload = malloc(strlen(lib) + (old ? strlen(old) : 0) + 2);
    if (!preload)
        return 127;
    sprintf(preload, old && *old ? "%s:%s" : "%s", lib, old);
    setenv("LD_PRELOAD", preload, 1);
    execvp(argv[first], argv + first);
    fprintf(stderr, "winmem run: %s: %s\n", argv[first], strerror(errno));
    return errno == ENOENT ? 127 : 126;
}
