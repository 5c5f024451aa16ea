// SPDX-License-Identifier: GPL-2.0
/*
 * Host-side tests of the cowstat command that need no module: usage errors, the one-line
 * explanation when the module is absent, errors for missing pids and kernel threads, and,
 * with COWSTAT_DEBUGFS pointing at fake module files, the output of ps and run (valid JSON,
 * checked with python3), malformed module output, and a fuzz loop over mutated files.
 * $COWSTAT (default tools/cowstat) is the binary.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <grp.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include <cowstat.h>
#include "cowstat_tool.h"

/* Run the tool as @uid (-1: as we are), capturing stdout and stderr. */
static void run_as(struct cowstat_result *r, uid_t uid, char *const argv[])
{
	const char *tool = getenv("COWSTAT") ? : "tools/cowstat";
	FILE *out = tmpfile(), *err = tmpfile();
	int st;
	pid_t pid;

	if (!out || !err)
		abort();
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		if (uid != (uid_t)-1 && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(126);
		execv(tool, argv);
		_exit(127);
	}
	waitpid(pid, &st, 0);
	r->status = cowstat_exit_status(st);
	cowstat_slurp(out, r->out, sizeof(r->out));
	cowstat_slurp(err, r->err, sizeof(r->err));
}

/* Run the tool with the given arguments, capturing stdout and stderr. */
static void run(struct cowstat_result *r, char *const argv[])
{
	run_as(r, -1, argv);
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(no_command_is_usage_error)
{
	struct cowstat_result r;

	run(&r, (char *const[]){ "cowstat", NULL });
	EXPECT_EQ(2, r.status);
	EXPECT_NE(NULL, strstr(r.err, "usage:"));
}

TEST(unknown_command_one_line)
{
	struct cowstat_result r;

	run(&r, (char *const[]){ "cowstat", "frobnicate", NULL });
	EXPECT_EQ(2, r.status);
	EXPECT_EQ(1, lines(r.err));
	EXPECT_NE(NULL, strstr(r.err, "unknown command 'frobnicate'"));
}

TEST(help_exits_zero_with_examples)
{
	struct cowstat_result r;

	run(&r, (char *const[]){ "cowstat", "-h", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "examples:"));
	EXPECT_STREQ("", r.err);
}

/* This machine cannot load modules, so the module is absent: one line, exit 1. */
TEST(version_without_module)
{
	struct cowstat_result r;
	struct stat st;

	if (stat(COWSTAT_DEBUGFS_DIR, &st) == 0)
		SKIP(return, "cowstat module is loaded here");
	run(&r, (char *const[]){ "cowstat", "version", NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("stderr: %s", r.err);
	if (geteuid() == 0) {
		EXPECT_NE(NULL, strstr(r.err, "module not loaded"));
	} else {
		EXPECT_NE(NULL, strstr(r.err, "root"));
	}
	EXPECT_NE(NULL, strstr(r.out, "cowstat tool " COWSTAT_VERSION));
}


#define COLS "copy reuse zero file thp_reuse thp_split thp_zero unshare ksm shared other"

static const char fake_procs[] =
	"# cowstat procs v3\n"
	"pid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
	"237 1 bash live 18440737756 18884076786 0 14 6 0 0 0 0 0 0 0 0 0 57344\n"
	"239 237 fork live 18883908546 19178010266 0 60 221 1 12 0 0 0 0 0 0 0 294912\n"
	"240 239 we\\040ird\\042 exited 18982686376 0 19000000000 100 0 0 0 0 0 0 0 0 0 0 409600\n";

static const char fake_regions[] =
	"# cowstat regions v3\n"
	"pid start_ns region " COLS "\n"
	"239 18883908546 heap 50 200 0 0 0 0 0 0 0 0 0\n"
	"239 18883908546 file 0 0 0 12 0 0 0 0 0 0 0\n";

static const char fake_summary[] =
	"# cowstat summary v3\n"
	"copy 174\nreuse 227\nzero 1\nfile 12\nthp_reuse 0\nthp_split 0\nthp_zero 0\nunshare 0\nksm 0\n"
	"shared 0\nother 0\ncopied_bytes 761856\nprocs_live 2\nprocs_exited 1\n"
	"procs_dropped 0\nprocs_nomem 0\nfaults_unattributed 0\nfaults_retried 0\nscope_pid 0\n";

static char fakedir[32];

static void put(const char *name, const char *content, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fakedir, name);
	f = fopen(path, "w");
	if (!f || fwrite(content, 1, len, f) != len || fclose(f))
		abort();
}

/* A directory of valid fake module files; COWSTAT_DEBUGFS points the tool at it. */
static void fake_module(void)
{
	if (!fakedir[0]) {
		snprintf(fakedir, sizeof(fakedir), "/tmp/cowstat-fake.XXXXXX");
		if (!mkdtemp(fakedir))
			abort();
	}
	put("version", "module_version 0.2.0\ninterface_version 3\n", 41);
	put("procs", fake_procs, strlen(fake_procs));
	put("regions", fake_regions, strlen(fake_regions));
	put("summary", fake_summary, strlen(fake_summary));
	put("watches", "", 0);
	put("control", "scope all\n", 10);
	setenv("COWSTAT_DEBUGFS", fakedir, 1);
}

static void no_fake_module(void)
{
	unsetenv("COWSTAT_DEBUGFS");
}

/* 0 if s is one valid JSON document (python3 -m json.tool). */
static int json_valid(const char *s)
{
	char path[] = "/tmp/cowstat-json.XXXXXX", cmd[128];
	int fd = mkstemp(path), rc;
	size_t len = strlen(s);

	if (fd < 0 || write(fd, s, len) != (ssize_t)len)
		abort();
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 -m json.tool %s > /dev/null 2>&1", path);
	rc = system(cmd);
	unlink(path);
	return rc;
}

/*
 * 0 if s is a JSON Lines stream of exactly n documents, each parsed on its own by python3's
 * json module, with the keys of a top refresh.
 */
static int top_json_lines_valid(const char *s, int n)
{
	char path[] = "/tmp/cowstat-jsonl.XXXXXX", cmd[512];
	int fd = mkstemp(path), rc;
	size_t len = strlen(s);

	if (fd < 0 || write(fd, s, len) != (ssize_t)len)
		abort();
	close(fd);
	snprintf(cmd, sizeof(cmd), "python3 -c 'import json, sys\n"
		 "t = open(sys.argv[1]).read()\n"
		 "assert t.endswith(\"\\n\"), t\n"
		 "docs = [json.loads(l) for l in t[:-1].split(\"\\n\")]\n"
		 "assert len(docs) == %d, len(docs)\n"
		 "keys = {\"time_ns\", \"interval_s\", \"page_size\", \"processes\"}\n"
		 "assert all(set(d) == keys for d in docs), docs\n"
		 "assert all(a[\"time_ns\"] < b[\"time_ns\"] for a, b in zip(docs, docs[1:]))\n"
		 "' %s >&2", n, path);
	rc = system(cmd);
	unlink(path);
	return rc;
}

static int module_absent(void)
{
	struct stat st;

	return stat(COWSTAT_DEBUGFS_DIR, &st) != 0;
}

TEST(ps_plain_aligned)
{
	struct cowstat_result r;

	fake_module();
	run(&r, (char *const[]){ "cowstat", "ps", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.out, "PID  PPID  COMM")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "60 (240K)")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "we ird\"")) TH_LOG("%s", r.out);
	run(&r, (char *const[]){ "cowstat", "ps", "--pages", "-t", "239", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(NULL, strstr(r.out, "bash"));
	EXPECT_NE(NULL, strstr(r.out, "\n240 ")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, " 60 ")) TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "240K")) TH_LOG("%s", r.out);
	/* --bytes: 60 pages of 4 KiB, and copied_bytes exactly. */
	run(&r, (char *const[]){ "cowstat", "ps", "--bytes", "-p", "239", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, " 245760 ")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, " 294912")) TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "240K")) TH_LOG("%s", r.out);
	no_fake_module();
}

