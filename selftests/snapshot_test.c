// SPDX-License-Identifier: GPL-2.0
/*
 * The snapshot file's interface: strict parsing, error codes (Documentation/cowstat.rst),
 * per-open reports, access control, the caps (members, kept frames, matrix), a fatal
 * signal ending a long snapshot, and a walk racing with a process that forks, writes,
 * unmaps and exits in a loop (no error, no hang; splats are caught by the dmesg scan).
 *
 * Runs with the module loaded (guest-run.sh).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "cowstat_test.h"

#define SNAPSHOT	COWSTAT_DEBUGFS_DIR "/" COWSTAT_FILE_SNAPSHOT
#define REPORT_SIZE	(1 << 20)

/* errno of writing @cmd to a fresh open file, 0 on success. */
static int write_err(const char *cmd, size_t len)
{
	int fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC), err = 0;

	if (fd < 0)
		return -1000 - errno;
	if (write(fd, cmd, len) != (ssize_t)len)
		err = errno;
	close(fd);
	return err;
}

FIXTURE(snap) {
	char *rep;
};

FIXTURE_SETUP(snap)
{
	struct stat st;

	self->rep = malloc(REPORT_SIZE);
	ASSERT_NE(NULL, self->rep);
	if (geteuid() != 0)
		SETUP_SKIP("needs root (debugfs)");
	if (stat(SNAPSHOT, &st))
		SETUP_SKIP("cowstat not loaded");
}

FIXTURE_TEARDOWN(snap)
{
	free(self->rep);
}

TEST_F(snap, file_mode)
{
	struct stat st;

	ASSERT_EQ(0, stat(SNAPSHOT, &st));
	EXPECT_EQ(0600, st.st_mode & 07777);
}

