// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the tool's parsers of the module's files (tools/parse.c) and of its output
 * helpers (tools/format.c), linked in. The fuzz tests feed the parsers mutated, truncated and
 * random versions of valid files: every input must be accepted or refused with a one-line
 * reason, never crash, never read out of bounds (run them under valgrind or ASan to be sure).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "parse.h"
#include "format.h"

void cowstat_fatal(const char *fmt, ...)
{
	abort();
}

#define COLS "copy reuse zero file thp_reuse thp_split thp_zero unshare ksm shared other"

static const char procs_ok[] =
	"# cowstat procs v3\n"
	"pid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
	"237 1 bash live 18440737756 18884076786 0 14 6 0 0 0 0 0 0 0 0 0 57344\n"
	"239 237 a\\040b\\134 exited 18883908546 19178010266 19200000000 60 221 1 12 0 0 0 0 0 0 0 294912\n";

static const char regions_ok[] =
	"# cowstat regions v3\n"
	"pid start_ns region " COLS "\n"
	"239 18883908546 heap 10 0 0 0 0 0 0 0 0 0 0\n"
	"239 18883908546 file 0 0 0 12 0 0 0 0 0 0 0\n";

static const char summary_ok[] =
	"# cowstat summary v3\n"
	"copy 74\nreuse 227\nzero 1\nfile 12\nthp_reuse 0\nthp_split 0\nthp_zero 0\nunshare 0\nksm 0\n"
	"shared 0\nother 0\ncopied_bytes 352256\nprocs_live 1\nprocs_exited 1\n"
	"procs_dropped 0\nprocs_nomem 0\nfaults_unattributed 0\nfaults_retried 3\n"
	"scope_pid 0\nmissed_do_wp_page 2\nmissed_wp_page_reuse 1\n";

#define SNAP_PROC(pid, ppid, region, anon) \
	"proc " #pid " " #ppid " " region " " #anon " 60 58 2 40 3 0 0 0 0 2 0\n"
#define SNAP_MEMBER(pid, ppid) \
	SNAP_PROC(pid, ppid, "all", 100) SNAP_PROC(pid, ppid, "heap", 100) \
	SNAP_PROC(pid, ppid, "stack", 0) SNAP_PROC(pid, ppid, "anon", 0) \
	SNAP_PROC(pid, ppid, "file", 0) SNAP_PROC(pid, ppid, "other", 0)

static const char snapshot_ok[] =
	"cowstat_snapshot 1\ntarget tree 412\nrange 0 0xffffffffffffffff\npage_size 4096\n"
	"members 2\nproc_columns " COWSTAT_SNAPSHOT_PROC_COLUMNS "\n"
	SNAP_MEMBER(412, 1) SNAP_MEMBER(413, 412)
	"family_columns " COWSTAT_SNAPSHOT_FAMILY_COLUMNS "\n"
	"family 2 204 200 140 60 245760\nmatrix_columns 412 413\n"
	"matrix 412 100 60\nmatrix 413 60 100\nend\n";

static const char version_ok[] = "module_version 0.2.0\ninterface_version 3\n";

/* Run every parser on buf; returns how many accepted it. Errors must be one line. */
static int parse_all(struct __test_metadata *_metadata, const char *buf)
{
	char err[COWSTAT_ERR_MAX], modver[64];
	struct cowstat_procs p;
	struct cowstat_regions r;
	struct cowstat_summary s;
	struct cowstat_snapshot snap;
	long ifver;
	int ok = 0;

#define ONE(call, cleanup) do {							\
		err[0] = '\0';							\
		if (call == 0) {						\
			ok++;							\
			cleanup;						\
		} else {							\
			EXPECT_NE('\0', err[0]);				\
			EXPECT_EQ(NULL, strchr(err, '\n'));			\
		}								\
	} while (0)
	ONE(cowstat_parse_procs(buf, &p, err), cowstat_procs_free(&p));
	ONE(cowstat_parse_regions(buf, &r, err), free(r.v));
	ONE(cowstat_parse_summary(buf, &s, err), (void)0);
	ONE(cowstat_parse_snapshot(buf, &snap, err), cowstat_snapshot_free(&snap));
	ONE(cowstat_parse_version(buf, modver, sizeof(modver), &ifver, err), (void)0);
