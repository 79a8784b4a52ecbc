/* loadgen — the HTTP/1.1 load generator of `make bench`.
 *
 * One thread, raw non-blocking sockets and epoll, keep-alive connections,
 * no pipelining. Two ways to drive load:
 *   closed loop (default): each of -c connections sends its next request as
 *     soon as the previous reply is in, until -n requests or -t seconds;
 *     with -c 1 this is the sequential latency mode of issue 9;
 *   open loop (-r RATE): requests arrive on a schedule (uniform or Poisson)
 *     whatever the server does; an arrival waits for a free connection and
 *     its latency counts from its scheduled arrival (no coordinated omission).
 * Every reply's status is checked; latencies of good replies are kept (all of
 * them: percentiles are exact) and can be dumped for CDF plots.
 * The result is one line of key=value pairs on stdout, for scripts.
 * libcurl costs tens of microseconds per request here, which is the size of
 * the overhead we measure, hence raw sockets. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

#define LG_MAX_CONNS	   4096
#define LG_MAX_HEADERS	   32
#define LG_MAX_RESP	   (64u << 20)	 /* a reply larger than this is an error */
#define LG_MAX_SAMPLES_B   (1024u << 20) /* 1 GB of samples: 128 M requests */
#define LG_MAX_REQ	   (16u << 20)
#define LG_QUEUE	   (1u << 20) /* open-loop arrivals waiting for a connection */
#define LG_MAX_CONN_ERRORS 200	      /* consecutive failures before giving up */

enum conn_state { C_IDLE, C_CONNECTING, C_SENDING, C_READING };

struct conn {
	int fd;
	enum conn_state state;
	struct hc_buf req; /* the request being sent */
	size_t sent;
	struct hc_buf in; /* reply bytes */
	uint64_t t0;	  /* ns: arrival (open loop) or send time (closed loop) */
	int until_close;  /* reply has no length: it ends at EOF */
};

struct opts {
	const char *method;
	char host[256];
	char port[8];
	char path[4096];
	const char *headers[LG_MAX_HEADERS];
	int nheaders;
	const char *body;
	size_t body_len;
	char *body_alloc;
	char auth[512]; /* base64 of user:pass, "" when none */
	int conns;
	long long nreq;	 /* 0 = no count limit */
	double duration; /* s; 0 = no time limit */
	double rate;	 /* open loop arrivals/s; 0 = closed loop */
	int poisson;
	long long warmup;
	int expect; /* exact status, or 0 for any 2xx */
	int timeout_ms;
	const char *samples_path;
	const char *match;
	int zipf_n;
	double zipf_s;
	unsigned seed;
	int quiet;
};

struct stats {
	long long issued, done, ok, bad_status, errors, timeouts, matched, connects, dropped;
	long long codes[600];
	struct hc_buf lat; /* uint64_t ns, one per recorded reply */
};

static struct opts o;
static struct stats st;
static struct conn *conns;
static int ep = -1;
static struct addrinfo *addr;
static double *zipf_cdf;
static uint64_t *queue; /* ring of open-loop arrival times */
static size_t q_head, q_len;
static volatile sig_atomic_t interrupted;
static int consecutive_conn_errors;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bad usage or a setup failure: say what and exit 2. */
__attribute__((format(printf, 1, 2))) static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "loadgen: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static void usage(FILE *f)
{
	fprintf(
	    f, "usage: loadgen [options] http://HOST:PORT/PATH\n"
	       "\n"
	       "HTTP/1.1 keep-alive load generator (one thread, epoll). Prints one line of\n"
	       "key=value results: requests ok errors bad_status timeouts matched connects\n"
	       "duration_s rps mean_us min_us p50_us p90_us p95_us p99_us p999_us max_us codes.\n"
	       "\n"
	       "  -X, --method M       request method (default GET, or POST with a body)\n"
	       "  -H, --header 'N: V'  add a request header (repeatable)\n"
	       "  -d, --data BODY      request body\n"
	       "      --data-file F    request body from a file\n"
	       "  -u, --user U:P       HTTP basic authentication\n"
	       "  -c, --connections N  connections (default 1; closed loop: N in flight)\n"
	       "  -n, --requests N     stop after N requests (with -c 1: sequential latency mode)\n"
	       "  -t, --duration S     stop after S seconds (fractions allowed)\n"
	       "  -r, --rate R         open loop: R arrivals per second (needs -t or -n)\n"
	       "      --poisson        open loop arrivals with exponential gaps (default uniform)\n"
	       "  -w, --warmup N       do N requests first that are not recorded (requests=\n"
	       "                       and rps= count them; ok= and the latencies do not)\n"
	       "  -e, --expect CODE    the status a good reply has (default any 2xx)\n"
	       "      --timeout MS     per-request timeout (default 10000)\n"
	       "  -s, --samples FILE   write every recorded latency (us, completion order)\n"
	       "  -m, --match STR      count replies whose body contains STR (matched=)\n"
	       "      --zipf N,S       in the URL and body, {z} becomes a Zipf(S)-distributed\n"
	       "                       index in [0,N) (0 = most popular); {i} is always the\n"
	       "                       request's sequence number\n"
	       "      --seed N         random seed (default 1)\n"
	       "  -q, --quiet          no progress messages on stderr\n"
	       "  -h, --help           this text\n"
	       "\n"
	       "Exit status: 0 when every reply was good, 1 when some failed, 2 on bad usage.\n");
}