TEST(ps_json_valid)
{
	struct cowstat_result r;

	fake_module();
	run(&r, (char *const[]){ "cowstat", "ps", "--json", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"comm\": \"we ird\\\"\""));
	EXPECT_NE(NULL, strstr(r.out, "\"copied_bytes\": 294912"));
	no_fake_module();
}

/* top --json -n N: JSON Lines, one document per refresh, each on one line. */
TEST(top_json_lines)
{
	struct cowstat_result r;

	fake_module();
	run(&r, (char *const[]){ "cowstat", "top", "--json", "-n", "3", "-d", "0.05", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(3, lines(r.out)) TH_LOG("%s", r.out);
	EXPECT_EQ(0, top_json_lines_valid(r.out, 3)) TH_LOG("%s", r.out);
	run(&r, (char *const[]){ "cowstat", "top", "--json", "-d", "0.05", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, top_json_lines_valid(r.out, 1)) TH_LOG("%s", r.out);
	/* One refresh is also one plain JSON document. */
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	no_fake_module();
}

TEST(malformed_module_output_one_line)
{
	static const char *const cases[][2] = {
		{ "procs", "# cowstat procs v3\npid ppid comm\n" },
		{ "procs", "# cowstat procs v1\n" },
		{ "procs", "garbage" },
		{ "version", "module_version 0.2.0\ninterface_version 4\n" },
		{ "version", "module_version 0.2.0\n" },
	};
	struct cowstat_result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		fake_module();
		put(cases[i][0], cases[i][1], strlen(cases[i][1]));
		run(&r, (char *const[]){ "cowstat", "ps", NULL });
		EXPECT_EQ(1, r.status) TH_LOG("case %zu", i);
		EXPECT_EQ(1, lines(r.err)) TH_LOG("case %zu: %s", i, r.err);
	}
	no_fake_module();
}

/* Mutated module files through the whole tool: exit 0 or 1, one line, valid JSON. */
TEST(fuzz_module_files)
{
	static const char alphabet[] = " \n\\0123456789az#-\t";
	unsigned int seed = 777;
	char buf[2048];
	struct cowstat_result r;
	int it, m;

	for (it = 0; it < 300; it++) {
		const char *src = it % 2 ? fake_procs : fake_regions;
		size_t len = strlen(src);

		fake_module();
		memcpy(buf, src, len + 1);
		for (m = 0; m < 3 && len; m++) {
			size_t pos;

			seed = seed * 1103515245 + 12345;
			pos = (seed >> 8) % len;
			if (seed & 1)
				buf[pos] = alphabet[(seed >> 4) % (sizeof(alphabet) - 1)];
			else
				len = pos;	/* truncate */
		}
		put(it % 2 ? "procs" : "regions", buf, len);
		/* show of an exited record reads procs and regions, and no /proc. */
		if (!(it % 2))
			run(&r, (char *const[]){ "cowstat", "show", it % 4 ? "--json" : "--pages",
				"240", NULL });
		else if (it % 3)
			run(&r, (char *const[]){ "cowstat", "ps", "--json", NULL });
		else if (it % 5)
			run(&r, (char *const[]){ "cowstat", "top", "--json", "-d", "0.05", NULL });
		else
			run(&r, (char *const[]){ "cowstat", "ps", "-t", "237", NULL });
		ASSERT_TRUE(r.status == 0 || r.status == 1) TH_LOG("iteration %d", it);
		EXPECT_GE(1, lines(r.err)) TH_LOG("iteration %d: %s", it, r.err);
		if (r.status == 0 && (it % 10 == 1 || it % 10 == 2))
			EXPECT_EQ(0, json_valid(r.out)) TH_LOG("iteration %d", it);
	}
	no_fake_module();
}

/* Exit status of CMD passed through, 128 + signal, 127 when it cannot run. */
TEST(run_passes_exit_status)
{
	struct cowstat_result r;
	char ctl[128] = "";
	FILE *f;

	fake_module();
	run(&r, (char *const[]){ "cowstat", "run", "--", "sh", "-c", "exit 7", NULL });
	EXPECT_EQ(7, r.status) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "exit status 7"));
	run(&r, (char *const[]){ "cowstat", "run", "--", "sh", "-c", "kill -TERM $$", NULL });
	EXPECT_EQ(128 + 15, r.status);
	run(&r, (char *const[]){ "cowstat", "run", "--", "/nonexistent/cmd", NULL });
	EXPECT_EQ(127, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
	run(&r, (char *const[]){ "cowstat", "run", "--json", "-i", "20", "--", "sleep", "0.1",
		NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(0, json_valid(r.err)) TH_LOG("%s", r.err);
	/* The scope is given back: the last command written is "scope all". */
	snprintf(ctl, sizeof(ctl), "%s/control", fakedir);
	f = fopen(ctl, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(ctl, sizeof(ctl), f));
	fclose(f);
	EXPECT_EQ(0, strncmp(ctl, "scope all", 9)) TH_LOG("%s", ctl);
	no_fake_module();
}

TEST(usage_errors_exit_2)
{
	static const char *const cases[][4] = {
		{ "show", NULL }, { "show", "abc", NULL }, { "tree", "1", "2", NULL },
		{ "run", NULL }, { "top", "-d", "0", NULL }, { "ps", "-x", NULL },
		{ "run", "-i", "5", NULL },
	};
	struct cowstat_result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *argv[6] = { "cowstat" };

		memcpy(argv + 1, cases[i], sizeof(cases[i]));
		run(&r, argv);
		EXPECT_EQ(2, r.status) TH_LOG("case %zu: %s", i, r.err);
	}
}

/* The module's summary: nothing on stderr when it is all 0, one warning line when not. */
TEST(module_health_warned)
{
	static const char sick[] =
		"# cowstat summary v3\n"
		"copy 174\nreuse 227\nzero 1\nfile 12\nthp_reuse 0\nthp_split 0\nthp_zero 0\n"
		"unshare 0\nksm 0\nshared 0\nother 0\ncopied_bytes 761856\nprocs_live 2\n"
		"procs_exited 1\nprocs_dropped 4\nprocs_nomem 1\nfaults_unattributed 5\n"
		"procs_percpu 0\nhash_buckets 1024\nrecord_bytes 256\nscope_pid 0\n"
		"probe_do_wp_page 1\nmissed_do_wp_page 2\nmissed_finish_fault 1\n";
	char pid[16], *const warn = "cowstat: warning: module summary: 3 probe hits missed";
	struct cowstat_result r;
	int i;

	snprintf(pid, sizeof(pid), "%d", getpid());
	fake_module();
	run(&r, (char *const[]){ "cowstat", "ps", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_STREQ("", r.err);
	put("summary", sick, strlen(sick));
	for (i = 0; i < 4; i++) {
		if (i == 0)
			run(&r, (char *const[]){ "cowstat", "ps", "--json", NULL });
		else if (i == 1)
			run(&r, (char *const[]){ "cowstat", "top", "--json", "-d", "0.05", NULL });
		else if (i == 2)
			run(&r, (char *const[]){ "cowstat", "tree", "--json", pid, NULL });
		else
			run(&r, (char *const[]){ "cowstat", "run", "-o", "/dev/null", "--", "true",
				NULL });
		EXPECT_EQ(0, r.status) TH_LOG("case %d: %s", i, r.err);
		EXPECT_EQ(0, i == 3 ? 0 : json_valid(r.out)) TH_LOG("case %d: %s", i, r.out);
		EXPECT_EQ(1, lines(r.err)) TH_LOG("case %d: %s", i, r.err);
		EXPECT_NE(NULL, strstr(r.err, warn)) TH_LOG("case %d: %s", i, r.err);
		EXPECT_NE(NULL, strstr(r.err, "1 records not allocated, 5 faults in no process, "
				       "4 records of ended processes dropped\n"))
			TH_LOG("case %d: %s", i, r.err);
	}
	put("summary", "# cowstat summary v3\ncopy 1\n", 26);
	run(&r, (char *const[]){ "cowstat", "ps", NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "warning: module summary unreadable")) TH_LOG("%s", r.err);
	no_fake_module();
}

/*
 * A family of module records: descendants by ppid, each started at or after its parent; the
 * root first, then depth first, siblings in start order.
 */
TEST(family_rule_and_order)
{
	static const char procs[] =
		"# cowstat procs v3\n"
		"pid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"101 1 old exited 1 0 3 0 0 0 0 0 0 0 0 0 0 0 0\n"	/* an earlier 101 */
		"105 101 oldkid exited 2 0 3 0 0 0 0 0 0 0 0 0 0 0 0\n"	/* its child */
		"104 100 before live 5 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"	/* before 100 */
		"100 1 root live 10 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		"102 100 second live 15 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		"101 100 first live 20 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		"106 102 grand live 25 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
		"103 101 grand2 live 30 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
	const char *want[] = { "\n100 ", "\n102 ", "\n106 ", "\n101 ", "\n103 " };
	struct cowstat_result r;
	const char *at;
	char *big, cmd[512];
	size_t i;
	int n, len;

	fake_module();
	put("procs", procs, strlen(procs));
	run(&r, (char *const[]){ "cowstat", "ps", "-t", "100", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	for (at = r.out, i = 0; i < ARRAY_SIZE(want); i++) {
		at = strstr(at, want[i]);
		ASSERT_NE(NULL, at) TH_LOG("%s not in order in:\n%s", want[i], r.out);
	}
	EXPECT_EQ(NULL, strstr(r.out, "\n104 ")) TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "\n105 ")) TH_LOG("%s", r.out);
	EXPECT_EQ(NULL, strstr(r.out, "old")) TH_LOG("%s", r.out);
	/* A chain 30000 deep: every record found, the deepest last. */
	big = malloc(30000 * 64 + 512);
	ASSERT_NE(NULL, big);
	len = sprintf(big, "# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns "
		      COLS " copied_bytes\n");
	for (n = 0; n < 30000; n++)
		len += sprintf(big + len, "%d %d p live %d 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
			       1000 + n, n ? 999 + n : 1, 100 + n);
	put("procs", big, len);
	free(big);
	snprintf(cmd, sizeof(cmd), "%s ps --json -t 1000 | python3 -c 'import json, sys\n"
		 "p = [x[\"pid\"] for x in json.load(sys.stdin)[\"processes\"]]\n"
		 "assert p == list(range(1000, 31000)), (len(p), p[:3], p[-3:])'",
		 getenv("COWSTAT") ? : "tools/cowstat");
	EXPECT_EQ(0, system(cmd));
	no_fake_module();
}

/* Options may follow operands (tree PID --json), as they precede them. */
TEST(options_after_operands)
{
	char pid[16];
	struct cowstat_result r;

	snprintf(pid, sizeof(pid), "%d", getpid());
	run(&r, (char *const[]){ "cowstat", "tree", pid, "--json", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	run(&r, (char *const[]){ "cowstat", "show", pid, "--pages", "--json", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	fake_module();
	run(&r, (char *const[]){ "cowstat", "ps", "-p", "239", "--json", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	no_fake_module();
	/* After run's or trace's command, options are the command's. */
	run(&r, (char *const[]){ "cowstat", "tree", pid, "--", "--json", NULL });
	EXPECT_EQ(2, r.status);
	EXPECT_NE(NULL, strstr(r.err, "expected one PID")) TH_LOG("%s", r.err);
}

/* Each command takes its own options only: trace's -d and -n are not top's --delay, -n. */
TEST(per_command_options)
{
	static const char *const refused[][4] = {
		{ "trace", "--delay", "5", NULL }, { "trace", "--iterations", "3", NULL },
		{ "ps", "--delay", "1", NULL }, { "run", "--pid", "1", NULL },
		{ "tree", "--tree", "1", NULL }, { "version", "--output", "x", NULL },
		{ "top", "--interval", "1", NULL }, { "show", "--iterations", "1", NULL },
	};
	struct cowstat_result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		char *argv[6] = { "cowstat" };

		memcpy(argv + 1, refused[i], sizeof(refused[i]));
		run(&r, argv);
		EXPECT_EQ(2, r.status) TH_LOG("case %zu: %s", i, r.err);
		EXPECT_NE(NULL, strstr(r.err, "unrecognized option")) TH_LOG("case %zu: %s", i,
									   r.err);
	}
	/* top's own --delay is still parsed as seconds. */
	run(&r, (char *const[]){ "cowstat", "top", "--delay", "0", NULL });
	EXPECT_EQ(2, r.status);
	EXPECT_NE(NULL, strstr(r.err, "expected seconds")) TH_LOG("%s", r.err);
}

TEST(every_command_has_help_with_examples)
{
	static const char *const cmds[] = { "run", "top", "tree", "show", "ps", "version" };
	struct cowstat_result r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		run(&r, (char *const[]){ "cowstat", (char *)cmds[i], "-h", NULL });
		EXPECT_EQ(0, r.status);
		EXPECT_NE(NULL, strstr(r.out, "examples:")) TH_LOG("%s", cmds[i]);
	}
}

/* run, top and ps need the module: one line saying how to load it. */
TEST(module_commands_explain_loading)
{
	static const char *const cmds[][4] = {
		{ "run", "--", "true", NULL }, { "top", NULL }, { "ps", NULL },
	};
	struct cowstat_result r;
	size_t i;

	if (!module_absent())
		SKIP(return, "cowstat module is loaded here");
	if (geteuid() != 0)
		SKIP(return, "the message for non-root users differs");
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		char *argv[6] = { "cowstat" };

		memcpy(argv + 1, cmds[i], sizeof(cmds[i]));
		run(&r, argv);
		EXPECT_EQ(1, r.status);
		EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
		EXPECT_NE(NULL, strstr(r.err, "insmod")) TH_LOG("%s", r.err);
	}
}

TEST(no_such_pid)
{
	struct cowstat_result r;

	run(&r, (char *const[]){ "cowstat", "show", "2147483647", NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "no such process"));
	run(&r, (char *const[]){ "cowstat", "tree", "2147483647", NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "no such process"));
}

/* A kernel thread has no memory: one line. */
TEST(kernel_thread)
{
	char path[300], buf[512], pid[300] = "";
	struct cowstat_result r;
	struct dirent *de;
	DIR *d = opendir("/proc");

	ASSERT_NE(NULL, d);
	while (!pid[0] && (de = readdir(d))) {
		unsigned long flags;
		char *p;
		FILE *f;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) == 1 &&
		    (flags & 0x00200000))
			snprintf(pid, sizeof(pid), "%s", de->d_name);
		fclose(f);
	}
	closedir(d);
	if (!pid[0])
		SKIP(return, "no kernel thread visible");
	run(&r, (char *const[]){ "cowstat", "show", pid, NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "kernel thread"));
	run(&r, (char *const[]){ "cowstat", "tree", pid, NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_NE(NULL, strstr(r.err, "kernel thread"));
}

/* Without the module, show answers from pagemap and says in one line what is missing. */
TEST(show_without_module)
{
	char pid[16];
	struct cowstat_result r;

	if (!module_absent())
		SKIP(return, "cowstat module is loaded here");
	snprintf(pid, sizeof(pid), "%d", getpid());
	run(&r, (char *const[]){ "cowstat", "show", "--json", pid, NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(geteuid() == 0 ? 1 : 2, lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_NE(NULL, strstr(r.err, "fault counters unavailable"));
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"module\": null"));
	run(&r, (char *const[]){ "cowstat", "show", pid, NULL });
	EXPECT_EQ(0, r.status);
	EXPECT_NE(NULL, strstr(r.out, "sharing now (pagemap")) TH_LOG("%s", r.out);
}

/* version --json: the tool's version always, the module's when it can be read. */
TEST(version_json)
{
	struct cowstat_result r;

	fake_module();
	run(&r, (char *const[]){ "cowstat", "version", "--json", NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"tool_version\": \"" COWSTAT_VERSION "\""));
	EXPECT_NE(NULL, strstr(r.out, "\"module\": {")) TH_LOG("%s", r.out);
	put("version", "module_version 0.9.0\ninterface_version 4\n", 41);
	run(&r, (char *const[]){ "cowstat", "version", "--json", NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"interface_version\": 4")) TH_LOG("%s", r.out);
	no_fake_module();
	if (!module_absent())
		return;
	run(&r, (char *const[]){ "cowstat", "version", "--json", NULL });
	EXPECT_EQ(1, r.status);
	EXPECT_EQ(1, lines(r.err)) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"module\": null")) TH_LOG("%s", r.out);
}

/*
 * Not root: the module's files (root only, like debugfs) give one line saying so; another
 * user's process, one line naming the file that was refused. Exit 1 each time.
 */
TEST(not_root_one_line)
{
	static const char *const module_cmds[][4] = {
		{ "ps", NULL }, { "top", NULL }, { "run", "--", "true", NULL }, { "version", NULL },
	};
	static const char *const pid_cmds[] = { "show", "tree" };
	const uid_t nobody = 65534;
	struct cowstat_result r;
	size_t i;

	if (geteuid() != 0)
		SKIP(return, "needs root to run the tool as another user");
	fake_module();
	for (i = 0; i < ARRAY_SIZE(module_cmds); i++) {
		char *argv[6] = { "cowstat" };

		memcpy(argv + 1, module_cmds[i], sizeof(module_cmds[i]));
		run_as(&r, nobody, argv);
		EXPECT_EQ(1, r.status) TH_LOG("%s: %s", argv[1], r.err);
		EXPECT_EQ(1, lines(r.err)) TH_LOG("%s: %s", argv[1], r.err);
		EXPECT_NE(NULL, strstr(r.err, "run as root")) TH_LOG("%s: %s", argv[1], r.err);
	}
	no_fake_module();
	for (i = 0; i < ARRAY_SIZE(pid_cmds); i++) {
		run_as(&r, nobody, (char *const[]){ "cowstat", (char *)pid_cmds[i], "1", NULL });
		EXPECT_EQ(1, r.status) TH_LOG("%s: %s", pid_cmds[i], r.err);
		EXPECT_EQ(1, lines(r.err)) TH_LOG("%s: %s", pid_cmds[i], r.err);
		EXPECT_NE(NULL, strstr(r.err, "Permission denied")) TH_LOG("%s", r.err);
	}
}

/*
 * Every key of every command's JSON is documented in Documentation/usage.rst ("JSON keys"),
 * and each command's top-level keys are the documented ones (host-tests/json_keys.py).
 */
TEST(json_keys_documented)
{
	static const char *const names[] = { "ps", "top", "version", "run", "show-module",
					     "show", "tree" };
	char pid[16], path[64], cmd[1024];
	struct cowstat_result r;
	size_t i, len;
	FILE *f;

	len = snprintf(cmd, sizeof(cmd), "python3 host-tests/json_keys.py Documentation/usage.rst");
	snprintf(pid, sizeof(pid), "%d", getpid());
	for (i = 0; i < ARRAY_SIZE(names); i++) {
		fake_module();
		if (i == 0)
			run(&r, (char *const[]){ "cowstat", "ps", "--json", NULL });
		else if (i == 1)
			run(&r, (char *const[]){ "cowstat", "top", "--json", "-d", "0.05", NULL });
		else if (i == 2)
			run(&r, (char *const[]){ "cowstat", "version", "--json", NULL });
		else if (i == 3)
			run(&r, (char *const[]){ "cowstat", "run", "--json", "-o", "/dev/stdout",
				"-i", "20", "--", "true", NULL });
		else if (i == 4)	/* an exited process of the fake table: module record only */
			run(&r, (char *const[]){ "cowstat", "show", "--json", "240", NULL });
		no_fake_module();
		if (i == 5)
			run(&r, (char *const[]){ "cowstat", "show", "--json", pid, NULL });
		else if (i == 6)
			run(&r, (char *const[]){ "cowstat", "tree", "--json", pid, NULL });
		EXPECT_EQ(0, r.status) TH_LOG("%s: %s", names[i], r.err);
		snprintf(path, sizeof(path), "/tmp/cowstat-keys-%s.json", names[i]);
		f = fopen(path, "w");
		ASSERT_NE(NULL, f);
		fputs(r.out, f);
		fclose(f);
		len += snprintf(cmd + len, sizeof(cmd) - len, " %s=%s", names[i], path);
	}
	EXPECT_EQ(0, system(cmd));
}

/* The module's snapshot report, faked: the tool writes "pid P\n" over its first bytes. */
static char *fake_snapshot(int pid, const char *body)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "pid %d\n%s", pid, body);
	put("snapshot", buf, strlen(buf));
	return buf;
}

#define SNAP_COLS "pid ppid region anon shared shared_family shared_outside exclusive zero " \
		  "file_uncopied file_copied thp thp_shared ksm swap"

static void snapshot_report(char *buf, size_t size, int pid)
{
	snprintf(buf, size,
		 "cowstat_snapshot 1\ntarget pid %d\nrange 0x0 0xffffffffffffffff\n"
		 "page_size 4096\nmembers 1\nproc_columns " SNAP_COLS "\n"
		 "proc %d 1 all 100 60 0 60 40 3 0 0 0 0 2 0\n"
		 "proc %d 1 heap 70 50 0 50 20 1 0 0 0 0 2 0\n"
		 "proc %d 1 stack 30 10 0 10 20 2 0 0 0 0 0 0\n"
		 "proc %d 1 anon 0 0 0 0 0 0 0 0 0 0 0 0\n"
		 "proc %d 1 file 0 0 0 0 0 0 0 0 0 0 0 0\n"
		 "proc %d 1 other 0 0 0 0 0 0 0 0 0 0 0 0\n"
		 "family_columns members resident anon_mapped distinct saved_pages saved_bytes\n"
		 "family 1 102 100 100 0 0\nmatrix_columns %d\nmatrix %d 100\nend\n",
		 pid, pid, pid, pid, pid, pid, pid, pid, pid);
}

/* The module backend reads the fake report; malformed ones are one line and exit 1. */
TEST(snapshot_report_malformed)
{
	static const char *const bad[][2] = {
		{ "end\n", "" },			/* cut short: no end line */
		{ "cowstat_snapshot 1", "cowstat_snapshot 2" },
		{ "proc %d 1 heap 70", "proc %d 1 heap 7x" },
		{ "proc %d 1 stack", "proc %d 1 stak" },
		{ "family 1 102 100 100 0 0", "family 1 102 100 100 -- 0" },
	};
	char rep[4096], from[64], to[64], pid[16], *at;
	struct cowstat_result r;
	size_t i;

	snprintf(pid, sizeof(pid), "%d", getpid());
	fake_module();
	setenv("COWSTAT_BACKEND", "module", 1);
	snapshot_report(rep, sizeof(rep), getpid());
	fake_snapshot(getpid(), rep);
	run(&r, (char *const[]){ "cowstat", "show", "--json", pid, NULL });
	EXPECT_EQ(0, r.status) TH_LOG("%s", r.err);
	EXPECT_EQ(0, json_valid(r.out)) TH_LOG("%s", r.out);
	/* mapped = anon + zero + ksm, shared = shared + ksm */
	EXPECT_NE(NULL, strstr(r.out, "\"backend\": \"module\"")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"mapped_pages\": 105")) TH_LOG("%s", r.out);
	EXPECT_NE(NULL, strstr(r.out, "\"shared_pages\": 62")) TH_LOG("%s", r.out);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		snapshot_report(rep, sizeof(rep), getpid());
		snprintf(from, sizeof(from), bad[i][0], getpid());
		snprintf(to, sizeof(to), bad[i][1], getpid());
		at = strstr(rep, from);
		ASSERT_NE(NULL, at) TH_LOG("case %zu", i);
		memmove(at + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
		memcpy(at, to, strlen(to));
		fake_snapshot(getpid(), rep);
		run(&r, (char *const[]){ "cowstat", "show", pid, NULL });
		EXPECT_EQ(1, r.status) TH_LOG("case %zu: %s", i, r.out);
		EXPECT_EQ(1, lines(r.err)) TH_LOG("case %zu: %s", i, r.err);
	}
	unsetenv("COWSTAT_BACKEND");
	no_fake_module();
}

/* Mutated snapshot reports through show and tree: exit 0 or 1, one line, valid JSON. */
TEST(fuzz_snapshot_report)
{
	static const char alphabet[] = " \n0123456789az-_";
	char rep[4096], pid[16];
	unsigned int seed = 4242;
	struct cowstat_result r;
	int it, m;

	snprintf(pid, sizeof(pid), "%d", getpid());
	fake_module();
	setenv("COWSTAT_BACKEND", "module", 1);
	for (it = 0; it < 200; it++) {
		size_t len;

		snapshot_report(rep, sizeof(rep), getpid());
		len = strlen(rep);
		for (m = 0; m < 3 && len; m++) {
			size_t pos;

			seed = seed * 1103515245 + 12345;
			pos = (seed >> 8) % len;
			if (seed & 1)
				rep[pos] = alphabet[(seed >> 4) % (sizeof(alphabet) - 1)];
			else
				rep[len = pos] = '\0';	/* truncate */
		}
		fake_snapshot(getpid(), rep);
		run(&r, (char *const[]){ "cowstat", "show", "--json", pid, NULL });
		ASSERT_TRUE(r.status == 0 || r.status == 1) TH_LOG("iteration %d", it);
		/* 0: the line saying there is no module record; 1: the error */
		EXPECT_EQ(1, lines(r.err)) TH_LOG("iteration %d: %s", it, r.err);
		if (r.status == 0 && it % 10 == 1)
			EXPECT_EQ(0, json_valid(r.out)) TH_LOG("iteration %d", it);
	}
	unsetenv("COWSTAT_BACKEND");
	no_fake_module();
}

TEST_HARNESS_MAIN
