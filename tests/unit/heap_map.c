/*
 * heap_map.c — the granule map (src/heap/heap_map.c, invariant P4) against
 * a model: spans recorded, replaced and cleared, including across the 4 GiB
 * boundary between two leaves; addresses outside the 47-bit space; and
 * readers that look up while a writer changes the map, which must only
 * ever see NULL or one of the spans really recorded there.  The map never
 * touches the memory it describes, so the addresses are just numbers.
 */
#include "heap/heap.h"
#include "unit.h"

#include <pthread.h>

#define G ((uintptr_t)0x10000)
#define BASE ((uintptr_t)0x300000000000)
#define SLOTS 4096                        /* granules modelled, around a leaf edge */

static struct heap_span spans[8];
static struct heap_span *model[SLOTS];
static uintptr_t first;                   /* address of model[0] */

static int mismatches(void)
{
    int bad = 0;
    for (int i = 0; i < SLOTS; i++) {
        bad += heap_map_find((void *)(first + (uintptr_t)i * G)) != model[i];
        bad += heap_map_find((void *)(first + (uintptr_t)i * G + G - 1)) != model[i];
    }
    return bad;
}

static unsigned long rng = 99;
static unsigned rnd(unsigned n)
{
    rng = rng * 6364136223846793005ul + 1442695040888963407ul;
    return (unsigned)(rng >> 33) % n;
}

static int stop;                /* the readers run until it is set */
static volatile long wild;

static void *reader(void *arg)
{
    (void)arg;
    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
        for (int i = 0; i < SLOTS; i += 7) {
            struct heap_span *s = heap_map_find((void *)(first + (uintptr_t)i * G));
            if (s && (s < spans || s >= spans + 8))
                wild++;
        }
    return NULL;
}

int main(void)
{
    /* Put the modelled window across a leaf boundary (every 4 GiB). */
    first = BASE + ((uintptr_t)4 << 30) - (SLOTS / 2) * G;
    size_t before = heap_map_count();
    CHECK(heap_map_find((void *)first) == NULL);
    CHECK(heap_map_find((void *)((uintptr_t)1 << 47)) == NULL);
    CHECK(heap_map_find((void *)UINTPTR_MAX) == NULL);
    CHECK(!heap_map_set((uintptr_t)1 << 47, G, &spans[0]));

    /* One span across the leaf edge. */
    uintptr_t edge = first + (SLOTS / 2 - 3) * G;
    CHECK(heap_map_set(edge, 6 * G, &spans[1]));
    for (int i = 0; i < 6; i++)
        model[SLOTS / 2 - 3 + i] = &spans[1];
    CHECK_EQ(mismatches(), 0);
    CHECK_EQ(heap_map_count(), before + 6);
    heap_map_clear(edge, 6 * G);
    for (int i = 0; i < 6; i++)
        model[SLOTS / 2 - 3 + i] = NULL;
    CHECK_EQ(mismatches(), 0);
    CHECK_EQ(heap_map_count(), before);

    /* Random sets and clears with readers running. */
    pthread_t readers[2];
    for (int t = 0; t < 2; t++)
        pthread_create(&readers[t], NULL, reader, NULL);
    int bad = 0;
    for (int step = 0; step < 20000; step++) {
        int at = (int)rnd(SLOTS - 64), n = 1 + (int)rnd(64);
        struct heap_span *s = rnd(3) ? &spans[rnd(8)] : NULL;
        if (s)
            bad += !heap_map_set(first + (uintptr_t)at * G, (size_t)n * G, s);
        else
            heap_map_clear(first + (uintptr_t)at * G, (size_t)n * G);
        for (int i = at; i < at + n; i++)
            model[i] = s;
        if (step % 1000 == 0)
            bad += mismatches();
    }
    __atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
    for (int t = 0; t < 2; t++)
        pthread_join(readers[t], NULL);
    CHECK_EQ(bad, 0);
    CHECK_EQ(wild, 0);
    CHECK_EQ(mismatches(), 0);
    size_t live = 0;
    for (int i = 0; i < SLOTS; i++)
        live += model[i] != NULL;
    CHECK_EQ(heap_map_count(), before + live);
    heap_map_clear(first, SLOTS * G);
    CHECK_EQ(heap_map_count(), before);
    return unit_finish();
}