static void b64(const char *in, char *out, size_t outlen)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(in), j = 0;
	for (size_t i = 0; i < n && j + 5 < outlen; i += 3) {
		unsigned v = (unsigned char)in[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)in[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)in[i + 2];
		out[j++] = t[(v >> 18) & 63];
		out[j++] = t[(v >> 12) & 63];
		out[j++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
		out[j++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[j] = 0;
}

static void parse_url(const char *url)
{
	if (strncmp(url, "http://", 7))
		die("only http:// URLs are supported: %s", url);
	const char *h = url + 7, *slash = strchr(h, '/');
	size_t hl = slash ? (size_t)(slash - h) : strlen(h);
	char hostport[256];
	if (hl == 0 || hl >= sizeof(hostport))
		die("bad host in %s", url);
	memcpy(hostport, h, hl);
	hostport[hl] = 0;
	char *colon = strrchr(hostport, ':');
	snprintf(o.port, sizeof(o.port), "80");
	if (colon) {
		*colon = 0;
		if (strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(o.port))
			die("bad port in %s", url);
		snprintf(o.port, sizeof(o.port), "%s", colon + 1);
	}
	snprintf(o.host, sizeof(o.host), "%s", hostport);
	if (strlen(slash ? slash : "/") >= sizeof(o.path))
		die("path too long in %s", url);
	snprintf(o.path, sizeof(o.path), "%s", slash ? slash : "/");
}

static void load_body_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open %s", path);
	struct hc_buf b;
	hc_buf_init(&b, LG_MAX_REQ);
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (hc_buf_add(&b, chunk, n))
			die("body file too large: %s", path);
	fclose(f);
	o.body_len = b.len;
	o.body_alloc = hc_buf_take(&b, NULL);
	if (!o.body_alloc)
		die("out of memory reading %s", path);
	o.body = o.body_alloc;
}

/* Zipf over [0,n): P(k) proportional to 1/(k+1)^s; a CDF and binary search. */
static void zipf_init(void)
{
	zipf_cdf = calloc((size_t)o.zipf_n, sizeof(*zipf_cdf));
	if (!zipf_cdf)
		die("out of memory for %s", "zipf");
	double sum = 0;
	for (int k = 0; k < o.zipf_n; k++) {
		sum += 1.0 / pow(k + 1, o.zipf_s);
		zipf_cdf[k] = sum;
	}
	for (int k = 0; k < o.zipf_n; k++)
		zipf_cdf[k] /= sum;
}

static double urand(void)
{
	/* xorshift64*: fast, seeded, reproducible between runs. */
	static uint64_t x;
	if (!x)
		x = 0x9E3779B97F4A7C15ull ^ ((uint64_t)o.seed << 1 | 1);
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return (double)((x * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static int zipf_sample(void)
{
	double u = urand();
	int lo = 0, hi = o.zipf_n - 1;
	while (lo < hi) {
		int mid = (lo + hi) / 2;
		if (zipf_cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Append s with {i} and {z} substituted. */
static int add_templated(struct hc_buf *b, const char *s, size_t n, long long seq, int z)
{
	size_t i = 0;
	while (i < n) {
		if (i + 2 < n && s[i] == '{' && s[i + 2] == '}' &&
		    (s[i + 1] == 'i' || s[i + 1] == 'z')) {
			if (hc_buf_addf(b, "%lld", s[i + 1] == 'i' ? seq : (long long)z))
				return -1;
			i += 3;
			continue;
		}
		const char *brace = memchr(s + i, '{', n - i);
		size_t run = brace ? (size_t)(brace - (s + i)) : n - i;
		if (run == 0)
			run = 1;
		if (hc_buf_add(b, s + i, run))
			return -1;
		i += run;
	}
	return 0;
}

static int build_request(struct hc_buf *b, long long seq)
{
	int z = o.zipf_n ? zipf_sample() : 0;
	struct hc_buf body;
	hc_buf_init(&body, LG_MAX_REQ);
	int rc = -1;
	hc_buf_reset(b);
	if (o.body && add_templated(&body, o.body, o.body_len, seq, z))
		goto out;
	if (hc_buf_addf(b, "%s ", o.method) || add_templated(b, o.path, strlen(o.path), seq, z) ||
	    hc_buf_addf(b, " HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: hearth-loadgen\r\n", o.host,
			o.port))
		goto out;
	if (o.auth[0] && hc_buf_addf(b, "Authorization: Basic %s\r\n", o.auth))
		goto out;
	for (int i = 0; i < o.nheaders; i++)
		if (hc_buf_addf(b, "%s\r\n", o.headers[i]))
			goto out;
	if (o.body && hc_buf_addf(b, "Content-Length: %zu\r\n", body.len))
		goto out;
	if (hc_buf_adds(b, "\r\n") || (body.len && hc_buf_add(b, body.data, body.len)))
		goto out;
	rc = 0;
out:
	hc_buf_free(&body);
	return rc;
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = C_IDLE;
	hc_buf_reset(&c->in);
}

static void conn_watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) && errno == ENOENT)
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void record_error(struct conn *c)
{
	st.done++;
	st.errors++;
	consecutive_conn_errors++;
	conn_close(c);
}

/* Send as much of the request as the socket takes; -1 on a dead socket. */
static int conn_send(struct conn *c)
{
	while (c->sent < c->req.len) {
		ssize_t n = send(c->fd, c->req.data + c->sent, c->req.len - c->sent, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				conn_watch(c, EPOLLOUT);
				return 0;
			}
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->sent += (size_t)n;
	}
	c->state = C_READING;
	conn_watch(c, EPOLLIN);
	return 0;
}

static int conn_open(struct conn *c)
{
	c->fd = socket(addr->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	st.connects++;
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev))
		return -1;
	if (connect(c->fd, addr->ai_addr, addr->ai_addrlen) == 0) {
		c->state = C_SENDING;
		return conn_send(c);
	}
	if (errno != EINPROGRESS)
		return -1;
	c->state = C_CONNECTING;
	return 0;
}

/* Start a request whose latency counts from t0. */
static void conn_start(struct conn *c, uint64_t t0)
{
	if (build_request(&c->req, st.issued))
		die("request too large (over %s)", "16 MB");
	st.issued++;
	c->sent = 0;
	c->t0 = t0;
	hc_buf_reset(&c->in);
	if (c->fd >= 0) {
		c->state = C_SENDING;
		if (conn_send(c) == 0)
			return;
		/* The server closed an idle keep-alive connection: reconnect once. */
		conn_close(c);
	}
	if (conn_open(c))
		record_error(c);
}

/* The framing headers of a reply head (hdr_end bytes at d). */
static void scan_headers(const char *d, size_t hdr_end, long long *clen, int *chunked,
			 int *close_after)
{
	for (const char *p = memchr(d, '\n', hdr_end); p && p < d + hdr_end - 2;
	     p = memchr(p, '\n', (size_t)(d + hdr_end - p))) {
		p++;
		if (!strncasecmp(p, "content-length:", 15))
			*clen = atoll(p + 15);
		else if (!strncasecmp(p, "transfer-encoding:", 18) &&
			 memmem(p, (size_t)(strchr(p, '\n') - p), "chunked", 7))
			*chunked = 1;
		else if (!strncasecmp(p, "connection:", 11)) {
			const char *v = p + 11;
			while (*v == ' ')
				v++;
			if (!strncasecmp(v, "close", 5))
				*close_after = 1;
			else if (!strncasecmp(v, "keep-alive", 10))
				*close_after = 0;
		}
	}
}

/* The end of a chunked body that starts at pos: as parse_reply. */
static int chunked_end(const char *d, size_t len, size_t pos, int eof, size_t *total)
{
	for (;;) {
		const char *nl = memmem(d + pos, len - pos, "\r\n", 2);
		if (!nl)
			return eof ? -1 : 0;
		char *endp;
		unsigned long long sz = strtoull(d + pos, &endp, 16);
		if (endp == d + pos || sz > LG_MAX_RESP)
			return -1;
		pos = (size_t)(nl - d) + 2;
		if (sz == 0) {
			/* Trailers, if any, end with an empty line. */
			const char *end = memmem(d + pos, len - pos, "\r\n", 2);
			while (end && end != d + pos) {
				pos = (size_t)(end - d) + 2;
				end = memmem(d + pos, len - pos, "\r\n", 2);
			}
			if (!end)
				return eof ? -1 : 0;
			*total = pos + 2;
			return 1;
		}
		if (len - pos < sz + 2)
			return eof ? -1 : 0;
		pos += sz + 2;
	}
}

/* Find the end of the headers and the reply's framing. Returns 1 when the
 * whole reply is in (*status and *total set), 0 when more is needed, -1 on a
 * malformed reply. */
static int parse_reply(struct conn *c, int eof, int *status, size_t *total, int *close_after)
{
	const char *d = c->in.data;
	size_t len = c->in.len;
	if (!d)
		return eof ? -1 : 0;
	const char *he = memmem(d, len, "\r\n\r\n", 4);
	if (!he)
		return eof || len > 65536 ? -1 : 0;
	size_t hdr_end = (size_t)(he - d) + 4;
	if (len < 12 || strncmp(d, "HTTP/1.", 7) || d[8] != ' ')
		return -1;
	*status = atoi(d + 9);
	if (*status < 100 || *status > 599)
		return -1;
	long long clen = -1;
	int chunked = 0;
	*close_after = d[7] == '0';
	scan_headers(d, hdr_end, &clen, &chunked, close_after);
	if (*status == 204 || *status == 304 || *status < 200 || !strcmp(o.method, "HEAD")) {
		*total = hdr_end;
		return 1;
	}
	if (chunked)
		return chunked_end(d, len, hdr_end, eof, total);
	if (clen >= 0) {
		if (clen > (long long)LG_MAX_RESP)
			return -1;
		if (len < hdr_end + (size_t)clen)
			return eof ? -1 : 0;
		*total = hdr_end + (size_t)clen;
		return 1;
	}
	/* No framing: the body runs to EOF. */
	c->until_close = 1;
	*close_after = 1;
	if (!eof)
		return 0;
	*total = len;
	return 1;
}

static void reply_done(struct conn *c, int status, size_t total)
{
	uint64_t lat = now_ns() - c->t0;
	int good = o.expect ? status == o.expect : (status >= 200 && status < 300);
	st.done++;
	consecutive_conn_errors = 0;
	st.codes[status]++;
	if (!good) {
		st.bad_status++;
		if (!o.quiet && st.bad_status <= 3) {
			/* The body says why; skip the headers. */
			const char *body = strstr(c->in.data, "\r\n\r\n");
			fprintf(stderr, "loadgen: status %d: %.200s\n", status,
				body ? body + 4 : "");
		}
	}
	if (o.match && memmem(c->in.data, total, o.match, strlen(o.match)))
		st.matched++;
	if (good && st.done > o.warmup) {
		st.ok++;
		if (hc_buf_add(&st.lat, &lat, sizeof(lat)))
			die("too many samples (over %s)", "1 GB");
	}
}

static void conn_readable(struct conn *c)
{
	char chunk[65536];
	int eof = 0;
	for (;;) {
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n > 0) {
			if (hc_buf_add(&c->in, chunk, (size_t)n)) {
				record_error(c);
				return;
			}
			continue;
		}
		if (n == 0)
			eof = 1;
		else if (errno == EINTR)
			continue;
		else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			record_error(c);
			return;
		}
		break;
	}
	int status = 0, close_after = 0;
	size_t total = 0;
	int r = parse_reply(c, eof, &status, &total, &close_after);
	if (r < 0) {
		if (!o.quiet && st.errors < 3)
			fprintf(stderr, "loadgen: bad or cut reply (%zu bytes)\n", c->in.len);
		record_error(c);
		return;
	}
	if (r == 0)
		return;
	reply_done(c, status, total);
	if (close_after || eof)
		conn_close(c);
	else {
		c->state = C_IDLE;
		hc_buf_reset(&c->in);
	}
}

static void conn_event(struct conn *c, uint32_t events)
{
	if (c->state == C_CONNECTING) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err || (events & (EPOLLERR | EPOLLHUP))) {
			if (!o.quiet && consecutive_conn_errors == 0)
				fprintf(stderr, "loadgen: connect: %s\n",
					strerror(err ? err : ECONNRESET));
			record_error(c);
			return;
		}
		c->state = C_SENDING;
	}
	if (c->state == C_SENDING) {
		if (conn_send(c))
			record_error(c);
		return;
	}
	if (c->state == C_READING)
		conn_readable(c);
	else if (c->state == C_IDLE && c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		conn_close(c); /* the server closed an idle connection */
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double pct(const uint64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	size_t i = (size_t)ceil(p / 100.0 * (double)n);
	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

static void report(double secs)
{
	uint64_t *v = (uint64_t *)st.lat.data;
	size_t n = st.lat.len / sizeof(uint64_t);
	double sum = 0;
	if (o.samples_path) {
		FILE *f = fopen(o.samples_path, "w");
		if (!f)
			die("cannot write %s", o.samples_path);
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%.1f\n", (double)v[i] / 1000.0);
		fclose(f);
	}
	if (n)
		qsort(v, n, sizeof(*v), cmp_u64);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	printf("requests=%lld ok=%lld errors=%lld bad_status=%lld timeouts=%lld matched=%lld "
	       "dropped=%lld connects=%lld duration_s=%.3f rps=%.1f mean_us=%.1f min_us=%.1f "
	       "p50_us=%.1f p90_us=%.1f p95_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f codes=",
	       st.done, st.ok, st.errors, st.bad_status, st.timeouts, st.matched, st.dropped,
	       st.connects, secs, secs > 0 ? (double)st.done / secs : 0,
	       n ? sum / (double)n / 1000.0 : 0, n ? (double)v[0] / 1000.0 : 0, pct(v, n, 50),
	       pct(v, n, 90), pct(v, n, 95), pct(v, n, 99), pct(v, n, 99.9),
	       n ? (double)v[n - 1] / 1000.0 : 0);
	int first = 1;
	for (int i = 0; i < 600; i++)
		if (st.codes[i]) {
			printf("%s%d:%lld", first ? "" : ",", i, st.codes[i]);
			first = 0;
		}
	printf("%s\n", first ? "none" : "");
}

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* An option about what to send (getopt's ch, optarg); 0 when ch is not one. */
static int request_opt(int ch)
{
	switch (ch) {
	case 'X':
		o.method = optarg;
		return 1;
	case 'H':
		if (o.nheaders == LG_MAX_HEADERS)
			die("too many headers (max %s)", "32");
		if (strpbrk(optarg, "\r\n") || !strchr(optarg, ':'))
			die("bad header: %s", optarg);
		o.headers[o.nheaders++] = optarg;
		return 1;
	case 'd':
		o.body = optarg;
		o.body_len = strlen(optarg);
		return 1;
	case 'F':
		load_body_file(optarg);
		return 1;
	case 'u':
		if (strlen(optarg) > 300)
			die("credentials too long: %s", "-u");
		b64(optarg, o.auth, sizeof(o.auth));
		return 1;
	case 'm':
		o.match = optarg;
		return 1;
	case 'Z':
		if (sscanf(optarg, "%d,%lf", &o.zipf_n, &o.zipf_s) != 2 || o.zipf_n < 1 ||
		    o.zipf_n > 10000000 || o.zipf_s < 0)
			die("bad --zipf %s (want N,S)", optarg);
		return 1;
	}
	return 0;
}

/* An option about the load and the report (getopt's ch, optarg); exits on
 * --help or an unknown option. */
static void load_opt(int ch)
{
	switch (ch) {
	case 'c':
		o.conns = atoi(optarg);
		if (o.conns < 1 || o.conns > LG_MAX_CONNS)
			die("connections must be 1..4096, not %s", optarg);
		break;
	case 'n':
		o.nreq = atoll(optarg);
		if (o.nreq < 1)
			die("bad request count %s", optarg);
		break;
	case 't':
		o.duration = atof(optarg);
		if (!(o.duration > 0 && o.duration < 86400))
			die("bad duration %s", optarg);
		break;
	case 'r':
		o.rate = atof(optarg);
		if (!(o.rate > 0 && o.rate < 1e7))
			die("bad rate %s", optarg);
		break;
	case 'P':
		o.poisson = 1;
		break;
	case 'w':
		o.warmup = atoll(optarg);
		break;
	case 'e':
		o.expect = atoi(optarg);
		if (o.expect < 100 || o.expect > 599)
			die("bad status %s", optarg);
		break;
	case 'T':
		o.timeout_ms = atoi(optarg);
		if (o.timeout_ms < 1)
			die("bad timeout %s", optarg);
		break;
	case 's':
		o.samples_path = optarg;
		break;
	case 'S':
		o.seed = (unsigned)strtoul(optarg, NULL, 10);
		break;
	case 'q':
		o.quiet = 1;
		break;
	case 'h':
		usage(stdout);
		exit(0);
	default:
		usage(stderr);
		exit(2);
	}
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"method", 1, 0, 'X'},   {"header", 1, 0, 'H'},
	    {"data", 1, 0, 'd'},     {"data-file", 1, 0, 'F'},
	    {"user", 1, 0, 'u'},     {"connections", 1, 0, 'c'},
	    {"requests", 1, 0, 'n'}, {"duration", 1, 0, 't'},
	    {"rate", 1, 0, 'r'},     {"poisson", 0, 0, 'P'},
	    {"warmup", 1, 0, 'w'},   {"expect", 1, 0, 'e'},
	    {"timeout", 1, 0, 'T'},  {"samples", 1, 0, 's'},
	    {"match", 1, 0, 'm'},    {"zipf", 1, 0, 'Z'},
	    {"seed", 1, 0, 'S'},     {"quiet", 0, 0, 'q'},
	    {"help", 0, 0, 'h'},     {0, 0, 0, 0},
	};
	o.conns = 1;
	o.timeout_ms = 10000;
	o.seed = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, "X:H:d:u:c:n:t:r:w:e:s:m:qh", lo, NULL)) != -1)
		if (!request_opt(ch))
			load_opt(ch);
	if (optind != argc - 1) {
		usage(stderr);
		exit(2);
	}
	parse_url(argv[optind]);
	if (!o.method)
		o.method = o.body ? "POST" : "GET";
	if (!o.nreq && !o.duration)
		o.nreq = 1;
	if (o.zipf_n)
		zipf_init();
	o.nreq += o.nreq ? o.warmup : 0;
}

