// SPDX-License-Identifier: GPL-2.0
/*
 * A pre-fork server in miniature, the workload of the README's demo. The master loads a data
 * set once (by default 64 MiB of generated records and a hash index over them), then forks
 * workers, as gunicorn, uWSGI, Unicorn or PHP-FPM do. Each worker serves requests in batches:
 * it looks records up by key (reads, which share), and updates a hit counter and a timestamp
 * in some of them (writes, which break COW one page at a time), with a scratch buffer of its
 * own per batch. Workers favour a part of the key space each (like sticky sessions), so their
 * copies overlap only partly. Sharing erodes over the run; the master exits after its workers.
 *
 *   prefork [-m MIB] [-w WORKERS] [-b BATCHES] [-r REQUESTS] [-u UPDATE%] [-s SLEEP_MS]
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct record {
	uint64_t key;
	char name[24];
	double score;
	uint32_t hits;
	uint32_t flags;
	uint64_t last_seen;
	uint64_t next;		/* hash chain: index + 1, 0 ends */
};

struct dataset {
	struct record *rec;
	uint64_t *bucket;	/* index + 1 of the first record, 0 if none */
	size_t n, nbuckets;
};

static uint64_t rng(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static uint64_t hash(uint64_t key)
{
	return key * 0x9e3779b97f4a7c15ULL;
}

static void load(struct dataset *d, size_t mib)
{
	uint64_t seed = 42;
	size_t i;

	d->n = (mib << 20) * 7 / 8 / sizeof(struct record);
	d->nbuckets = (mib << 20) / 8 / sizeof(uint64_t);
	d->rec = malloc(d->n * sizeof(*d->rec));
	d->bucket = calloc(d->nbuckets, sizeof(*d->bucket));
	if (!d->rec || !d->bucket) {
		fprintf(stderr, "prefork: cannot allocate %zu MiB\n", mib);
		exit(1);
	}
	for (i = 0; i < d->n; i++) {
		struct record *r = &d->rec[i];
		size_t b;

		r->key = i * 2654435761ULL % 1000000007ULL;
		snprintf(r->name, sizeof(r->name), "user-%08llx", (unsigned long long)rng(&seed));
		r->score = (double)(rng(&seed) % 10000) / 100;
		r->hits = 0;
		r->flags = 0;
		r->last_seen = 0;
		b = hash(r->key) % d->nbuckets;
		r->next = d->bucket[b];
		d->bucket[b] = i + 1;
	}
}

static struct record *lookup(struct dataset *d, uint64_t key)
{
	uint64_t i = d->bucket[hash(key) % d->nbuckets];

	while (i) {
		struct record *r = &d->rec[i - 1];

		if (r->key == key)
			return r;
		i = r->next;
	}
	return NULL;
}

static void worker(struct dataset *d, int id, int workers, int batches, int requests,
		   int update_pct, int sleep_ms)
{
	uint64_t seed = 0x1234567ULL * (id + 1), served = 0, updated = 0;
	struct timespec pause = { sleep_ms / 1000, sleep_ms % 1000 * 1000000L };
	size_t part = d->n / workers;
	double total = 0;
	int b, q;

	for (b = 0; b < batches; b++) {
		char *scratch = malloc(64 << 10);

		if (!scratch)
			_exit(1);
		for (q = 0; q < requests; q++) {
			/* 3 in 4 requests stay in this worker's part of the key space */
			size_t i = rng(&seed) % 4 ? id * part + rng(&seed) % part :
				   rng(&seed) % d->n;
			struct record *r = lookup(d, d->rec[i].key);

			if (!r)
				continue;
			total += r->score;
			scratch[q % (64 << 10)] = r->name[0];
			if ((int)(rng(&seed) % 100) < update_pct) {
				r->hits++;
				r->last_seen = b;
				updated++;
			}
			served++;
		}
		free(scratch);
		nanosleep(&pause, NULL);
	}
	printf("worker %d (pid %d): %llu requests, %llu updates, score sum %.0f\n", id, getpid(),
	       (unsigned long long)served, (unsigned long long)updated, total);
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	int workers = 4, batches = 40, requests = 2000, update_pct = 5, sleep_ms = 50, opt, i;
	size_t mib = 64;
	struct dataset d;

	while ((opt = getopt(argc, argv, "m:w:b:r:u:s:")) != -1) {
		switch (opt) {
		case 'm':
			mib = strtoul(optarg, NULL, 10);
			break;
		case 'w':
			workers = atoi(optarg);
			break;
		case 'b':
			batches = atoi(optarg);
			break;
		case 'r':
			requests = atoi(optarg);
			break;
		case 'u':
			update_pct = atoi(optarg);
			break;
		case 's':
			sleep_ms = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: prefork [-m MIB] [-w WORKERS] [-b BATCHES] [-r REQUESTS] [-u UPDATE%%] [-s SLEEP_MS]\n");
			return 2;
		}
	}
	if (!mib || mib > 4096 || workers < 1 || workers > 256 || batches < 1 || requests < 1) {
		fprintf(stderr, "prefork: bad option value\n");
		return 2;
	}
	load(&d, mib);
	printf("master (pid %d): loaded %zu records (%zu MiB), forking %d workers\n", getpid(),
	       d.n, mib, workers);
	fflush(stdout);
	for (i = 0; i < workers; i++) {
		pid_t p = fork();

		if (p < 0) {
			perror("prefork: fork");
			return 1;
		}
		if (!p)
			worker(&d, i, workers, batches, requests, update_pct, sleep_ms);
	}
	for (i = 0; i < workers; i++)
		wait(NULL);
	printf("master: all workers done\n");
	return 0;
}
