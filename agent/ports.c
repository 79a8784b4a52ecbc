/* agent/ports.c — the container port allocator (contract in agent/ports.h). */
#include "agent/ports.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/id.h"

int agt_ports_parse(const char *spec, int *lo, int *hi, struct hc_err *err)
{
	char *end;
	long a, b;

	errno = 0;
	a = strtol(spec, &end, 10);
	if (end == spec || *end != '-' || errno)
		return hc_err_set(err, "port range \"%.32s\": expected LO-HI", spec);
	spec = end + 1;
	b = strtol(spec, &end, 10);
	if (end == spec || *end || errno)
		return hc_err_set(err, "port range: expected LO-HI");
	if (a < 1 || b > 65535 || a > b)
		return hc_err_set(err, "port range %ld-%ld: need 1 <= LO <= HI <= 65535", a, b);
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

int agt_ports_init(struct agt_ports *p, int lo, int hi, const char *host, struct hc_err *err)
{
	unsigned r = 0;

	memset(p, 0, sizeof(*p));
	if (lo < 1 || hi > 65535 || lo > hi)
		return hc_err_set(err, "port range %d-%d: need 1 <= LO <= HI <= 65535", lo, hi);
	p->taken = calloc((size_t)hi - (size_t)lo + 1, 1);
	if (!p->taken)
		return hc_err_set(err, "out of memory");
	p->lo = lo;
	p->hi = hi;
	hc_random_bytes(&r, sizeof(r));
	p->next = lo + (int)(r % (unsigned)(hi - lo + 1));
	if (host)
		snprintf(p->host, sizeof(p->host), "%s", host);
	return 0;
}

void agt_ports_free(struct agt_ports *p)
{
	free(p->taken);
	p->taken = NULL;
}

/* Nonzero when nothing listens on (or holds) host:port right now. */
static int bindable(const char *host, int port)
{
	struct sockaddr_in sa;
	int fd, one = 1, ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return 1; /* not IPv4: cannot probe, trust the bookkeeping */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 1;
	/* SO_REUSEADDR as the runtime's server uses: TIME_WAIT is no conflict. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int agt_ports_alloc(struct agt_ports *p)
{
	int n = p->hi - p->lo + 1;

	for (int i = 0; i < n && p->used < n; i++) {
		int port = p->next;

		p->next = port == p->hi ? p->lo : port + 1;
		if (p->taken[port - p->lo])
			continue;
		if (p->host[0] && !bindable(p->host, port))
			continue;
		p->taken[port - p->lo] = 1;
		p->used++;
		return port;
	}
	return -1;
}

void agt_ports_release(struct agt_ports *p, int port)
{
	if (port < p->lo || port > p->hi || !p->taken[port - p->lo])
		return;
	p->taken[port - p->lo] = 0;
	p->used--;
}

int agt_ports_claim(struct agt_ports *p, int port)
{
	if (port < p->lo || port > p->hi || p->taken[port - p->lo])
		return -1;
	p->taken[port - p->lo] = 1;
	p->used++;
	return 0;
}