TEST_F(snap, malformed_einval)
{
	static const char * const bad[] = {
		"", "\n", "pid", "pid\n", "pid ", "pid abc", "pid 1x", "pid -1", "pid 0",
		"pid 99999999999", "pid  1", " pid 1", "pid 1 ", "pid 1\n\n", "foo 1",
		"PID 1", "pid 1 2", "pid 1 0x1000", "pid 1 0x2000 0x1000", "pid 1 0x1000 0x1000",
		"pid 1 0x1001 0x2000", "pid 1 0x1000 0x2001", "pid 1 0 0x1000 4",
		"pid 1 0x10000000000000000 0x20000000000000000", "tree 1\t", "pid\t1", "pid 1\r",
	};
	char big[COWSTAT_SNAPSHOT_CMD_MAX + 8];
	int i, fd;

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		EXPECT_EQ(EINVAL, write_err(bad[i], strlen(bad[i]))) TH_LOG("command %d", i);
	/* An embedded NUL. */
	EXPECT_EQ(EINVAL, write_err("pid 1\0", 6));
	/* Too long for one command. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "pid 1", 5);
	EXPECT_EQ(EINVAL, write_err(big, sizeof(big)));
	/* Not at offset 0: no partial or appended commands. No positional writes at all. */
	fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, pwrite(fd, "pid 1", 5, 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(5, write(fd, "pid 1", 5));
	EXPECT_EQ(1, lseek(fd, 1, SEEK_SET));
	EXPECT_EQ(-1, write(fd, "pid 1", 5));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(snap, errors)
{
	char stat_line[256] = "", cmd[32];
	int status, fd;
	siginfo_t si;
	pid_t z;
	FILE *f;

	/* Nobody has this pid (pid_max is at most 4M). */
	EXPECT_EQ(ESRCH, write_err("pid 2147483647", 14));
	EXPECT_EQ(ESRCH, write_err("tree 2147483647", 15));

	/* A kernel thread (pid 2 is kthreadd) has no address space: EINVAL. */
	f = fopen("/proc/2/stat", "r");
	if (f) {
		if (!fgets(stat_line, sizeof(stat_line), f))
			stat_line[0] = '\0';
		fclose(f);
	}
	if (strstr(stat_line, "(kthreadd)")) {
		EXPECT_EQ(EINVAL, write_err("pid 2", 5));
	} else {
		TH_LOG("pid 2 is not kthreadd: kernel thread case not tested");
	}

	/* A zombie: ENOENT. */
	z = fork();
	ASSERT_LE(0, z);
	if (z == 0)
		_exit(0);
	ASSERT_EQ(0, waitid(P_PID, z, &si, WEXITED | WNOWAIT));
	snprintf(cmd, sizeof(cmd), "pid %d", z);
	EXPECT_EQ(ENOENT, write_err(cmd, strlen(cmd)));
	snprintf(cmd, sizeof(cmd), "tree %d", z);
	EXPECT_EQ(ENOENT, write_err(cmd, strlen(cmd)));
	ASSERT_EQ(z, waitpid(z, &status, 0));

	/* Reading before any successful write: ENODATA. */
	fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, read(fd, self->rep, 100));
	EXPECT_EQ(ENODATA, errno);
	close(fd);
}

/* Each open file has its own report; a new write (at offset 0) replaces it. */
TEST_F(snap, same_file_reports)
{
	char cmd[64], cmd2[64], buf[4096];
	int fd, fd2;
	ssize_t n;

	snprintf(cmd, sizeof(cmd), "pid %d\n", getpid());
	snprintf(cmd2, sizeof(cmd2), "tree 1 0x1000 0x2000");
	fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC);
	fd2 = open(SNAPSHOT, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(strlen(cmd), write(fd, cmd, strlen(cmd)));
	ASSERT_EQ(strlen(cmd2), write(fd2, cmd2, strlen(cmd2)));
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_EQ(COWSTAT_SNAPSHOT_FORMAT, cowstat_report_word(buf, "cowstat_snapshot", 1));
	EXPECT_EQ(getpid(), cowstat_report_word(buf, "target pid", 2));
	EXPECT_EQ(1, cowstat_report_word(buf, "members", 1));
	EXPECT_NE(NULL, strstr(buf, "\nrange 0x0 0xffffffffffffffff\n"));
	EXPECT_NE(NULL, strstr(buf, "\nproc_columns " COWSTAT_SNAPSHOT_PROC_COLUMNS "\n"));
	EXPECT_NE(NULL, strstr(buf, "\nend\n"));
	/* The stack and heap of this process are counted in their classes. */
	EXPECT_LT(0, cowstat_snap_proc(buf, getpid(), "stack", "anon"));
	EXPECT_LT(0, cowstat_snap_proc(buf, getpid(), "file", "file_uncopied"));

	/* A write after reading must come back to offset 0 first. */
	EXPECT_EQ(-1, write(fd, cmd2, strlen(cmd2)));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ(strlen(cmd2), write(fd, cmd2, strlen(cmd2)));
	n = read(fd, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_EQ(1, cowstat_report_word(buf, "target tree", 2));
	EXPECT_NE(NULL, strstr(buf, "\nrange 0x1000 0x2000\n"));

	/* fd2 kept its own report. */
	n = read(fd2, buf, sizeof(buf) - 1);
	ASSERT_LT(0, n);
	buf[n] = '\0';
	EXPECT_EQ(1, cowstat_report_word(buf, "target tree", 2));
	close(fd);
	close(fd2);
}

/*
 * CAP_SYS_PTRACE in the effective set @on or off; off in the permitted set too (for good) if
 * @drop_permitted.
 */
static int cap_sys_ptrace(bool on, bool drop_permitted)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2];
	int i = CAP_TO_INDEX(CAP_SYS_PTRACE);

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (on)
		d[i].effective |= CAP_TO_MASK(CAP_SYS_PTRACE);
	else
		d[i].effective &= ~CAP_TO_MASK(CAP_SYS_PTRACE);
	if (drop_permitted)
		d[i].permitted &= ~CAP_TO_MASK(CAP_SYS_PTRACE);
	return syscall(SYS_capset, &h, d);
}

/* Become user nobody, without supplementary groups or capabilities; 0 or -1. */
static int become_nobody(void)
{
	return setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	       setresuid(65534, 65534, 65534) ? -1 : 0;
}

