/*
 * section.c — white-box tests of named sections across processes
 * (src/section): what a conformance test cannot show from one process.
 * The children are this program run again (fork and exec, so that nothing
 * of the parent's handle table or name list is inherited):
 *   - a section created by name in one process is opened by name in another
 *     and both see each other's writes (M14.1); the child's
 *     CreateFileMapping of the name gets ERROR_ALREADY_EXISTS and the old
 *     size;
 *   - the name lives while any process holds a handle and goes with the last
 *     one (M9.2), whichever process closes last;
 *   - a process killed while it holds the only handle leaves no name behind:
 *     the next open fails with ERROR_FILE_NOT_FOUND and the namespace
 *     directory has no file of it (M9.3);
 *   - eight processes creating one name at once make one object: exactly
 *     one of them sees last error 0, all see the same memory;
 *   - a creator and four openers exchange data through one name;
 *   - when every holder is killed the name goes all the same;
 *   - another user (when the test runs as root and can become one) finds no
 *     object by the name and may not open its file;
 *   - a page of a SEC_RESERVE section committed in one process is committed
 *     in a view another process maps afterwards, and in one it had mapped
 *     before: its next query or touch finds it (M12.2);
 *   - the namespace directory is this user's only (mode 0700).
 * The registry, the handle table and the sections validate after each case.
 */
#define _GNU_SOURCE
#include "section/section.h"
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *self;
static char prefix[64];            /* names unique to this run */

static void name_of(char *out, size_t room, const char *what)
{
    snprintf(out, room, "%s-%s", prefix, what);
}

static void check_all_valid(void)
{
    CHECK_VALID();
    const char *why = NULL;
    bool ok = obj_validate(&why) && section_validate(&why);
    if (!ok)
        printf("  (%s)\n", why);
    CHECK(ok);
}

/* A child: this program run as `self child CASE NAME`, its stdin and
 * stdout pipes to the parent. */
struct kid { pid_t pid; int to, from; };

static struct kid spawn(const char *what, const char *name)
{
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0)
        return (struct kid){ -1, -1, -1 };
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execl(self, self, "child", what, name, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    return (struct kid){ pid, in[1], out[0] };
}

/* A line from fd: a child's from its parent, or the parent's from a child
 * (its "ready" and the like). */
static void read_line(int fd, char *buf, size_t room)
{
    size_t n = 0;
    while (n + 1 < room && read(fd, buf + n, 1) == 1 && buf[n] != '\n')
        n++;
    buf[n] = '\0';
}

static void hear(const struct kid *k, char *buf, size_t room) { read_line(k->from, buf, room); }

/* Lets a child that waits for a line go on. */
static void tell(const struct kid *k)
{
    CHECK(write(k->to, "x\n", 2) == 2);
}

