/* agent/ports.h — the range of ports container runtimes listen on.
 *
 * Containers share the host network, so each runtime needs its own port on
 * the host address. The allocator hands out ports from a configured range,
 * next-fit from a random starting point (so agents restarted on one host
 * do not all collide on the first port), and skips a port something else
 * already holds (another agent on the same host, a leftover process) by
 * trying to bind it. Not thread-safe. */
#ifndef AGT_PORTS_H
#define AGT_PORTS_H

#include <stdint.h>

#include "common/err.h"

struct agt_ports {
	int lo, hi;	/* inclusive range */
	int next;	/* where the next search starts */
	int used;	/* ports handed out */
	uint8_t *taken; /* one byte per port in the range */
	char host[64];	/* address to probe with bind(); "" = do not probe */
};

/* Parse "20000-29999" into lo/hi. 0 or -1 with err. */
int agt_ports_parse(const char *spec, int *lo, int *hi, struct hc_err *err);

/* Set up the range (1 <= lo <= hi <= 65535). host is the address runtimes
 * bind; NULL or "" skips the bind probe (unit tests). 0 or -1 with err. */
int agt_ports_init(struct agt_ports *p, int lo, int hi, const char *host, struct hc_err *err);
void agt_ports_free(struct agt_ports *p);

/* A free port, or -1 when every port in the range is taken or busy. */
int agt_ports_alloc(struct agt_ports *p);

/* Give a port back (ports outside the range or not taken are ignored). */
void agt_ports_release(struct agt_ports *p, int port);

/* Mark a specific port as taken (adoption); 0, or -1 when out of range or taken. */
int agt_ports_claim(struct agt_ports *p, int port);

#endif
