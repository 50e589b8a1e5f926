/*
 * winmem.h — the Win32 memory API on POSIX systems.
 *
 * Windows' types (DWORD is 32 bits, SIZE_T pointer-sized, BOOL an int), its
 * constants and its functions.  The library exports every function with a
 * winmem_ prefix and this header maps the Win32 names onto them, so user code
 * writes VirtualAlloc and nothing clashes with libc, Wine or WinPR in the same
 * process.  Define WINMEM_NO_WIN32_NAMES before including it to keep only the
 * prefixed names.
 *
 * Values match the x64 Windows SDK.  Sections of this header follow the
 * layers: base (errors, kernel32 helpers, system information), the
 * virtual-memory layer, exceptions, heaps, then what sits on the process
 * heap: Global/Local memory, the COM task allocator and the C runtime heap.
 */
#ifndef WINMEM_H
#define WINMEM_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#error "winmem.h is for POSIX hosts; on Windows use the system headers"
#endif

#define WINMEM_API __attribute__((visibility("default")))
#define WINAPI
#define CALLBACK
#define CONST const
#define VOID void

/* ---------------------------------------------------------------- types */
typedef int BOOL;
typedef unsigned char BYTE, UCHAR, BOOLEAN;
typedef unsigned short WORD, USHORT;
typedef uint16_t WCHAR;
typedef char CHAR;
typedef short SHORT;
typedef int INT;
typedef unsigned int UINT;
typedef int32_t LONG;
typedef uint32_t ULONG, DWORD;
typedef int64_t LONGLONG, LONG64, INT64;
typedef uint64_t ULONGLONG, DWORD64, ULONG64, UINT64, DWORDLONG;
typedef intptr_t INT_PTR, LONG_PTR, SSIZE_T;
typedef uintptr_t UINT_PTR, ULONG_PTR, DWORD_PTR, SIZE_T;
typedef void *PVOID, *LPVOID, *HANDLE, *HMODULE, *HINSTANCE;
typedef const void *LPCVOID, *PCVOID;
typedef HANDLE *PHANDLE, *LPHANDLE;
typedef BOOL *PBOOL, *LPBOOL;
typedef BYTE *PBYTE, *LPBYTE;
typedef WORD *PWORD, *LPWORD;
typedef DWORD *PDWORD, *LPDWORD;
typedef LONG *PLONG, *LPLONG;
typedef ULONG *PULONG;
typedef SIZE_T *PSIZE_T;
typedef ULONG_PTR *PULONG_PTR, *PDWORD_PTR;
typedef ULONGLONG *PULONGLONG;
typedef LONGLONG *PLONGLONG;
typedef CHAR *LPSTR, *PSTR;
typedef const CHAR *LPCSTR, *PCSTR;
typedef WCHAR *LPWSTR, *PWSTR;
typedef const WCHAR *LPCWSTR, *PCWSTR;
typedef LONG NTSTATUS;