/* Its exit status, 128 + the signal when one ended it. */
static int finish(struct kid *k)
{
    int status = 0;
    close(k->to);
    close(k->from);
    waitpid(k->pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}


/* ---------------------------------------------------------------- children */
/* Each returns its exit status: 0 when everything it expected held. */
static int child(const char *what, const char *name)
{
    if (!strcmp(what, "open-write")) {          /* open, check the parent's bytes, answer */
        HANDLE h = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
        char *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        if (!p || strcmp(p, "from the parent"))
            return 1;
        strcpy(p + 4096, "from the child");
        HANDLE again = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 1, name);
        if (!again || GetLastError() != ERROR_ALREADY_EXISTS)
            return 2;
        MEMORY_BASIC_INFORMATION m;
        char *q = MapViewOfFile(again, FILE_MAP_READ, 0, 0, 0);
        if (!q || VirtualQuery(q, &m, sizeof m) != sizeof m || m.RegionSize != 65536)
            return 3;                             /* the old size, not the new (M10.1) */
        UnmapViewOfFile(q);
        UnmapViewOfFile(p);
        CloseHandle(again);
        CloseHandle(h);
        return 0;
    }
    if (!strcmp(what, "hold")) {                 /* open, say so, wait for a line, close */
        HANDLE h = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
        printf("%s\n", h ? "open" : "missing");
        fflush(stdout);
        char line[16];
        read_line(0, line, sizeof line);
        CloseHandle(h);
        return h ? 0 : 1;
    }
    if (!strcmp(what, "create-and-wait")) {      /* the only holder, killed by the parent */
        HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
        printf("%s\n", h && GetLastError() == 0 ? "created" : "failed");
        fflush(stdout);
        for (;;)
            pause();
    }
    if (!strcmp(what, "race")) {                 /* create at once with the others */
        HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                      65536 * (1 + getpid() % 4), name);
        DWORD err = GetLastError();
        long *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 65536) : NULL;
        if (!p)
            return 1;
        __atomic_add_fetch(&p[0], 1, __ATOMIC_SEQ_CST);
        printf("%lu\n", (unsigned long)err);
        fflush(stdout);
        char line[16];
        read_line(0, line, sizeof line);          /* hold it until everyone counted */
        UnmapViewOfFile(p);
        CloseHandle(h);
        return 0;
    }
    if (!strcmp(what, "reserved")) {             /* the parent committed page 1 only */
        HANDLE h = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
        char *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        MEMORY_BASIC_INFORMATION m0, m1;
        if (!p || !VirtualQuery(p, &m0, sizeof m0) || !VirtualQuery(p + 4096, &m1, sizeof m1))
            return 1;
        if (m0.State != MEM_RESERVE || m1.State != MEM_COMMIT || m1.Protect != PAGE_READWRITE)
            return 2;
        if (strcmp(p + 4096, "committed by the parent"))
            return 3;
        UnmapViewOfFile(p);
        CloseHandle(h);
        return 0;
    }
    if (!strcmp(what, "opener")) {              /* one of N: answer in slot i, read slot 0 */
        HANDLE h = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
        long *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        if (!p || p[0] != 4242)
            return 1;
        char line[16];
        read_line(0, line, sizeof line);          /* the slot to write */
        int slot = atoi(line);
        p[512 * slot] = 1000 + slot;              /* a page each, so nothing is shared by accident */
        printf("done\n");
        fflush(stdout);
        read_line(0, line, sizeof line);
        UnmapViewOfFile(p);
        CloseHandle(h);
        return 0;
    }
    if (!strcmp(what, "stranger")) {            /* another user: neither by name nor by path */
        if (setgid(65534) != 0 || setuid(65534) != 0)
            return 90;
        SetLastError(0);
        HANDLE h = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
        DWORD err = GetLastError();
        int fd = open(getenv("WINMEM_TEST_OBJECT"), O_RDONLY);
        int open_errno = errno;
        rmdir(section_namespace());               /* its own, empty */
        if (h || err != ERROR_FILE_NOT_FOUND)
            return 1;
        return fd < 0 && open_errno == EACCES ? 0 : 2;
    }
    if (!strcmp(what, "reserved-late")) {        /* mapped before the parent commits */
        HANDLE h = OpenFileMappingA(FILE_MAP_WRITE, FALSE, name);
        char *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
        printf("%s\n", p ? "mapped" : "failed");
        fflush(stdout);
        char line[16];
        read_line(0, line, sizeof line);          /* the parent committed pages 2 and 3 */
        MEMORY_BASIC_INFORMATION m;
        if (!p || !VirtualQuery(p + 3 * 4096, &m, sizeof m) || m.State != MEM_COMMIT)
            return 1;                             /* a query sees it */
        if (strcmp(p + 2 * 4096, "committed later"))
            return 2;                             /* a touch of page 2 faults, then sees it */
        p[2 * 4096] = 'C';                        /* and may write: the parent reads it */
        UnmapViewOfFile(p);
        CloseHandle(h);
        return 0;
    }
    if (!strcmp(what, "probe"))
        return 0;
    return 99;
}

/* ------------------------------------------------------------------ cases */
static void shared_between_processes(void)
{
    char name[128];
    name_of(name, sizeof name, "shared");
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
    CHECK(h != NULL);
    CHECK_EQ(GetLastError(), 0);
    char *p = MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0);
    CHECK(p != NULL);
    if (!p)
        return;
    strcpy(p, "from the parent");
    struct kid k = spawn("open-write", name);
    CHECK_EQ(finish(&k), 0);
    CHECK(!strcmp(p + 4096, "from the child"));
    UnmapViewOfFile(p);
    CloseHandle(h);
    SetLastError(0);
    CHECK(OpenFileMappingA(FILE_MAP_READ, FALSE, name) == NULL);
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
    check_all_valid();
}

/* The name outlives the creator's handle while a child holds one, and goes
 * with the child's (M9.2). */