/* A child of user nobody that holds until @s is released; its pid. */
static pid_t nobody_child(struct cowstat_sync *s)
{
	pid_t t;

	if (cowstat_sync_init(s))
		return -1;
	t = cowstat_sync_fork(s);
	if (t == 0) {
		if (become_nobody())
			_exit(1);
		if (cowstat_sync_ready(s, NULL, 0))
			_exit(1);
		cowstat_sync_hold(s);
		_exit(0);
	}
	if (t < 0 || cowstat_sync_wait_ready(s, NULL, 0))
		t = -1;
	cowstat_sync_close_fd(&s->ready[0]);
	return t;
}

/*
 * The rule holds for whoever opened the file as well as for whoever writes to it, as for
 * /proc/PID files (decided at open): a file opened without CAP_SYS_PTRACE cannot be used
 * to read another user's process by writing to it later with the capability (a descriptor
 * passed to a privileged helper), nor the other way round (access_ptrace_rule).
 */
TEST_F(snap, access_opener_credentials)
{
	struct cowstat_sync s;
	int status, fd;
	char cmd[32];
	pid_t t;

	t = nobody_child(&s);
	ASSERT_LT(0, t);
	snprintf(cmd, sizeof(cmd), "pid %d", t);
	ASSERT_EQ(0, cap_sys_ptrace(false, false));
	fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC);
	ASSERT_EQ(0, cap_sys_ptrace(true, false));
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, write(fd, cmd, strlen(cmd)));
	EXPECT_EQ(EACCES, errno);
	close(fd);
	/* Opened and written with the capability: allowed. */
	EXPECT_EQ(0, write_err(cmd, strlen(cmd)));
	cowstat_sync_release(&s);
	ASSERT_EQ(t, waitpid(t, &status, 0));
	cowstat_sync_close(&s);
}

/*
 * The ptrace read rule: a process of another user is readable only with CAP_SYS_PTRACE.
 * Root without CAP_SYS_PTRACE gets EACCES for it (and still succeeds on itself).
 */
