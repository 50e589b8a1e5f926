/*
 * pool.c — fixed-size metadata objects carved from host pages.
 */
#include "base.h"
#include "../os/os.h"

#define POOL_CHUNK ((size_t)64 * 1024)

bool wm_pool_reserve(struct wm_pool *pool, size_t n)
{
    while (pool->free_count < n) {
        void *chunk = NULL;
        if (os_map(&chunk, POOL_CHUNK, OS_PROT_READ | OS_PROT_WRITE, OS_MAP_COMMITTED) != 0)
            return false;
        pool->chunk_bytes += POOL_CHUNK;
        size_t count = POOL_CHUNK / pool->object_size;
        /* Thread the objects so the lowest address is handed out first. */
        for (size_t i = count; i-- > 0;) {
            void **obj = (void **)((char *)chunk + i * pool->object_size);
            *obj = pool->free_list;
            pool->free_list = obj;
        }
        pool->free_count += count;
    }
    return true;
}

void *wm_pool_get(struct wm_pool *pool)
{
    if (!pool->free_list && !wm_pool_reserve(pool, 1))
        return NULL;
    void **obj = pool->free_list;
    pool->free_list = *obj;
    pool->free_count--;
    pool->live++;
    return obj;
}

void wm_pool_put(struct wm_pool *pool, void *object)
{
    WM_ASSERT(pool->live > 0);
    *(void **)object = pool->free_list;
    pool->free_list = object;
    pool->free_count++;
    pool->live--;
}