/* Next open-loop arrival gap in ns. */
static uint64_t arrival_gap(void)
{
	double mean = 1e9 / o.rate;
	if (!o.poisson)
		return (uint64_t)mean;
	double u = urand();
	return (uint64_t)(-log(1.0 - u) * mean);
}

static int may_issue(uint64_t now, uint64_t end)
{
	if (interrupted)
		return 0;
	if (o.nreq && st.issued >= o.nreq)
		return 0;
	return !end || now < end;
}

/* Resolve the target, open epoll, and make the connections' buffers. */
static void setup(void)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	int gai = getaddrinfo(o.host, o.port, &hints, &addr);
	if (gai)
		die("cannot resolve host: %s", gai_strerror(gai));
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	ep = epoll_create1(EPOLL_CLOEXEC);
	conns = calloc((size_t)o.conns, sizeof(*conns));
	if (ep < 0 || !conns)
		die("setup failed: %s", strerror(errno));
	if (o.rate) {
		queue = calloc(LG_QUEUE, sizeof(*queue));
		if (!queue)
			die("out of memory for %s", "the arrival queue");
	}
	hc_buf_init(&st.lat, LG_MAX_SAMPLES_B);
	for (int i = 0; i < o.conns; i++) {
		conns[i].fd = -1;
		hc_buf_init(&conns[i].req, LG_MAX_REQ);
		hc_buf_init(&conns[i].in, LG_MAX_RESP);
	}
}