TEST_F(snap, access_ptrace_rule)
{
	struct cowstat_sync s;
	char cmd[32];
	pid_t t, h;
	int status;

	t = nobody_child(&s);
	ASSERT_LT(0, t);
	snprintf(cmd, sizeof(cmd), "pid %d", t);
	EXPECT_EQ(0, write_err(cmd, strlen(cmd)));

	h = fork();
	ASSERT_LE(0, h);
	if (h == 0) {
		char self_cmd[32];

		if (cap_sys_ptrace(false, true))
			_exit(10);
		if (write_err(cmd, strlen(cmd)) != EACCES)
			_exit(11);
		snprintf(self_cmd, sizeof(self_cmd), "pid %d", getpid());
		if (write_err(self_cmd, strlen(self_cmd)) != 0)
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(h, waitpid(h, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("10: capset, 11: not EACCES, 12: self refused");
	cowstat_sync_release(&s);
	ASSERT_EQ(t, waitpid(t, &status, 0));
	cowstat_sync_close(&s);
}

/* A setuid-root copy of /bin/sleep named cowstat-suid in a fresh tmpfs at @dir; 0 or -1. */
static int make_suid_sleep(char *dir, char *path, size_t size)
{
	int in, out, ok;
	struct stat st;

	if (!mkdtemp(dir) || mount("tmpfs", dir, "tmpfs", 0, "mode=0755"))
		return -1;
	snprintf(path, size, "%s/cowstat-suid", dir);
	in = open("/bin/sleep", O_RDONLY | O_CLOEXEC);
	out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ok = in >= 0 && out >= 0 && !fstat(in, &st) &&
	     sendfile(out, in, NULL, st.st_size) == st.st_size && !fchmod(out, 04755);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ok ? 0 : -1;
}

/*
 * Wait until process @pid has exited (a zombie) or sleeps in a system call, as
 * /proc/PID/syscall shows (a number, not "running"); 0, or -1 after @seconds (scaled).
 */
static int wait_blocked_or_gone(pid_t pid, unsigned int seconds)
{
	long long limit = (long long)seconds * cowstat_time_scale() * 1000;
	char path[64], buf[64], state;
	FILE *f;

	for (long long i = 0; i < limit; i++, usleep(1000)) {
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			return 0;
		state = fscanf(f, "%*d %*s %c", &state) == 1 ? state : '?';
		fclose(f);
		if (state == 'Z')
			return 0;
		if (state != 'D' && state != 'S')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/syscall", pid);
		f = fopen(path, "r");
		if (!f)
			return 0;
		buf[0] = '\0';
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = '\0';
		fclose(f);
		if (buf[0] >= '0' && buf[0] <= '9' && atoi(buf) == SYS_write)
			return 0;
	}
	return -1;
}

/*
 * An exec swaps the address space (exec_mmap()) before it installs the new credentials
 * (commit_creds()), both under exec_update_lock. A snapshot that checked the credentials and
 * took the mm outside that lock could, in between, hand a setuid program's new address space
 * to its old user. The delay module holds the exec'ing process at commit_creds(): the window.
 * A process of the same user (nobody, through a file root opened) asks for a snapshot of it
 * inside the window, which stays open until that request has returned or sleeps waiting for
 * the exec: it must wait and then be refused (EACCES), as after the exec. Before the fix it
 * got the report.
 */
TEST_F(snap, exec_window_setuid_refused)
{
	char dir[] = "/tmp/cowstat-suid.XXXXXX", path[64], params[160], cmd[32], c;
	struct cowstat_sync st, sr;	/* with the target, with the requester */
	pid_t t, r;
	int status;

	ASSERT_EQ(0, make_suid_sleep(dir, path, sizeof(path))) TH_LOG("setuid copy: %s", strerror(errno));
	snprintf(params, sizeof(params),
		 "func=commit_creds comm=cowstat-suid caller=begin_new_exec ms=10000");
	if (cowstat_delay_load(params)) {
		umount(dir);
		rmdir(dir);
		SKIP(return, "cannot load the delay module (%s): run make test-module", strerror(errno));
	}
	ASSERT_EQ(0, cowstat_sync_init(&st));
	ASSERT_EQ(0, cowstat_sync_init(&sr));
	t = cowstat_sync_fork(&st);
	ASSERT_LE(0, t);
	if (t == 0) {
		/* Changing its ids made it not dumpable; it is an ordinary process of nobody's. */
		if (become_nobody() || prctl(PR_SET_DUMPABLE, 1) ||
		    cowstat_sync_ready(&st, "t", 1) || !cowstat_sync_wait_go(&st))
			_exit(1);
		execl(path, "cowstat-suid", "30", (char *)NULL);
		_exit(2);
	}
	r = cowstat_sync_fork(&sr);
	ASSERT_LE(0, r);
	if (r == 0) {
		/* Opened as root (debugfs is root's); written as nobody, without capabilities. */
		int before = open(SNAPSHOT, O_RDWR | O_CLOEXEC), fd = open(SNAPSHOT, O_RDWR | O_CLOEXEC);

		snprintf(cmd, sizeof(cmd), "pid %d", t);
		if (before < 0 || fd < 0 || become_nobody())
			_exit(10);
		/* Before the exec, the same user may read it. */
		if (!cowstat_sync_wait_go(&sr))
			_exit(10);
		c = write(before, cmd, strlen(cmd)) == (ssize_t)strlen(cmd) ? 'y' : 'n';
		if (cowstat_sync_ready(&sr, &c, 1) || !cowstat_sync_wait_go(&sr))
			_exit(10);
		if (cowstat_module_param("cowstat_delay", "active") != 1)
			_exit(11);
		if (write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd))
			_exit(12);
		_exit(errno == EACCES ? 0 : 13);
	}
	/* The target is nobody now; the requester asks before the exec. */
	ASSERT_EQ(0, cowstat_sync_wait_ready(&st, &c, 1));
	ASSERT_EQ('t', c);
	ASSERT_EQ(0, cowstat_sync_go(&sr));
	ASSERT_EQ(0, cowstat_sync_wait_ready(&sr, &c, 1));
	EXPECT_EQ('y', c) TH_LOG("nobody could not read nobody's process before the exec");
	ASSERT_EQ(0, cowstat_sync_go(&st));
	EXPECT_EQ(0, cowstat_delay_wait_held(10)) TH_LOG("the exec never reached commit_creds()");
	EXPECT_EQ(0, cowstat_sync_go(&sr));
	/* The window stays open until the request has returned, or blocks waiting for the exec. */
	EXPECT_EQ(0, wait_blocked_or_gone(r, 10));
	EXPECT_EQ(0, cowstat_delay_release());
	ASSERT_EQ(r, waitpid(r, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("10: set-up, 11: asked after the window closed, 12: the setuid process's report was given, 13: not EACCES");
	kill(t, SIGKILL);
	ASSERT_EQ(t, waitpid(t, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status)) TH_LOG("the setuid exec did not run (status %#x)", status);
	EXPECT_EQ(0, cowstat_delay_unload());
	cowstat_sync_close(&st);
	cowstat_sync_close(&sr);
	umount(dir);
	rmdir(dir);
}

/*
 * Fork @n children that share this process's memory; child i first writes page
 * @write_page[i] of @mem (none if -1), then all hold until end_sharers() releases @s.
 * Returns 0 once every child is ready, or -1.
 */
static int fork_sharers(struct cowstat_sync *s, pid_t *pids, int n, char *mem,
			const int *write_page)
{
	int i;

	if (cowstat_sync_init(s))
		return -1;
	for (i = 0; i < n; i++) {
		pids[i] = cowstat_sync_fork_one(s);
		if (pids[i] < 0)
			return -1;
		if (pids[i] == 0) {
			if (write_page && write_page[i] >= 0)
				mem[write_page[i] * PAGE] = 9;
			if (cowstat_sync_ready(s, NULL, 0))
				_exit(1);
			cowstat_sync_hold(s);
			_exit(0);
		}
	}
	cowstat_sync_forked(s);
	for (i = 0; i < n; i++)
		if (cowstat_sync_wait_ready(s, NULL, 0))
			return -1;
	cowstat_sync_close_fd(&s->ready[0]);
	return 0;
}

static void end_sharers(struct cowstat_sync *s, const pid_t *pids, int n)
{
	int i;

	cowstat_sync_release(s);
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
	cowstat_sync_close(s);
}

/* @pages pages of fresh private anonymous memory, written (4 KiB pages, no THP). */
static char *dirty_pages(unsigned long pages)
{
	char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
	memset(p, 1, pages * PAGE);
	return p;
}

static int snap_range(char *rep, const char *kind, pid_t pid, const char *mem,
		      unsigned long pages)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "%s %d %#lx %#lx", kind, pid, (unsigned long)mem,
		 (unsigned long)mem + pages * PAGE);
	return cowstat_snapshot(cmd, rep, REPORT_SIZE);
}

/*
 * The matrix is kept for families of up to COWSTAT_SNAPSHOT_MATRIX_MAX (64) members; a
 * larger family gets "matrix none" and the same exact family figures. 16 shared pages;
 * child 0 copies page 0, so it shares 15 frames with everyone else.
 */
TEST_F(snap, matrix_cap)
{
	const int nc = COWSTAT_SNAPSHOT_MATRIX_MAX;	/* children: 64 then 65 members */
	int wp[COWSTAT_SNAPSHOT_MATRIX_MAX] = { 0 }, ret, i;
	pid_t c[COWSTAT_SNAPSHOT_MATRIX_MAX], me = getpid();
	char *mem = dirty_pages(16);
	struct cowstat_sync s, s2;

	ASSERT_NE(NULL, mem);
	for (i = 1; i < nc; i++)
		wp[i] = -1;
	ret = fork_sharers(&s, c, nc - 1, mem, wp);
	ASSERT_LE(0, ret);
	ASSERT_EQ(0, snap_range(self->rep, "tree", me, mem, 16));
	EXPECT_EQ(64, cowstat_report_word(self->rep, "members", 1));
	EXPECT_EQ(NULL, strstr(self->rep, "\nmatrix none\n"));
	EXPECT_EQ(64 * 16, cowstat_snap_family(self->rep, "anon_mapped"));
	EXPECT_EQ(17, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(64 * 16 - 17, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ(16, cowstat_snap_matrix(self->rep, me, me));
	EXPECT_EQ(16, cowstat_snap_matrix(self->rep, c[0], c[0]));
	EXPECT_EQ(15, cowstat_snap_matrix(self->rep, me, c[0]));
	EXPECT_EQ(15, cowstat_snap_matrix(self->rep, c[0], c[1]));
	EXPECT_EQ(16, cowstat_snap_matrix(self->rep, c[1], c[nc - 2]));
	EXPECT_EQ(16, cowstat_snap_matrix(self->rep, c[nc - 2], me));
	EXPECT_EQ(16, cowstat_snap_proc(self->rep, me, "all", "shared_family"));
	EXPECT_EQ(15, cowstat_snap_proc(self->rep, c[0], "all", "shared_family"));
	EXPECT_EQ(1, cowstat_snap_proc(self->rep, c[0], "all", "exclusive"));

	/* One more member: no matrix, the same counting. */
	ret = fork_sharers(&s2, &c[nc - 1], 1, mem, NULL);
	ASSERT_LE(0, ret);
	ASSERT_EQ(0, snap_range(self->rep, "tree", me, mem, 16));
	EXPECT_EQ(65, cowstat_report_word(self->rep, "members", 1));
	EXPECT_NE(NULL, strstr(self->rep, "\nmatrix none\n"));
	EXPECT_EQ(NULL, strstr(self->rep, "\nmatrix_columns "));
	EXPECT_EQ(65 * 16, cowstat_snap_family(self->rep, "anon_mapped"));
	EXPECT_EQ(17, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(65 * 16 - 17, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ(16, cowstat_snap_proc(self->rep, c[nc - 1], "all", "shared_family"));
	EXPECT_NE(NULL, strstr(self->rep, "\nend\n"));
	end_sharers(&s2, &c[nc - 1], 1);
	end_sharers(&s, c, nc - 1);
}

/*
 * snapshot_max_members: a tree of more members fails with E2BIG, never a partial answer;
 * a pid snapshot is one member whatever the cap.
 */
TEST_F(snap, max_members_e2big)
{
	long long old = cowstat_param_get("snapshot_max_members");
	pid_t c[2], me = getpid();
	char *mem = dirty_pages(4);
	struct cowstat_sync s;
	int ret;

	ASSERT_NE(NULL, mem);
	ASSERT_LT(0, old);
	ret = fork_sharers(&s, c, 2, mem, NULL);
	ASSERT_LE(0, ret);
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_members", 3));
	EXPECT_EQ(0, snap_range(self->rep, "tree", me, mem, 4));
	EXPECT_EQ(3, cowstat_report_word(self->rep, "members", 1));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_members", 2));
	EXPECT_EQ(-E2BIG, snap_range(self->rep, "tree", me, mem, 4));
	EXPECT_EQ(0, snap_range(self->rep, "pid", me, mem, 4));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_members", 0));
	EXPECT_EQ(-E2BIG, snap_range(self->rep, "tree", me, mem, 4));
	EXPECT_EQ(0, snap_range(self->rep, "pid", me, mem, 4));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_members", old));
	end_sharers(&s, c, 2);
}

/*
 * snapshot_max_frames caps the mappings kept for the final sort: in a pid snapshot every
 * shared page is kept (64 here: exactly at a cap of 64, E2BIG at 63); in a tree snapshot
 * the pages shared inside the family are settled at their address and none is kept.
 */
TEST_F(snap, max_frames_e2big)
{
	long long old = cowstat_param_get("snapshot_max_frames");
	pid_t c, me = getpid();
	char *mem = dirty_pages(64);
	struct cowstat_sync s;
	int ret;

	ASSERT_NE(NULL, mem);
	ASSERT_LT(0, old);
	ret = fork_sharers(&s, &c, 1, mem, NULL);
	ASSERT_LE(0, ret);
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_frames", 64));
	EXPECT_EQ(0, snap_range(self->rep, "pid", me, mem, 64));
	EXPECT_EQ(64, cowstat_snap_proc(self->rep, me, "all", "shared_outside"));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_frames", 63));
	EXPECT_EQ(-E2BIG, snap_range(self->rep, "pid", me, mem, 64));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_frames", 0));
	EXPECT_EQ(0, snap_range(self->rep, "tree", me, mem, 64));
	EXPECT_EQ(64, cowstat_snap_family(self->rep, "distinct"));
	EXPECT_EQ(64, cowstat_snap_family(self->rep, "saved_pages"));
	EXPECT_EQ(64, cowstat_snap_proc(self->rep, c, "all", "shared_family"));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_frames", old));
	end_sharers(&s, &c, 1);
}

/*
 * snapshot_max_frames has an upper bound, COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT (INT_MAX / 16:
 * the kept mappings' array below 2 GiB, where kvmalloc() would warn): a write above it, or
 * of no number, fails with EINVAL and keeps the value; the bound itself and 0 are taken.
 */
TEST_F(snap, max_frames_bounds)
{
	const unsigned long long lim = COWSTAT_SNAPSHOT_MAX_FRAMES_LIMIT;
	long long old = cowstat_param_get("snapshot_max_frames");
	int fd;

	ASSERT_EQ(134217727, lim);
	ASSERT_LT(0, old);
	EXPECT_EQ(-EINVAL, cowstat_param_set("snapshot_max_frames", lim + 1));
	EXPECT_EQ(old, cowstat_param_get("snapshot_max_frames"));
	EXPECT_EQ(-EINVAL, cowstat_param_set("snapshot_max_frames", 1LL << 40));
	EXPECT_EQ(-EINVAL, cowstat_param_set("snapshot_max_frames", -1));
	fd = open(COWSTAT_PARAMS "snapshot_max_frames", O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, write(fd, "18446744073709551615", 20));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, write(fd, "many", 4));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	EXPECT_EQ(old, cowstat_param_get("snapshot_max_frames"));
	EXPECT_EQ(0, cowstat_param_set("snapshot_max_frames", lim));
	EXPECT_EQ(lim, cowstat_param_get("snapshot_max_frames"));
	EXPECT_EQ(0, cowstat_param_set("snapshot_max_frames", 0));
	EXPECT_EQ(0, cowstat_param_get("snapshot_max_frames"));
	ASSERT_EQ(0, cowstat_param_set("snapshot_max_frames", old));
}

#define SLOW_SIZE	(2UL << 30)
#define SLOW_MEMBERS	32

/*
 * A family that is slow to walk and cheap to build: 2 GiB of zero-page ptes (no memory but
 * 4 MiB of page tables each), copied to 31 children by fork() (the VMA has an anon_vma, so
 * fork copies its page tables): 16M ptes in all, walked in about 250 ms (6.1 guest). Ready
 * (on @s, the test's) when every member exists; the children hold on a cowstat_sync of the
 * root's own, until the root dies.
 */
static void slow_family(struct cowstat_sync *s)
{
	char *p = mmap(NULL, SLOW_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct cowstat_sync fam;
	int i;

	if (p == MAP_FAILED || madvise(p, SLOW_SIZE, MADV_NOHUGEPAGE))
		_exit(1);
	p[0] = 1;
	if (madvise(p, SLOW_SIZE, MADV_POPULATE_READ) || cowstat_sync_init(&fam))
		_exit(1);
	for (i = 1; i < SLOW_MEMBERS; i++) {
		if (cowstat_sync_fork_one(&fam) == 0) {
			cowstat_sync_hold(&fam);
			_exit(0);
		}
	}
	cowstat_sync_forked(&fam);
	if (cowstat_sync_ready(s, NULL, 0))
		_exit(1);
	pause();
	_exit(0);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * A fatal signal ends a snapshot in progress promptly (killable lock waits, a signal check
 * per chunk): the writer, killed a quarter into a snapshot that takes FULL ms, is gone in
 * well under a quarter of FULL.
 */
TEST_F(snap, fatal_signal_ends_walk)
{
	struct cowstat_sync sr, sk;	/* with the family's root, with the killed writer */
	struct timespec t0;
	int status, err;
	long full, gone;
	char cmd[32];
	pid_t r, k;

	ASSERT_EQ(0, cowstat_sync_init(&sr));
	r = cowstat_sync_fork(&sr);
	ASSERT_LE(0, r);
	if (r == 0)
		slow_family(&sr);
	ASSERT_EQ(0, cowstat_sync_wait_ready(&sr, NULL, 0))
		TH_LOG("the slow family could not be built");
	snprintf(cmd, sizeof(cmd), "tree %d", r);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = write_err(cmd, strlen(cmd));
	full = ms_since(&t0);
	EXPECT_EQ(0, err);
	TH_LOG("a full snapshot of %d members took %ld ms", SLOW_MEMBERS, full);
	/*
	 * Long enough that prompt and not prompt cannot be confused: the walk checks for a
	 * fatal signal every chunk, 1024 ptes for 32 members: tens of microseconds.
	 */
	EXPECT_LT(100, full);

	ASSERT_EQ(0, cowstat_sync_init(&sk));
	k = cowstat_sync_fork(&sk);
	ASSERT_LE(0, k);
	if (k == 0) {
		if (cowstat_sync_ready(&sk, NULL, 0))
			_exit(1);
		_exit(write_err(cmd, strlen(cmd)) ? 2 : 3);
	}
	ASSERT_EQ(0, cowstat_sync_wait_ready(&sk, NULL, 0));
	usleep(full * 1000 / 4);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	kill(k, SIGKILL);
	ASSERT_EQ(k, waitpid(k, &status, 0));
	gone = ms_since(&t0);
	TH_LOG("killed a quarter into the snapshot: gone %ld ms later", gone);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		TH_LOG("the snapshot ended before the signal (status %#x)", status);
	EXPECT_GT(full / 4, gone);
	/* The family's root gets SIGKILL; its children see the go pipe close and exit. */
	kill(r, SIGKILL);
	ASSERT_EQ(r, waitpid(r, &status, 0));
	cowstat_sync_close(&sr);
	cowstat_sync_close(&sk);
}

/* fork, write, unmap, exit, in a loop, with THPs being split and zapped. */
static void churn(void)
{
	size_t len = 8UL << 20;

	for (;;) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		pid_t c;

		if (p == MAP_FAILED)
			_exit(1);
		madvise(p, len, MADV_HUGEPAGE);
		memset(p, 1, len);
		c = fork();
		if (c == 0) {
			size_t i;

			for (i = 0; i < len; i += 3 * 4096)
				p[i] = 2;
			munmap(p + len / 2, len / 4);
			if (fork() == 0) {
				memset(p, 3, len / 4);
				_exit(0);
			}
			wait(NULL);
			_exit(0);
		}
		madvise(p + (1 << 20), 3 << 20, MADV_DONTNEED);
		memset(p, 4, 1 << 20);
		munmap(p, len);
		waitpid(c, NULL, 0);
	}
}

TEST_F(snap, race_with_churn)
{
	struct timespec t0, t;
	int n = 0, err, status;
	char cmd[64];
	pid_t c;

	c = fork();
	ASSERT_LE(0, c);
	if (c == 0)
		churn();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		snprintf(cmd, sizeof(cmd), n % 2 ? "tree %d" : "pid %d", c);
		err = cowstat_snapshot(cmd, self->rep, REPORT_SIZE);
		EXPECT_EQ(0, err) TH_LOG("%s: %s", cmd, strerror(-err));
		if (err)
			break;
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 8 * (time_t)cowstat_time_scale());
	kill(c, SIGKILL);
	ASSERT_EQ(c, waitpid(c, &status, 0));
	TH_LOG("%d snapshots during churn", n);
	EXPECT_LT(10, n);
}

TEST_HARNESS_MAIN
