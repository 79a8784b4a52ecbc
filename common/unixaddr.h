/* unixaddr.h — local (AF_UNIX) stream socket addresses by name.
 *
 * A name that starts with '@' is an abstract socket (Linux): it lives in
 * the network namespace, not the file system, so a container that shares
 * the host network (the runc backend's choice) can listen on one that the
 * host's controller reaches without any mount, and it vanishes when its
 * last descriptor closes. Any other name is a file-system path. */
#ifndef HC_UNIXADDR_H
#define HC_UNIXADDR_H

#include <sys/socket.h>
#include <sys/un.h>

/* The longest name accepted (sun_path less the terminator). */
#define HC_UNIX_NAME_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Fill sa for name and set *len to the address length to pass to bind or
 * connect. 0, or -1 for an empty or too long name. */
int hc_unix_addr(const char *name, struct sockaddr_un *sa, socklen_t *len);

#endif