#undef ONE
	return ok;
}

TEST(procs_valid)
{
	char err[COWSTAT_ERR_MAX];
	struct cowstat_procs p;

	ASSERT_EQ(0, cowstat_parse_procs(procs_ok, &p, err)) TH_LOG("%s", err);
	ASSERT_EQ(2, p.n);
	EXPECT_EQ(237, p.v[0].pid);
	EXPECT_STREQ("bash", p.v[0].comm);
	EXPECT_EQ(0, p.v[0].exited);
	EXPECT_EQ(14, p.v[0].count[COWSTAT_COPY]);
	EXPECT_EQ(57344, p.v[0].copied_bytes);
	EXPECT_STREQ("a b\\", p.v[1].comm);
	EXPECT_EQ(1, p.v[1].exited);
	EXPECT_EQ(19200000000ULL, p.v[1].exit_ns);
	EXPECT_EQ(12, p.v[1].count[COWSTAT_FILE]);
	cowstat_procs_free(&p);
}

TEST(regions_attach)
{
	char err[COWSTAT_ERR_MAX];
	struct cowstat_procs p;
	struct cowstat_regions r;

	ASSERT_EQ(0, cowstat_parse_procs(procs_ok, &p, err));
	ASSERT_EQ(0, cowstat_parse_regions(regions_ok, &r, err)) TH_LOG("%s", err);
	ASSERT_EQ(2, r.n);
	cowstat_attach_regions(&p, &r);
	EXPECT_EQ(0, p.v[0].has_regions);
	EXPECT_EQ(10, p.v[1].region[COWSTAT_REGION_HEAP][COWSTAT_COPY]);
	EXPECT_EQ(12, p.v[1].region[COWSTAT_REGION_FILE][COWSTAT_FILE]);
	free(r.v);
	cowstat_procs_free(&p);
}

TEST(summary_snapshot_version_valid)
{
	char err[COWSTAT_ERR_MAX], modver[64];
	struct cowstat_summary s;
	struct cowstat_snapshot w;
	long ifver;

	ASSERT_EQ(0, cowstat_parse_summary(summary_ok, &s, err)) TH_LOG("%s", err);
	EXPECT_EQ(74, s.count[COWSTAT_COPY]);
	EXPECT_EQ(3, s.faults_retried);
	EXPECT_EQ(3, s.missed);
	ASSERT_EQ(0, cowstat_parse_snapshot(snapshot_ok, &w, err)) TH_LOG("%s", err);
	ASSERT_EQ(2, w.n);
	EXPECT_EQ(1, w.tree);
	EXPECT_EQ(4096, w.page_size);
	EXPECT_EQ(413, w.v[1].pid);
	EXPECT_EQ(412, w.v[1].ppid);
	EXPECT_EQ(100, w.v[1].all.anon);
	EXPECT_EQ(60, w.v[1].all.shared);
	EXPECT_EQ(40, w.v[1].region[COWSTAT_REGION_HEAP].exclusive);
	EXPECT_EQ(2, w.v[0].all.ksm);
	EXPECT_EQ(140, w.distinct);
	EXPECT_EQ(60, w.saved_pages);
	ASSERT_NE(NULL, w.matrix);
	EXPECT_EQ(60, w.matrix[1]);
	cowstat_snapshot_free(&w);
	ASSERT_EQ(0, cowstat_parse_version(version_ok, modver, sizeof(modver), &ifver, err));
	EXPECT_STREQ("0.2.0", modver);
	EXPECT_EQ(COWSTAT_IF_VERSION, ifver);
}

/*
 * snapshot_ok with its first "from" replaced by "to" (and, when to names a later column, a 0
 * appended to every proc line), parsed: 0 or -1, with a reason when refused.
 */
