/* SPDX-License-Identifier: GPL-2.0 */
/* Little-endian integers of n bytes (1..8), whatever the host's order. */
#ifndef VT_LE_H
#define VT_LE_H

#include <stdint.h>

static inline void vt_le_put(unsigned char *p, uint64_t v, int n)
{
	while (n--) {
		*p++ = v;
		v >>= 8;
	}
}

static inline uint64_t vt_le_get(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = (v << 8) | p[n];
	return v;
}

static inline uint16_t vt_le16(const unsigned char *p)
{
	return vt_le_get(p, 2);
}

static inline uint32_t vt_le32(const unsigned char *p)
{
	return vt_le_get(p, 4);
}

static inline uint64_t vt_le64(const unsigned char *p)
{
	return vt_le_get(p, 8);
}

#endif
