/*
 * show.c — printing regions as Windows tools show them (base, size, state,
 * protection, type), and as a strip picture of the address range.
 */
#include "tool.h"

#include <string.h>

const char *show_state(DWORD state)
{
    switch (state) {
    case MEM_COMMIT:  return "MEM_COMMIT";
    case MEM_RESERVE: return "MEM_RESERVE";
    case MEM_FREE:    return "MEM_FREE";
    default:          return "?";
    }
}

const char *show_type(DWORD type)
{
    switch (type) {
    case MEM_PRIVATE: return "MEM_PRIVATE";
    case MEM_MAPPED:  return "MEM_MAPPED";
    case MEM_IMAGE:   return "MEM_IMAGE";
    case 0:           return "";
    default:          return "?";
    }
}

const char *show_protect(DWORD protect, char buf[64])
{
    static const struct { DWORD bit; const char *name; } names[] = {
        { PAGE_NOACCESS, "PAGE_NOACCESS" }, { PAGE_READONLY, "PAGE_READONLY" },
        { PAGE_READWRITE, "PAGE_READWRITE" }, { PAGE_WRITECOPY, "PAGE_WRITECOPY" },
        { PAGE_EXECUTE, "PAGE_EXECUTE" }, { PAGE_EXECUTE_READ, "PAGE_EXECUTE_READ" },
        { PAGE_EXECUTE_READWRITE, "PAGE_EXECUTE_READWRITE" },
        { PAGE_EXECUTE_WRITECOPY, "PAGE_EXECUTE_WRITECOPY" }, { PAGE_GUARD, "PAGE_GUARD" },
        { PAGE_NOCACHE, "PAGE_NOCACHE" }, { PAGE_WRITECOMBINE, "PAGE_WRITECOMBINE" },
    };
    buf[0] = 0;
    if (!protect)
        return strcpy(buf, "-");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (!(protect & names[i].bit))
            continue;
        if (buf[0])
            strcat(buf, "|");
        strcat(buf, names[i].name);
    }
    return buf;
}

const char *show_size(unsigned long long bytes, char buf[32])
{
    if (bytes >= (1ull << 30) && bytes % (1ull << 30) == 0)
        snprintf(buf, 32, "%llu GiB", bytes >> 30);
    else if (bytes >= (1ull << 20) && bytes % (1ull << 20) == 0)
        snprintf(buf, 32, "%llu MiB", bytes >> 20);
    else if (bytes >= 1024 && bytes % 1024 == 0)
        snprintf(buf, 32, "%llu KiB", bytes >> 10);
    else
        snprintf(buf, 32, "%llu B", bytes);
    return buf;
}

void print_regions(const void *lo, const void *hi, const char *indent)
{
    printf("%s%-18s %10s  %-11s  %-28s %s\n", indent, "Address", "Size", "State", "Protect", "Type");
    const char *p = lo;
    MEMORY_BASIC_INFORMATION m;
    while (p < (const char *)hi && VirtualQuery(p, &m, sizeof m) == sizeof m) {
        const char *end = (const char *)m.BaseAddress + m.RegionSize;
        if (end > (const char *)hi)
            end = hi;
        char sz[32], pr[64];
        printf("%s%016llx %10s  %-11s  %-28s %s\n", indent,
               (unsigned long long)(uintptr_t)p,
               show_size((unsigned long long)(end - p), sz), show_state(m.State),
               m.State == MEM_FREE ? "" : show_protect(m.Protect, pr), show_type(m.Type));
        p = end;
    }
}

static char cell(const MEMORY_BASIC_INFORMATION *m)
{
    if (m->State == MEM_FREE)
        return ' ';
    if (m->State == MEM_RESERVE)
        return '.';
    if (m->Protect & PAGE_GUARD)
        return 'g';
    switch (m->Protect & 0xff) {
    case PAGE_NOACCESS: return '-';
    case PAGE_READONLY: return 'r';
    case PAGE_READWRITE: case PAGE_WRITECOPY: return '#';
    default: return 'x';
    }
}

void print_strip(const void *lo, const void *hi, int width, const char *indent)
{
    size_t span = (size_t)((const char *)hi - (const char *)lo);
    char line[256];
    if (width > (int)sizeof line - 1)
        width = (int)sizeof line - 1;
    for (int i = 0; i < width; i++) {
        MEMORY_BASIC_INFORMATION m;
        const char *at = (const char *)lo + span / (size_t)width * (size_t)i;
        line[i] = VirtualQuery(at, &m, sizeof m) ? cell(&m) : '?';
        /* A cell shows committed memory if any page under it is committed. */
        const char *cell_end = at + span / (size_t)width;
        while (line[i] == '.' || line[i] == ' ') {
            at = (const char *)m.BaseAddress + m.RegionSize;
            if (at >= cell_end || !VirtualQuery(at, &m, sizeof m))
                break;
            if (m.State == MEM_COMMIT)
                line[i] = cell(&m);
        }
    }
    line[width] = 0;
    printf("%s[%s]\n", indent, line);
}

void print_counters(const char *indent)
{
    PROCESS_MEMORY_COUNTERS_EX pmc;
    char a[32], b[32];
    if (GetProcessMemoryInfo(GetCurrentProcess(), (PPROCESS_MEMORY_COUNTERS)&pmc, sizeof pmc))
        printf("%scommit charge %s, working set %s\n", indent,
               show_size(pmc.PagefileUsage, a), show_size(pmc.WorkingSetSize, b));
}
