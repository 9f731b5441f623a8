/*
 * wanlink: a user-space WAN between network namespaces. For each endpoint it opens a TUN device inside that
 * endpoint's namespace (setns), then forwards every IPv4 packet read from one TUN to the TUN whose prefixes
 * hold the destination address, after the link's one-way delay (plus uniform jitter), dropping by the link's
 * loss rate and pacing to its rate. A link keeps its packets in order (a later packet never leaves before an
 * earlier one). Only the TUN devices it created are touched: no other interface, no other address.
 *
 * Config on stdin, one directive a line, ended by "go":
 *   seed <n>
 *   ep <name> <netns> <ifname> <a.b.c.d/len> [<a.b.c.d/len> ...]
 *   default <delay_us> <jitter_us> <loss_ppm> <rate_bit_per_s>     (0 = unlimited)
 *   link <from ep> <to ep> <delay_us> <jitter_us> <loss_ppm> <rate_bit_per_s>
 * Prints "ready" once every TUN is open. SIGUSR1 prints one line per used link
 * ("stat <from> <to> <forwarded> <lost> <overflow> <unroutable>") then "end"; SIGTERM/SIGINT stop it.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define MAX_EP 128
#define MAX_PREFIX 8
#define QUEUE_CAP 8192
#define MTU_BUF 65536

struct prefix { uint32_t net, mask; };
struct endpoint { char name[64]; int fd; int nprefix; struct prefix p[MAX_PREFIX]; uint64_t unroutable; };
struct pkt { uint64_t due; uint32_t len; unsigned char *data; };
struct params { uint64_t delay, jitter, rate; uint32_t loss_ppm; };
struct link {
  struct params prm; int set;
  uint64_t busy_until, last_due;
  struct pkt *q; int head, count;
  uint64_t forwarded, lost, overflow;
};

static struct endpoint eps[MAX_EP];
static int nep;
static struct link links[MAX_EP][MAX_EP];
static struct params defaults;
static uint64_t rng = 88172645463325252ULL;
static volatile sig_atomic_t stopping, want_stats;

static void die(const char *what) { fprintf(stderr, "wanlink: %s: %s\n", what, strerror(errno)); exit(1); }
static void fail(const char *what, const char *arg) { fprintf(stderr, "wanlink: %s: %s\n", what, arg); exit(2); }

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t next_rand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static int find_ep(const char *name) {
  for (int i = 0; i < nep; i++) if (strcmp(eps[i].name, name) == 0) return i;
  fail("unknown endpoint", name);
  return -1;
}

static struct prefix parse_prefix(const char *text) {
  char addr[64]; int len = 32; struct in_addr in; struct prefix p;
  if (sscanf(text, "%63[0-9.]/%d", addr, &len) < 1 || len < 0 || len > 32 || inet_pton(AF_INET, addr, &in) != 1)
    fail("bad prefix", text);
  p.mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
  p.net = ntohl(in.s_addr) & p.mask;
  return p;
}

static int open_tun(const char *netns, const char *ifname) {
  char path[256]; struct ifreq ifr;
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  snprintf(path, sizeof path, "/run/netns/%s", netns);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (self < 0 || ns < 0) die(path);
  if (setns(ns, CLONE_NEWNET) != 0) die("setns");
  int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) die("/dev/net/tun");
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
  if (ioctl(fd, TUNSETIFF, &ifr) != 0) die("TUNSETIFF");
  if (setns(self, CLONE_NEWNET) != 0) die("setns back");
  close(self); close(ns);
  return fd;
}

static void add_endpoint(char *rest) {
  char *name = strtok(rest, " \t\n"), *netns = strtok(NULL, " \t\n"), *ifname = strtok(NULL, " \t\n");
  if (name == NULL || netns == NULL || ifname == NULL || nep == MAX_EP) fail("bad ep line", rest);
  struct endpoint *e = &eps[nep];
  snprintf(e->name, sizeof e->name, "%s", name);
  for (char *t = strtok(NULL, " \t\n"); t != NULL && e->nprefix < MAX_PREFIX; t = strtok(NULL, " \t\n"))
    e->p[e->nprefix++] = parse_prefix(t);
  e->fd = open_tun(netns, ifname);
  nep++;
}

static struct params parse_params(const char *text) {
  unsigned long long d, j, r; unsigned long l; struct params p;
  if (sscanf(text, "%llu %llu %lu %llu", &d, &j, &l, &r) != 4 || l > 1000000) fail("bad link params", text);
  p.delay = d; p.jitter = j; p.loss_ppm = (uint32_t)l; p.rate = r;
  return p;
}

static void add_link(const char *rest) {
  char from[64], to[64]; int used = 0;
  if (sscanf(rest, "%63s %63s %n", from, to, &used) != 2) fail("bad link line", rest);
  struct link *l = &links[find_ep(from)][find_ep(to)];
  l->prm = parse_params(rest + used);
  l->set = 1;
}

static void read_config(void) {
  char line[4096];
  while (fgets(line, sizeof line, stdin) != NULL) {
    if (strncmp(line, "go", 2) == 0) return;
    if (strncmp(line, "ep ", 3) == 0) add_endpoint(line + 3);
    else if (strncmp(line, "link ", 5) == 0) add_link(line + 5);
    else if (strncmp(line, "default ", 8) == 0) defaults = parse_params(line + 8);
    else if (strncmp(line, "seed ", 5) == 0) rng = strtoull(line + 5, NULL, 10) | 1u;
    else if (line[0] != '\n' && line[0] != '#') fail("unknown directive", line);
  }
  fail("config", "ended before \"go\"");
}

/** The endpoint whose longest prefix holds `addr`, or -1. */
static int route(uint32_t addr) {
  int best = -1; uint32_t best_mask = 0;
  for (int i = 0; i < nep; i++)
    for (int k = 0; k < eps[i].nprefix; k++)
      if ((addr & eps[i].p[k].mask) == eps[i].p[k].net && (best < 0 || eps[i].p[k].mask > best_mask)) {
        best = i; best_mask = eps[i].p[k].mask;
      }
  return best;
}