typedef union _LARGE_INTEGER {
    struct { DWORD LowPart; LONG HighPart; };
    struct { DWORD LowPart; LONG HighPart; } u;
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;

typedef union _ULARGE_INTEGER {
    struct { DWORD LowPart; DWORD HighPart; };
    struct { DWORD LowPart; DWORD HighPart; } u;
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

#ifndef TRUE
#define TRUE 1
#endif
#ifndef FALSE
#define FALSE 0
#endif
#define INVALID_HANDLE_VALUE ((HANDLE)(LONG_PTR)-1)
#define INFINITE 0xFFFFFFFFu
#define MAKELONG(lo, hi) ((LONG)(((WORD)((DWORD_PTR)(lo) & 0xffff)) | ((DWORD)((WORD)((DWORD_PTR)(hi) & 0xffff))) << 16))
#define LOWORD(l) ((WORD)((DWORD_PTR)(l) & 0xffff))
#define HIWORD(l) ((WORD)((DWORD_PTR)(l) >> 16))

/* ---------------------------------------------------------- error codes */
#define ERROR_SUCCESS               0u
#define NO_ERROR                    0u
#define ERROR_INVALID_FUNCTION      1u
#define ERROR_FILE_NOT_FOUND        2u
#define ERROR_PATH_NOT_FOUND        3u
#define ERROR_ACCESS_DENIED         5u
#define ERROR_INVALID_HANDLE        6u
#define ERROR_NOT_ENOUGH_MEMORY     8u
#define ERROR_TOO_MANY_OPEN_FILES   4u
#define ERROR_INVALID_BLOCK         9u
#define ERROR_OUTOFMEMORY           14u
#define ERROR_BAD_LENGTH            24u
#define ERROR_GEN_FAILURE           31u
#define ERROR_SHARING_VIOLATION     32u
#define ERROR_HANDLE_EOF            38u
#define ERROR_FILE_EXISTS           80u
#define ERROR_NOT_SUPPORTED         50u
#define ERROR_INVALID_PARAMETER     87u
#define ERROR_DISK_FULL             112u
#define ERROR_INVALID_NAME          123u
#define ERROR_NEGATIVE_SEEK         131u
#define ERROR_DIR_NOT_EMPTY         145u
#define ERROR_BAD_PATHNAME          161u
#define ERROR_FILENAME_EXCED_RANGE  206u
#define ERROR_DIRECTORY             267u
#define ERROR_INSUFFICIENT_BUFFER   122u
#define ERROR_DISCARDED             157u
#define ERROR_NOT_LOCKED            158u
#define ERROR_ALREADY_EXISTS        183u
#define ERROR_NO_MORE_ITEMS         259u
#define ERROR_PARTIAL_COPY          299u
#define ERROR_INVALID_ADDRESS       487u
#define ERROR_NOACCESS              998u
#define ERROR_FILE_INVALID          1006u
#define ERROR_MAPPED_ALIGNMENT      1132u
#define ERROR_USER_MAPPED_FILE      1224u
#define ERROR_PRIVILEGE_NOT_HELD    1314u
#define ERROR_NO_SYSTEM_RESOURCES   1450u
#define ERROR_WORKING_SET_QUOTA     1453u
#define ERROR_COMMITMENT_LIMIT      1455u

/* -------------------------------------------------- memory constants */
#define MEM_COMMIT              0x00001000u
#define MEM_RESERVE             0x00002000u
#define MEM_REPLACE_PLACEHOLDER 0x00004000u
#define MEM_DECOMMIT            0x00004000u
#define MEM_RELEASE             0x00008000u
#define MEM_FREE                0x00010000u
#define MEM_PRIVATE             0x00020000u
#define MEM_MAPPED              0x00040000u
#define MEM_RESET               0x00080000u
#define MEM_TOP_DOWN            0x00100000u
#define MEM_WRITE_WATCH         0x00200000u
#define MEM_PHYSICAL            0x00400000u
#define MEM_ROTATE              0x00800000u
#define MEM_RESET_UNDO          0x01000000u
#define MEM_IMAGE               0x01000000u
#define MEM_LARGE_PAGES         0x20000000u
#define MEM_4MB_PAGES           0x80000000u

#define PAGE_NOACCESS           0x001u
#define PAGE_READONLY           0x002u
#define PAGE_READWRITE          0x004u
#define PAGE_WRITECOPY          0x008u
#define PAGE_EXECUTE            0x010u
#define PAGE_EXECUTE_READ       0x020u
#define PAGE_EXECUTE_READWRITE  0x040u
#define PAGE_EXECUTE_WRITECOPY  0x080u
#define PAGE_GUARD              0x100u
#define PAGE_NOCACHE            0x200u
#define PAGE_WRITECOMBINE       0x400u
#define PAGE_TARGETS_INVALID    0x40000000u
#define PAGE_TARGETS_NO_UPDATE  0x40000000u

#define SEC_FILE                0x00800000u
#define SEC_IMAGE               0x01000000u
#define SEC_RESERVE             0x04000000u
#define SEC_COMMIT              0x08000000u
#define SEC_NOCACHE             0x10000000u
#define SEC_WRITECOMBINE        0x40000000u
#define SEC_LARGE_PAGES         0x80000000u

/* Section access (file mappings). */
#define STANDARD_RIGHTS_REQUIRED 0x000F0000u
#define SECTION_QUERY           0x0001u
#define SECTION_MAP_WRITE       0x0002u
#define SECTION_MAP_READ        0x0004u
#define SECTION_MAP_EXECUTE     0x0008u
#define SECTION_EXTEND_SIZE     0x0010u
#define SECTION_ALL_ACCESS      0x000F001Fu
#define FILE_MAP_COPY           0x0001u
#define FILE_MAP_WRITE          SECTION_MAP_WRITE
#define FILE_MAP_READ           SECTION_MAP_READ
#define FILE_MAP_ALL_ACCESS     SECTION_ALL_ACCESS
#define FILE_MAP_EXECUTE        0x0020u

/* Handles. */
#define HANDLE_FLAG_INHERIT             0x1u
#define HANDLE_FLAG_PROTECT_FROM_CLOSE  0x2u
#define DUPLICATE_CLOSE_SOURCE          0x1u
#define DUPLICATE_SAME_ACCESS           0x2u

/* Files. */
#define GENERIC_READ            0x80000000u
#define GENERIC_WRITE           0x40000000u
#define GENERIC_EXECUTE         0x20000000u
#define GENERIC_ALL             0x10000000u
#define FILE_READ_DATA          0x0001u
#define FILE_WRITE_DATA         0x0002u
#define FILE_APPEND_DATA        0x0004u
#define FILE_EXECUTE            0x0020u
#define DELETE                  0x00010000u
#define FILE_SHARE_READ         0x1u
#define FILE_SHARE_WRITE        0x2u
#define FILE_SHARE_DELETE       0x4u
#define CREATE_NEW              1u
#define CREATE_ALWAYS           2u
#define OPEN_EXISTING           3u
#define OPEN_ALWAYS             4u
#define TRUNCATE_EXISTING       5u
#define FILE_ATTRIBUTE_READONLY     0x00000001u
#define FILE_ATTRIBUTE_HIDDEN       0x00000002u
#define FILE_ATTRIBUTE_SYSTEM       0x00000004u
#define FILE_ATTRIBUTE_ARCHIVE      0x00000020u
#define FILE_ATTRIBUTE_NORMAL       0x00000080u
#define FILE_ATTRIBUTE_TEMPORARY    0x00000100u
#define FILE_FLAG_WRITE_THROUGH     0x80000000u
#define FILE_FLAG_OVERLAPPED        0x40000000u
#define FILE_FLAG_NO_BUFFERING      0x20000000u
#define FILE_FLAG_RANDOM_ACCESS     0x10000000u
#define FILE_FLAG_SEQUENTIAL_SCAN   0x08000000u
#define FILE_FLAG_DELETE_ON_CLOSE   0x04000000u
#define FILE_BEGIN              0u
#define FILE_CURRENT            1u
#define FILE_END                2u
#define INVALID_FILE_SIZE       0xFFFFFFFFu
#define INVALID_SET_FILE_POINTER 0xFFFFFFFFu

typedef struct _SECURITY_ATTRIBUTES {
    DWORD nLength;
    LPVOID lpSecurityDescriptor;
    BOOL bInheritHandle;
} SECURITY_ATTRIBUTES, *PSECURITY_ATTRIBUTES, *LPSECURITY_ATTRIBUTES;

typedef struct _OVERLAPPED {
    ULONG_PTR Internal;
    ULONG_PTR InternalHigh;
    union {
        struct { DWORD Offset; DWORD OffsetHigh; };
        PVOID Pointer;
    };
    HANDLE hEvent;
} OVERLAPPED, *LPOVERLAPPED;

typedef struct _MEMORY_BASIC_INFORMATION {
    PVOID BaseAddress;
    PVOID AllocationBase;
    DWORD AllocationProtect;
    WORD PartitionId;
    SIZE_T RegionSize;
    DWORD State;
    DWORD Protect;
    DWORD Type;
} MEMORY_BASIC_INFORMATION, *PMEMORY_BASIC_INFORMATION;

/* ------------------------------------------------- system information */
#define PROCESSOR_ARCHITECTURE_INTEL    0
#define PROCESSOR_ARCHITECTURE_ARM      5
#define PROCESSOR_ARCHITECTURE_AMD64    9
#define PROCESSOR_ARCHITECTURE_ARM64    12
#define PROCESSOR_ARCHITECTURE_UNKNOWN  0xFFFF
#define PROCESSOR_AMD_X8664             8664
#define PROCESSOR_INTEL_PENTIUM         586

typedef struct _SYSTEM_INFO {
    union {
        DWORD dwOemId;
        struct {
            WORD wProcessorArchitecture;
            WORD wReserved;
        };
    };
    DWORD dwPageSize;
    LPVOID lpMinimumApplicationAddress;
    LPVOID lpMaximumApplicationAddress;
    DWORD_PTR dwActiveProcessorMask;
    DWORD dwNumberOfProcessors;
    DWORD dwProcessorType;
    DWORD dwAllocationGranularity;
    WORD wProcessorLevel;
    WORD wProcessorRevision;
} SYSTEM_INFO, *LPSYSTEM_INFO;

typedef struct _MEMORYSTATUSEX {
    DWORD dwLength;
    DWORD dwMemoryLoad;
    DWORDLONG ullTotalPhys;
    DWORDLONG ullAvailPhys;
    DWORDLONG ullTotalPageFile;
    DWORDLONG ullAvailPageFile;
    DWORDLONG ullTotalVirtual;
    DWORDLONG ullAvailVirtual;
    DWORDLONG ullAvailExtendedVirtual;
} MEMORYSTATUSEX, *LPMEMORYSTATUSEX;

typedef struct _PROCESS_MEMORY_COUNTERS {
    DWORD cb;
    DWORD PageFaultCount;
    SIZE_T PeakWorkingSetSize;
    SIZE_T WorkingSetSize;
    SIZE_T QuotaPeakPagedPoolUsage;
    SIZE_T QuotaPagedPoolUsage;
    SIZE_T QuotaPeakNonPagedPoolUsage;
    SIZE_T QuotaNonPagedPoolUsage;
    SIZE_T PagefileUsage;
    SIZE_T PeakPagefileUsage;
} PROCESS_MEMORY_COUNTERS, *PPROCESS_MEMORY_COUNTERS;

typedef struct _PROCESS_MEMORY_COUNTERS_EX {
    DWORD cb;
    DWORD PageFaultCount;
    SIZE_T PeakWorkingSetSize;
    SIZE_T WorkingSetSize;
    SIZE_T QuotaPeakPagedPoolUsage;
    SIZE_T QuotaPagedPoolUsage;
    SIZE_T QuotaPeakNonPagedPoolUsage;
    SIZE_T QuotaNonPagedPoolUsage;
    SIZE_T PagefileUsage;
    SIZE_T PeakPagefileUsage;
    SIZE_T PrivateUsage;
} PROCESS_MEMORY_COUNTERS_EX, *PPROCESS_MEMORY_COUNTERS_EX;

/* ----------------------------------------------------------- exceptions */
#define EXCEPTION_MAXIMUM_PARAMETERS 15
#define EXCEPTION_NONCONTINUABLE     0x1u
#define EXCEPTION_EXECUTE_HANDLER     1
#define EXCEPTION_CONTINUE_SEARCH     0
#define EXCEPTION_CONTINUE_EXECUTION  (-1)

#define STATUS_GUARD_PAGE_VIOLATION     ((DWORD)0x80000001)
#define STATUS_DATATYPE_MISALIGNMENT    ((DWORD)0x80000002)
#define STATUS_BREAKPOINT               ((DWORD)0x80000003)
#define STATUS_SINGLE_STEP              ((DWORD)0x80000004)
#define STATUS_ACCESS_VIOLATION         ((DWORD)0xC0000005)
#define STATUS_IN_PAGE_ERROR            ((DWORD)0xC0000006)
#define STATUS_INVALID_HANDLE           ((DWORD)0xC0000008)
#define STATUS_NO_MEMORY                ((DWORD)0xC0000017)
#define STATUS_ILLEGAL_INSTRUCTION      ((DWORD)0xC000001D)
#define STATUS_NONCONTINUABLE_EXCEPTION ((DWORD)0xC0000025)
#define STATUS_INVALID_DISPOSITION      ((DWORD)0xC0000026)
#define STATUS_ARRAY_BOUNDS_EXCEEDED    ((DWORD)0xC000008C)
#define STATUS_FLOAT_DENORMAL_OPERAND   ((DWORD)0xC000008D)
#define STATUS_FLOAT_DIVIDE_BY_ZERO     ((DWORD)0xC000008E)
#define STATUS_FLOAT_INEXACT_RESULT     ((DWORD)0xC000008F)
#define STATUS_FLOAT_INVALID_OPERATION  ((DWORD)0xC0000090)
#define STATUS_FLOAT_OVERFLOW           ((DWORD)0xC0000091)
#define STATUS_FLOAT_STACK_CHECK        ((DWORD)0xC0000092)
#define STATUS_FLOAT_UNDERFLOW          ((DWORD)0xC0000093)
#define STATUS_INTEGER_DIVIDE_BY_ZERO   ((DWORD)0xC0000094)
#define STATUS_INTEGER_OVERFLOW         ((DWORD)0xC0000095)
#define STATUS_PRIVILEGED_INSTRUCTION   ((DWORD)0xC0000096)
#define STATUS_STACK_OVERFLOW           ((DWORD)0xC00000FD)

#define EXCEPTION_ACCESS_VIOLATION         STATUS_ACCESS_VIOLATION
#define EXCEPTION_DATATYPE_MISALIGNMENT    STATUS_DATATYPE_MISALIGNMENT
#define EXCEPTION_BREAKPOINT               STATUS_BREAKPOINT
#define EXCEPTION_SINGLE_STEP              STATUS_SINGLE_STEP
#define EXCEPTION_ARRAY_BOUNDS_EXCEEDED    STATUS_ARRAY_BOUNDS_EXCEEDED
#define EXCEPTION_FLT_DENORMAL_OPERAND     STATUS_FLOAT_DENORMAL_OPERAND
#define EXCEPTION_FLT_DIVIDE_BY_ZERO       STATUS_FLOAT_DIVIDE_BY_ZERO
#define EXCEPTION_FLT_INEXACT_RESULT       STATUS_FLOAT_INEXACT_RESULT
#define EXCEPTION_FLT_INVALID_OPERATION    STATUS_FLOAT_INVALID_OPERATION
#define EXCEPTION_FLT_OVERFLOW             STATUS_FLOAT_OVERFLOW
#define EXCEPTION_FLT_STACK_CHECK          STATUS_FLOAT_STACK_CHECK
#define EXCEPTION_FLT_UNDERFLOW            STATUS_FLOAT_UNDERFLOW
#define EXCEPTION_INT_DIVIDE_BY_ZERO       STATUS_INTEGER_DIVIDE_BY_ZERO
#define EXCEPTION_INT_OVERFLOW             STATUS_INTEGER_OVERFLOW
#define EXCEPTION_PRIV_INSTRUCTION         STATUS_PRIVILEGED_INSTRUCTION
#define EXCEPTION_IN_PAGE_ERROR            STATUS_IN_PAGE_ERROR
#define EXCEPTION_ILLEGAL_INSTRUCTION      STATUS_ILLEGAL_INSTRUCTION
#define EXCEPTION_NONCONTINUABLE_EXCEPTION STATUS_NONCONTINUABLE_EXCEPTION
#define EXCEPTION_STACK_OVERFLOW           STATUS_STACK_OVERFLOW
#define EXCEPTION_INVALID_DISPOSITION      STATUS_INVALID_DISPOSITION
#define EXCEPTION_GUARD_PAGE               STATUS_GUARD_PAGE_VIOLATION
#define EXCEPTION_INVALID_HANDLE           STATUS_INVALID_HANDLE

typedef struct _EXCEPTION_RECORD {
    DWORD ExceptionCode;
    DWORD ExceptionFlags;
    struct _EXCEPTION_RECORD *ExceptionRecord;
    PVOID ExceptionAddress;
    DWORD NumberParameters;
    ULONG_PTR ExceptionInformation[EXCEPTION_MAXIMUM_PARAMETERS];
} EXCEPTION_RECORD, *PEXCEPTION_RECORD;

/* The thread's registers at the exception, laid out as Windows lays them out
 * for the host's architecture, so handlers written for Windows read and
 * change the same fields. */
#if defined(__x86_64__)
#define CONTEXT_AMD64               0x00100000u
#define CONTEXT_CONTROL             (CONTEXT_AMD64 | 0x1u)
#define CONTEXT_INTEGER             (CONTEXT_AMD64 | 0x2u)
#define CONTEXT_SEGMENTS            (CONTEXT_AMD64 | 0x4u)
#define CONTEXT_FLOATING_POINT      (CONTEXT_AMD64 | 0x8u)
#define CONTEXT_DEBUG_REGISTERS     (CONTEXT_AMD64 | 0x10u)
#define CONTEXT_FULL                (CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_FLOATING_POINT)
#define CONTEXT_ALL                 (CONTEXT_FULL | CONTEXT_SEGMENTS | CONTEXT_DEBUG_REGISTERS)

typedef struct __attribute__((aligned(16))) _M128A {
    ULONGLONG Low;
    LONGLONG High;
} M128A, *PM128A;

typedef struct __attribute__((aligned(16))) _XSAVE_FORMAT {
    WORD ControlWord;
    WORD StatusWord;
    BYTE TagWord;
    BYTE Reserved1;
    WORD ErrorOpcode;
    DWORD ErrorOffset;
    WORD ErrorSelector;
    WORD Reserved2;
    DWORD DataOffset;
    WORD DataSelector;
    WORD Reserved3;
    DWORD MxCsr;
    DWORD MxCsr_Mask;
    M128A FloatRegisters[8];
    M128A XmmRegisters[16];
    BYTE Reserved4[96];
} XSAVE_FORMAT, XMM_SAVE_AREA32, *PXMM_SAVE_AREA32;

typedef struct __attribute__((aligned(16))) _CONTEXT {
    DWORD64 P1Home, P2Home, P3Home, P4Home, P5Home, P6Home;
    DWORD ContextFlags;
    DWORD MxCsr;
    WORD SegCs, SegDs, SegEs, SegFs, SegGs, SegSs;
    DWORD EFlags;
    DWORD64 Dr0, Dr1, Dr2, Dr3, Dr6, Dr7;
    DWORD64 Rax, Rcx, Rdx, Rbx, Rsp, Rbp, Rsi, Rdi;
    DWORD64 R8, R9, R10, R11, R12, R13, R14, R15;
    DWORD64 Rip;
    union {
        XMM_SAVE_AREA32 FltSave;
        struct {
            M128A Header[2];
            M128A Legacy[8];
            M128A Xmm0, Xmm1, Xmm2, Xmm3, Xmm4, Xmm5, Xmm6, Xmm7;
            M128A Xmm8, Xmm9, Xmm10, Xmm11, Xmm12, Xmm13, Xmm14, Xmm15;
        };
    };
    M128A VectorRegister[26];
    DWORD64 VectorControl;
    DWORD64 DebugControl;
    DWORD64 LastBranchToRip;
    DWORD64 LastBranchFromRip;
    DWORD64 LastExceptionToRip;
    DWORD64 LastExceptionFromRip;
} CONTEXT, *PCONTEXT;
#elif defined(__aarch64__)
#define CONTEXT_ARM64               0x00400000u
#define CONTEXT_CONTROL             (CONTEXT_ARM64 | 0x1u)
#define CONTEXT_INTEGER             (CONTEXT_ARM64 | 0x2u)
#define CONTEXT_FLOATING_POINT      (CONTEXT_ARM64 | 0x4u)
#define CONTEXT_DEBUG_REGISTERS     (CONTEXT_ARM64 | 0x8u)
#define CONTEXT_FULL                (CONTEXT_CONTROL | CONTEXT_INTEGER | CONTEXT_FLOATING_POINT)
#define CONTEXT_ALL                 (CONTEXT_FULL | CONTEXT_DEBUG_REGISTERS)
#define ARM64_MAX_BREAKPOINTS 8
#define ARM64_MAX_WATCHPOINTS 2

typedef union _ARM64_NT_NEON128 {
    struct { ULONGLONG Low; LONGLONG High; };
    double D[2];
    float S[4];
    WORD H[8];
    BYTE B[16];
} ARM64_NT_NEON128, *PARM64_NT_NEON128;

typedef struct __attribute__((aligned(16))) _CONTEXT {
    DWORD ContextFlags;
    DWORD Cpsr;
    union {
        struct {
            DWORD64 X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14;
            DWORD64 X15, X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27;
            DWORD64 X28, Fp, Lr;
        };
        DWORD64 X[31];
    };
    DWORD64 Sp;
    DWORD64 Pc;
    ARM64_NT_NEON128 V[32];
    DWORD Fpcr;
    DWORD Fpsr;
    DWORD Bcr[ARM64_MAX_BREAKPOINTS];
    DWORD64 Bvr[ARM64_MAX_BREAKPOINTS];
    DWORD Wcr[ARM64_MAX_WATCHPOINTS];
    DWORD64 Wvr[ARM64_MAX_WATCHPOINTS];
} CONTEXT, *PCONTEXT;
#else
#error "winmem's CONTEXT is defined for x86-64 and AArch64 hosts"
#endif

typedef struct _EXCEPTION_POINTERS {
    PEXCEPTION_RECORD ExceptionRecord;
    PCONTEXT ContextRecord;
} EXCEPTION_POINTERS, *PEXCEPTION_POINTERS, *LPEXCEPTION_POINTERS;

typedef LONG (CALLBACK *PVECTORED_EXCEPTION_HANDLER)(struct _EXCEPTION_POINTERS *info);
typedef LONG (WINAPI *PTOP_LEVEL_EXCEPTION_FILTER)(struct _EXCEPTION_POINTERS *info);
typedef PTOP_LEVEL_EXCEPTION_FILTER LPTOP_LEVEL_EXCEPTION_FILTER;

/* MEM_WRITE_WATCH. */
#define WRITE_WATCH_FLAG_RESET 0x1u

/* ----------------------------------------------------------------- heaps */
#define HEAP_NO_SERIALIZE               0x00000001u
#define HEAP_GROWABLE                   0x00000002u
#define HEAP_GENERATE_EXCEPTIONS        0x00000004u
#define HEAP_ZERO_MEMORY                0x00000008u
#define HEAP_REALLOC_IN_PLACE_ONLY      0x00000010u
#define HEAP_TAIL_CHECKING_ENABLED      0x00000020u
#define HEAP_FREE_CHECKING_ENABLED      0x00000040u
#define HEAP_DISABLE_COALESCE_ON_FREE   0x00000080u
#define HEAP_CREATE_ALIGN_16            0x00010000u
#define HEAP_CREATE_ENABLE_TRACING      0x00020000u
#define HEAP_CREATE_ENABLE_EXECUTE      0x00040000u
#define MEMORY_ALLOCATION_ALIGNMENT     16

#define PROCESS_HEAP_REGION             0x0001
#define PROCESS_HEAP_UNCOMMITTED_RANGE  0x0002
#define PROCESS_HEAP_ENTRY_BUSY         0x0004
#define PROCESS_HEAP_SEG_ALLOC          0x0008
#define PROCESS_HEAP_ENTRY_MOVEABLE     0x0010
#define PROCESS_HEAP_ENTRY_DDESHARE     0x0020

typedef struct _PROCESS_HEAP_ENTRY {
    PVOID lpData;
    DWORD cbData;
    BYTE cbOverhead;
    BYTE iRegionIndex;
    WORD wFlags;
    union {
        struct {
            HANDLE hMem;
            DWORD dwReserved[3];
        } Block;
        struct {
            DWORD dwCommittedSize;
            DWORD dwUnCommittedSize;
            LPVOID lpFirstBlock;
            LPVOID lpLastBlock;
        } Region;
    };
} PROCESS_HEAP_ENTRY, *LPPROCESS_HEAP_ENTRY, *PPROCESS_HEAP_ENTRY;

typedef enum _HEAP_INFORMATION_CLASS {
    HeapCompatibilityInformation = 0,
    HeapEnableTerminationOnCorruption = 1,
    HeapOptimizeResources = 3,
} HEAP_INFORMATION_CLASS;

#define HEAP_OPTIMIZE_RESOURCES_CURRENT_VERSION 1
typedef struct _HEAP_OPTIMIZE_RESOURCES_INFORMATION {
    DWORD Version;
    DWORD Flags;
} HEAP_OPTIMIZE_RESOURCES_INFORMATION, *PHEAP_OPTIMIZE_RESOURCES_INFORMATION;

typedef struct _HEAP_SUMMARY {
    DWORD cb;
    SIZE_T cbAllocated;
    SIZE_T cbCommitted;
    SIZE_T cbReserved;
    SIZE_T cbMaxReserve;
} HEAP_SUMMARY, *PHEAP_SUMMARY, *LPHEAP_SUMMARY;

/* ---------------------------------------------------------- functions */
/* Errors and the everyday kernel32 helpers. */
WINMEM_API DWORD winmem_GetLastError(void);
WINMEM_API void winmem_SetLastError(DWORD code);
WINMEM_API void winmem_Sleep(DWORD milliseconds);
WINMEM_API DWORD winmem_GetCurrentProcessId(void);
WINMEM_API DWORD winmem_GetCurrentThreadId(void);
WINMEM_API HANDLE winmem_GetCurrentProcess(void);
WINMEM_API HANDLE winmem_GetCurrentThread(void);
WINMEM_API DWORD winmem_GetTickCount(void);
WINMEM_API ULONGLONG winmem_GetTickCount64(void);
WINMEM_API BOOL winmem_QueryPerformanceCounter(LARGE_INTEGER *count);
WINMEM_API BOOL winmem_QueryPerformanceFrequency(LARGE_INTEGER *frequency);

/* System and process information. */
WINMEM_API void winmem_GetSystemInfo(LPSYSTEM_INFO info);
WINMEM_API void winmem_GetNativeSystemInfo(LPSYSTEM_INFO info);
WINMEM_API SIZE_T winmem_GetLargePageMinimum(void);
WINMEM_API BOOL winmem_GlobalMemoryStatusEx(LPMEMORYSTATUSEX status);
WINMEM_API BOOL winmem_GetProcessMemoryInfo(HANDLE process, PPROCESS_MEMORY_COUNTERS counters, DWORD cb);
WINMEM_API BOOL winmem_GetProcessWorkingSetSize(HANDLE process, PSIZE_T minimum, PSIZE_T maximum);
WINMEM_API BOOL winmem_SetProcessWorkingSetSize(HANDLE process, SIZE_T minimum, SIZE_T maximum);

/* The virtual-memory layer. */
WINMEM_API LPVOID winmem_VirtualAlloc(LPVOID address, SIZE_T size, DWORD type, DWORD protect);
WINMEM_API BOOL winmem_VirtualFree(LPVOID address, SIZE_T size, DWORD type);
WINMEM_API BOOL winmem_VirtualProtect(LPVOID address, SIZE_T size, DWORD protect, PDWORD old_protect);
WINMEM_API SIZE_T winmem_VirtualQuery(LPCVOID address, PMEMORY_BASIC_INFORMATION info, SIZE_T length);
WINMEM_API BOOL winmem_VirtualLock(LPVOID address, SIZE_T size);
WINMEM_API BOOL winmem_VirtualUnlock(LPVOID address, SIZE_T size);
WINMEM_API UINT winmem_GetWriteWatch(DWORD flags, PVOID base, SIZE_T size, PVOID *addresses,
                                    ULONG_PTR *count, LPDWORD granularity);
WINMEM_API UINT winmem_ResetWriteWatch(LPVOID base, SIZE_T size);
/* winmem's extension: how MEM_WRITE_WATCH learns of writes in this process,
 * "host" (the kernel records them; writes by the kernel count) or "protect"
 * (write faults; a read() into an unwritten watched page fails with EFAULT).
 * See docs/EXCEPTIONS.md. */
WINMEM_API const char *winmem_write_watch_mechanism(void);

/* Handles (kernel objects: files and file mappings). */
WINMEM_API BOOL winmem_CloseHandle(HANDLE handle);
WINMEM_API BOOL winmem_DuplicateHandle(HANDLE source_process, HANDLE source, HANDLE target_process,
                                       LPHANDLE target, DWORD access, BOOL inherit, DWORD options);
WINMEM_API BOOL winmem_GetHandleInformation(HANDLE handle, LPDWORD flags);
WINMEM_API BOOL winmem_SetHandleInformation(HANDLE handle, DWORD mask, DWORD flags);

/* Files, as much as mapping them needs.  The A functions take UTF-8. */
WINMEM_API HANDLE winmem_CreateFileA(LPCSTR name, DWORD access, DWORD share,
                                     LPSECURITY_ATTRIBUTES security, DWORD disposition,
                                     DWORD flags, HANDLE template_file);
WINMEM_API HANDLE winmem_CreateFileW(LPCWSTR name, DWORD access, DWORD share,
                                     LPSECURITY_ATTRIBUTES security, DWORD disposition,
                                     DWORD flags, HANDLE template_file);
WINMEM_API BOOL winmem_DeleteFileA(LPCSTR name);
WINMEM_API BOOL winmem_DeleteFileW(LPCWSTR name);
WINMEM_API BOOL winmem_ReadFile(HANDLE file, LPVOID buffer, DWORD size, LPDWORD done,
                                LPOVERLAPPED overlapped);
WINMEM_API BOOL winmem_WriteFile(HANDLE file, LPCVOID buffer, DWORD size, LPDWORD done,
                                 LPOVERLAPPED overlapped);
WINMEM_API DWORD winmem_SetFilePointer(HANDLE file, LONG distance, PLONG distance_high, DWORD method);
WINMEM_API BOOL winmem_SetFilePointerEx(HANDLE file, LARGE_INTEGER distance, PLARGE_INTEGER position,
                                        DWORD method);
WINMEM_API BOOL winmem_SetEndOfFile(HANDLE file);
WINMEM_API DWORD winmem_GetFileSize(HANDLE file, LPDWORD size_high);
WINMEM_API BOOL winmem_GetFileSizeEx(HANDLE file, PLARGE_INTEGER size);
WINMEM_API BOOL winmem_FlushFileBuffers(HANDLE file);

/* File mappings (sections) and named shared memory. */
WINMEM_API HANDLE winmem_CreateFileMappingA(HANDLE file, LPSECURITY_ATTRIBUTES security, DWORD protect,
                                            DWORD size_high, DWORD size_low, LPCSTR name);
WINMEM_API HANDLE winmem_CreateFileMappingW(HANDLE file, LPSECURITY_ATTRIBUTES security, DWORD protect,
                                            DWORD size_high, DWORD size_low, LPCWSTR name);
WINMEM_API HANDLE winmem_OpenFileMappingA(DWORD access, BOOL inherit, LPCSTR name);
WINMEM_API HANDLE winmem_OpenFileMappingW(DWORD access, BOOL inherit, LPCWSTR name);
WINMEM_API LPVOID winmem_MapViewOfFile(HANDLE mapping, DWORD access, DWORD offset_high,
                                       DWORD offset_low, SIZE_T size);
WINMEM_API LPVOID winmem_MapViewOfFileEx(HANDLE mapping, DWORD access, DWORD offset_high,
                                         DWORD offset_low, SIZE_T size, LPVOID address);
WINMEM_API BOOL winmem_UnmapViewOfFile(LPCVOID address);
WINMEM_API BOOL winmem_FlushViewOfFile(LPCVOID address, SIZE_T size);

/* Heaps. */
WINMEM_API HANDLE winmem_GetProcessHeap(void);
WINMEM_API DWORD winmem_GetProcessHeaps(DWORD count, PHANDLE heaps);
WINMEM_API HANDLE winmem_HeapCreate(DWORD options, SIZE_T initial, SIZE_T maximum);
WINMEM_API BOOL winmem_HeapDestroy(HANDLE heap);
WINMEM_API LPVOID winmem_HeapAlloc(HANDLE heap, DWORD flags, SIZE_T size);
WINMEM_API LPVOID winmem_HeapReAlloc(HANDLE heap, DWORD flags, LPVOID mem, SIZE_T size);
WINMEM_API BOOL winmem_HeapFree(HANDLE heap, DWORD flags, LPVOID mem);
WINMEM_API SIZE_T winmem_HeapSize(HANDLE heap, DWORD flags, LPCVOID mem);
WINMEM_API BOOL winmem_HeapValidate(HANDLE heap, DWORD flags, LPCVOID mem);
WINMEM_API BOOL winmem_HeapWalk(HANDLE heap, LPPROCESS_HEAP_ENTRY entry);
WINMEM_API SIZE_T winmem_HeapCompact(HANDLE heap, DWORD flags);
WINMEM_API BOOL winmem_HeapLock(HANDLE heap);
WINMEM_API BOOL winmem_HeapUnlock(HANDLE heap);
WINMEM_API BOOL winmem_HeapSetInformation(HANDLE heap, HEAP_INFORMATION_CLASS info_class, PVOID info, SIZE_T length);
WINMEM_API BOOL winmem_HeapQueryInformation(HANDLE heap, HEAP_INFORMATION_CLASS info_class, PVOID info, SIZE_T length, PSIZE_T return_length);
WINMEM_API BOOL winmem_HeapSummary(HANDLE heap, DWORD flags, LPHEAP_SUMMARY summary);

/* Global and Local memory: one implementation on the process heap.  A
 * fixed block's handle is its data pointer; a moveable block's handle is
 * an entry of a handle table, valid while GlobalReAlloc moves the data. */
typedef HANDLE HGLOBAL, HLOCAL;
#define GMEM_FIXED                      0x0000u
#define GMEM_MOVEABLE                   0x0002u
#define GMEM_NOCOMPACT                  0x0010u
#define GMEM_NODISCARD                  0x0020u
#define GMEM_ZEROINIT                   0x0040u
#define GMEM_MODIFY                     0x0080u
#define GMEM_DISCARDABLE                0x0100u
#define GMEM_NOT_BANKED                 0x1000u
#define GMEM_LOWER                      GMEM_NOT_BANKED
#define GMEM_SHARE                      0x2000u
#define GMEM_DDESHARE                   0x2000u
#define GMEM_NOTIFY                     0x4000u
#define GMEM_VALID_FLAGS                0x7F72u
#define GMEM_INVALID_HANDLE             0x8000u
#define GMEM_DISCARDED                  0x4000u
#define GMEM_LOCKCOUNT                  0x00FFu
#define GHND                            (GMEM_MOVEABLE | GMEM_ZEROINIT)
#define GPTR                            (GMEM_FIXED | GMEM_ZEROINIT)
#define LMEM_FIXED                      0x0000u
#define LMEM_MOVEABLE                   0x0002u
#define LMEM_NOCOMPACT                  0x0010u
#define LMEM_NODISCARD                  0x0020u
#define LMEM_ZEROINIT                   0x0040u
#define LMEM_MODIFY                     0x0080u
#define LMEM_DISCARDABLE                0x0F00u
#define LMEM_VALID_FLAGS                0x0F72u
#define LMEM_INVALID_HANDLE             0x8000u
#define LMEM_DISCARDED                  0x4000u
#define LMEM_LOCKCOUNT                  0x00FFu
#define LHND                            (LMEM_MOVEABLE | LMEM_ZEROINIT)
#define LPTR                            (LMEM_FIXED | LMEM_ZEROINIT)
#define NONZEROLHND                     LMEM_MOVEABLE
#define NONZEROLPTR                     LMEM_FIXED

WINMEM_API HGLOBAL winmem_GlobalAlloc(UINT flags, SIZE_T bytes);
WINMEM_API HGLOBAL winmem_GlobalReAlloc(HGLOBAL mem, SIZE_T bytes, UINT flags);
WINMEM_API HGLOBAL winmem_GlobalFree(HGLOBAL mem);
WINMEM_API LPVOID winmem_GlobalLock(HGLOBAL mem);
WINMEM_API BOOL winmem_GlobalUnlock(HGLOBAL mem);
WINMEM_API SIZE_T winmem_GlobalSize(HGLOBAL mem);
WINMEM_API UINT winmem_GlobalFlags(HGLOBAL mem);
WINMEM_API HGLOBAL winmem_GlobalHandle(LPCVOID mem);
WINMEM_API HLOCAL winmem_LocalAlloc(UINT flags, SIZE_T bytes);
WINMEM_API HLOCAL winmem_LocalReAlloc(HLOCAL mem, SIZE_T bytes, UINT flags);
WINMEM_API HLOCAL winmem_LocalFree(HLOCAL mem);
WINMEM_API LPVOID winmem_LocalLock(HLOCAL mem);
WINMEM_API BOOL winmem_LocalUnlock(HLOCAL mem);
WINMEM_API SIZE_T winmem_LocalSize(HLOCAL mem);
WINMEM_API UINT winmem_LocalFlags(HLOCAL mem);
WINMEM_API HLOCAL winmem_LocalHandle(LPCVOID mem);
/* As in the SDK, discarding is reallocating to nothing. */
#define winmem_GlobalDiscard(h)         winmem_GlobalReAlloc((h), 0, GMEM_MOVEABLE)
#define winmem_LocalDiscard(h)          winmem_LocalReAlloc((h), 0, LMEM_MOVEABLE)

/* The COM task allocator: CoTaskMem* and the process's IMalloc, on the
 * process heap, usable without CoInitialize.  Declared here with the
 * types COM code needs for it; <objbase.h> (include/compat) includes this. */
typedef LONG HRESULT;
typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2, Data3;
    uint8_t Data4[8];
} GUID, IID, CLSID;
typedef const IID *REFIID;
typedef const GUID *REFGUID;
#define S_OK                            ((HRESULT)0)
#define S_FALSE                         ((HRESULT)1)
#define E_NOINTERFACE                   ((HRESULT)0x80004002)
#define E_POINTER                       ((HRESULT)0x80004003)
#define E_OUTOFMEMORY                   ((HRESULT)0x8007000E)
#define E_INVALIDARG                    ((HRESULT)0x80070057)
#define SUCCEEDED(hr)                   ((HRESULT)(hr) >= 0)
#define FAILED(hr)                      ((HRESULT)(hr) < 0)
#define MEMCTX_TASK                     1u
#define MEMCTX_SHARED                   2u
static inline int winmem_IsEqualGUID(REFGUID a, REFGUID b)
{
    return a->Data1 == b->Data1 && a->Data2 == b->Data2 && a->Data3 == b->Data3 &&
           __builtin_memcmp(a->Data4, b->Data4, sizeof a->Data4) == 0;
}

typedef struct IMalloc IMalloc, *LPMALLOC;
typedef struct IMallocVtbl {
    HRESULT (*QueryInterface)(IMalloc *self, REFIID riid, void **object);
    ULONG (*AddRef)(IMalloc *self);
    ULONG (*Release)(IMalloc *self);
    void *(*Alloc)(IMalloc *self, SIZE_T bytes);
    void *(*Realloc)(IMalloc *self, void *mem, SIZE_T bytes);
    void (*Free)(IMalloc *self, void *mem);
    SIZE_T (*GetSize)(IMalloc *self, void *mem);
    int (*DidAlloc)(IMalloc *self, void *mem);
    void (*HeapMinimize)(IMalloc *self);
} IMallocVtbl;
struct IMalloc { const IMallocVtbl *lpVtbl; };

WINMEM_API extern const IID winmem_IID_IUnknown;
WINMEM_API extern const IID winmem_IID_IMalloc;
WINMEM_API LPVOID winmem_CoTaskMemAlloc(SIZE_T bytes);
WINMEM_API LPVOID winmem_CoTaskMemRealloc(LPVOID mem, SIZE_T bytes);
WINMEM_API void winmem_CoTaskMemFree(LPVOID mem);
WINMEM_API HRESULT winmem_CoGetMalloc(DWORD context, LPMALLOC *malloc_out);

/* The C runtime's heap with MSVC's rules (realloc(p, 0) frees, _msize is
 * exact, errno ENOMEM), on the process heap as in the UCRT.  Prefixed here
 * so that nothing clashes with the host's C library; include/compat's
 * <malloc.h> maps the MSVC names (malloc too) onto them. */
#define _HEAP_MAXREQ                    ((size_t)0xFFFFFFFFFFFFFFE0ull)
#define _HEAPEMPTY                      (-1)
#define _HEAPOK                         (-2)
#define _HEAPBADBEGIN                   (-3)
#define _HEAPBADNODE                    (-4)
#define _HEAPEND                        (-5)
#define _HEAPBADPTR                     (-6)
#define _FREEENTRY                      0
#define _USEDENTRY                      1
typedef struct _heapinfo {
    int *_pentry;
    size_t _size;
    int _useflag;
} _HEAPINFO;
/* Called with NULLs, as the release CRT does, when a function is given a
 * parameter it refuses (_msize(NULL), an alignment that is no power of
 * two); the default one ends the process with a report. */
typedef void (*_invalid_parameter_handler)(const wchar_t *expression, const wchar_t *function,
                                           const wchar_t *file, unsigned int line, uintptr_t reserved);

WINMEM_API void *winmem_malloc(size_t size);
WINMEM_API void *winmem_calloc(size_t count, size_t size);
WINMEM_API void *winmem_realloc(void *mem, size_t size);
WINMEM_API void winmem_free(void *mem);
WINMEM_API size_t winmem__msize(void *mem);
WINMEM_API void *winmem__expand(void *mem, size_t size);
WINMEM_API void *winmem__recalloc(void *mem, size_t count, size_t size);
WINMEM_API void *winmem__aligned_malloc(size_t size, size_t alignment);
WINMEM_API void *winmem__aligned_realloc(void *mem, size_t size, size_t alignment);
WINMEM_API void *winmem__aligned_recalloc(void *mem, size_t count, size_t size, size_t alignment);
WINMEM_API size_t winmem__aligned_msize(void *mem, size_t alignment, size_t offset);
WINMEM_API void winmem__aligned_free(void *mem);
WINMEM_API int winmem__heapmin(void);
WINMEM_API int winmem__heapchk(void);
WINMEM_API int winmem__heapwalk(_HEAPINFO *entry);
WINMEM_API intptr_t winmem__get_heap_handle(void);
WINMEM_API int winmem__set_sbh_threshold(size_t size);
WINMEM_API size_t winmem__get_sbh_threshold(void);
WINMEM_API _invalid_parameter_handler winmem__set_invalid_parameter_handler(_invalid_parameter_handler handler);
WINMEM_API _invalid_parameter_handler winmem__get_invalid_parameter_handler(void);

/* The debug heap (MSVC's debug CRT): blocks framed by a header and
 * no-man's-land guards, filled 0xCD when new and 0xDD when freed, counted
 * by type; leaks dumped in MSVC's words.  Reports go to stderr. */
#define _FREE_BLOCK                     0
#define _NORMAL_BLOCK                   1
#define _CRT_BLOCK                      2
#define _IGNORE_BLOCK                   3
#define _CLIENT_BLOCK                   4
#define _MAX_BLOCKS                     5
#define _BLOCK_TYPE(use)                ((use) & 0xFFFF)
#define _BLOCK_SUBTYPE(use)             (((use) >> 16) & 0xFFFF)
#define _CRTDBG_ALLOC_MEM_DF            0x01
#define _CRTDBG_DELAY_FREE_MEM_DF       0x02
#define _CRTDBG_CHECK_ALWAYS_DF         0x04
#define _CRTDBG_RESERVED_DF             0x08
#define _CRTDBG_CHECK_CRT_DF            0x10
#define _CRTDBG_LEAK_CHECK_DF           0x20
#define _CRTDBG_REPORT_FLAG             (-1)
#define _CRTDBG_CHECK_DEFAULT_DF        0
typedef struct _CrtMemState {
    struct _CrtMemBlockHeader *pBlockHeader;
    size_t lCounts[_MAX_BLOCKS];
    size_t lSizes[_MAX_BLOCKS];
    size_t lHighWaterCount;
    size_t lTotalCount;
} _CrtMemState;

WINMEM_API void *winmem__malloc_dbg(size_t size, int use, const char *file, int line);
WINMEM_API void *winmem__calloc_dbg(size_t count, size_t size, int use, const char *file, int line);
WINMEM_API void *winmem__realloc_dbg(void *mem, size_t size, int use, const char *file, int line);
WINMEM_API void *winmem__recalloc_dbg(void *mem, size_t count, size_t size, int use, const char *file,
                                      int line);
WINMEM_API void *winmem__expand_dbg(void *mem, size_t size, int use, const char *file, int line);
WINMEM_API void winmem__free_dbg(void *mem, int use);
WINMEM_API size_t winmem__msize_dbg(void *mem, int use);
WINMEM_API int winmem__CrtCheckMemory(void);
WINMEM_API int winmem__CrtDumpMemoryLeaks(void);
WINMEM_API int winmem__CrtSetDbgFlag(int flags);
WINMEM_API long winmem__CrtSetBreakAlloc(long request);
WINMEM_API void winmem__CrtMemCheckpoint(_CrtMemState *state);
WINMEM_API int winmem__CrtMemDifference(_CrtMemState *diff, const _CrtMemState *old_state,
                                        const _CrtMemState *new_state);
WINMEM_API void winmem__CrtMemDumpStatistics(const _CrtMemState *state);
WINMEM_API void winmem__CrtMemDumpAllObjectsSince(const _CrtMemState *state);
WINMEM_API int winmem__CrtIsValidHeapPointer(const void *mem);
WINMEM_API int winmem__CrtIsMemoryBlock(const void *mem, unsigned int size, long *request,
                                        char **file, int *line);
WINMEM_API int winmem__CrtReportBlockType(const void *mem);

/* Exceptions: vectored handlers, RaiseException, the unhandled filter. */
WINMEM_API PVOID winmem_AddVectoredExceptionHandler(ULONG first, PVECTORED_EXCEPTION_HANDLER handler);
WINMEM_API ULONG winmem_RemoveVectoredExceptionHandler(PVOID handle);
WINMEM_API PVOID winmem_AddVectoredContinueHandler(ULONG first, PVECTORED_EXCEPTION_HANDLER handler);
WINMEM_API ULONG winmem_RemoveVectoredContinueHandler(PVOID handle);
WINMEM_API LPTOP_LEVEL_EXCEPTION_FILTER winmem_SetUnhandledExceptionFilter(LPTOP_LEVEL_EXCEPTION_FILTER filter);
WINMEM_API LONG winmem_UnhandledExceptionFilter(struct _EXCEPTION_POINTERS *info);
WINMEM_API void winmem_RaiseException(DWORD code, DWORD flags, DWORD count, const ULONG_PTR *arguments);

/* ------------------------------------------------ try/except for C code */
/* C has no __try/__except; these macros give the same shape on the same
 * dispatcher (vectored handlers first, then try frames innermost first):
 *
 *     WINMEM_TRY(filter, context) {
 *         ... code that may fault or call RaiseException ...
 *     } WINMEM_EXCEPT {
 *         ... runs when filter answered EXCEPTION_EXECUTE_HANDLER;
 *             winmem_exception points at the exception's record ...
 *     } WINMEM_END_TRY;
 *
 * filter is LONG fn(EXCEPTION_POINTERS *info, void *context), called where
 * the exception happened, before anything is unwound, so it may also fix
 * the cause and answer EXCEPTION_CONTINUE_EXECUTION, or answer
 * EXCEPTION_CONTINUE_SEARCH to pass the exception on; NULL catches all.
 *
 * Limits, which Windows' compiler-supported __try does not have:
 *  - The body must be left by reaching its end: return, break, goto or
 *    longjmp out of it leave its frame registered.
 *  - Reaching the handler is a longjmp: locals changed in the body and read
 *    in the handler must be volatile; nothing between the fault and the
 *    frame is cleaned up (no __finally), so a lock taken or memory allocated
 *    in that stretch stays taken or allocated.  Faults inside a C library
 *    function (malloc, stdio) can leave that library's locks held.
 */
typedef LONG (*WINMEM_TRY_FILTER)(EXCEPTION_POINTERS *info, void *context);
typedef struct winmem_try_frame {
    struct winmem_try_frame *outer;
    WINMEM_TRY_FILTER filter;
    void *context;
    EXCEPTION_RECORD record;          /* the exception that was caught */
    sigjmp_buf jump;
} winmem_try_frame;

WINMEM_API void winmem_try_enter(winmem_try_frame *frame, WINMEM_TRY_FILTER filter, void *context);
WINMEM_API void winmem_try_leave(winmem_try_frame *frame);

/* A nested WINMEM_TRY's frame hides the outer one's by design. */
#define WINMEM_TRY(filter, context)                                           \
    do {                                                                      \
        _Pragma("GCC diagnostic push")                                        \
        _Pragma("GCC diagnostic ignored \"-Wshadow\"")                        \
        winmem_try_frame winmem_frame_;                                       \
        _Pragma("GCC diagnostic pop")                                         \
        winmem_try_enter(&winmem_frame_, (filter), (context));                \
        if (sigsetjmp(winmem_frame_.jump, 0) == 0) {
#define WINMEM_EXCEPT                                                         \
            winmem_try_leave(&winmem_frame_);                                 \
        } else {                                                              \
            const EXCEPTION_RECORD *const winmem_exception = &winmem_frame_.record; \
            (void)winmem_exception;
#define WINMEM_END_TRY                                                        \
        }                                                                     \
    } while (0)

/* --------------------------------------------------- interlocked family */
/* Full barriers, as on Windows.  Header-only: the compiler's atomics. */
#define WINMEM_ATOMIC_OPS(name, T)                                                      \
    static inline T winmem_##name##Increment(T volatile *p)                          \
        { return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST); }                        \
    static inline T winmem_##name##Decrement(T volatile *p)                          \
        { return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST); }                        \
    static inline T winmem_##name##Exchange(T volatile *p, T v)                      \
        { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }                       \
    static inline T winmem_##name##ExchangeAdd(T volatile *p, T v)                   \
        { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }                        \
    static inline T winmem_##name##CompareExchange(T volatile *p, T v, T cmp)        \
        { __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); \
          return cmp; }