static int snapshot_edited(const char *from, const char *to)
{
	char buf[4096], out[8192], err[COWSTAT_ERR_MAX] = "", *at, *o = out;
	int later = strstr(to, "later") != NULL, proc_line = 0;
	struct cowstat_snapshot snap;
	const char *p;
	int r;

	snprintf(buf, sizeof(buf), "%s", snapshot_ok);
	at = strstr(buf, from);
	if (!at)
		return -2;
	memmove(at + strlen(to), at + strlen(from), strlen(at + strlen(from)) + 1);
	memcpy(at, to, strlen(to));
	for (p = buf; *p; p++) {
		if (p == buf || p[-1] == '\n')
			proc_line = !strncmp(p, "proc ", 5);
		if (*p == '\n' && later && proc_line) {
			*o++ = ' ';
			*o++ = '0';
		}
		*o++ = *p;
	}
	*o = '\0';
	r = cowstat_parse_snapshot(out, &snap, err);
	if (!r)
		cowstat_snapshot_free(&snap);
	else if (!err[0] || strchr(err, '\n'))
		return -3;
	return r;
}

/* Each of these is refused, with a reason. */
TEST(malformed_refused)
{
	static const char * const bad[] = {
		"",
		"# cowstat procs v1\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns copy\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"1 0 init live 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n1 0 x live 1",	/* truncated */
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"1 0 init zombie 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"1 0 init live 1 2 3 4 5 6 7 8 9 10 11 12 13 14 99999999999999999999999\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"1  0 init live 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"1 0 in\\9it live 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"-1 0 init live 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15\n",
		"# cowstat procs v3\npid ppid comm state start_ns fork_ns exit_ns " COLS " copied_bytes\n"
		"1 0 init live 1 2 3 4 5 6 7 8 9 10 11 12 13 14 0x15\n",
	};
	char err[COWSTAT_ERR_MAX];
	struct cowstat_procs p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		EXPECT_EQ(-1, cowstat_parse_procs(bad[i], &p, err)) TH_LOG("case %zu", i);
		EXPECT_NE('\0', err[0]);
	}
	EXPECT_EQ(-1, snapshot_edited("cowstat_snapshot 1", "cowstat_snapshot 2"));
	EXPECT_EQ(-1, snapshot_edited("members 2", "members 3"));
	EXPECT_EQ(-1, snapshot_edited("members 2", "members 02x"));
	EXPECT_EQ(-1, snapshot_edited("page_size 4096", "page_size 4095"));
	EXPECT_EQ(-1, snapshot_edited("range 0 0xffffffffffffffff", "range 0x10 0x10"));
	EXPECT_EQ(-1, snapshot_edited("proc 413 412 heap", "proc 413 412 stack"));
	EXPECT_EQ(-1, snapshot_edited("proc 413 412 heap", "proc 414 412 heap"));
	EXPECT_EQ(-1, snapshot_edited("proc 412 1 all 100", "proc 412 1 all 1x0"));
	EXPECT_EQ(-1, snapshot_edited("family 2 ", "family 3 "));
	EXPECT_EQ(-1, snapshot_edited("matrix_columns 412 413", "matrix_columns 413 412"));
	EXPECT_EQ(-1, snapshot_edited("matrix 413 60 100", "matrix 413 60"));
	EXPECT_EQ(-1, snapshot_edited("matrix_columns 412 413", "matrix none"));
	EXPECT_EQ(-1, snapshot_edited("end\n", "end\nend\n"));
	EXPECT_EQ(-1, snapshot_edited("end\n", ""));
	EXPECT_EQ(0, snapshot_edited("range 0 ", "range 0x0 "));
	EXPECT_EQ(0, snapshot_edited("range 0 ", "range 0x1000 "));
	EXPECT_EQ(0, snapshot_edited("ksm swap", "ksm swap later"));
	EXPECT_EQ(-1, cowstat_parse_summary("# cowstat summary v3\ncopy 1\n",
					    &(struct cowstat_summary){}, err));
	EXPECT_EQ(-1, cowstat_parse_version("module_version 1\n", err, 8, &(long){0}, err));
	EXPECT_EQ(-1, cowstat_parse_version("module_version 1\ninterface_version x\n", err, 8,
					    &(long){0}, err));
}