/* Open loop: queue every arrival that is due by now. */
static void queue_arrivals(uint64_t now, uint64_t *next_arrival, uint64_t end)
{
	while (*next_arrival <= now && may_issue(*next_arrival, end) &&
	       (!o.nreq || st.issued + (long long)q_len < o.nreq)) {
		if (q_len == LG_QUEUE)
			st.dropped++;
		else
			queue[(q_head + q_len++) % LG_QUEUE] = *next_arrival;
		*next_arrival += arrival_gap();
	}
}

/* Give work to idle connections; returns how many are busy. */
static int feed_idle(uint64_t now, uint64_t end)
{
	int busy = 0;
	for (int i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];
		if (c->state == C_IDLE) {
			if (o.rate) {
				if (q_len) {
					uint64_t t0 = queue[q_head];
					q_head = (q_head + 1) % LG_QUEUE;
					q_len--;
					conn_start(c, t0);
				}
			} else if (may_issue(now, end)) {
				conn_start(c, now_ns());
			}
		}
		busy += c->state != C_IDLE;
	}
	return busy;
}

/* Requests out for longer than the timeout count as errors. */
static void expire_requests(uint64_t now, uint64_t timeout_ns)
{
	for (int i = 0; i < o.conns; i++) {
		struct conn *c = &conns[i];
		if (c->state != C_IDLE && now > c->t0 && now - c->t0 > timeout_ns) {
			st.timeouts++;
			record_error(c);
		}
	}
}