WINMEM_ATOMIC_OPS(Interlocked, LONG)
WINMEM_ATOMIC_OPS(Interlocked64_, LONG64)
#undef WINMEM_ATOMIC_OPS

static inline PVOID winmem_InterlockedExchangePointer(PVOID volatile *p, PVOID v)
    { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
static inline PVOID winmem_InterlockedCompareExchangePointer(PVOID volatile *p, PVOID v, PVOID cmp)
    { __atomic_compare_exchange_n(p, &cmp, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); return cmp; }
static inline LONG winmem_InterlockedOr(LONG volatile *p, LONG v)
    { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
static inline LONG winmem_InterlockedAnd(LONG volatile *p, LONG v)
    { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
static inline LONG winmem_InterlockedXor(LONG volatile *p, LONG v)
    { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }
static inline void winmem_MemoryBarrier(void) { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

/* ------------------------------------------------------- Win32 names */
#ifndef WINMEM_NO_WIN32_NAMES
#define GetLastError                    winmem_GetLastError
#define SetLastError                    winmem_SetLastError
#define Sleep                           winmem_Sleep
#define GetCurrentProcessId             winmem_GetCurrentProcessId
#define GetCurrentThreadId              winmem_GetCurrentThreadId
#define GetCurrentProcess               winmem_GetCurrentProcess
#define GetCurrentThread                winmem_GetCurrentThread
#define GetTickCount                    winmem_GetTickCount
#define GetTickCount64                  winmem_GetTickCount64
#define QueryPerformanceCounter         winmem_QueryPerformanceCounter
#define QueryPerformanceFrequency       winmem_QueryPerformanceFrequency
#define GetSystemInfo                   winmem_GetSystemInfo
#define GetNativeSystemInfo             winmem_GetNativeSystemInfo
#define GetLargePageMinimum             winmem_GetLargePageMinimum
#define GlobalMemoryStatusEx            winmem_GlobalMemoryStatusEx
#define GetProcessMemoryInfo            winmem_GetProcessMemoryInfo
#define K32GetProcessMemoryInfo         winmem_GetProcessMemoryInfo
#define GetProcessWorkingSetSize        winmem_GetProcessWorkingSetSize
#define SetProcessWorkingSetSize        winmem_SetProcessWorkingSetSize
#define VirtualAlloc                    winmem_VirtualAlloc
#define VirtualFree                     winmem_VirtualFree
#define VirtualProtect                  winmem_VirtualProtect
#define VirtualQuery                    winmem_VirtualQuery
#define VirtualLock                     winmem_VirtualLock
#define VirtualUnlock                   winmem_VirtualUnlock
#define GetWriteWatch                   winmem_GetWriteWatch
#define ResetWriteWatch                 winmem_ResetWriteWatch
#define CloseHandle                     winmem_CloseHandle
#define DuplicateHandle                 winmem_DuplicateHandle
#define GetHandleInformation            winmem_GetHandleInformation
#define SetHandleInformation            winmem_SetHandleInformation
#define CreateFileA                     winmem_CreateFileA
#define CreateFileW                     winmem_CreateFileW
#define DeleteFileA                     winmem_DeleteFileA
#define DeleteFileW                     winmem_DeleteFileW
#define ReadFile                        winmem_ReadFile
#define WriteFile                       winmem_WriteFile
#define SetFilePointer                  winmem_SetFilePointer
#define SetFilePointerEx                winmem_SetFilePointerEx
#define SetEndOfFile                    winmem_SetEndOfFile
#define GetFileSize                     winmem_GetFileSize
#define GetFileSizeEx                   winmem_GetFileSizeEx
#define FlushFileBuffers                winmem_FlushFileBuffers
#define CreateFileMappingA              winmem_CreateFileMappingA
#define CreateFileMappingW              winmem_CreateFileMappingW
#define OpenFileMappingA                winmem_OpenFileMappingA
#define OpenFileMappingW                winmem_OpenFileMappingW
#define MapViewOfFile                   winmem_MapViewOfFile
#define MapViewOfFileEx                 winmem_MapViewOfFileEx
#define UnmapViewOfFile                 winmem_UnmapViewOfFile
#define FlushViewOfFile                 winmem_FlushViewOfFile
#ifdef UNICODE
#define CreateFile                      winmem_CreateFileW
#define DeleteFile                      winmem_DeleteFileW
#define CreateFileMapping               winmem_CreateFileMappingW
#define OpenFileMapping                 winmem_OpenFileMappingW
#else
#define CreateFile                      winmem_CreateFileA
#define DeleteFile                      winmem_DeleteFileA
#define CreateFileMapping               winmem_CreateFileMappingA
#define OpenFileMapping                 winmem_OpenFileMappingA
#endif
#define GetProcessHeap                  winmem_GetProcessHeap
#define GetProcessHeaps                 winmem_GetProcessHeaps
#define HeapCreate                      winmem_HeapCreate
#define HeapDestroy                     winmem_HeapDestroy
#define HeapAlloc                       winmem_HeapAlloc
#define HeapReAlloc                     winmem_HeapReAlloc
#define HeapFree                        winmem_HeapFree
#define HeapSize                        winmem_HeapSize
#define HeapValidate                    winmem_HeapValidate
#define HeapWalk                        winmem_HeapWalk
#define HeapCompact                     winmem_HeapCompact
#define HeapLock                        winmem_HeapLock
#define HeapUnlock                      winmem_HeapUnlock
#define HeapSetInformation              winmem_HeapSetInformation
#define HeapQueryInformation            winmem_HeapQueryInformation
#define HeapSummary                     winmem_HeapSummary
#define GlobalAlloc                     winmem_GlobalAlloc
#define GlobalReAlloc                   winmem_GlobalReAlloc
#define GlobalFree                      winmem_GlobalFree
#define GlobalLock                      winmem_GlobalLock
#define GlobalUnlock                    winmem_GlobalUnlock
#define GlobalSize                      winmem_GlobalSize
#define GlobalFlags                     winmem_GlobalFlags
#define GlobalHandle                    winmem_GlobalHandle
#define GlobalDiscard                   winmem_GlobalDiscard
#define LocalAlloc                      winmem_LocalAlloc
#define LocalReAlloc                    winmem_LocalReAlloc
#define LocalFree                       winmem_LocalFree
#define LocalLock                       winmem_LocalLock
#define LocalUnlock                     winmem_LocalUnlock
#define LocalSize                       winmem_LocalSize
#define LocalFlags                      winmem_LocalFlags
#define LocalHandle                     winmem_LocalHandle
#define LocalDiscard                    winmem_LocalDiscard
#define IsEqualGUID                     winmem_IsEqualGUID
#define IsEqualIID                      winmem_IsEqualGUID
#define IID_IUnknown                    winmem_IID_IUnknown
#define IID_IMalloc                     winmem_IID_IMalloc
#define CoTaskMemAlloc                  winmem_CoTaskMemAlloc
#define CoTaskMemRealloc                winmem_CoTaskMemRealloc
#define CoTaskMemFree                   winmem_CoTaskMemFree
#define CoGetMalloc                     winmem_CoGetMalloc
#define AddVectoredExceptionHandler     winmem_AddVectoredExceptionHandler
#define RemoveVectoredExceptionHandler  winmem_RemoveVectoredExceptionHandler
#define AddVectoredContinueHandler      winmem_AddVectoredContinueHandler
#define RemoveVectoredContinueHandler   winmem_RemoveVectoredContinueHandler
#define SetUnhandledExceptionFilter     winmem_SetUnhandledExceptionFilter
#define UnhandledExceptionFilter        winmem_UnhandledExceptionFilter
#define RaiseException                  winmem_RaiseException
#define InterlockedIncrement            winmem_InterlockedIncrement
#define InterlockedDecrement            winmem_InterlockedDecrement
#define InterlockedExchange             winmem_InterlockedExchange
#define InterlockedExchangeAdd          winmem_InterlockedExchangeAdd
#define InterlockedCompareExchange      winmem_InterlockedCompareExchange
#define InterlockedIncrement64          winmem_Interlocked64_Increment
#define InterlockedDecrement64          winmem_Interlocked64_Decrement
#define InterlockedExchange64           winmem_Interlocked64_Exchange
#define InterlockedExchangeAdd64        winmem_Interlocked64_ExchangeAdd
#define InterlockedCompareExchange64    winmem_Interlocked64_CompareExchange
#define InterlockedExchangePointer      winmem_InterlockedExchangePointer
#define InterlockedCompareExchangePointer winmem_InterlockedCompareExchangePointer
#define InterlockedOr                   winmem_InterlockedOr
#define InterlockedAnd                  winmem_InterlockedAnd
#define InterlockedXor                  winmem_InterlockedXor
#define MemoryBarrier                   winmem_MemoryBarrier
#endif

#ifdef __cplusplus
}
#endif
#endif /* WINMEM_H */
