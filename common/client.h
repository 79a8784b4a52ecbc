/* client.h — asynchronous HTTP client: libcurl multi driven by libevent.
 *
 * One struct hc_client per event loop (per thread); it is not thread-safe
 * and must be used only from its loop's thread. Connections are kept alive
 * and reused per host (the multi handle's connection cache). Every request
 * has a timeout and a response size limit, and its callback is called
 * exactly once, on the loop thread, unless the call is cancelled first.
 * The "Expect: 100-continue" handshake is disabled (it adds a round trip).
 *
 * hc_http_sync() is a blocking one-shot for the CLI, start-up and tests;
 * never call it on a loop thread that serves requests. */
#ifndef HC_CLIENT_H
#define HC_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct event_base;
struct hc_client;
struct hc_call;

struct hc_client_opts {
	long max_conns_per_host; /* 0 = unlimited */
	long connect_timeout_ms; /* 0 = 2000 */
	long max_total_conns;	 /* 0 = unlimited */
};

struct hc_response {
	long status;	  /* HTTP status, 0 when there was no response */
	const char *body; /* NUL-terminated; "" when empty; valid during the callback */
	size_t body_len;
	const char *error;    /* NULL on a completed exchange; else what failed */
	int timed_out;	      /* nonzero when the request hit its timeout */
	uint64_t elapsed_us;  /* from hc_client_request to completion */
	const char *location; /* Location header if any (redirect hints), else NULL */
	/* the value of the request's want_header, NUL-terminated, NULL when
	 * absent (hc_kclient only; hc_client leaves it NULL) */
	const char *header;
	size_t header_len;
	/* with error: no byte of the request reached the server (the connect
	 * failed, or the first send did): safe to try elsewhere (hc_kclient) */
	int not_sent;
};

typedef void (*hc_client_cb)(const struct hc_response *resp, void *arg);

struct hc_request {
	const char *method; /* "GET", "POST", ... */
	const char *url;
	const char *const *headers; /* NULL-terminated "Name: value" list, or NULL */
	const void *body;	    /* copied; may be NULL */
	size_t body_len;
	long timeout_ms;	 /* whole exchange; 0 = 30000 */
	size_t max_response;	 /* 0 = 16 MiB */
	const char *want_header; /* one reply header to report (lower case), or NULL */
	const char *unix_name;	 /* hc_kclient only: the server's local socket (localnet.h),
				  * used instead of the URL's address; NULL = none */
};

/* Create a client on base. Returns NULL on failure (err set if given). */
struct hc_client *hc_client_new(struct event_base *base, const struct hc_client_opts *opts);

/* Start a request. Returns a handle that can be cancelled until the callback
 * runs, or NULL when the request could not be started (cb is not called). */
struct hc_call *hc_client_request(struct hc_client *c, const struct hc_request *req,
				  hc_client_cb cb, void *arg);

/* Cancel a call whose callback has not run yet; the callback will not run. */
void hc_call_cancel(struct hc_call *call);

/* Number of calls in flight. */
size_t hc_client_pending(const struct hc_client *c);

/* Cancel every pending call (callbacks are called with error "cancelled";
 * requests they start are refused with NULL) and free the client. May be
 * called from inside a callback of this client: the memory is then released
 * when the event handler running that callback returns. */
void hc_client_free(struct hc_client *c);

/* Blocking request. Fills out with the body (bounded by out->max), *status
 * with the HTTP status. Returns 0 when an HTTP response arrived (any status),
 * -1 on a transport failure with err set. */
int hc_http_sync(const struct hc_request *req, long *status, struct hc_buf *out,
		 struct hc_err *err);

#endif
