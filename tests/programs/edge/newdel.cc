/*
 * newdel.cc — C++'s allocation through libstdc++'s operator new and delete,
 * which it builds on malloc, aligned_alloc and free: containers, arrays,
 * over-aligned types (64 B and 4 KiB), nothrow forms, sized delete, and
 * std::bad_alloc for a size no allocator can give.  Prints "ok".
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>
#include <map>
struct alignas(64) Wide { char b[200]; };
struct alignas(4096) Page { char b[10]; };
int main() {
    int bad = 0;
    std::vector<std::string> v;
    for (int i = 0; i < 10000; i++) v.push_back(std::string(i % 300, 'x'));
    std::map<int, std::unique_ptr<int[]>> m;
    for (int i = 0; i < 1000; i++) m[i] = std::make_unique<int[]>(i + 1);
    Wide *w = new Wide; bad += (uintptr_t)w % 64 != 0; delete w;
    Wide *wa = new Wide[7]; bad += (uintptr_t)wa % 64 != 0; delete[] wa;
    Page *p = new Page; bad += (uintptr_t)p % 4096 != 0; delete p;
    Page *pn = new (std::nothrow) Page; bad += !pn || (uintptr_t)pn % 4096 != 0; delete pn;
    int *n = new (std::nothrow) int[10]; bad += !n; delete[] n;
    volatile size_t huge = (size_t)1 << 62;
    try { char *x = new char[huge]; x[0] = 1; std::printf("%p\n", (void *)x); bad++; delete[] x; }
    catch (const std::bad_alloc &) {}
    char *big = static_cast<char *>(::operator new(1000)); ::operator delete(big, 1000);
    std::printf(bad ? "newdel: %d bad\n" : "ok\n", bad);
    return bad != 0;
}
