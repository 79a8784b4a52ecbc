/* localnet.c — local sockets and local addresses (contract in localnet.h). */
#include "common/localnet.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stddef.h>
#include <string.h>

int hc_unix_addr(const char *name, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > (size_t)HC_UNIX_NAME_MAX || (n == 1 && name[0] == '@'))
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, name, n);
	if (name[0] == '@') {
		/* abstract: a leading NUL, and the length counts exactly the name */
		sa->sun_path[0] = '\0';
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	}
	return 0;
}

int hc_ipv4_is_local(const char *ipv4)
{
	struct in_addr a;
	struct ifaddrs *ifs, *i;
	int local = 0;
	if (!ipv4 || inet_pton(AF_INET, ipv4, &a) != 1)
		return 0;
	if ((ntohl(a.s_addr) >> 24) == 127)
		return 1;
	if (getifaddrs(&ifs) < 0)
		return 0;
	for (i = ifs; i && !local; i = i->ifa_next)
		local = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == a.s_addr;
	freeifaddrs(ifs);
	return local;
}
