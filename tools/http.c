// SPDX-License-Identifier: GPL-2.0
/* The HTTP server of `cowstat export` (http.h). */
#define _GNU_SOURCE	/* accept4() */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http.h"
#include "parse.h"

void cowstat_buf_printf(struct cowstat_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			b->len += n;
			return;
		}
		b->cap = b->cap ? b->cap * 2 : 4096;
		while (b->cap - b->len <= (size_t)n)
			b->cap *= 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p) {
			fprintf(stderr, "cowstat: out of memory\n");
			exit(1);
		}
	}
}

void cowstat_buf_free(struct cowstat_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int cowstat_http_listen(const char *addr, char *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	char host[256];
	const char *orig = addr, *port, *colon = strrchr(addr, ':');
	struct addrinfo *ai;
	size_t hl;
	int fd, e, one = 1;

	if (!colon || !colon[1]) {
		snprintf(err, COWSTAT_ERR_MAX, "listen address '%s': expected HOST:PORT", addr);
		return -1;
	}
	port = colon + 1;
	hl = colon - addr;
	if (hl >= 2 && addr[0] == '[' && addr[hl - 1] == ']') {
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host)) {
		snprintf(err, COWSTAT_ERR_MAX, "listen address too long");
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = 0;
	e = getaddrinfo(hl ? host : NULL, port, &hints, &ai);
	if (e) {
		snprintf(err, COWSTAT_ERR_MAX, "listen address '%s': %s", orig, gai_strerror(e));
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) || listen(fd, 128))
		goto fail;
	freeaddrinfo(ai);
	return fd;
fail:
	e = errno;
	snprintf(err, COWSTAT_ERR_MAX, "cannot listen on %s: %s", orig, strerror(e));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

/* One client connection: the request as it arrives, then the answer as it leaves. */
struct conn {
	int fd;
	long long deadline_ms;
	char req[COWSTAT_HTTP_REQ_MAX + 1];
	size_t req_len;
	char *out;		/* the whole answer, headers and body */
	size_t out_len, out_off;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

static void answer(struct conn *c, int status, const char *type, const char *body, size_t len,
		   int head)
{
	struct cowstat_buf b = { 0 };

	cowstat_buf_printf(&b, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			   "Connection: close\r\n%s\r\n", status, reason(status), type, len,
			   status == 405 ? "Allow: GET, HEAD\r\n" : "");
	if (!head)
		cowstat_buf_printf(&b, "%.*s", (int)len, body);
	c->out = b.p;
	c->out_len = b.len;
	c->out_off = 0;
}

/* The request is complete (headers ended): build the answer. */
static void handle(struct conn *c, cowstat_http_handler handler, void *ctx)
{
	static const char text[] = "text/plain; charset=utf-8";
	char method[16], path[1024], version[16];
	struct cowstat_buf body = { 0 };
	const char *type = text;
	char *q;
	int status, head;

	if (sscanf(c->req, "%15s %1023s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7)) {
		answer(c, 400, text, "bad request\n", 12, 0);
		return;
	}
	head = !strcmp(method, "HEAD");
	if (strcmp(method, "GET") && !head) {
		answer(c, 405, text, "only GET and HEAD\n", 18, 0);
		return;
	}
	q = strchr(path, '?');
	if (q)
		*q = 0;
	status = handler(path, &body, &type, ctx);
	answer(c, status, type, body.p ? body.p : "", body.len, head);
	cowstat_buf_free(&body);
}

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
}

/* Read what the client sent; 1 when the connection is finished with. */
static int conn_read(struct conn *c, cowstat_http_handler handler, void *ctx)
{
	ssize_t n = read(c->fd, c->req + c->req_len, COWSTAT_HTTP_REQ_MAX - c->req_len);

	if (n < 0)
		return errno != EAGAIN && errno != EINTR;
	if (n == 0)
		return 1;
	c->req_len += n;
	c->req[c->req_len] = 0;
	if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
		handle(c, handler, ctx);
	else if (c->req_len == COWSTAT_HTTP_REQ_MAX)
		answer(c, 413, "text/plain", "request too large\n", 18, 0);
	return 0;
}

/* Send what is left of the answer; 1 when all of it is sent or the client is gone. */
static int conn_write(struct conn *c)
{
	ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

	if (n < 0)
		return errno != EAGAIN && errno != EINTR;
	c->out_off += n;
	return c->out_off == c->out_len;
}

int cowstat_http_serve(int lfd, cowstat_http_handler handler, void (*tick)(void *ctx),
		       int timeout_ms, void *ctx, sig_atomic_t *stop, char *err)
{
	struct pollfd pfd[COWSTAT_HTTP_CONNS + 1];
	struct conn *conns;
	long long next_tick = now_ms() + timeout_ms;
	int i, n, ret = 0;

	conns = calloc(COWSTAT_HTTP_CONNS, sizeof(*conns));
	if (!conns) {
		snprintf(err, COWSTAT_ERR_MAX, "out of memory");
		return -1;
	}
	for (i = 0; i < COWSTAT_HTTP_CONNS; i++)
		conns[i].fd = -1;
	while (!*stop) {
		long long now = now_ms(), wait = COWSTAT_HTTP_IDLE_MS;
		int open = 0;

		if (timeout_ms && now >= next_tick) {
			tick(ctx);
			now = now_ms();
			next_tick = now + timeout_ms;
		}
		if (timeout_ms)
			wait = next_tick - now;
		for (i = 0; i < COWSTAT_HTTP_CONNS; i++) {
			struct conn *c = &conns[i];

			pfd[i + 1].fd = c->fd;
			pfd[i + 1].events = c->out ? POLLOUT : POLLIN;
			pfd[i + 1].revents = 0;
			if (c->fd < 0)
				continue;
			open++;
			if (c->deadline_ms - now < wait)
				wait = c->deadline_ms > now ? c->deadline_ms - now : 0;
		}
		/* A full table leaves new clients in the listen queue until one closes. */
		pfd[0].fd = open < COWSTAT_HTTP_CONNS ? lfd : -1;
		pfd[0].events = POLLIN;
		pfd[0].revents = 0;
		n = poll(pfd, COWSTAT_HTTP_CONNS + 1, (int)wait);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, COWSTAT_ERR_MAX, "poll: %s", strerror(errno));
			ret = -1;
			break;
		}
		now = now_ms();
		for (i = 0; i < COWSTAT_HTTP_CONNS; i++) {
			struct conn *c = &conns[i];
			int done = 0;

			if (c->fd < 0)
				continue;
			if (pfd[i + 1].revents & (POLLERR | POLLNVAL))
				done = 1;
			else if (pfd[i + 1].revents & (POLLIN | POLLHUP) && !c->out)
				done = conn_read(c, handler, ctx);
			else if (pfd[i + 1].revents & POLLOUT)
				done = conn_write(c);
			if (!done && c->out && c->out_off == 0 && !(pfd[i + 1].revents & POLLOUT))
				done = conn_write(c);
			if (done || now >= c->deadline_ms)
				conn_close(c);
		}
		if (pfd[0].revents & POLLIN) {
			for (i = 0; i < COWSTAT_HTTP_CONNS; i++) {
				struct conn *c = &conns[i];
				int fd;

				if (c->fd >= 0)
					continue;
				fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
				if (fd < 0)
					break;
				c->fd = fd;
				c->req_len = 0;
				c->deadline_ms = now + COWSTAT_HTTP_IDLE_MS;
			}
		}
	}
	for (i = 0; i < COWSTAT_HTTP_CONNS; i++)
		if (conns[i].fd >= 0)
			conn_close(&conns[i]);
	free(conns);
	return ret;
}
