/*
 * os_context.c — a thread's registers, converted between the host's saved
 * signal context (ucontext_t) and Windows' CONTEXT for the same processor.
 *
 * Reading fills the integer, control and floating-point parts and sets
 * ContextFlags to say so.  Writing applies only the parts ContextFlags
 * names, as NtContinue does, and keeps the host's own bits where Windows
 * gives user code no say: the system flags in EFLAGS (a handler may change
 * the status flags and the direction and trap flags), the reserved MXCSR
 * bits, and the extended-state bytes after the XMM registers.
 */
#define _GNU_SOURCE
#include "os.h"

#include <winmem.h>

#include <stddef.h>
#include <string.h>
#include <ucontext.h>

#if defined(__x86_64__)
_Static_assert(sizeof(CONTEXT) == 1232, "x64 CONTEXT is 1232 bytes");
_Static_assert(offsetof(CONTEXT, ContextFlags) == 0x30, "CONTEXT.ContextFlags");
_Static_assert(offsetof(CONTEXT, EFlags) == 0x44, "CONTEXT.EFlags");
_Static_assert(offsetof(CONTEXT, Rax) == 0x78, "CONTEXT.Rax");
_Static_assert(offsetof(CONTEXT, Rip) == 0xF8, "CONTEXT.Rip");
_Static_assert(offsetof(CONTEXT, FltSave) == 0x100, "CONTEXT.FltSave");
_Static_assert(offsetof(CONTEXT, VectorRegister) == 0x300, "CONTEXT.VectorRegister");
_Static_assert(sizeof(XMM_SAVE_AREA32) == 512, "FXSAVE area");
_Static_assert(sizeof(struct _libc_fpstate) == 512, "host FXSAVE area");
_Static_assert(sizeof(EXCEPTION_RECORD) == 152, "x64 EXCEPTION_RECORD");

#define FXSAVE_USER_BYTES 416        /* up to the end of XMM15 */
#define EFLAGS_USER 0x0DD5u          /* CF PF AF ZF SF TF DF OF */

/* The integer registers in CONTEXT order, Rsp (CONTEXT_CONTROL) marked. */
static const struct { size_t offset; int reg; } gprs[] = {
    { offsetof(CONTEXT, Rax), REG_RAX }, { offsetof(CONTEXT, Rcx), REG_RCX },
    { offsetof(CONTEXT, Rdx), REG_RDX }, { offsetof(CONTEXT, Rbx), REG_RBX },
    { offsetof(CONTEXT, Rsp), REG_RSP }, { offsetof(CONTEXT, Rbp), REG_RBP },
    { offsetof(CONTEXT, Rsi), REG_RSI }, { offsetof(CONTEXT, Rdi), REG_RDI },
    { offsetof(CONTEXT, R8), REG_R8 },   { offsetof(CONTEXT, R9), REG_R9 },
    { offsetof(CONTEXT, R10), REG_R10 }, { offsetof(CONTEXT, R11), REG_R11 },
    { offsetof(CONTEXT, R12), REG_R12 }, { offsetof(CONTEXT, R13), REG_R13 },
    { offsetof(CONTEXT, R14), REG_R14 }, { offsetof(CONTEXT, R15), REG_R15 },
};
#define GPRS (sizeof gprs / sizeof gprs[0])

static DWORD64 *gpr(CONTEXT *ctx, size_t i) { return (DWORD64 *)((char *)ctx + gprs[i].offset); }

void os_context_read(const void *host, CONTEXT *ctx)
{
    const ucontext_t *uc = host;
    const greg_t *g = uc->uc_mcontext.gregs;
    memset(ctx, 0, sizeof *ctx);
    ctx->ContextFlags = CONTEXT_FULL | CONTEXT_SEGMENTS;
    for (size_t i = 0; i < GPRS; i++)
        *gpr(ctx, i) = (DWORD64)g[gprs[i].reg];
    ctx->Rip = (DWORD64)g[REG_RIP];
    ctx->EFlags = (DWORD)g[REG_EFL];
    uint64_t seg = (uint64_t)g[REG_CSGSFS];     /* cs, gs, fs, ss, 16 bits each */
    ctx->SegCs = (WORD)seg;
    ctx->SegGs = (WORD)(seg >> 16);
    ctx->SegFs = (WORD)(seg >> 32);
    ctx->SegSs = (WORD)(seg >> 48) ? (WORD)(seg >> 48) : 0x2b;
    ctx->SegDs = ctx->SegEs = ctx->SegSs;
    if (uc->uc_mcontext.fpregs) {
        memcpy(&ctx->FltSave, uc->uc_mcontext.fpregs, sizeof ctx->FltSave);
        ctx->MxCsr = uc->uc_mcontext.fpregs->mxcsr;
    }
}

