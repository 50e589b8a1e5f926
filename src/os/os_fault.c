/*
 * os_fault.c — synchronous faults: winmem's host signal handlers, chaining to
 * the handlers installed before them, alternate signal stacks, and copies
 * that survive a bad pointer.
 *
 * The handlers run with SA_NODEFER and an empty mask: a fault inside an
 * exception handler is dispatched like any other (Windows dispatches nested
 * exceptions too), and a handler may leave by longjmp without having to
 * restore a signal mask.  They run on the thread's alternate stack when it
 * has one, so a stack overflow can still be reported.
 */
#define _GNU_SOURCE
#include "os.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define TLS __thread __attribute__((tls_model("initial-exec")))

static const int fault_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
#define FAULT_SIGNALS ((int)(sizeof fault_signals / sizeof fault_signals[0]))

/* What each signal had before winmem took it; when winmem takes a signal
 * back from a handler installed after it, that handler goes in front and
 * the older ones stay behind it. */
#define EARLIER_MAX 4
static struct sigaction earlier[FAULT_SIGNALS][EARLIER_MAX];
static int earlier_count[FAULT_SIGNALS];
static pthread_mutex_t arm_mutex = PTHREAD_MUTEX_INITIALIZER;
static os_fault_handler fault_handler;

static TLS sigjmp_buf *copy_recovery;   /* set while os_try_copy copies */
static TLS int chain_depth;             /* earlier handlers being called */
static TLS struct {                     /* the fault handed to them */
    int signo, code;
    void *addr;
} chained;
static TLS bool chain_declined;         /* it came back with no one left */

struct thread_stack {
    void *alt_base;                     /* our alternate stack's mapping */
    size_t alt_size;
    uintptr_t lo, hi;                   /* the thread's own stack */
    bool done;
};
static TLS struct thread_stack this_stack;

static int signal_index(int signo)
{
    for (int i = 0; i < FAULT_SIGNALS; i++)
        if (fault_signals[i] == signo)
            return i;
    return -1;
}

void os_fault_set_handler(os_fault_handler fn) { fault_handler = fn; }

static int err_fd = STDERR_FILENO;

void os_keep_err(void)
{
    if (err_fd == STDERR_FILENO) {
        int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 100);
        if (fd >= 0)
            err_fd = fd;
    }
}

void os_write_err(const char *text, size_t n)
{
    while (n) {
        ssize_t w = write(err_fd, text, n);
        if (w <= 0 && errno != EINTR)
            return;
        if (w > 0) {
            text += w;
            n -= (size_t)w;
        }
    }
}

/* ------------------------------------------------------ describing faults */
static bool near_stack_bottom(uintptr_t addr, uintptr_t sp)
{
    const struct thread_stack *s = &this_stack;
    size_t page = os_page_size();
    if (!s->lo || addr == UINTPTR_MAX)
        return false;
    /* The host keeps a gap of up to 1 MiB below a growing stack. */
    return addr < s->lo + page && addr + ((uintptr_t)1 << 20) + 16 * page >= s->lo &&
           sp < addr + 64 * 1024;
}

static int fpe_kind(int code)
{
    switch (code) {
    case FPE_INTOVF: return OS_FAULT_INT_OVERFLOW;
    case FPE_FLTDIV: return OS_FAULT_FLT_DIVIDE;
    case FPE_FLTOVF: return OS_FAULT_FLT_OVERFLOW;
    case FPE_FLTUND: return OS_FAULT_FLT_UNDERFLOW;
    case FPE_FLTRES: return OS_FAULT_FLT_INEXACT;
    case FPE_FLTINV: return OS_FAULT_FLT_INVALID;
    case FPE_FLTSUB: return OS_FAULT_FLT_SUBSCRIPT;
    default:         return OS_FAULT_INT_DIVIDE;
    }
}

#if defined(__aarch64__)
#define ESR_MAGIC_VALUE 0x45535201u
struct ctx_header { uint32_t magic, size; };

