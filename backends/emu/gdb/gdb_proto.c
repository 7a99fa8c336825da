/* SPDX-License-Identifier: MIT */
/*
 * gdb_proto.c - the GDB remote serial protocol side of veil-emu's stub (GDB
 * manual, appendix "GDB Remote Serial Protocol"): the TCP connection and who
 * may use it, packets and acks, the listener thread (connections and Ctrl-C),
 * queries, threads (one per vCPU) and the packet loop of a stop. See
 * gdb_stub.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdb_stub.h"

/* ---- socket I/O --------------------------------------------------------------- */

static int rd_byte(struct emu_dbg *d)
{
	if (d->inpos == d->inlen) {
		ssize_t n;

		do
			n = recv(d->fd, d->in, sizeof(d->in), 0);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return -1;
		d->inlen = n;
		d->inpos = 0;
	}
	return d->in[d->inpos++];
}

static void wr_all(struct emu_dbg *d, const char *p, size_t n)
{
	while (n && d->fd >= 0) {
		ssize_t k = send(d->fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			atomic_store(&d->detached, true);
			return;
		}
		p += k;
		n -= k;
	}
}

void gdb_send(struct emu_dbg *d, const char *body)
{
	char *buf = d->sendbuf;
	size_t n = strlen(body), i;
	uint8_t sum = 0;

	for (i = 0; i < n; i++)
		sum += (uint8_t)body[i];
	buf[0] = '$';
	memcpy(buf + 1, body, n);
	snprintf(buf + 1 + n, 4, "#%02x", sum);
	wr_all(d, buf, n + 4);
	if (!d->no_ack) { /* wait for '+', tolerate anything else */
		int c = rd_byte(d);

		if (c < 0)
			atomic_store(&d->detached, true);
	}
}

/* Next packet into buf; -1 when GDB is gone. A stray 0x03 while stopped is ignored. */
static int recv_pkt(struct emu_dbg *d, char *buf, size_t cap)
{
	int c;

	for (;;) {
		size_t n = 0;
		uint8_t sum = 0;
		char hex[3] = { 0 };

		do {
			c = rd_byte(d);
			if (c < 0)
				return -1;
		} while (c != '$');
		while ((c = rd_byte(d)) >= 0 && c != '#') {
			if (n + 1 < cap)
				buf[n++] = c;
			sum += (uint8_t)c;
		}
		if (c < 0 || (c = rd_byte(d)) < 0)
			return -1;
		hex[0] = c;
		if ((c = rd_byte(d)) < 0)
			return -1;
		hex[1] = c;
		buf[n] = 0;
		if (d->no_ack)
			return 0;
		if (strtoul(hex, NULL, 16) == sum) {
			wr_all(d, "+", 1);
			return 0;
		}
		wr_all(d, "-", 1);
	}
}

/* ---- connections ------------------------------------------------------------- */

/* A GDB connected on fd: a fresh session (acks on, nothing pending). */
static void connect_gdb(struct emu_dbg *d, int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	d->fd = fd;
	d->no_ack = false;
	d->awaiting_stop = false;
	d->inlen = d->inpos = 0;
	atomic_store(&d->detached, false);
}

/* Machine thread, stopped: GDB detached or went away; another may attach. */
void gdb_disconnect(struct emu_dbg *d)
{
	gdb_remove_bps(d);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
	d->awaiting_stop = false;
	atomic_store(&d->detached, true);
}

/* Listener, machine running: a connection is waiting on the listening socket.
 * The machine stops at its next instruction and serves GDB from there; until
 * then nobody reads the connection (GDB's first packets wait for the stop). */
static void accept_gdb(struct emu_dbg *d)
{
	int fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	connect_gdb(d, fd);
	d->running = false;
	atomic_store(&d->attach_pending, true);
	atomic_store(&d->interrupt, true);
}

