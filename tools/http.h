/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small HTTP/1.1 server for `cowstat export`: one thread, non-blocking sockets and poll(),
 * so that a slow or stuck client cannot hold up the others or the exporter's own work. Each
 * connection carries one GET and is closed after the answer (Connection: close), which
 * Prometheus accepts. Requests are at most COWSTAT_HTTP_REQ_MAX bytes; idle connections are
 * closed after COWSTAT_HTTP_IDLE_MS; at most COWSTAT_HTTP_CONNS are open at once (more wait in
 * the kernel's listen queue).
 */
#ifndef _COWSTAT_HTTP_H
#define _COWSTAT_HTTP_H

#include <signal.h>
#include <stddef.h>

#define COWSTAT_HTTP_REQ_MAX	8192
#define COWSTAT_HTTP_IDLE_MS	10000
#define COWSTAT_HTTP_CONNS	64

/* A growing text buffer (the body of an answer). */
struct cowstat_buf {
	char *p;
	size_t len, cap;
};

__printf(2, 3) void cowstat_buf_printf(struct cowstat_buf *b, const char *fmt, ...);
void cowstat_buf_free(struct cowstat_buf *b);

/*
 * Fill body and content_type for a GET of path; return the HTTP status (200, 404...). The
 * handler runs in the server's one thread.
 */
typedef int (*cowstat_http_handler)(const char *path, struct cowstat_buf *body,
				    const char **content_type, void *ctx);

/*
 * Listen on addr ("HOST:PORT", "[V6]:PORT"). Returns the socket, or -1 with a one-line
 * reason in err (160 bytes).
 */
int cowstat_http_listen(const char *addr, char *err);

/*
 * Serve on the listening socket until *stop is set. Every timeout_ms (0: never) tick(ctx) is
 * called between requests. Returns 0, or -1 with a reason in err.
 */
int cowstat_http_serve(int lfd, cowstat_http_handler handler, void (*tick)(void *ctx),
		       int timeout_ms, void *ctx, sig_atomic_t *stop, char *err);

#endif /* _COWSTAT_HTTP_H */
