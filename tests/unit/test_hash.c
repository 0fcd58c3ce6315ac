/* test_hash.c - util/hash.h against FNV-1a's published vectors (Fowler,
 * Noll, Vo: draft-eastlake-fnv), and the stored values that must not move:
 * the channels' short alarm ids and event hashes as written before. */
#include "../../util/hash.h"

#include "testlib.h"

static void test_fnv1a64_gives_the_published_vectors(void)
{
	CHECK(fnv1a64_str("") == 0xcbf29ce484222325ULL);
	CHECK(fnv1a64_str("a") == 0xaf63dc4c8601ec8cULL);
	CHECK(fnv1a64_str("foobar") == 0x85944171f73967e8ULL);
	CHECK(fnv1a64("foobar", 6) == 0x85944171f73967e8ULL);
	CHECK(fnv1a64("", 0) == 0xcbf29ce484222325ULL);
}

static void test_fnv1a64_incremental_equals_the_whole(void)
{
	uint64_t h = fnv1a64_add(FNV1A64_BASIS, "foo", 3);

	CHECK(fnv1a64_add_str(h, "bar") == fnv1a64_str("foobar"));
	CHECK(fnv1a64_byte(fnv1a64_str("fooba"), 'r') == fnv1a64_str("foobar"));
	/* bytes past a NUL count in the sized form */
	CHECK(fnv1a64("a\0b", 3) != fnv1a64_str("a"));
}

static void test_fnv1a32_gives_the_published_vectors(void)
{
	CHECK(fnv1a32_str("") == 0x811c9dc5u);
	CHECK(fnv1a32_str("a") == 0xe40c292cu);
	CHECK(fnv1a32_str("foobar") == 0xbf9cf968u);
}

static void test_hash_fold_mixes_the_high_half_into_the_low(void)
{
	CHECK((uint32_t)hash_fold(0x0000000100000000ULL) == 1u);
	CHECK((uint32_t)hash_fold(0x85944171f73967e8ULL) == (0x85944171u ^ 0xf73967e8u));
}

/* The channels' state files keep an event's hash under a basis a digit
 * short of FNV's: the value written before the helper existed. */
static void test_a_custom_basis_gives_the_values_stored_before(void)
{
	CHECK(fnv1a64_add(1469598103934665603ULL, "", 0) == 1469598103934665603ULL);
	CHECK(fnv1a64_add(1469598103934665603ULL, "a", 1) == ((1469598103934665603ULL ^ 'a') * 1099511628211ULL));
}

int main(void)
{
	tl_prog = "hash";
	RUN(test_fnv1a64_gives_the_published_vectors);
	RUN(test_fnv1a64_incremental_equals_the_whole);
	RUN(test_fnv1a32_gives_the_published_vectors);
	RUN(test_hash_fold_mixes_the_high_half_into_the_low);
	RUN(test_a_custom_basis_gives_the_values_stored_before);
	return TL_DONE();
}
