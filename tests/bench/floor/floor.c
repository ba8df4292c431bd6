/*
 * floor: the least a media server can do for sipp's load calls, to measure
 * the server against in the same run (host/server's load benchmarks).
 *
 * One thread. SIP over UDP, just enough for sipp's load scenarios: an
 * INVITE gets a 200 OK whose SDP offers a fresh even RTP port (PCMU and
 * telephone-event), a retransmitted INVITE the same 200 OK again, a BYE
 * its 200 OK and the socket is closed; anything else is ignored. Per
 * 20 ms tick, for every call: one recvmmsg (non-blocking, up to 8
 * datagrams, never looked at) and one sendto of a 172-byte PCMU packet to
 * the address of the caller's SDP. No jitter buffer, no decoding, no
 * plugin, no logs: the system calls that moving the same packets at the
 * same rates needs, and nothing else.
 *
 * Every second it prints one line: calls=N rx=N tx=N sip=N (cumulative).
 *
 *   cc -O2 -o floor floor.c
 *   ./floor -sip 127.0.0.1:5080 -rtp 127.0.0.1:40000 [-max 4000]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TICK_NS 20000000L
#define BATCH 8
#define HASH 8192 /* call-id table slots, a power of two > 2 * max calls */

struct call {
	int used;
	char callid[128];
	char resp[1500]; /* the 200 OK, for retransmitted INVITEs */
	int resplen;
	int fd;
	uint16_t port;
	struct sockaddr_in remote;
	uint16_t seq;
	uint32_t ts, ssrc;
};

static struct call *calls;
static int maxcalls = 4000;
static struct call **live; /* live calls, for the tick */
static int nlive;
static struct call *slots[HASH];
static struct in_addr rtpip;
static int rtpmin, nextport;
static unsigned long long rx, tx, sipmsgs;
static volatile sig_atomic_t stop;

static void onsig(int s) { (void)s; stop = 1; }

static unsigned hash(const char *s) {
	unsigned h = 2166136261u;
	while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static struct call **lookup(const char *id) {
	unsigned h = hash(id) & (HASH - 1);
	for (;;) {
		struct call **slot = &slots[h];
		if (!*slot || strcmp((*slot)->callid, id) == 0) return slot;
		h = (h + 1) & (HASH - 1);
	}
}

static void unlink_call(const char *id) {
	/* Backward-shift deletion keeps the probe chains intact. */
	unsigned h = hash(id) & (HASH - 1);
	while (slots[h] && strcmp(slots[h]->callid, id) != 0) h = (h + 1) & (HASH - 1);
	if (!slots[h]) return;
	slots[h] = NULL;
	for (unsigned j = (h + 1) & (HASH - 1); slots[j]; j = (j + 1) & (HASH - 1)) {
		struct call *c = slots[j];
		slots[j] = NULL;
		*lookup(c->callid) = c;
	}
}

/* header copies the value of a header line "name: value" into out. */
static int header(const char *msg, const char *name, char *out, size_t n) {
	size_t l = strlen(name);
	for (const char *p = msg; p && *p; p = strstr(p, "\r\n")) {
		if (p != msg) p += 2;
		if (*p == '\r') break; /* end of headers */
		if (strncasecmp(p, name, l) == 0 && p[l] == ':') {
			const char *v = p + l + 1, *e = strstr(v, "\r\n");
			while (*v == ' ') v++;
			if (!e || (size_t)(e - v) >= n) return -1;
			memcpy(out, v, e - v);
			out[e - v] = 0;
			return 0;
		}
	}
	return -1;
}

static int open_rtp(uint16_t *port) {
	for (int i = 0; i < 2 * maxcalls + 100; i++) {
		int p = nextport;
		nextport += 2;
		if (nextport > 65534) nextport = rtpmin;
		int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(p), .sin_addr = rtpip};
		if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0) {
			*port = p;
			return fd;
		}
		close(fd);
	}
	return -1;
}