/* Listener, machine running: GDB's Ctrl-C, or the end of the connection. */
static void watch_gdb(struct emu_dbg *d)
{
	uint8_t b;
	ssize_t n = recv(d->fd, &b, 1, MSG_DONTWAIT);

	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		close(d->fd);
		d->fd = -1;
		atomic_store(&d->drop_bps, true); /* removed by the machine thread */
		atomic_store(&d->detached, true);
	} else if (n == 1 && b == 0x03) {
		atomic_store(&d->interrupt, true);
	}
}

static void *listener(void *arg)
{
	struct emu_dbg *d = arg;

	for (;;) {
		struct pollfd p = { .events = POLLIN };

		pthread_mutex_lock(&d->lock);
		while (!d->running && !d->quit)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->quit) {
			pthread_mutex_unlock(&d->lock);
			return NULL;
		}
		p.fd = d->fd >= 0 ? d->fd : d->lfd;
		pthread_mutex_unlock(&d->lock);
		if (poll(&p, 1, 50) <= 0)
			continue;
		pthread_mutex_lock(&d->lock);
		/* Only while the machine runs: a stopped stub reads its own packets. */
		if (d->running && d->fd < 0)
			accept_gdb(d);
		else if (d->running && p.fd == d->fd)
			watch_gdb(d);
		pthread_mutex_unlock(&d->lock);
	}
}

void gdb_set_running(struct emu_dbg *d, bool running)
{
	if (!d->thr_started)
		return;
	pthread_mutex_lock(&d->lock);
	d->running = running;
	pthread_cond_signal(&d->cond);
	pthread_mutex_unlock(&d->lock);
}

/* ---- packets -------------------------------------------------------------------- */

void gdb_hex(char *out, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static int unhex(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 :
				      -1;
}

size_t gdb_unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (n < max && unhex(s[0]) >= 0 && unhex(s[1]) >= 0) {
		out[n++] = unhex(s[0]) << 4 | unhex(s[1]);
		s += 2;
	}
	return n;
}

/* ---- queries and threads ---------------------------------------------------------- */

static void xfer_target_xml(const char *p, char *out)
{
	size_t total, off, len;
	const char *xml = gdb_target_xml(&total);
	char *comma;

	off = strtoul(p, &comma, 16);
	len = *comma == ',' ? strtoul(comma + 1, NULL, 16) : 0;
	if (off >= total) {
		strcpy(out, "l");
		return;
	}
	if (len > total - off)
		len = total - off;
	if (len > 2000)
		len = 2000;
	out[0] = off + len < total ? 'm' : 'l';
	memcpy(out + 1, xml + off, len);
	out[1 + len] = 0;
}

/* GDB thread id (1-based) of a vCPU, or 0 when tid names none. */
static unsigned vcpu_of_tid(struct emu_dbg *d, const char *tid)
{
	char *end;
	unsigned long id = strtoul(tid, &end, 16);

	return end != tid && !*end && id >= 1 && id <= d->m->cfg.nr_vcpus ? (unsigned)id : 0;
}

/* Every vCPU is a thread from the start; one not started yet says so. */
static void thread_extra(struct emu_dbg *d, const char *tid, char *out)
{
	unsigned id = vcpu_of_tid(d, tid);
	struct emu_vcpu *v;
	char s[64];

	if (!id) {
		strcpy(out, "E01");
		return;
	}
	v = &d->m->vcpus[id - 1];
	if (v->state == VCPU_OFF)
		snprintf(s, sizeof(s), "vCPU %u not started", v->id);
	else
		snprintf(s, sizeof(s), "vCPU %u VMPL%u %s", v->id, v->vmpl,
			 gdb_state_names[v->state]);
	gdb_hex(out, (uint8_t *)s, strlen(s));
}

