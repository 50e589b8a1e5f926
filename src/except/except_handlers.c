/*
 * except_handlers.c — the vectored exception and continue handler lists.
 *
 * Adding and removing take list_mutex.  Calling the handlers copies a chunk
 * of function pointers under the mutex and calls them with the mutex
 * released (E3), so a handler may add or remove handlers, or fault, without
 * deadlocking; a handler removed meanwhile by another thread may still be
 * called once, as on Windows, where removal takes effect for the next
 * exception (reference X4).
 */
#include "except.h"

#include <pthread.h>

struct except_handler {
    struct except_handler *next, *prev;
    PVECTORED_EXCEPTION_HANDLER fn;
};

struct handler_list {
    struct except_handler *head, *tail;
    size_t count;
};

static pthread_mutex_t list_mutex = PTHREAD_MUTEX_INITIALIZER;
static struct handler_list lists[2];
static struct wm_pool handler_pool = WM_POOL_INIT(struct except_handler);

#define CALL_CHUNK 64                 /* handlers copied per visit to the lock */

void *except_handler_add(enum except_list which, bool first, PVECTORED_EXCEPTION_HANDLER fn)
{
    struct handler_list *l = &lists[which];
    pthread_mutex_lock(&list_mutex);
    struct except_handler *h = wm_pool_get(&handler_pool);
    if (h) {
        h->fn = fn;
        if (first) {
            h->prev = NULL;
            h->next = l->head;
            if (l->head)
                l->head->prev = h;
            else
                l->tail = h;
            l->head = h;
        } else {
            h->next = NULL;
            h->prev = l->tail;
            if (l->tail)
                l->tail->next = h;
            else
                l->head = h;
            l->tail = h;
        }
        l->count++;
    }
    pthread_mutex_unlock(&list_mutex);
    return h;
}

bool except_handler_remove(enum except_list which, void *handle)
{
    struct handler_list *l = &lists[which];
    bool found = false;
    pthread_mutex_lock(&list_mutex);
    for (struct except_handler *h = l->head; h && handle; h = h->next) {
        if (h != handle)
            continue;
        if (h->prev)
            h->prev->next = h->next;
        else
            l->head = h->next;
        if (h->next)
            h->next->prev = h->prev;
        else
            l->tail = h->prev;
        l->count--;
        wm_pool_put(&handler_pool, h);
        found = true;
        break;
    }
    pthread_mutex_unlock(&list_mutex);
    return found;
}

size_t except_handler_count(enum except_list which)
{
    pthread_mutex_lock(&list_mutex);
    size_t n = lists[which].count;
    pthread_mutex_unlock(&list_mutex);
    return n;
}

/* Copies up to CALL_CHUNK handlers starting at position `from`. */
static size_t copy_chunk(enum except_list which, size_t from, PVECTORED_EXCEPTION_HANDLER *out)
{
    size_t n = 0, at = 0;
    pthread_mutex_lock(&list_mutex);
    for (struct except_handler *h = lists[which].head; h && n < CALL_CHUNK; h = h->next, at++)
        if (at >= from)
            out[n++] = h->fn;
    pthread_mutex_unlock(&list_mutex);
    return n;
}

LONG except_handlers_call(enum except_list which, EXCEPTION_POINTERS *info)
{
    PVECTORED_EXCEPTION_HANDLER chunk[CALL_CHUNK];
    size_t from = 0, n;
    while ((n = copy_chunk(which, from, chunk)) > 0) {
        for (size_t i = 0; i < n; i++)
            if (chunk[i] && chunk[i](info) == EXCEPTION_CONTINUE_EXECUTION)
                return EXCEPTION_CONTINUE_EXECUTION;
        from += n;
    }
    return EXCEPTION_CONTINUE_SEARCH;
}