static void teardown(void)
{
	for (int i = 0; i < o.conns; i++) {
		conn_close(&conns[i]);
		hc_buf_free(&conns[i].req);
		hc_buf_free(&conns[i].in);
	}
	hc_buf_free(&st.lat);
	free(conns);
	free(queue);
	free(zipf_cdf);
	free(o.body_alloc);
	freeaddrinfo(addr);
	close(ep);
}

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	setup();

	uint64_t start = now_ns();
	uint64_t end = o.duration ? start + (uint64_t)(o.duration * 1e9) : 0;
	uint64_t next_arrival = start;
	uint64_t timeout_ns = (uint64_t)o.timeout_ms * 1000000ull;
	uint64_t last_check = start;
	struct epoll_event evs[256];

	for (;;) {
		uint64_t now = now_ns();
		if (o.rate)
			queue_arrivals(now, &next_arrival, end);
		int busy = feed_idle(now, end);
		if (consecutive_conn_errors > LG_MAX_CONN_ERRORS) {
			fprintf(stderr, "loadgen: giving up after %d failed requests in a row\n",
				consecutive_conn_errors);
			break;
		}
		/* Per-request timeouts, checked every 10 ms. */
		now = now_ns();
		if (now - last_check > 10000000ull) {
			last_check = now;
			expire_requests(now, timeout_ns);
		}
		int more =
		    o.rate ? (q_len > 0 || may_issue(next_arrival, end)) : may_issue(now, end);
		if (!busy && !more)
			break;
		/* Past the end with replies still out: wait for them up to the timeout. */
		if (interrupted && busy)
			break;
		/* Sleep until the next event, the next arrival (ns precision: an
		 * arrival served late would count as server latency) or 10 ms. */
		uint64_t wait_ns = 10000000ull;
		if (o.rate && !q_len && next_arrival > now && next_arrival - now < wait_ns)
			wait_ns = next_arrival - now;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)wait_ns};
		int n = epoll_pwait2(ep, evs, 256, &ts, NULL);
		for (int i = 0; i < n; i++)
			conn_event(evs[i].data.ptr, evs[i].events);
	}
	double secs = (double)(now_ns() - start) / 1e9;
	report(secs);
	teardown();
	return st.errors || st.bad_status || st.dropped ? 1 : 0;
}
