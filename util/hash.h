/* util/hash.h - FNV-1a, the one copy: 64-bit on every target (uint64_t, never
 * size_t, which is 32-bit on armhf), and the 32-bit form the channels' short
 * alarm ids are made of.  Pure, header-only, no includes of the project. */
#ifndef CC_UTIL_HASH_H
#define CC_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define FNV1A64_BASIS 0xcbf29ce484222325ULL /* 14695981039346656037 */
#define FNV1A64_PRIME 0x100000001b3ULL      /* 1099511628211 */
#define FNV1A32_BASIS 0x811c9dc5u           /* 2166136261 */
#define FNV1A32_PRIME 0x01000193u           /* 16777619 */

/* One byte into a running 64-bit hash h. */
static inline uint64_t fnv1a64_byte(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV1A64_PRIME;
}

/* n bytes at p into a running hash h (start from FNV1A64_BASIS, or from a
 * caller's own basis where a stored value depends on it). */
static inline uint64_t fnv1a64_add(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = fnv1a64_byte(h, b[i]);
	return h;
}

/* The bytes of s up to its NUL into a running hash h. */
static inline uint64_t fnv1a64_add_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = fnv1a64_byte(h, (unsigned char)*s);
	return h;
}

/* FNV-1a 64 of n bytes at p; of the string s. */
static inline uint64_t fnv1a64(const void *p, size_t n)
{
	return fnv1a64_add(FNV1A64_BASIS, p, n);
}

static inline uint64_t fnv1a64_str(const char *s)
{
	return fnv1a64_add_str(FNV1A64_BASIS, s);
}

/* A 64-bit hash folded to a table index's width: the high half mixed into
 * the low, so a power-of-two mask sees all of it (and armhf's 32-bit size_t
 * drops nothing it needs). */
static inline size_t hash_fold(uint64_t h)
{
	return (size_t)(h ^ (h >> 32));
}

/* FNV-1a 32 of the string s. */
static inline uint32_t fnv1a32_str(const char *s)
{
	uint32_t h = FNV1A32_BASIS;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * FNV1A32_PRIME;
	return h;
}

#endif
