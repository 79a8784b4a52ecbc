/* kclient.h — a lean keep-alive HTTP/1.1 client for the warm invoke's hot
 * path (controller -> container /run and /init).
 *
 * libcurl's multi interface costs a lot per request on a reused connection:
 * two liveness poll()s, an epoll ADD and DEL as it starts and stops watching
 * the socket, timers and URL parsing. This client keeps one persistent read
 * event per connection for its whole life (an idle connection closed by the
 * peer is noticed and dropped at once), writes the request with one send(),
 * and parses the reply itself. It speaks only to our own servers
 * (common/http.c): plain http://IPv4:port URLs, replies with Content-Length
 * (or none, read to close); anything else is refused at start (NULL) so the
 * caller can use hc_client instead. A request may name its server's local
 * socket (req->unix_name, localnet.h) instead: the connection goes there,
 * which saves TCP's work on every message to a server on this host, and
 * the URL only gives the Host header and the path. When nothing listens
 * there the request fails as not sent; it never goes to the URL's address
 * instead, since a server whose socket is gone is gone, and its port may
 * be another's by now. One request per connection at a time;
 * idle connections are reused per address, newest first.
 *
 * Like hc_client: one per event loop, used only from its thread; every
 * started request gets exactly one callback (struct hc_response from
 * client.h), on the loop thread, never from inside hc_kclient_request. A
 * reused connection that dies before a byte of the reply arrives is retried
 * once on a fresh connection (as libcurl does). */
#ifndef HC_KCLIENT_H
#define HC_KCLIENT_H

#include <stddef.h>

#include "common/client.h"

struct event_base;
struct hc_kclient;

/* NULL on ENOMEM. */
struct hc_kclient *hc_kclient_new(struct event_base *base);

/* Start req (method, url, headers, body copied, timeout_ms, max_response as
 * in client.h). 0 when started (cb will be called once); -1 when this
 * client cannot do it (not http://IPv4:port/..., out of memory, client
 * being freed): cb is not called. */
int hc_kclient_request(struct hc_kclient *k, const struct hc_request *req, hc_client_cb cb,
		       void *arg);

/* Requests in flight. */
size_t hc_kclient_pending(const struct hc_kclient *k);

/* Fail every request in flight with error "cancelled" (their callbacks run
 * here; requests they start are refused), close every connection, free. Not
 * from inside one of this client's callbacks. */
void hc_kclient_free(struct hc_kclient *k);

#endif