static void answer(int sipfd, const char *msg, struct sockaddr_in *from, socklen_t fl, const char *sipaddr) {
	char method[16] = "", callid[128], via[4096] = "", line[1024];
	sscanf(msg, "%15s", method);
	if (strcmp(method, "INVITE") != 0 && strcmp(method, "BYE") != 0) return;
	if (header(msg, "Call-ID", callid, sizeof callid)) return;
	/* Every Via line, in order. */
	for (const char *p = msg; (p = strstr(p, "\r\nVia:")); p += 6) {
		const char *e = strstr(p + 2, "\r\n");
		if (!e || strlen(via) + (e - p) + 4 >= sizeof via) return;
		strncat(via, p + 2, e - p - 2);
		strcat(via, "\r\n");
	}
	char f[512], t[512], cseq[64];
	if (header(msg, "From", f, sizeof f) || header(msg, "To", t, sizeof t) || header(msg, "CSeq", cseq, sizeof cseq)) return;
	struct call **slot = lookup(callid);
	if (strcmp(method, "BYE") == 0) {
		int n = snprintf(line, sizeof line, "SIP/2.0 200 OK\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %s\r\nContent-Length: 0\r\n\r\n",
		                 via, f, t, callid, cseq);
		sendto(sipfd, line, n, 0, (struct sockaddr *)from, fl);
		struct call *c = *slot;
		if (c) {
			close(c->fd);
			unlink_call(callid);
			for (int i = 0; i < nlive; i++)
				if (live[i] == c) { live[i] = live[--nlive]; break; }
			c->used = 0;
		}
		return;
	}
	if (*slot) { /* a retransmission */
		sendto(sipfd, (*slot)->resp, (*slot)->resplen, 0, (struct sockaddr *)from, fl);
		return;
	}
	struct call *c = NULL;
	for (int i = 0; i < maxcalls; i++)
		if (!calls[i].used) { c = &calls[i]; break; }
	const char *body = strstr(msg, "\r\n\r\n");
	char ip[64] = "";
	int rport = 0;
	const char *cl = body ? strstr(body, "c=IN IP4 ") : NULL, *ml = body ? strstr(body, "m=audio ") : NULL;
	if (!c || !cl || !ml || sscanf(cl + 9, "%63[0-9.]", ip) != 1 || sscanf(ml + 8, "%d", &rport) != 1) return;
	memset(c, 0, sizeof *c);
	c->fd = open_rtp(&c->port);
	if (c->fd < 0) return;
	c->used = 1;
	snprintf(c->callid, sizeof c->callid, "%s", callid);
	c->remote.sin_family = AF_INET;
	c->remote.sin_port = htons(rport);
	inet_pton(AF_INET, ip, &c->remote.sin_addr);
	c->ssrc = (uint32_t)random();
	c->seq = (uint16_t)random();
	c->ts = (uint32_t)random();
	char sdp[512], rip[32];
	inet_ntop(AF_INET, &rtpip, rip, sizeof rip);
	int sl = snprintf(sdp, sizeof sdp,
	                  "v=0\r\no=floor 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\nm=audio %d RTP/AVP 0 101\r\n"
	                  "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\n",
	                  rip, rip, c->port);
	c->resplen = snprintf(c->resp, sizeof c->resp,
	                      "SIP/2.0 200 OK\r\n%sFrom: %s\r\nTo: %s;tag=floor%d\r\nCall-ID: %s\r\nCSeq: %s\r\n"
	                      "Contact: <sip:floor@%s>\r\nContent-Type: application/sdp\r\nContent-Length: %d\r\n\r\n%s",
	                      via, f, t, (int)(c - calls), callid, cseq, sipaddr, sl, sdp);
	*slot = c;
	live[nlive++] = c;
	sendto(sipfd, c->resp, c->resplen, 0, (struct sockaddr *)from, fl);
}

