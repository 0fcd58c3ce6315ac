/* journal_format.c - the journal's on-disk record format: encoding a
 * record or segment header, checking a frame before it is trusted, and the
 * recovery scan of one segment image.  Pure: no I/O, no locks (the fuzz
 * target drives journal_scan_buffer() directly).  Format: journal.h. */
#include "journal.h"

#include <errno.h>
#include <string.h>

#include "journal_int.h"
#include "../util/crc.h"

static const char seg_magic[8] = { 'C', 'C', 'J', 'O', 'U', 'R', 'N', '1' };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* CRC of the length field and of the header after the CRC, then the payload. */
static uint32_t rec_crc(const uint8_t *hdr, const void *data, size_t len)
{
	uLong c = crc32(0L, Z_NULL, 0);

	c = crc32(c, hdr + 4, 4);
	c = crc32(c, hdr + 12, JOURNAL_HDR - 12);
	return (uint32_t)crc32_span(c, data, len);
}

void journal_encode_header(uint8_t hdr[JOURNAL_HDR], enum journal_type type, const void *data, size_t len,
			   uint32_t nlines, uint64_t seq, int64_t t_ms)
{
	put32(hdr, REC_MAGIC);
	put32(hdr + 4, (uint32_t)len);
	put32(hdr + 12, (uint32_t)type);
	put32(hdr + 16, nlines);
	put64(hdr + 20, seq);
	put64(hdr + 28, (uint64_t)t_ms);
	put32(hdr + 8, rec_crc(hdr, data, len));
}

void journal_encode_seg_header(uint8_t hdr[JOURNAL_SEG_HDR], uint64_t base)
{
	memcpy(hdr, seg_magic, 8);
	put64(hdr + 8, base);
}

/*
 * Is there a valid record at p (avail bytes readable)?  1 and *flen (header
 * + payload), 0 if not.  Everything is checked before it is trusted: the
 * magic, a sane length that fits, a known type, and the CRC.
 */
int jr_frame_valid(const uint8_t *p, size_t avail, size_t *flen)
{
	uint32_t len, type, nlines;

	if (avail < JOURNAL_HDR || jr_get32(p) != REC_MAGIC)
		return 0;
	len = jr_get32(p + 4);
	if (len > JOURNAL_MAX_RECORD || (size_t)len > avail - JOURNAL_HDR)
		return 0;
	type = jr_get32(p + 12);
	nlines = jr_get32(p + 16);
	if (type == JOURNAL_LINES) {
		if (nlines == 0 || nlines > len)
			return 0;
	} else if (type == JOURNAL_EVENT) {
		if (nlines != 0)
			return 0;
	} else {
		return 0;
	}
	if (jr_get32(p + 8) != rec_crc(p, p + JOURNAL_HDR, len))
		return 0;
	*flen = JOURNAL_HDR + len;
	return 1;
}

/* Offset of the next valid record at or after from, or len if none. */
size_t jr_next_valid_frame(const uint8_t *buf, size_t len, size_t from)
{
	static const uint8_t m[4] = { REC_MAGIC & 0xff, (REC_MAGIC >> 8) & 0xff, (REC_MAGIC >> 16) & 0xff,
				      REC_MAGIC >> 24 };
	size_t flen;

	while (from + JOURNAL_HDR <= len) {
		const uint8_t *p = memmem(buf + from, len - from, m, 4);
		if (!p)
			break;
		from = (size_t)(p - buf);
		if (jr_frame_valid(p, len - from, &flen))
			return from;
		from++;
	}
	return len;
}

void jr_rec_fill(struct journal_rec *r, const uint8_t *p, uint64_t lsn)
{
	uint32_t len = jr_get32(p + 4);

	r->type = (int)jr_get32(p + 12);
	r->lsn = lsn;
	r->end_lsn = lsn + JOURNAL_HDR + len;
	r->seq = jr_get64(p + 20);
	r->end_seq = r->seq + jr_get32(p + 16);
	r->t_ms = (int64_t)jr_get64(p + 28);
	r->data = (const char *)p + JOURNAL_HDR;
	r->len = len;
}

int journal_scan_buffer(const uint8_t *buf, size_t len, uint64_t base,
			void (*fn)(const struct journal_rec *r, void *arg), void *arg, struct journal_scan *out)
{
	size_t off = JOURNAL_SEG_HDR, flen;

	memset(out, 0, sizeof(*out));
	if (len < JOURNAL_SEG_HDR || memcmp(buf, seg_magic, 8) != 0 || jr_get64(buf + 8) != base)
		return -EINVAL;
	out->valid_end = off;
	while (off < len) {
		struct journal_rec r;

		if (!jr_frame_valid(buf + off, len - off, &flen)) {
			size_t next = jr_next_valid_frame(buf, len, off + 1);
			if (next >= len)
				break; /* no valid record after: a torn tail */
			out->corrupt++;
			off = next;
			continue;
		}
		jr_rec_fill(&r, buf + off, base + off);
		if (r.end_seq > out->next_seq)
			out->next_seq = r.end_seq;
		out->records++;
		if (fn)
			fn(&r, arg);
		off += flen;
		out->valid_end = off;
	}
	return 0;
}
