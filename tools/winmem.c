/*
 * winmem.c — the `winmem` command.  Subcommands:
 *   demo    a narrated tour of the memory as it changes
 * (map, heaps and run arrive with their issues.)
 */
#include "tool.h"

#include <string.h>

static int usage(FILE *to)
{
    fprintf(to, "usage: winmem COMMAND\n\n"
                "commands:\n"
                "  demo    a narrated tour of the Win32 memory API, showing the regions after each step\n");
    return to == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (!strcmp(argv[1], "demo"))
        return demo_main(argc - 1, argv + 1);
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    fprintf(stderr, "winmem: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