static uint64_t fault_syndrome(const ucontext_t *uc)
{
    const unsigned char *p = (const unsigned char *)uc->uc_mcontext.__reserved;
    const unsigned char *end = p + sizeof uc->uc_mcontext.__reserved;
    while (p + sizeof(struct ctx_header) <= end) {
        const struct ctx_header *h = (const struct ctx_header *)p;
        if (!h->magic || h->size < sizeof *h)
            break;
        if (h->magic == ESR_MAGIC_VALUE)
            return *(const uint64_t *)(p + sizeof *h);
        p += h->size;
    }
    return 0;
}
#endif

#if defined(__aarch64__)
/* Whether an A64 load/store instruction writes memory.  In the load/store
 * group (op0 bits 27 and 25 = 1, 0) bit 22 is L, 1 for loads, in the
 * register, pair and exclusive forms; the atomic memory operations
 * (LDADD, SWP, CAS...) read and write, and count as writes. */
static bool store_instruction(uint32_t insn)
{
    if ((insn & 0x0a000000u) != 0x08000000u)
        return false;
    bool atomic = (insn & 0x3f200c00u) == 0x38200000u;
    bool compare_swap = (insn & 0x3fa00000u) == 0x08a00000u;   /* CAS, CASP */
    return atomic || compare_swap || !(insn & (1u << 22));
}
#endif

/* Read, write or execute, from what the processor reported. */
static int access_type(const ucontext_t *uc, int signo, uintptr_t *addr)
{
#if defined(__x86_64__)
    unsigned long trap = (unsigned long)uc->uc_mcontext.gregs[REG_TRAPNO];
    unsigned long err = (unsigned long)uc->uc_mcontext.gregs[REG_ERR];
    if (trap != 14) {                   /* not a page fault: no address known */
        if (signo == SIGSEGV)
            *addr = UINTPTR_MAX;
        return OS_ACCESS_READ;
    }
    if (err & 0x10)
        return OS_ACCESS_EXEC;
    return (err & 0x2) ? OS_ACCESS_WRITE : OS_ACCESS_READ;
#elif defined(__aarch64__)
    (void)signo;
    uint64_t esr = fault_syndrome(uc);
    if (esr) {
        unsigned ec = (unsigned)(esr >> 26) & 0x3f;
        if (ec == 0x20 || ec == 0x21)
            return OS_ACCESS_EXEC;
        bool data_abort = ec == 0x24 || ec == 0x25;
        bool write = (esr >> 6) & 1, cache_op = (esr >> 8) & 1;
        return data_abort && write && !cache_op ? OS_ACCESS_WRITE : OS_ACCESS_READ;
    }
    /* No syndrome (an emulator such as qemu-user gives none): an instruction
     * fetch faults at its own address; otherwise read the instruction. */
    uintptr_t pc = (uintptr_t)uc->uc_mcontext.pc;
    if (*addr == pc || *addr == (pc & ~(uintptr_t)4095))
        return OS_ACCESS_EXEC;
    return store_instruction(*(const uint32_t *)pc) ? OS_ACCESS_WRITE : OS_ACCESS_READ;
#endif
}

static void describe(int signo, siginfo_t *si, ucontext_t *uc, struct os_fault *f)
{
    memset(f, 0, sizeof *f);
    f->signo = signo;
    f->host_context = uc;
    f->host_info = si;
    f->addr = (uintptr_t)si->si_addr;
#if defined(__x86_64__)
    f->pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    f->sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
#elif defined(__aarch64__)
    f->pc = (uintptr_t)uc->uc_mcontext.pc;
    f->sp = (uintptr_t)uc->uc_mcontext.sp;
#endif
    switch (signo) {
    case SIGSEGV:
    case SIGBUS:
        f->kind = signo == SIGBUS ? OS_FAULT_BUS : OS_FAULT_ACCESS;
        f->access = access_type(uc, signo, &f->addr);
        if (signo == SIGSEGV && near_stack_bottom(f->addr, f->sp))
            f->kind = OS_FAULT_STACK;
        break;
    case SIGILL:
        f->kind = (si->si_code == ILL_PRVOPC || si->si_code == ILL_PRVREG)
                      ? OS_FAULT_PRIVILEGED : OS_FAULT_ILLEGAL;
        f->addr = f->pc;
        break;
    default:
        f->kind = fpe_kind(si->si_code);
        f->addr = f->pc;
        break;
    }
}