static void name_survives_creator(void)
{
    char name[128], line[32];
    name_of(name, sizeof name, "survives");
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 65536, name);
    CHECK(h != NULL);
    struct kid k = spawn("hold", name);
    hear(&k, line, sizeof line);
    CHECK(!strcmp(line, "open"));
    CHECK(CloseHandle(h));
    HANDLE again = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    CHECK(again != NULL);                      /* the child's handle keeps the name */
    CloseHandle(again);
    tell(&k);
    CHECK_EQ(finish(&k), 0);
    SetLastError(0);
    CHECK(OpenFileMappingA(FILE_MAP_READ, FALSE, name) == NULL);
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
    check_all_valid();
}

/* How many files of this run's names the namespace directory holds. */
static int files_left(void)
{
    DIR *d = opendir(section_namespace());
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;)
        n += strstr(e->d_name, prefix) != NULL;
    if (d)
        closedir(d);
    return n;
}

static void killed_holder_leaves_nothing(void)
{
    char name[128], line[32];
    name_of(name, sizeof name, "killed");
    struct kid k = spawn("create-and-wait", name);
    hear(&k, line, sizeof line);
    CHECK(!strcmp(line, "created"));
    HANDLE seen = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    CHECK(seen != NULL);                       /* alive while the child is */
    CloseHandle(seen);
    kill(k.pid, SIGKILL);
    CHECK_EQ(finish(&k), 128 + SIGKILL);
    SetLastError(0);
    CHECK(OpenFileMappingA(FILE_MAP_READ, FALSE, name) == NULL);
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
    CHECK_EQ(files_left(), 0);
    HANDLE fresh = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, name);
    CHECK(fresh != NULL);
    CHECK_EQ(GetLastError(), 0);               /* a new object, not the dead one */
    CloseHandle(fresh);
    CHECK_EQ(files_left(), 0);
    check_all_valid();
}

/* A creator and N openers exchange data through one named section. */
#define OPENERS 4
static void creator_and_openers(void)
{
    char name[128], line[32];
    name_of(name, sizeof name, "openers");
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                  (OPENERS + 1) * 4096, name);
    long *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    CHECK(p != NULL);
    if (!p)
        return;
    p[0] = 4242;
    struct kid k[OPENERS];
    for (int i = 0; i < OPENERS; i++)
        k[i] = spawn("opener", name);
    for (int i = 0; i < OPENERS; i++) {
        char slot[16];
        snprintf(slot, sizeof slot, "%d\n", i + 1);
        CHECK(write(k[i].to, slot, strlen(slot)) == (ssize_t)strlen(slot));
        hear(&k[i], line, sizeof line);
        CHECK(!strcmp(line, "done"));
    }
    int answered = 0;
    for (int i = 1; i <= OPENERS; i++)
        answered += p[512 * i] == 1000 + i;
    CHECK_EQ(answered, OPENERS);
    for (int i = 0; i < OPENERS; i++) {
        tell(&k[i]);
        CHECK_EQ(finish(&k[i]), 0);
    }
    UnmapViewOfFile(p);
    CloseHandle(h);
    CHECK_EQ(files_left(), 0);
    check_all_valid();
}

/* Every holder killed: the name is gone all the same. */
static void every_holder_killed(void)
{
    char name[128], line[32];
    name_of(name, sizeof name, "all-killed");
    struct kid creator = spawn("create-and-wait", name);
    hear(&creator, line, sizeof line);
    CHECK(!strcmp(line, "created"));
    struct kid other = spawn("hold", name);
    hear(&other, line, sizeof line);
    CHECK(!strcmp(line, "open"));
    kill(creator.pid, SIGKILL);
    kill(other.pid, SIGKILL);
    CHECK_EQ(finish(&creator), 128 + SIGKILL);
    CHECK_EQ(finish(&other), 128 + SIGKILL);
    SetLastError(0);
    CHECK(OpenFileMappingA(FILE_MAP_READ, FALSE, name) == NULL);
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
    CHECK_EQ(files_left(), 0);
    check_all_valid();
}

/* An object is its owner's: another user finds nothing by the name and may
 * not open the file behind it.  Needs root to become another user. */