static void cmd_query(struct emu_dbg *d, const char *p, char *out)
{
	unsigned i;

	out[0] = 0;
	if (!strncmp(p, "qSupported", 10)) {
		strcpy(out, "PacketSize=1000;qXfer:features:read+;swbreak+;hwbreak+;"
			    "QStartNoAckMode+;vContSupported+");
	} else if (!strncmp(p, "qXfer:features:read:target.xml:", 31)) {
		xfer_target_xml(p + 31, out);
	} else if (!strcmp(p, "qfThreadInfo")) {
		strcpy(out, "m");
		for (i = 0; i < d->m->cfg.nr_vcpus; i++)
			sprintf(out + strlen(out), "%s%x", i ? "," : "", i + 1);
	} else if (!strcmp(p, "qsThreadInfo")) {
		strcpy(out, "l");
	} else if (!strcmp(p, "qC")) {
		sprintf(out, "QC%x", d->sel + 1);
	} else if (!strcmp(p, "qAttached")) {
		strcpy(out, "1");
	} else if (!strncmp(p, "qThreadExtraInfo,", 17)) {
		thread_extra(d, p + 17, out);
	} else if (!strncmp(p, "qRcmd,", 6)) {
		gdb_cmd_rcmd(d, p + 6, out);
	} else if (!strncmp(p, "qSymbol", 7)) {
		strcpy(out, "OK");
	}
}

/* Hg/Hc TID: 0 and -1 mean "any"; anything else must be a vCPU. */
static void thread_select(struct emu_dbg *d, const char *p, char *out)
{
	unsigned id = vcpu_of_tid(d, p + 2);

	if (!strcmp(p + 2, "0") || !strcmp(p + 2, "-1")) {
		strcpy(out, "OK");
	} else if (!id) {
		strcpy(out, "E01");
	} else {
		if (p[1] == 'g')
			d->sel = id - 1;
		strcpy(out, "OK");
	}
}

/* vCont;ACTION[:tid][;ACTION...]: the machine runs one vCPU at a time, so the
 * first action decides: step or continue. */
static int cmd_vcont(const char *p)
{
	p += 5;
	if (*p != ';')
		return 0;
	return p[1] == 's' || p[1] == 'S' ? 's' : p[1] == 'c' || p[1] == 'C' ? 'c' : 0;
}

/* c, s, vCont: 0 = not a resume (answered in out), 1 = resume now. */
static int cmd_resume(struct emu_dbg *d, const char *pkt, char *out)
{
	int act;

	if (!strcmp(pkt, "vCont?")) {
		strcpy(out, "vCont;c;C;s;S");
		return 0;
	}
	act = pkt[0] == 'v' ? (!strncmp(pkt, "vCont", 5) ? cmd_vcont(pkt) : 0) : pkt[0];
	if (!act)
		return 0;	       /* vMustReplyEmpty and other v packets */
	if (pkt[0] != 'v' && pkt[1]) { /* "c ADDR": resume elsewhere */
		d->need_restart = true;
		d->new_rip = strtoull(pkt + 1, NULL, 16);
		d->rip_written = true;
	}
	d->step = act == 's';
	d->awaiting_stop = true;
	return 1;
}

/* One packet that neither resumes nor ends the session; the reply into out. */
static void dispatch(struct emu_dbg *d, const char *pkt, char *out)
{
	switch (pkt[0]) {
	case '?':
		strcpy(out, d->last_stop);
		break;
	case 'q':
		cmd_query(d, pkt, out);
		break;
	case 'H':
		thread_select(d, pkt, out);
		break;
	case 'T':
		strcpy(out, vcpu_of_tid(d, pkt + 1) ? "OK" : "E01");
		break;
	case 'g':
		gdb_cmd_g(d, out);
		break;
	case 'G':
		gdb_cmd_G(d, pkt + 1, out);
		break;
	case 'p':
		gdb_cmd_p(d, pkt + 1, out);
		break;
	case 'P':
		gdb_cmd_P(d, pkt + 1, out);
		break;
	case 'm':
		gdb_cmd_m(d, pkt + 1, out);
		break;
	case 'M':
		gdb_cmd_M(d, pkt + 1, out);
		break;
	case 'Z':
	case 'z':
		gdb_cmd_Z(d, pkt + 1, pkt[0] == 'Z', out);
		break;
	default:
		break;
	}
}