/* ------------------------------------------------------------- handlers */
static bool call_earlier(int i, int level, int signo, siginfo_t *si, void *uc)
{
    struct sigaction *e = &earlier[i][level];
    if (!(e->sa_flags & SA_SIGINFO) &&
        (e->sa_handler == SIG_DFL || e->sa_handler == SIG_IGN))
        return false;
    sigset_t block = e->sa_mask, old;
    if (!(e->sa_flags & SA_NODEFER))
        sigaddset(&block, signo);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int outer_depth = chain_depth;
    __typeof__(chained) outer = chained;
    chain_depth = level + 1;
    chained.signo = signo;
    chained.code = si->si_code;
    chained.addr = si->si_addr;
    chain_declined = false;
    if (e->sa_flags & SA_SIGINFO)
        e->sa_sigaction(signo, si, uc);
    else
        e->sa_handler(signo);
    bool declined = chain_declined;
    chain_depth = outer_depth;
    chained = outer;
    chain_declined = false;
    if (e->sa_flags & SA_RESETHAND)
        e->sa_handler = SIG_DFL, e->sa_flags &= ~SA_SIGINFO;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return !declined;
}

/* True when a signal arriving while an earlier handler runs is that handler
 * passing its fault back to the one it replaced (which was winmem's), not a
 * new fault of its own.  Handlers pass the same siginfo, or a copy. */
static bool passed_back(int signo, const siginfo_t *si)
{
    return chain_depth > 0 && signo == chained.signo && si->si_code == chained.code &&
           si->si_addr == chained.addr;
}

bool os_fault_chain(struct os_fault *f)
{
    int i = signal_index(f->signo);
    return i >= 0 && earlier_count[i] > 0 &&
           call_earlier(i, 0, f->signo, f->host_info, f->host_context);
}

static void on_fault(int signo, siginfo_t *si, void *uc)
{
    int saved_errno = errno;
    if (copy_recovery && (signo == SIGSEGV || signo == SIGBUS)) {
        sigjmp_buf *r = copy_recovery;
        copy_recovery = NULL;
        siglongjmp(*r, 1);
    }
    int i = signal_index(signo);
    if (passed_back(signo, si)) {
        /* Hand it to the handler behind that one; when none is left, the
         * chain declines and winmem's last chance takes the fault. */
        int level = chain_depth;
        if (i < 0 || level >= earlier_count[i] || !call_earlier(i, level, signo, si, uc))
            chain_declined = true;
        errno = saved_errno;
        return;
    }
    struct os_fault f;
    describe(signo, si, uc, &f);
    if (!(fault_handler && fault_handler(&f)) && !os_fault_chain(&f))
        os_fault_die(signo);
    errno = saved_errno;
}

int os_fault_arm(void)
{
    int err = 0;
    pthread_mutex_lock(&arm_mutex);
    for (int i = 0; i < FAULT_SIGNALS && !err; i++) {
        struct sigaction cur, ours;
        if (sigaction(fault_signals[i], NULL, &cur) != 0) {
            err = errno;
            break;
        }
        if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_fault)
            continue;
        memset(&ours, 0, sizeof ours);
        ours.sa_sigaction = on_fault;
        ours.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&ours.sa_mask);
        if (sigaction(fault_signals[i], &ours, &cur) != 0) {
            err = errno;
            break;
        }
        /* The handler we displace goes in front of the older ones. */
        int n = earlier_count[i] < EARLIER_MAX ? earlier_count[i] : EARLIER_MAX - 1;
        memmove(&earlier[i][1], &earlier[i][0], (size_t)n * sizeof earlier[i][0]);
        earlier[i][0] = cur;
        earlier_count[i] = n + 1;
    }
    pthread_mutex_unlock(&arm_mutex);
    os_altstack_ensure();
    return err;
}

void os_fault_die(int signo)
{
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(signo, &dfl, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, signo);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), signo);
    _exit(128 + signo);
}