static void other_user_refused(void)
{
    if (geteuid() != 0) {
        printf("  other user: not run (switching users needs root)\n");
        return;
    }
    char name[128], path[600];
    name_of(name, sizeof name, "owner-only");    /* only characters a name keeps as they are */
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, name);
    CHECK(h != NULL);
    snprintf(path, sizeof path, "%s/L.%s", section_namespace(), name);
    CHECK(access(path, F_OK) == 0);            /* where the object lives */
    setenv("WINMEM_TEST_OBJECT", path, 1);
    struct kid k = spawn("stranger", name);
    CHECK_EQ(finish(&k), 0);
    CloseHandle(h);
    check_all_valid();
}

#define RACERS 8
static void creation_race_makes_one(void)
{
    char name[128], line[32];
    name_of(name, sizeof name, "race");
    struct kid k[RACERS];
    for (int i = 0; i < RACERS; i++)
        k[i] = spawn("race", name);
    int created = 0, existed = 0;
    for (int i = 0; i < RACERS; i++) {
        hear(&k[i], line, sizeof line);
        created += !strcmp(line, "0");
        existed += !strcmp(line, "183");
    }
    CHECK_EQ(created, 1);
    CHECK_EQ(existed, RACERS - 1);
    HANDLE h = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    long *p = h ? MapViewOfFile(h, FILE_MAP_READ, 0, 0, 65536) : NULL;
    CHECK(p && p[0] == RACERS);                /* one object: every child counted in it */
    if (p)
        UnmapViewOfFile(p);
    CloseHandle(h);
    for (int i = 0; i < RACERS; i++) {
        tell(&k[i]);
        CHECK_EQ(finish(&k[i]), 0);
    }
    CHECK_EQ(files_left(), 0);
    check_all_valid();
}

static void reserve_commit_seen_elsewhere(void)
{
    char name[128];
    name_of(name, sizeof name, "reserved");
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0,
                                  65536, name);
    char *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(VirtualAlloc(p + 4096, 4096, MEM_COMMIT, PAGE_READWRITE) == p + 4096);
    strcpy(p + 4096, "committed by the parent");
    struct kid k = spawn("reserved", name);
    CHECK_EQ(finish(&k), 0);
    UnmapViewOfFile(p);
    CloseHandle(h);
    check_all_valid();
}

/* A page committed after another process mapped its view: that process's
 * next touch or query finds it committed (M12.2). */
static void reserve_commit_after_mapping(void)
{
    char name[128], line[32];
    name_of(name, sizeof name, "late");
    HANDLE h = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE | SEC_RESERVE, 0,
                                  65536, name);
    char *p = h ? MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0) : NULL;
    CHECK(p != NULL);
    if (!p)
        return;
    struct kid k = spawn("reserved-late", name);
    hear(&k, line, sizeof line);
    CHECK(!strcmp(line, "mapped"));
    CHECK(VirtualAlloc(p + 2 * 4096, 2 * 4096, MEM_COMMIT, PAGE_READWRITE) == p + 2 * 4096);
    strcpy(p + 2 * 4096, "committed later");
    tell(&k);
    CHECK_EQ(finish(&k), 0);
    CHECK_EQ(p[2 * 4096], 'C');
    UnmapViewOfFile(p);
    CloseHandle(h);
    check_all_valid();
}

static void namespace_is_private(void)
{
    struct stat st;
    CHECK(section_namespace() != NULL);
    CHECK(section_namespace() && lstat(section_namespace(), &st) == 0 && S_ISDIR(st.st_mode) &&
          (st.st_mode & 0777) == 0700 && st.st_uid == getuid());
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc == 4 && !strcmp(argv[1], "child"))
        return child(argv[2], argv[3]);
    snprintf(prefix, sizeof prefix, "unit-section-%d", (int)getpid());
    signal(SIGPIPE, SIG_IGN);                   /* a child that died is a failed check */
    namespace_is_private();
    struct kid probe = spawn("probe", "none");
    if (finish(&probe) != 0) {
        /* qemu-user without binfmt_misc cannot run the program again. */
        printf("  cross-process cases not run: this program cannot exec itself here\n");
        return unit_finish();
    }
    shared_between_processes();
    name_survives_creator();
    killed_holder_leaves_nothing();
    creation_race_makes_one();
    creator_and_openers();
    every_holder_killed();
    other_user_refused();
    reserve_commit_seen_elsewhere();
    reserve_commit_after_mapping();
    CHECK_EQ(obj_handle_count(), 0);
    return unit_finish();
}