static unsigned int seed = 12345;

static unsigned int rnd(void)
{
	seed = seed * 1103515245 + 12345;
	return seed >> 8;
}

/* Every prefix of every valid file: accepted or refused, never a crash. */
TEST(fuzz_truncated)
{
	const char *files[] = { procs_ok, regions_ok, summary_ok, snapshot_ok, version_ok };
	char buf[4096];
	size_t f, len;

	for (f = 0; f < ARRAY_SIZE(files); f++)
		for (len = 0; len <= strlen(files[f]); len++) {
			memcpy(buf, files[f], len);
			buf[len] = '\0';
			parse_all(_metadata, buf);
		}
}

/* Random byte flips, insertions, deletions and line duplications of valid files. */
TEST(fuzz_mutated)
{
	const char *files[] = { procs_ok, regions_ok, summary_ok, snapshot_ok, version_ok };
	static const char alphabet[] = " \n\\0123456789azv#-x\t\377";
	char buf[4096];
	int it, m;

	for (it = 0; it < 20000; it++) {
		const char *src = files[rnd() % ARRAY_SIZE(files)];
		size_t len = strlen(src);

		memcpy(buf, src, len + 1);
		for (m = 1 + rnd() % 4; m > 0; m--) {
			size_t pos = len ? rnd() % len : 0;

			switch (rnd() % 4) {
			case 0:	/* replace */
				if (len)
					buf[pos] = alphabet[rnd() % (sizeof(alphabet) - 1)];
				break;
			case 1:	/* delete */
				if (len) {
					memmove(buf + pos, buf + pos + 1, len - pos);
					len--;
				}
				break;
			case 2:	/* insert */
				if (len + 2 < sizeof(buf)) {
					memmove(buf + pos + 1, buf + pos, len - pos + 1);
					buf[pos] = alphabet[rnd() % (sizeof(alphabet) - 1)];
					len++;
				}
				break;
			default:	/* duplicate the tail */
				if (2 * len - pos + 1 < sizeof(buf)) {
					memcpy(buf + len, buf + pos, len - pos);
					len += len - pos;
					buf[len] = '\0';
				}
			}
		}
		parse_all(_metadata, buf);
	}
}

/* Random garbage, and very long lines. */
TEST(fuzz_garbage)
{
	char *buf = malloc(70000);
	int it;
	size_t i, len;

	ASSERT_NE(NULL, buf);
	for (it = 0; it < 2000; it++) {
		len = rnd() % 70000;
		for (i = 0; i < len; i++)
			buf[i] = 1 + rnd() % 255;
		buf[len] = '\0';
		EXPECT_EQ(0, parse_all(_metadata, buf));
	}
	memset(buf, '1', 69998);
	buf[69998] = '\n';
	buf[69999] = '\0';
	EXPECT_EQ(0, parse_all(_metadata, buf));
	free(buf);
}

TEST(human_units)
{
	char b[32];

	cowstat_fmt_human(b, sizeof(b), 0);
	EXPECT_STREQ("0", b);
	cowstat_fmt_human(b, sizeof(b), 4096);
	EXPECT_STREQ("4.0K", b);
	cowstat_fmt_human(b, sizeof(b), 400 * 1024);
	EXPECT_STREQ("400K", b);
	cowstat_fmt_human(b, sizeof(b), 16ULL << 20);
	EXPECT_STREQ("16M", b);
	cowstat_fmt_human(b, sizeof(b), 3ULL << 29);
	EXPECT_STREQ("1.5G", b);
	cowstat_fmt_pages(b, sizeof(b), 100, COWSTAT_UNIT_HUMAN);
	EXPECT_STREQ("100 (400K)", b);
	cowstat_fmt_pages(b, sizeof(b), 100, COWSTAT_UNIT_PAGES);
	EXPECT_STREQ("100", b);
	cowstat_fmt_pages(b, sizeof(b), 100, COWSTAT_UNIT_BYTES);
	EXPECT_STREQ("409600", b);
	cowstat_fmt_secs(b, sizeof(b), 2345678901ULL);
	EXPECT_STREQ("2.345s", b);
}