static uint64_t sample_delay(const struct params *p) {
  if (p->jitter == 0) return p->delay;
  int64_t d = (int64_t)p->delay + (int64_t)(next_rand() % (2 * p->jitter + 1)) - (int64_t)p->jitter;
  return d < 0 ? 0 : (uint64_t)d;
}

static void enqueue(struct link *l, const unsigned char *buf, uint32_t len, uint64_t now) {
  const struct params *p = l->set ? &l->prm : &defaults;
  if (p->loss_ppm > 0 && next_rand() % 1000000u < p->loss_ppm) { l->lost++; return; }
  if (l->q == NULL && (l->q = calloc(QUEUE_CAP, sizeof *l->q)) == NULL) die("calloc");
  if (l->count == QUEUE_CAP) { l->overflow++; return; }
  uint64_t leave = now;
  if (p->rate > 0) {
    uint64_t start = l->busy_until > now ? l->busy_until : now;
    leave = l->busy_until = start + (uint64_t)len * 8u * 1000000u / p->rate;
  }
  uint64_t due = leave + sample_delay(p);
  if (due < l->last_due) due = l->last_due;
  l->last_due = due;
  struct pkt *slot = &l->q[(l->head + l->count) % QUEUE_CAP];
  if ((slot->data = malloc(len)) == NULL) die("malloc");
  memcpy(slot->data, buf, len);
  slot->len = len; slot->due = due;
  l->count++;
}

static void receive(int src, uint64_t now) {
  static unsigned char buf[MTU_BUF];
  for (;;) {
    ssize_t n = read(eps[src].fd, buf, sizeof buf);
    if (n < 0) { if (errno == EAGAIN || errno == EINTR) return; die("read"); }
    if (n < 20 || (buf[0] >> 4) != 4) continue;
    uint32_t dst_addr;
    memcpy(&dst_addr, buf + 16, 4);
    int dst = route(ntohl(dst_addr));
    if (dst < 0 || dst == src) { eps[src].unroutable++; continue; }
    enqueue(&links[src][dst], buf, (uint32_t)n, now);
  }
}

/** Sends what is due; returns the earliest due time still queued (UINT64_MAX when none). */
static uint64_t deliver(uint64_t now) {
  uint64_t next = UINT64_MAX;
  for (int s = 0; s < nep; s++)
    for (int d = 0; d < nep; d++) {
      struct link *l = &links[s][d];
      while (l->count > 0 && l->q[l->head].due <= now) {
        struct pkt *p = &l->q[l->head];
        if (write(eps[d].fd, p->data, p->len) == (ssize_t)p->len) l->forwarded++; else l->overflow++;
        free(p->data);
        l->head = (l->head + 1) % QUEUE_CAP; l->count--;
      }
      if (l->count > 0 && l->q[l->head].due < next) next = l->q[l->head].due;
    }
  return next;
}

static void print_stats(void) {
  for (int s = 0; s < nep; s++)
    for (int d = 0; d < nep; d++) {
      struct link *l = &links[s][d];
      if (l->forwarded + l->lost + l->overflow == 0) continue;
      printf("stat %s %s %llu %llu %llu %llu\n", eps[s].name, eps[d].name, (unsigned long long)l->forwarded,
             (unsigned long long)l->lost, (unsigned long long)l->overflow, (unsigned long long)eps[s].unroutable);
    }
  printf("end\n");
  fflush(stdout);
}

static void on_signal(int sig) { if (sig == SIGUSR1) want_stats = 1; else stopping = 1; }

int main(void) {
  struct pollfd fds[MAX_EP]; sigset_t block, empty; struct sigaction sa;
  read_config();
  memset(&sa, 0, sizeof sa); sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, NULL); sigaction(SIGINT, &sa, NULL); sigaction(SIGUSR1, &sa, NULL);
  sigemptyset(&block); sigaddset(&block, SIGTERM); sigaddset(&block, SIGINT); sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, NULL); sigemptyset(&empty);
  for (int i = 0; i < nep; i++) { fds[i].fd = eps[i].fd; fds[i].events = POLLIN; }
  printf("ready\n");
  fflush(stdout);
  while (!stopping) {
    if (want_stats) { want_stats = 0; print_stats(); }
    uint64_t now = now_us(), next = deliver(now);
    uint64_t wait = next == UINT64_MAX ? 1000000u : (next > now ? next - now : 0);
    struct timespec ts = { (time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000 };
    int ready = ppoll(fds, (nfds_t)nep, &ts, &empty);
    if (ready < 0 && errno != EINTR) die("ppoll");
    now = now_us();
    for (int i = 0; ready > 0 && i < nep; i++) if (fds[i].revents & POLLIN) receive(i, now);
  }
  return 0;
}
