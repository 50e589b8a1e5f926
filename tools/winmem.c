/*
 * winmem.c — the `winmem` command.  Subcommands:
 *   demo    a narrated tour of the memory as it changes
 *   run     a program with malloc and friends on winmem's heap
 * (map and heaps arrive with their issue.)
 */
#include "tool.h"

#include <string.h>

static int usage(FILE *to)
{
    fprintf(to, "usage: winmem COMMAND\n\n"
                "commands:\n"
                "  demo    a narrated tour of the Win32 memory API, showing the regions after each step\n"
                "  run     run a program with malloc and the rest of the C allocation API on winmem's heap\n");
    return to == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "demo"))
        return demo_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "run"))
        return run_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    fprintf(stderr, "winmem: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
