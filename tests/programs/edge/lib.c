/* lib.c — edge.c's dlopen'ed library: a block made here, one freed here. */
#include <stdlib.h>
#include <string.h>
char *make_copy(const char *s) { return strdup(s); }
void take(char *s) { free(s); }