TEST(table_aligned)
{
	struct cowstat_table t;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	ASSERT_NE(NULL, f);
	cowstat_table_init(&t);
	cowstat_table_col(&t, "PID", 0);
	cowstat_table_col(&t, "COMM", 1);
	cowstat_table_col(&t, "COPY", 0);
	cowstat_table_cell(&t, "%d", 7);
	cowstat_table_cell(&t, "%s", "longname");
	cowstat_table_cell(&t, "%d", 12345);
	cowstat_table_cell(&t, "%d", 12345);
	cowstat_table_cell(&t, "%s", "x");
	cowstat_table_cell(&t, "%d", 1);
	cowstat_table_print(&t, f, "");
	cowstat_table_free(&t);
	fclose(f);
	EXPECT_STREQ("  PID  COMM       COPY\n    7  longname  12345\n12345  x             1\n",
		     out);
	free(out);
}

TEST(json_escaped_and_nested)
{
	u64 counts[COWSTAT_NR_CLASSES] = { 1, 2 };
	struct cowstat_json j;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);

	ASSERT_NE(NULL, f);
	cowstat_json_init(&j, f);
	cowstat_json_open(&j, NULL, '{');
	cowstat_json_str(&j, "comm", "a\"b\\c\nd");
	/* UTF-8 as it is; a byte that is not UTF-8 is U+FFFD; <, > and & escaped. */
	cowstat_json_str(&j, "name", "caf\xc3\xa9 \xff<&>");
	cowstat_json_open(&j, "list", '[');
	cowstat_json_close(&j, ']');
	cowstat_json_counts(&j, "faults", counts);
	cowstat_json_null(&j, "none");
	cowstat_json_close(&j, '}');
	cowstat_json_end(&j);
	fclose(f);
	EXPECT_NE(NULL, strstr(out, "\"comm\": \"a\\\"b\\\\c\\u000ad\""));
	EXPECT_NE(NULL, strstr(out, "\"name\": \"caf\xc3\xa9 \\ufffd\\u003c\\u0026\\u003e\""));
	EXPECT_NE(NULL, strstr(out, "\"list\": []"));
	EXPECT_NE(NULL, strstr(out, "\"reuse\": 2"));
	EXPECT_NE(NULL, strstr(out, "\"none\": null\n}\n"));
	free(out);
}

/* top --json: each document on one line (JSON Lines), nothing else on it. */
TEST(json_line_compact)
{
	u64 counts[COWSTAT_NR_CLASSES] = { 1, 2 };
	struct cowstat_json j;
	char *out = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&out, &size);
	int k;

	ASSERT_NE(NULL, f);
	for (k = 0; k < 2; k++) {
		cowstat_json_init_line(&j, f);
		cowstat_json_open(&j, NULL, '{');
		cowstat_json_str(&j, "comm", "a\nb");
		cowstat_json_open(&j, "list", '[');
		cowstat_json_i64(&j, NULL, k);
		cowstat_json_close(&j, ']');
		cowstat_json_counts(&j, "faults", counts);
		cowstat_json_close(&j, '}');
		cowstat_json_end(&j);
	}
	fclose(f);
	EXPECT_STREQ("{\"comm\":\"a\\u000ab\",\"list\":[0],\"faults\":{\"copy\":1,\"reuse\":2,"
		     "\"zero\":0,\"file\":0,\"thp_reuse\":0,\"thp_split\":0,\"thp_zero\":0,\"unshare\":0,"
		     "\"ksm\":0,\"shared\":0,\"other\":0}}\n"
		     "{\"comm\":\"a\\u000ab\",\"list\":[1],\"faults\":{\"copy\":1,\"reuse\":2,"
		     "\"zero\":0,\"file\":0,\"thp_reuse\":0,\"thp_split\":0,\"thp_zero\":0,\"unshare\":0,"
		     "\"ksm\":0,\"shared\":0,\"other\":0}}\n", out);
	free(out);
}

TEST_HARNESS_MAIN
