/* common/redisurl.c — hc_redis_parse_url: "redis://[:password@]host[:port][/db]"
 * (also "host:port"), percent-decoded, bounded (redis.h). */
#include "common/redis.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copy [s, s+n) into out (size outlen), decoding %XX. */
static int copy_decoded(const char *s, size_t n, char *out, size_t outlen)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < n ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (o + 1 >= outlen || c == 0)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int parse_uint(const char *s, size_t n, long max, long *out)
{
	long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

int hc_redis_parse_url(const char *url, struct hc_redis_opts *out, struct hc_err *err)
{
	const char *p, *at, *end, *hostend, *slash;
	size_t ulen;
	long v;

	if (!url || !*url)
		return hc_err_set(err, "redis url: empty");
	ulen = strlen(url);
	if (ulen > 1024)
		return hc_err_set(err, "redis url: longer than 1024 bytes");
	memset(out, 0, sizeof(*out));
	out->port = 6379;
	p = url;
	if (!strncmp(p, "redis://", 8))
		p += 8;
	else if (strstr(p, "://"))
		return hc_err_set(err, "redis url: only redis:// is supported: %s", url);
	end = url + ulen;
	/* The password may hold '/' or '@': the host starts after the last '@'. */
	at = NULL;
	for (const char *q = p; q < end; q++)
		if (*q == '@')
			at = q;
	if (at) {
		const char *colon = memchr(p, ':', (size_t)(at - p));

		if (!colon)
			return hc_err_set(err, "redis url: give the password as :password@");
		if (colon != p && !((size_t)(colon - p) == 7 && !strncmp(p, "default", 7)))
			return hc_err_set(err, "redis url: user names other than 'default' are "
					       "not supported");
		if (copy_decoded(colon + 1, (size_t)(at - colon - 1), out->password,
				 sizeof(out->password)) < 0)
			return hc_err_set(err, "redis url: bad or too long password");
		p = at + 1;
	}
	slash = memchr(p, '/', (size_t)(end - p));
	if (!slash)
		slash = end;
	if (*p == '[') {
		hostend = memchr(p, ']', (size_t)(slash - p));
		if (!hostend)
			return hc_err_set(err, "redis url: unterminated [ in host");
		if (copy_decoded(p + 1, (size_t)(hostend - p - 1), out->host, sizeof(out->host)) <
		    0)
			return hc_err_set(err, "redis url: bad host");
		hostend++;
	} else {
		hostend = memchr(p, ':', (size_t)(slash - p));
		if (!hostend)
			hostend = slash;
		if (copy_decoded(p, (size_t)(hostend - p), out->host, sizeof(out->host)) < 0)
			return hc_err_set(err, "redis url: bad or too long host");
	}
	if (!out->host[0])
		return hc_err_set(err, "redis url: no host in %s", url);
	if (hostend < slash) {
		if (*hostend != ':' ||
		    parse_uint(hostend + 1, (size_t)(slash - hostend - 1), 65535, &v) < 0 || v == 0)
			return hc_err_set(err, "redis url: bad port in %s", url);
		out->port = (int)v;
	}
	if (slash < end && slash + 1 < end) {
		if (parse_uint(slash + 1, (size_t)(end - slash - 1), INT_MAX, &v) < 0)
			return hc_err_set(err, "redis url: bad database number in %s", url);
		out->db = (int)v;
	}
	return 0;
}