/* Serve packets until GDB resumes the machine (or goes away). */
void gdb_serve(struct emu_dbg *d)
{
	char *pkt = d->pkt, *out = d->out;

	while (!atomic_load(&d->detached)) {
		if (recv_pkt(d, pkt, sizeof(d->pkt))) {
			gdb_disconnect(d);
			return;
		}
		out[0] = 0;
		if (!strcmp(pkt, "QStartNoAckMode")) {
			gdb_send(d, "OK");
			d->no_ack = true;
			continue;
		}
		if (pkt[0] == 'D' || pkt[0] == 'k') {
			if (pkt[0] == 'D')
				gdb_send(d, "OK");
			d->killed = pkt[0] == 'k';
			gdb_disconnect(d);
			return;
		}
		if (strchr("csv", pkt[0]) && cmd_resume(d, pkt, out))
			return;
		if (!out[0])
			dispatch(d, pkt, out);
		gdb_send(d, out);
	}
}

/* ---- open and close ----------------------------------------------------------------- */

static int listen_on(int port, int *bound, char *err, size_t errlen)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); /* never reachable from outside */
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		snprintf(err, errlen, "cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

/* --gdb: block until GDB connects (the machine has not started yet). */
static int wait_for_gdb(struct emu_dbg *d, char *err, size_t errlen)
{
	struct pollfd p = { .fd = d->lfd, .events = POLLIN };
	int fd = -1;

	while (fd < 0) {
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		fd = accept4(d->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			break;
	}
	if (fd < 0) {
		snprintf(err, errlen, "accept: %s", strerror(errno));
		return -1;
	}
	connect_gdb(d, fd);
	return 0;
}

int emu_dbg_open(struct emu_machine *m, int port, enum emu_dbg_wait wait, char *err, size_t errlen)
{
	struct emu_dbg *d = calloc(1, sizeof(*d));
	int bound = 0;

	if (!d) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	d->m = m;
	d->lfd = d->fd = -1;
	d->replay = wait == EMU_DBG_REPLAY;
	atomic_store(&d->detached, true);
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	m->dbg = d;
	if (port < 0)
		return 0;
	d->lfd = listen_on(port, &bound, err, errlen);
	if (d->lfd < 0)
		return -1;
	fprintf(stderr, "veil-emu: gdb stub listening on 127.0.0.1:%d%s\n", bound,
		wait == EMU_DBG_NOWAIT ? " (the machine runs; attach at any time)" : "");
	fflush(stderr);
	d->gdb = true;
	snprintf(d->last_stop, sizeof(d->last_stop), "T05thread:1;");
	if (wait != EMU_DBG_NOWAIT) {
		if (wait_for_gdb(d, err, errlen))
			return -1;
		d->step = !d->replay; /* pause before the first guest instruction */
	} else {
		d->running = true; /* the listener accepts GDB while the machine runs */
	}
	if (pthread_create(&d->thr, NULL, listener, d) == 0) {
		d->thr_started = true;
	} else if (wait == EMU_DBG_NOWAIT) {
		snprintf(err, errlen, "cannot start the gdb stub's listener thread");
		return -1;
	}
	return 0;
}

void emu_dbg_close(struct emu_machine *m, int status)
{
	struct emu_dbg *d = m->dbg;
	char w[16];

	if (!d)
		return;
	if (d->thr_started) { /* first: the ack of W must reach this thread */
		pthread_mutex_lock(&d->lock);
		d->quit = true;
		pthread_cond_signal(&d->cond);
		pthread_mutex_unlock(&d->lock);
		pthread_join(d->thr, NULL);
	}
	if (d->gdb && !atomic_load(&d->detached) && d->awaiting_stop) {
		snprintf(w, sizeof(w), "W%02x", status & 0xFF);
		gdb_send(d, w);
	}
	if (d->fd >= 0)
		close(d->fd);
	if (d->lfd >= 0)
		close(d->lfd);
	pthread_mutex_destroy(&d->lock);
	pthread_cond_destroy(&d->cond);
	free(d);
	m->dbg = NULL;
}