void os_exit(int code) { _exit(code); }
void os_abort(void) { os_fault_die(SIGABRT); }

/* -------------------------------------------------------- alternate stack */
#define ALT_STACK_SIZE ((size_t)128 * 1024)

static pthread_key_t stack_key;
static pthread_once_t stack_key_once = PTHREAD_ONCE_INIT;

static void free_altstack(void *arg)
{
    struct thread_stack *s = arg;
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    munmap(s->alt_base, s->alt_size);
    s->alt_base = NULL;
}

static void make_stack_key(void) { pthread_key_create(&stack_key, free_altstack); }

static void record_stack_bounds(struct thread_stack *s)
{
    pthread_attr_t attr;
    void *addr;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) != 0)
        return;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
        s->lo = (uintptr_t)addr;
        s->hi = (uintptr_t)addr + size;
    }
    pthread_attr_destroy(&attr);
}

int os_altstack_ensure(void)
{
    struct thread_stack *s = &this_stack;
    if (s->done)
        return 0;
    s->done = true;
    record_stack_bounds(s);
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && !(cur.ss_flags & SS_DISABLE))
        return 0;                       /* the program (or a sanitizer) gave it one */
    size_t page = os_page_size();
    void *p = mmap(NULL, ALT_STACK_SIZE + page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return errno;
    mprotect(p, page, PROT_NONE);       /* overflowing it faults, not corrupts */
    stack_t ss = { .ss_sp = (char *)p + page, .ss_size = ALT_STACK_SIZE, .ss_flags = 0 };
    if (sigaltstack(&ss, NULL) != 0) {
        int err = errno;
        munmap(p, ALT_STACK_SIZE + page);
        return err;
    }
    s->alt_base = p;
    s->alt_size = ALT_STACK_SIZE + page;
    pthread_once(&stack_key_once, make_stack_key);
    pthread_setspecific(stack_key, s);
    return 0;
}

/* ------------------------------------------------------- fault-proof copy */
/* A copy through volatile pointers, by words where both sides allow it:
 * not instrumented by a sanitizer (the addresses may be wild on purpose)
 * and not turned into a memcpy call. */
__attribute__((no_sanitize("address"), noinline))
static void copy_volatile(void *dst, const void *src, size_t n)
{
    size_t i = 0;
    if ((((uintptr_t)dst | (uintptr_t)src) & (sizeof(uint64_t) - 1)) == 0)
        for (; i + sizeof(uint64_t) <= n; i += sizeof(uint64_t))
            *(volatile uint64_t *)((char *)dst + i) = *(const volatile uint64_t *)((const char *)src + i);
    for (; i < n; i++)
        ((volatile unsigned char *)dst)[i] = ((const volatile unsigned char *)src)[i];
}

/* True when [p, p + n) lies in the live part of this thread's stack, above
 * the caller's frame: always accessible, so no fault can happen there.
 * (Not when running on the alternate stack: it lies elsewhere.) */
static bool on_live_stack(const void *p, size_t n)
{
    uintptr_t a = (uintptr_t)p, sp = (uintptr_t)__builtin_frame_address(0);
    const struct thread_stack *s = &this_stack;
    return s->hi && sp >= s->lo && sp < s->hi && a >= sp && a + n >= a && a + n <= s->hi;
}

int os_try_copy(void *dst, const void *src, size_t n)
{
    if (on_live_stack(dst, n) && on_live_stack(src, n)) {
        memcpy(dst, src, n);
        return 0;
    }
    static bool armed;
    if (!__atomic_load_n(&armed, __ATOMIC_ACQUIRE)) {
        if (os_fault_arm() != 0)
            return EFAULT;              /* cannot catch a fault: refuse to risk one */
        __atomic_store_n(&armed, true, __ATOMIC_RELEASE);
    }
    sigjmp_buf recovery;
    if (sigsetjmp(recovery, 0)) {
        copy_recovery = NULL;
        return EFAULT;
    }
    copy_recovery = &recovery;
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    copy_volatile(dst, src, n);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    copy_recovery = NULL;
    return 0;
}