static void tick(void) {
	static struct mmsghdr msgs[BATCH];
	static struct iovec iov[BATCH];
	static char bufs[BATCH][1500];
	static unsigned char pkt[172];
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof bufs[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	for (int i = 0; i < nlive; i++) {
		struct call *c = live[i];
		int n = recvmmsg(c->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n > 0) rx += n;
		pkt[0] = 0x80;
		pkt[1] = 0;
		pkt[2] = c->seq >> 8, pkt[3] = c->seq;
		pkt[4] = c->ts >> 24, pkt[5] = c->ts >> 16, pkt[6] = c->ts >> 8, pkt[7] = c->ts;
		pkt[8] = c->ssrc >> 24, pkt[9] = c->ssrc >> 16, pkt[10] = c->ssrc >> 8, pkt[11] = c->ssrc;
		memset(pkt + 12, 0xff, 160);
		c->seq++;
		c->ts += 160;
		if (sendto(c->fd, pkt, sizeof pkt, 0, (struct sockaddr *)&c->remote, sizeof c->remote) > 0) tx++;
	}
}

static long long now_ns(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000000000LL + t.tv_nsec;
}

int main(int argc, char **argv) {
	const char *sip = "127.0.0.1:5080", *rtp = "127.0.0.1:40000";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-sip")) sip = argv[i + 1];
		else if (!strcmp(argv[i], "-rtp")) rtp = argv[i + 1];
		else if (!strcmp(argv[i], "-max")) maxcalls = atoi(argv[i + 1]);
		else { fprintf(stderr, "usage: floor -sip IP:PORT -rtp IP:MINPORT [-max CALLS]\n"); return 2; }
	}
	if (maxcalls < 1 || 2 * maxcalls >= HASH) { fprintf(stderr, "floor: -max 1..%d\n", HASH / 2 - 1); return 2; }
	char sipip[64], rtpips[64];
	int sipport, rport;
	if (sscanf(sip, "%63[0-9.]:%d", sipip, &sipport) != 2 || sscanf(rtp, "%63[0-9.]:%d", rtpips, &rport) != 2 ||
	    inet_pton(AF_INET, rtpips, &rtpip) != 1) {
		fprintf(stderr, "floor: bad address\n");
		return 2;
	}
	rtpmin = nextport = rport + (rport & 1);
	calls = calloc(maxcalls, sizeof *calls);
	live = calloc(maxcalls, sizeof *live);
	int sipfd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(sipport)};
	inet_pton(AF_INET, sipip, &sa.sin_addr);
	if (bind(sipfd, (struct sockaddr *)&sa, sizeof sa) != 0) { perror("floor: bind sip"); return 1; }
	signal(SIGTERM, onsig);
	signal(SIGINT, onsig);
	printf("listening on %s\n", sip);
	fflush(stdout);
	long long next = now_ns() + TICK_NS, report = now_ns() + 1000000000LL;
	static char msg[65536];
	while (!stop) {
		long long now = now_ns();
		if (now >= next) {
			tick();
			next += TICK_NS;
			if (now - next > 10 * TICK_NS) next = now + TICK_NS; /* far behind: skip */
			continue;
		}
		if (now >= report) {
			printf("calls=%d rx=%llu tx=%llu sip=%llu\n", nlive, rx, tx, sipmsgs);
			fflush(stdout);
			report += 1000000000LL;
		}
		struct timespec to = {.tv_sec = 0, .tv_nsec = next - now};
		struct pollfd p = {.fd = sipfd, .events = POLLIN};
		if (ppoll(&p, 1, &to, NULL) > 0) {
			for (;;) {
				struct sockaddr_in from;
				socklen_t fl = sizeof from;
				ssize_t n = recvfrom(sipfd, msg, sizeof msg - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
				if (n <= 0) break;
				msg[n] = 0;
				sipmsgs++;
				answer(sipfd, msg, &from, fl, sip);
			}
		}
	}
	printf("calls=%d rx=%llu tx=%llu sip=%llu\n", nlive, rx, tx, sipmsgs);
	return 0;
}
