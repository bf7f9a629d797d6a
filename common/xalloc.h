/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/*
 * Allocation that cannot fail: on exhaustion the program prints "out of memory"
 * and aborts (as crun and bubblewrap do), so ENOMEM is not threaded through every
 * caller.  Not for the parasite blob.
 */
__attribute__((noreturn)) void xoom(void);
void *xmalloc(size_t size);
void *xzalloc(size_t size);
/*
 * Page-aligned, for buffers that page data is copied into or out of by the
 * kernel (process_vm_readv, write): on this AMD host the kernel's copy of a
 * page to a destination 16 bytes off page alignment (malloc's usual offset
 * for big blocks) runs at a quarter of the aligned speed.  Freed with free().
 */
void *xmalloc_pages(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Like reallocarray(): checks nmemb * size for overflow. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
