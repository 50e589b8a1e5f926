/*
 * except_report.c — the crash report for an exception nobody handled, in the
 * spirit of Windows Error Reporting's: the code and its name, the thread, the
 * faulting instruction and the module it belongs to, what was accessed, and
 * the registers.  Written with no allocation and no stdio, in one write per
 * line, since it runs in signal context on a process that is about to die.
 */
#include "except.h"
#include "../os/os.h"

struct line {
    char text[200];
    size_t len;
};

static void put(struct line *l, const char *s)
{
    while (*s && l->len < sizeof l->text - 1)
        l->text[l->len++] = *s++;
}

/* digits 0: as many as the value needs. */
static void put_hex(struct line *l, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    if (!digits)
        for (digits = 1; digits < 16 && (v >> (4 * digits)); digits++)
            ;
    put(l, "0x");
    for (int i = digits - 1; i >= 0 && l->len < sizeof l->text - 1; i--)
        l->text[l->len++] = hex[(v >> (4 * i)) & 0xf];
}

static void put_dec(struct line *l, uint64_t v)
{
    char buf[24];
    int n = 0;
    do
        buf[n++] = (char)('0' + v % 10);
    while ((v /= 10) && n < (int)sizeof buf);
    while (n > 0 && l->len < sizeof l->text - 1)
        l->text[l->len++] = buf[--n];
}

static void emit(struct line *l)
{
    put(l, "\n");
    os_write_err(l->text, l->len);
    l->len = 0;
}

static const char *code_name(DWORD code)
{
    static const struct { DWORD code; const char *name; } names[] = {
        { STATUS_ACCESS_VIOLATION, "EXCEPTION_ACCESS_VIOLATION" },
        { STATUS_GUARD_PAGE_VIOLATION, "STATUS_GUARD_PAGE_VIOLATION" },
        { STATUS_IN_PAGE_ERROR, "EXCEPTION_IN_PAGE_ERROR" },
        { STATUS_STACK_OVERFLOW, "EXCEPTION_STACK_OVERFLOW" },
        { STATUS_ILLEGAL_INSTRUCTION, "EXCEPTION_ILLEGAL_INSTRUCTION" },
        { STATUS_PRIVILEGED_INSTRUCTION, "EXCEPTION_PRIV_INSTRUCTION" },
        { STATUS_INTEGER_DIVIDE_BY_ZERO, "EXCEPTION_INT_DIVIDE_BY_ZERO" },
        { STATUS_INTEGER_OVERFLOW, "EXCEPTION_INT_OVERFLOW" },
        { STATUS_FLOAT_DIVIDE_BY_ZERO, "EXCEPTION_FLT_DIVIDE_BY_ZERO" },
        { STATUS_FLOAT_OVERFLOW, "EXCEPTION_FLT_OVERFLOW" },
        { STATUS_FLOAT_UNDERFLOW, "EXCEPTION_FLT_UNDERFLOW" },
        { STATUS_FLOAT_INEXACT_RESULT, "EXCEPTION_FLT_INEXACT_RESULT" },
        { STATUS_FLOAT_INVALID_OPERATION, "EXCEPTION_FLT_INVALID_OPERATION" },
        { STATUS_ARRAY_BOUNDS_EXCEEDED, "EXCEPTION_ARRAY_BOUNDS_EXCEEDED" },
        { STATUS_DATATYPE_MISALIGNMENT, "EXCEPTION_DATATYPE_MISALIGNMENT" },
        { STATUS_BREAKPOINT, "EXCEPTION_BREAKPOINT" },
        { STATUS_NONCONTINUABLE_EXCEPTION, "EXCEPTION_NONCONTINUABLE_EXCEPTION" },
        { STATUS_INVALID_DISPOSITION, "EXCEPTION_INVALID_DISPOSITION" },
        { STATUS_NO_MEMORY, "STATUS_NO_MEMORY" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return "raised by the program";
}

static void put_location(struct line *l, uintptr_t pc)
{
    put_hex(l, pc, 16);
    struct os_mapping m;
    if (!os_mapping_after(pc, &m) || m.start > pc || !m.file)
        return;
    const char *name = m.path;
    for (const char *p = m.path; *p; p++)
        if (*p == '/')
            name = p + 1;
    put(l, " (");
    put(l, name);
    put(l, "+");
    put_hex(l, pc - m.file_base, 0);
    put(l, ")");
}

static void put_access(struct line *l, const EXCEPTION_RECORD *rec)
{
    if (rec->NumberParameters < 2)
        return;
    ULONG_PTR kind = rec->ExceptionInformation[0], addr = rec->ExceptionInformation[1];
    put(l, "  ");
    put(l, kind == 1 ? "writing to " : kind == 8 ? "executing " : "reading from ");
    if (addr == UINTPTR_MAX)
        put(l, "a non-canonical address");
    else
        put_hex(l, addr, 16);
    emit(l);
}

static void put_registers(struct line *l, const CONTEXT *ctx)
{
#if defined(__x86_64__)
    const struct { const char *name; DWORD64 v; } regs[] = {
        { "rax", ctx->Rax }, { "rbx", ctx->Rbx }, { "rcx", ctx->Rcx }, { "rdx", ctx->Rdx },
        { "rsi", ctx->Rsi }, { "rdi", ctx->Rdi }, { "rbp", ctx->Rbp }, { "rsp", ctx->Rsp },
        { "r8 ", ctx->R8 },  { "r9 ", ctx->R9 },  { "r10", ctx->R10 }, { "r11", ctx->R11 },
        { "r12", ctx->R12 }, { "r13", ctx->R13 }, { "r14", ctx->R14 }, { "r15", ctx->R15 },
    };
    const int count = 16;
#elif defined(__aarch64__)
    struct { const char *name; DWORD64 v; } regs[32];
    static const char names[] = "x0 x1 x2 x3 x4 x5 x6 x7 x8 x9 x10x11x12x13x14x15"
                                "x16x17x18x19x20x21x22x23x24x25x26x27x28fp lr sp ";
    static char labels[32][4];
    for (int i = 0; i < 32; i++) {
        __builtin_memcpy(labels[i], names + 3 * i, 3);
        regs[i].name = labels[i];
        regs[i].v = i < 31 ? ctx->X[i] : ctx->Sp;
    }
    const int count = 32;
#endif
    for (int i = 0; i < count; i++) {
        put(l, "  ");
        put(l, regs[i].name);
        put(l, "=");
        put_hex(l, regs[i].v, 16);
        if (i % 4 == 3)
            emit(l);
    }
}

void except_report(const EXCEPTION_RECORD *rec, const CONTEXT *ctx)
{
    struct line l = { .len = 0 };
    put(&l, "winmem: unhandled exception ");
    put_hex(&l, rec->ExceptionCode, 8);
    put(&l, " (");
    put(&l, code_name(rec->ExceptionCode));
    put(&l, ") in thread ");
    put_dec(&l, os_thread_id());
    emit(&l);
    put(&l, "  at ");
    put_location(&l, (uintptr_t)rec->ExceptionAddress);
    emit(&l);
    put_access(&l, rec);
    if (ctx)
        put_registers(&l, ctx);
}
