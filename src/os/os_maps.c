/*
 * os_maps.c — the host's description of the address space, read from
 * /proc/self/maps without stdio or malloc (winmem may itself be the malloc).
 *
 * VirtualQuery asks here only about memory winmem did not create; its own
 * regions are answered from the registry with no system call.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct line_reader {
    int fd;
    size_t len, pos;
    char buf[8192];
};

/* The next line, NUL-terminated, or NULL at the end.  Lines longer than the
 * buffer are cut (only the path can be that long; the fields come first). */
static char *next_line(struct line_reader *r)
{
    for (;;) {
        char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);
        if (nl) {
            char *line = r->buf + r->pos;
            *nl = 0;
            r->pos = (size_t)(nl - r->buf) + 1;
            return line;
        }
        if (r->pos == 0 && r->len == sizeof r->buf - 1) {
            r->buf[r->len] = 0;          /* an over-long line: take it cut */
            r->len = r->pos = 0;
            return r->buf;
        }
        memmove(r->buf, r->buf + r->pos, r->len - r->pos);
        r->len -= r->pos;
        r->pos = 0;
        ssize_t n;
        do
            n = read(r->fd, r->buf + r->len, sizeof r->buf - 1 - r->len);
        while (n < 0 && errno == EINTR);
        if (n <= 0) {
            if (r->len == 0)
                return NULL;
            r->buf[r->len] = 0;          /* last line without a newline */
            r->pos = r->len;
            return r->buf;
        }
        r->len += (size_t)n;
    }
}

static uintptr_t parse_hex(const char **p)
{
    uintptr_t v = 0;
    for (;; (*p)++) {
        char c = **p;
        unsigned d = (c >= '0' && c <= '9') ? (unsigned)(c - '0')
                   : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10) : 16u;
        if (d == 16)
            return v;
        v = v * 16 + d;
    }
}

struct maps_line {
    uintptr_t start, end;
    int prot;
    bool shared;
    uint64_t dev_inode;      /* 0 for anonymous memory */
    const char *path;
};

static bool parse_line(const char *s, struct maps_line *m)
{
    m->start = parse_hex(&s);
    if (*s++ != '-')
        return false;
    m->end = parse_hex(&s);
    if (*s++ != ' ' || strlen(s) < 4)
        return false;
    m->prot = (s[0] == 'r' ? OS_PROT_READ : 0) | (s[1] == 'w' ? OS_PROT_WRITE : 0) |
              (s[2] == 'x' ? OS_PROT_EXEC : 0);
    m->shared = s[3] == 's';
    s += 5;
    parse_hex(&s);                              /* offset */
    s++;
    uintptr_t major = parse_hex(&s);
    s++;
    uintptr_t minor = parse_hex(&s);
    s++;
    uint64_t inode = 0;
    while (*s >= '0' && *s <= '9')
        inode = inode * 10 + (uint64_t)(*s++ - '0');
    while (*s == ' ')
        s++;
    m->dev_inode = inode ? (inode ^ ((uint64_t)major << 52) ^ ((uint64_t)minor << 40)) : 0;
    m->path = s;
    return true;
}

static bool open_maps(struct line_reader *r)
{
    r->fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    r->len = r->pos = 0;
    return r->fd >= 0;
}

/* For a file-backed mapping: the lowest address at which the same file is
 * mapped, and whether any of its mappings is executable (then the whole file
 * is an image, as Windows reports a loaded module's sections). */
static void describe_file(uint64_t dev_inode, struct os_mapping *out)
{
    struct line_reader r;
    if (!open_maps(&r))
        return;
    char *line;
    struct maps_line m;
    while ((line = next_line(&r)) != NULL) {
        if (!parse_line(line, &m) || m.dev_inode != dev_inode)
            continue;
        if (m.start < out->file_base)
            out->file_base = m.start;
        if (m.prot & OS_PROT_EXEC)
            out->image = true;
    }
    close(r.fd);
}

bool os_mapping_after(uintptr_t addr, struct os_mapping *out)
{
    struct line_reader r;
    if (!open_maps(&r))
        return false;
    char *line;
    struct maps_line m;
    bool found = false;
    while ((line = next_line(&r)) != NULL) {
        if (parse_line(line, &m) && m.end > addr) {
            found = true;
            break;
        }
    }
    close(r.fd);
    if (!found)
        return false;
    out->start = m.start;
    out->end = m.end;
    out->file_base = m.start;
    out->prot = m.prot;
    out->shared = m.shared;
    out->file = m.dev_inode != 0;
    out->image = false;
    size_t n = strlen(m.path);
    if (n >= sizeof out->path)
        n = sizeof out->path - 1;
    memcpy(out->path, m.path, n);
    out->path[n] = 0;
    if (out->file)
        describe_file(m.dev_inode, out);
    return true;
}

bool os_mappings_walk(bool (*fn)(const struct os_mapping *, void *), void *ctx)
{
    struct line_reader r;
    if (!open_maps(&r))
        return false;
    char *line;
    struct maps_line m;
    struct os_mapping out = { 0 };
    while ((line = next_line(&r)) != NULL) {
        if (!parse_line(line, &m))
            continue;
        out.start = m.start;
        out.end = m.end;
        out.file_base = m.start;
        out.prot = m.prot;
        out.shared = m.shared;
        out.file = m.dev_inode != 0;
        if (!fn(&out, ctx))
            break;
    }
    close(r.fd);
    return true;
}