void os_context_write(void *host, const CONTEXT *ctx)
{
    ucontext_t *uc = host;
    greg_t *g = uc->uc_mcontext.gregs;
    if ((ctx->ContextFlags & CONTEXT_INTEGER) == CONTEXT_INTEGER)
        for (size_t i = 0; i < GPRS; i++)
            if (gprs[i].reg != REG_RSP)
                g[gprs[i].reg] = (greg_t) * (const DWORD64 *)((const char *)ctx + gprs[i].offset);
    if ((ctx->ContextFlags & CONTEXT_CONTROL) == CONTEXT_CONTROL) {
        g[REG_RIP] = (greg_t)ctx->Rip;
        g[REG_RSP] = (greg_t)ctx->Rsp;
        g[REG_EFL] = (greg_t)(((uint64_t)g[REG_EFL] & ~(uint64_t)EFLAGS_USER) |
                              (ctx->EFlags & EFLAGS_USER));
    }
    struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
    if ((ctx->ContextFlags & CONTEXT_FLOATING_POINT) == CONTEXT_FLOATING_POINT && fp) {
        uint32_t mask = fp->mxcr_mask ? fp->mxcr_mask : 0xFFBFu;
        memcpy(fp, &ctx->FltSave, FXSAVE_USER_BYTES);
        fp->mxcsr = ctx->MxCsr & mask;
        fp->mxcr_mask = mask;
    }
}

__attribute__((noinline)) void os_context_capture(CONTEXT *ctx)
{
    ucontext_t uc;
    getcontext(&uc);
    os_context_read(&uc, ctx);
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);
    ctx->Rip = (DWORD64)(uintptr_t)__builtin_return_address(0);
    ctx->Rsp = frame + 16;                       /* the caller's, after the return */
    ctx->Rbp = *(const DWORD64 *)frame;
}

#elif defined(__aarch64__)
_Static_assert(sizeof(CONTEXT) == 0x390, "ARM64 CONTEXT is 912 bytes");
_Static_assert(offsetof(CONTEXT, Sp) == 0x100, "CONTEXT.Sp");
_Static_assert(offsetof(CONTEXT, V) == 0x110, "CONTEXT.V");

#define FPSIMD_MAGIC_VALUE 0x46508001u
struct ctx_header { uint32_t magic, size; };
struct fpsimd_state { struct ctx_header head; uint32_t fpsr, fpcr; unsigned char v[32][16]; };

static struct fpsimd_state *fpsimd(const ucontext_t *uc)
{
    unsigned char *p = (unsigned char *)uc->uc_mcontext.__reserved;
    unsigned char *end = p + sizeof uc->uc_mcontext.__reserved;
    while (p + sizeof(struct ctx_header) <= end) {
        struct ctx_header *h = (struct ctx_header *)p;
        if (!h->magic || h->size < sizeof *h)
            break;
        if (h->magic == FPSIMD_MAGIC_VALUE)
            return (struct fpsimd_state *)p;
        p += h->size;
    }
    return NULL;
}

#define PSTATE_USER 0xF0000000u             /* N Z C V */

void os_context_read(const void *host, CONTEXT *ctx)
{
    const ucontext_t *uc = host;
    memset(ctx, 0, sizeof *ctx);
    ctx->ContextFlags = CONTEXT_FULL;
    for (int i = 0; i < 31; i++)
        ctx->X[i] = uc->uc_mcontext.regs[i];
    ctx->Sp = uc->uc_mcontext.sp;
    ctx->Pc = uc->uc_mcontext.pc;
    ctx->Cpsr = (DWORD)uc->uc_mcontext.pstate;
    const struct fpsimd_state *fp = fpsimd(uc);
    if (fp) {
        ctx->Fpsr = fp->fpsr;
        ctx->Fpcr = fp->fpcr;
        memcpy(ctx->V, fp->v, sizeof ctx->V);
    }
}

void os_context_write(void *host, const CONTEXT *ctx)
{
    ucontext_t *uc = host;
    if ((ctx->ContextFlags & CONTEXT_INTEGER) == CONTEXT_INTEGER)
        for (int i = 0; i < 31; i++)
            uc->uc_mcontext.regs[i] = ctx->X[i];
    if ((ctx->ContextFlags & CONTEXT_CONTROL) == CONTEXT_CONTROL) {
        uc->uc_mcontext.sp = ctx->Sp;
        uc->uc_mcontext.pc = ctx->Pc;
        uc->uc_mcontext.regs[29] = ctx->Fp;
        uc->uc_mcontext.regs[30] = ctx->Lr;
        uc->uc_mcontext.pstate = (uc->uc_mcontext.pstate & ~(uint64_t)PSTATE_USER) |
                                 (ctx->Cpsr & PSTATE_USER);
    }
    struct fpsimd_state *fp = fpsimd(uc);
    if ((ctx->ContextFlags & CONTEXT_FLOATING_POINT) == CONTEXT_FLOATING_POINT && fp) {
        fp->fpsr = ctx->Fpsr;
        fp->fpcr = ctx->Fpcr;
        memcpy(fp->v, ctx->V, sizeof fp->v);
    }
}

__attribute__((noinline)) void os_context_capture(CONTEXT *ctx)
{
    ucontext_t uc;
    getcontext(&uc);
    os_context_read(&uc, ctx);
    ctx->Pc = (DWORD64)(uintptr_t)__builtin_return_address(0);
    ctx->Lr = ctx->Pc;
    ctx->Fp = *(const DWORD64 *)__builtin_frame_address(0);
    ctx->Sp = (DWORD64)(uintptr_t)__builtin_frame_address(0);
}
#endif
