/* unixaddr.c — local socket addresses (contract in unixaddr.h). */
#include "common/unixaddr.h"

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
