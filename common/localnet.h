/* localnet.h — reaching a server on this host: local (AF_UNIX) stream
 * socket addresses by name, and whether an address is this host's.
 *
 * A name that starts with '@' is an abstract socket (Linux): it lives in
 * the network namespace, not the file system, so a container that shares
 * the host network (the runc backend's choice) can listen on one that the
 * host's controller reaches without any mount, and it vanishes when its
 * last descriptor closes. Any other name is a file-system path. */
#ifndef HC_LOCALNET_H
#define HC_LOCALNET_H

#include <sys/socket.h>
#include <sys/un.h>

/* The longest name accepted (sun_path less the terminator). */
#define HC_UNIX_NAME_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Fill sa for name and set *len to the address length to pass to bind or
 * connect. 0, or -1 for an empty or too long name. */
int hc_unix_addr(const char *name, struct sockaddr_un *sa, socklen_t *len);

/* Nonzero when ipv4 ("a.b.c.d") is a loopback address (127/8) or one of
 * this host's interfaces' (getifaddrs: a netlink round trip, so callers
 * keep the answer); 0 for anything else, including what does not parse. */
int hc_ipv4_is_local(const char *ipv4);

#endif
