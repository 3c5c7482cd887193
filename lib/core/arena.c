#include "core/arena.h"

#include <stdint.h>

#include "core/memory.h"

#define ARENA_ALIGN 64
#define ARENA_MIN_BLOCK ((size_t)64 << 10)

struct ff_arena_block {
    ff_arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
};

/* The header is padded so that the first allocation is aligned too. */
#define HEADER_BYTES ((sizeof(ff_arena_block) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static unsigned char *block_data(ff_arena_block *b) { return (unsigned char *)b + HEADER_BYTES; }

void *ff_arena_alloc(ff_arena *a, size_t bytes) {
    size_t need;
    if (!ff_add_size(bytes ? bytes : 1, ARENA_ALIGN - 1, &need)) return NULL;
    need &= ~(size_t)(ARENA_ALIGN - 1);
    /* First fit from the current block on: a block too small for this
     * request is skipped, as it will be on the next image. */
    ff_arena_block *last = NULL;
    for (ff_arena_block *b = a->cur; b != NULL; last = b, b = b->next) {
        if (b->size - b->used >= need) {
            void *p = block_data(b) + b->used;
            b->used += need;
            a->cur = b;
            return p;
        }
    }
    if (last == NULL)
        for (last = a->first; last != NULL && last->next != NULL; last = last->next) {}
    size_t size = last ? last->size * 2 : ARENA_MIN_BLOCK;
    if (size < need) size = need;
    size_t total;
    if (!ff_add_size(size, HEADER_BYTES, &total)) return NULL;
    ff_arena_block *b = ff_alloc(total);
    if (b == NULL) return NULL;
    b->next = NULL;
    b->size = size;
    b->used = need;
    if (last) last->next = b;
    else a->first = b;
    a->cur = b;
    a->blocks++;
    return block_data(b);
}

void ff_arena_reset(ff_arena *a) {
    for (ff_arena_block *b = a->first; b != NULL; b = b->next) b->used = 0;
    a->cur = a->first;
}

void ff_arena_release(ff_arena *a) {
    ff_arena_block *b = a->first;
    while (b != NULL) {
        ff_arena_block *next = b->next;
        ff_free(b);
        b = next;
    }
    a->first = a->cur = NULL;
    a->blocks = 0;
}
