/* rtbench.c — sequential keep-alive POSTs to one URL path, timing each
 * round trip; prints p50/p90/p99/mean in microseconds.
 *   rtbench PORT PATH BODY N [WARMUP]
 * One blocking TCP connection, no client library: the same client measures
 * hearth-runtime and a bare node http server, so the difference is theirs. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Read one response; returns its status or -1. */
static int read_response(int fd, char *buf, size_t cap)
{
	size_t have = 0;
	char *end;
	long clen;
	int status;

	for (;;) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
		buf[have] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if (end)
			break;
	}
	status = atoi(buf + 9);
	char *cl = strcasestr(buf, "\r\ncontent-length:");
	clen = cl ? atol(cl + 17) : 0;
	size_t total = (size_t)(end + 4 - buf) + (size_t)clen;
	while (have < total) {
		ssize_t n = read(fd, buf + have, cap - 1 - have);
		if (n <= 0)
			return -1;
		have += (size_t)n;
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: rtbench PORT PATH BODY N [WARMUP]\n");
		return 2;
	}
	int port = atoi(argv[1]), n = atoi(argv[4]), warm = argc > 5 ? atoi(argv[5]) : 200;
	const char *path = argv[2], *body = argv[3];
	char req[4096], buf[65536];
	int len =
	    snprintf(req, sizeof req,
		     "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     path, strlen(body), body);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	double *lat = malloc(sizeof(double) * (size_t)n), sum = 0;

	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("connect");
		return 1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	for (int i = 0; i < warm + n; i++) {
		double t0 = now_us();
		if (write(fd, req, (size_t)len) != len) {
			perror("write");
			return 1;
		}
		int st = read_response(fd, buf, sizeof buf);
		if (st != 200) {
			fprintf(stderr, "request %d: status %d\n%s\n", i, st, buf);
			return 1;
		}
		if (i >= warm) {
			lat[i - warm] = now_us() - t0;
			sum += lat[i - warm];
		}
	}
	qsort(lat, (size_t)n, sizeof *lat, cmp);
	printf("n=%d p50=%.1fus p90=%.1fus p99=%.1fus mean=%.1fus\n", n, lat[n / 2],
	       lat[(int)(n * 0.9)], lat[(int)(n * 0.99)], sum / n);
	free(lat);
	close(fd);
	return 0;
}
