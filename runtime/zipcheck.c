/* zipcheck.c — central-directory checks before extraction (see zipcheck.h). */
#include "runtime/zipcheck.h"

#include <string.h>

#define EOCD_SIG 0x06054b50u
#define CDH_SIG	 0x02014b50u
#define EOCD_LEN 22
#define CDH_LEN	 46
#define S_TYPE	 0170000u
#define S_LINK	 0120000u

static unsigned int rd16(const unsigned char *p)
{
	return (unsigned int)p[0] | (unsigned int)p[1] << 8;
}

static uint32_t rd32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int rt_zip_is_zip(const unsigned char *data, size_t len)
{
	return len >= 4 && data[0] == 'P' && data[1] == 'K' &&
	       ((data[2] == 3 && data[3] == 4) || (data[2] == 5 && data[3] == 6));
}

int rt_zip_name_ok(const char *name, size_t len)
{
	size_t i, seg = 0;

	if (len == 0 || name[0] == '/')
		return 0;
	for (i = 0; i <= len; i++) {
		if (i < len && (name[i] == '\0' || name[i] == '\\'))
			return 0;
		if (i == len || name[i] == '/') {
			if (i - seg == 2 && name[seg] == '.' && name[seg + 1] == '.')
				return 0;
			seg = i + 1;
		}
	}
	return 1;
}

/* The end-of-central-directory record: the last signature within the
 * final 22 + 65535 bytes whose comment length reaches the end exactly. */
static const unsigned char *find_eocd(const unsigned char *data, size_t len)
{
	size_t start, i;

	if (len < EOCD_LEN)
		return NULL;
	start = len > EOCD_LEN + 65535 ? len - EOCD_LEN - 65535 : 0;
	for (i = len - EOCD_LEN + 1; i-- > start;) {
		if (rd32(data + i) == EOCD_SIG && i + EOCD_LEN + rd16(data + i + 20) == len)
			return data + i;
	}
	return NULL;
}

int rt_zip_check(const unsigned char *data, size_t len, uint64_t max_total,
		 struct rt_zip_info *info, struct hc_err *err)
{
	const unsigned char *eocd = find_eocd(data, len), *p, *end;
	unsigned int n, i;
	uint32_t cd_size, cd_off;
	uint64_t total = 0;

	if (!eocd)
		return hc_err_set(err, "not a zip archive (no end of central directory)");
	n = rd16(eocd + 10);
	cd_size = rd32(eocd + 12);
	cd_off = rd32(eocd + 16);
	if (n == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu)
		return hc_err_set(err, "zip64 archives are not supported");
	if (rd16(eocd + 4) != 0 || rd16(eocd + 6) != 0 || rd16(eocd + 8) != n)
		return hc_err_set(err, "multi-volume zip archives are not supported");
	if ((size_t)cd_off > (size_t)(eocd - data) || cd_size > (size_t)(eocd - data) - cd_off)
		return hc_err_set(err, "zip central directory is out of bounds");
	p = data + cd_off;
	end = p + cd_size;
	for (i = 0; i < n; i++) {
		unsigned int nlen, xlen, clen;
		uint32_t usize, ext;
		const char *name;

		if ((size_t)(end - p) < CDH_LEN || rd32(p) != CDH_SIG)
			return hc_err_set(err, "zip central directory entry %u is malformed", i);
		usize = rd32(p + 24);
		nlen = rd16(p + 28);
		xlen = rd16(p + 30);
		clen = rd16(p + 32);
		ext = rd32(p + 38);
		if ((size_t)(end - p) - CDH_LEN < (size_t)nlen + xlen + clen)
			return hc_err_set(err, "zip central directory entry %u is truncated", i);
		name = (const char *)p + CDH_LEN;
		if (!rt_zip_name_ok(name, nlen))
			return hc_err_set(err, "zip entry '%.*s' escapes the code directory",
					  (int)(nlen > 100 ? 100 : nlen), name);
		/* Unix hosts keep st_mode in the high half of the external
		 * attributes; refuse a link whatever host the entry claims. */
		if (((ext >> 16) & S_TYPE) == S_LINK)
			return hc_err_set(err, "zip entry '%.*s' is a symbolic link",
					  (int)(nlen > 100 ? 100 : nlen), name);
		if (usize == 0xffffffffu || rd32(p + 20) == 0xffffffffu)
			return hc_err_set(err, "zip64 archives are not supported");
		total += usize;
		if (total > max_total)
			return hc_err_set(err, "zip archive expands to more than %llu bytes",
					  (unsigned long long)max_total);
		p += CDH_LEN + nlen + xlen + clen;
	}
	if (info) {
		info->entries = n;
		info->total_size = total;
	}
	return 0;
}
