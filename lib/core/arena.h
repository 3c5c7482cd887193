/* A grow-only bump allocator for third-party decoders (libpng, libjpeg)
 * that allocate and free many small blocks per image. Allocations come from
 * a chain of blocks that survive ff_arena_reset, so decoding the next image
 * of the same kind and size reuses them and calls malloc no more: the same
 * sequence of requests lands in the same blocks. Frees are no-ops; the
 * whole arena is released at once. One thread at a time. */
#ifndef FF_CORE_ARENA_H
#define FF_CORE_ARENA_H

#include <stddef.h>

typedef struct ff_arena_block ff_arena_block;

typedef struct ff_arena {
    ff_arena_block *first;
    ff_arena_block *cur; /* the block allocations come from */
    size_t blocks;       /* blocks created so far (tests watch it) */
} ff_arena;

/* 64-byte aligned, uninitialised; NULL when a new block cannot be had. */
void *ff_arena_alloc(ff_arena *a, size_t bytes);
/* Forgets every allocation, keeps the blocks. */
void ff_arena_reset(ff_arena *a);
/* Frees every block; the arena is empty (and reusable) afterwards. */
void ff_arena_release(ff_arena *a);

#endif
